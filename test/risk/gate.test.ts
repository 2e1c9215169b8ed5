/** The risk gate's checks, one at a time, and their order. */
import { describe, it } from 'node:test';
import { equal } from 'node:assert/strict';
import {
  LimitField,
  NO_LIMITS,
  RISK_LIMIT_FIELDS,
  RISK_LIMIT_KEYS,
  RiskLimitTable,
  RiskReject,
  checkOrder,
  checkOrderRow,
  emergencyBreached,
  emergencyBreachedRow,
  limitsProblem,
  newOrderExposure,
  withinBand,
  type RiskLimits,
} from '../../src/risk/index.js';

function order(
  fields: Partial<ReturnType<typeof newOrderExposure>> = {},
): ReturnType<typeof newOrderExposure> {
  return {
    ...newOrderExposure(),
    qty: 10,
    price: 100,
    notional: 1_000,
    holdNeeded: 1_010,
    available: 5_000,
    ...fields,
  };
}

void describe('risk gate', () => {
  void it('passes an order within every limit and its funds', () => {
    equal(checkOrder(order(), NO_LIMITS), 0);
  });

  void it('refuses each breach with its code', () => {
    const l = { ...NO_LIMITS };
    equal(checkOrder(order({ notional: Number.NaN }), l), RiskReject.AmountOverflow);
    equal(checkOrder(order(), { ...l, orderQtyMax: 9 }), RiskReject.OrderQuantityAboveLimit);
    equal(checkOrder(order(), { ...l, orderNotionalMax: 999 }), RiskReject.OrderNotionalAboveLimit);
    equal(checkOrder(order({ openOrders: 3 }), { ...l, openOrdersMax: 3 }), RiskReject.OpenOrdersAboveLimit);
    equal(
      checkOrder(order({ position: 5, openSameSide: 6 }), { ...l, positionQtyMax: 20 }),
      RiskReject.PositionAboveLimit,
    );
    equal(checkOrder(order({ buy: false, position: 5 }), { ...l, positionQtyMax: 5 }), 0);
    equal(
      checkOrder(order({ equity: 9_999 }), { ...l, positionEquityPpm: 100_000 }),
      RiskReject.PositionAboveEquityFraction,
    );
    equal(checkOrder(order({ equity: 10_000 }), { ...l, positionEquityPpm: 100_000 }), 0);
    equal(checkOrder(order({ dayLoss: 101 }), { ...l, dailyLossMax: 100 }), RiskReject.DailyLossLimitReached);
    // Reducing exposure stays allowed after the loss limit.
    equal(checkOrder(order({ buy: false, position: 10, dayLoss: 101 }), { ...l, dailyLossMax: 100 }), 0);
    equal(checkOrder(order({ available: 1_009 }), l), RiskReject.InsufficientFunds);
  });

  void it('the band admits prices within it, inclusive', () => {
    equal(withinBand(11_000, 10_000, 1_000), true);
    equal(withinBand(11_001, 10_000, 1_000), false);
    equal(withinBand(50, 0, 1_000), true);
  });

  void it('limits must be known non-negative integers', () => {
    equal(limitsProblem({ orderQtyMax: 5 }), '');
    equal(limitsProblem({ orderQtyMax: -5 }) !== '', true);
    equal(limitsProblem({ orderQtyMax: 1.5 }) !== '', true);
    equal(limitsProblem({ bogus: 1 }) !== '', true);
  });

  void it("a limits table keeps each account's limits in its own row, in RISK_LIMIT_KEYS order", () => {
    equal(RISK_LIMIT_KEYS.length, RISK_LIMIT_FIELDS);
    RISK_LIMIT_KEYS.forEach((k, i) => equal(LimitField[k], i, k));
    const t = new RiskLimitTable(2);
    const a: RiskLimits = { ...NO_LIMITS, orderQtyMax: 7, emergencyLossMax: 5e14 };
    const b: RiskLimits = { ...NO_LIMITS, dailyLossEquityPpm: 30_000 };
    t.set(1, a);
    t.set(1000, b); // beyond the first rows: the table grows and keeps what it held
    equal(t.rows[RISK_LIMIT_FIELDS + LimitField.orderQtyMax], 7);
    equal(t.rows[RISK_LIMIT_FIELDS + LimitField.emergencyLossMax], 5e14);
    equal(t.rows[1000 * RISK_LIMIT_FIELDS + LimitField.dailyLossEquityPpm], 30_000);
    equal(t.rows[1000 * RISK_LIMIT_FIELDS + LimitField.orderQtyMax], 0);
    equal(t.rows[2 * RISK_LIMIT_FIELDS + LimitField.orderQtyMax], 0); // an account without limits: zeros
  });

  void it('the checks read from a table row decide as they do from the limits object', () => {
    const variants: Partial<RiskLimits>[] = [
      {},
      { orderQtyMax: 9 },
      { orderNotionalMax: 999 },
      { openOrdersMax: 3 },
      { positionQtyMax: 20 },
      { positionEquityPpm: 100_000 },
      { dailyLossMax: 100 },
      { dailyLossEquityPpm: 10_000 },
      { emergencyLossMax: 150 },
      { emergencyLossEquityPpm: 20_000 },
    ];
    const orders = [
      order(),
      order({ openOrders: 3 }),
      order({ position: 5, openSameSide: 6 }),
      order({ equity: 9_999 }),
      order({ dayLoss: 101, dayStartEquity: 5_000 }),
      order({ buy: false, position: 10, dayLoss: 101 }),
      order({ available: 1_009 }),
    ];
    const t = new RiskLimitTable(4);
    let refusals = 0;
    variants.forEach((v, i) => {
      const l: RiskLimits = { ...NO_LIMITS, ...v };
      t.set(i, l);
      const at = i * RISK_LIMIT_FIELDS;
      for (const x of orders) {
        const code = checkOrder(x, l);
        if (code !== 0) refusals++;
        equal(checkOrderRow(x, t.rows, at), code, JSON.stringify(v));
      }
      for (const [loss, start] of [
        [0, 0],
        [151, 0],
        [101, 5_000],
        [99, 5_000],
      ]) {
        equal(emergencyBreachedRow(loss, start, t.rows, at), emergencyBreached(loss, start, l));
      }
    });
    equal(refusals > 10, true);
  });
});
