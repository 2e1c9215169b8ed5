/** The risk gate's checks, one at a time, and their order. */
import { describe, it } from 'node:test';
import { equal } from 'node:assert/strict';
import {
  NO_LIMITS,
  RiskReject,
  checkOrder,
  limitsProblem,
  newOrderExposure,
  withinBand,
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
});
