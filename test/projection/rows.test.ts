/**
 * The query tables' rows from a core's records (src/projection/rows.ts): what each table gets for setup,
 * deposits, a resting order, a fill across batches, an amend, a cancel, refused places, a halt and a kill
 * switch, with absolute values that match the core's own.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { RowMapper, type RowBatch } from '../../src/projection/index.js';
import {
  BTC,
  INSTRUMENT,
  OrderType,
  Side,
  T0,
  TimeInForce,
  USD,
  Venue,
  type CommandInput,
} from '../core/helpers.js';

/** A core and a mapper fed each command's records, numbered from 1. */
class Projected {
  readonly v = new Venue();
  readonly mapper = new RowMapper(this.v.core);
  seq = 0;

  run(cmd: CommandInput): void {
    this.v.exec(cmd);
    this.seq++;
    this.mapper.command(this.seq, this.v.timeUs, this.v.core.events.data, this.v.core.events.count);
  }

  place(accountId: number, orderId: number, side: Side, price: number, qty: number): void {
    this.v.place(accountId, orderId, side, price, qty);
    this.seq++;
    this.mapper.command(this.seq, this.v.timeUs, this.v.core.events.data, this.v.core.events.count);
  }

  /** The setup (two assets, BTC-USD with a 10 ppm maker and 20 ppm taker fee) and two funded accounts. */
  setup(): RowBatch {
    this.run({ kind: 'addAsset', asset: USD, code: 'USD', decimals: 2 });
    this.run({ kind: 'addAsset', asset: BTC, code: 'BTC', decimals: 8 });
    this.run({
      kind: 'defineInstrument',
      spec: {
        instrument: INSTRUMENT,
        symbol: 'BTC-USD',
        baseAsset: BTC,
        quoteAsset: USD,
        makerFeePpm: 10,
        takerFeePpm: 20,
      },
    });
    for (const id of [1, 2]) {
      this.run({ kind: 'createAccount', accountId: id, accountType: 1 });
      this.run({ kind: 'deposit', accountId: id, asset: USD, amount: 10_000_000, ref: id });
      this.run({ kind: 'deposit', accountId: id, asset: BTC, amount: 1_000, ref: 100 + id });
    }
    return this.mapper.finish();
  }
}

const byKey = <T>(rows: readonly T[], key: (r: T) => string | number): Map<string | number, T> =>
  new Map(rows.map((r) => [key(r), r]));

describe('query table rows', () => {
  it('maps the setup: assets, the instrument, accounts, deposits and balances', () => {
    const p = new Projected();
    const b = p.setup();
    assert.deepEqual([b.firstSeq, b.lastSeq], [1, 9]);
    assert.deepEqual(
      b.assets.map((a) => [a.asset, a.code, a.decimals, a.updatedSeq]),
      [
        [USD, 'USD', 2, 1],
        [BTC, 'BTC', 8, 2],
      ],
    );
    assert.equal(b.instruments.length, 1);
    const i = b.instruments[0];
    assert.deepEqual(
      [
        i.instrument,
        i.symbol,
        i.baseAsset,
        i.quoteAsset,
        i.makerFeePpm,
        i.takerFeePpm,
        i.halted,
        i.updatedSeq,
      ],
      [INSTRUMENT, 'BTC-USD', BTC, USD, 10, 20, false, 3],
    );
    assert.deepEqual(
      b.accounts.map((a) => [a.accountId, a.type, a.createdSeq, a.updatedSeq, a.killSwitch]),
      [
        [1, 1, 4, 4, false],
        [2, 1, 7, 7, false],
      ],
    );
    assert.equal(b.entries.length, 4);
    for (const e of b.entries) {
      assert.equal(e.kind, 1, 'deposits');
      assert.equal(e.tradeId, 0);
      assert.equal(e.instrument, -1);
      assert.equal(
        e.postings.reduce((s, l) => s + l.amount, 0),
        0,
        'an entry balances',
      );
    }
    const balances = byKey(b.balances, (r) => `${r.accountId}/${r.asset}`);
    assert.deepEqual(balances.get(`1/${USD}`), {
      accountId: 1,
      asset: USD,
      available: 10_000_000,
      held: 0,
      updatedSeq: 5,
    });
    assert.equal(balances.get(`2/${BTC}`)?.available, 1_000);
    // Each deposit touches the customer's available account and the venue's clearing account.
    assert.ok(b.ledgerAccounts.some((l) => l.accountId === 0 && l.balance !== 0));
    assert.ok(
      b.ledgerAccounts.every((l) => l.accountId === 0 || l.balance <= 0),
      'liabilities are credits',
    );
    assert.equal(b.orders.length + b.rejected.length + b.trades.length, 0);
  });

  it('maps a resting order, then a fill in a later batch, with the settlement joined to its trade', () => {
    const p = new Projected();
    p.setup();
    p.place(2, 10, Side.Sell, 500, 8);
    const first = p.mapper.finish();
    assert.equal(first.orders.length, 1);
    const resting = first.orders[0];
    assert.deepEqual(
      [
        resting.orderId,
        resting.accountId,
        resting.side,
        resting.status,
        resting.qtyLots,
        resting.remainingLots,
      ],
      [10, 2, Side.Sell, 'pending', 8, 8],
    );
    assert.deepEqual(
      first.balances.map((r) => [r.accountId, r.asset, r.available, r.held]),
      [[2, BTC, 1_000 - 8, 8]],
      'the sell holds its base',
    );
    assert.deepEqual([...p.mapper.live.keys()], [10]);

    p.place(1, 11, Side.Buy, 500, 3);
    const second = p.mapper.finish();
    assert.equal(second.trades.length, 1);
    const t = second.trades[0];
    assert.deepEqual(
      [
        t.priceTicks,
        t.qtyLots,
        t.aggressorSide,
        t.takerOrderId,
        t.makerOrderId,
        t.takerAccountId,
        t.makerAccountId,
      ],
      [500, 3, Side.Buy, 11, 10, 1, 2],
    );
    // The buyer pays the value and the taker fee (20 ppm of 1500, rounded up); the seller receives it less the
    // maker fee (10 ppm, rounded up).
    assert.equal(t.buyerPaidMinor, 1500 + 1);
    assert.equal(t.sellerNetMinor, 1500 - 1);
    const orders = byKey(second.orders, (o) => o.orderId);
    const maker = orders.get(10);
    const taker = orders.get(11);
    assert.ok(maker !== undefined && taker !== undefined);
    assert.deepEqual(
      [
        maker.status,
        maker.filledLots,
        maker.remainingLots,
        maker.qtyLots,
        maker.notional,
        maker.settledMinor,
      ],
      ['partially_filled', 3, 5, 8, 1500n, 1499],
    );
    assert.deepEqual(
      [
        taker.status,
        taker.filledLots,
        taker.remainingLots,
        taker.notional,
        taker.settledMinor,
        taker.createdSeq,
      ],
      ['filled', 3, 0, 1500n, 1501, 11],
    );
    assert.deepEqual([...p.mapper.live.keys()], [10], 'the filled order is no longer live');
    const settlement = second.entries.find((e) => e.kind === 5);
    assert.ok(settlement !== undefined);
    assert.deepEqual(
      [settlement.tradeId, settlement.instrument, settlement.ref, settlement.ref2],
      [t.tradeId, INSTRUMENT, 11, 10],
    );
    // Balances are the core's, whole.
    for (const r of second.balances) {
      assert.equal(r.available, p.v.available(r.accountId, r.asset));
      assert.equal(r.held, p.v.held(r.accountId, r.asset));
    }
    for (const l of second.ledgerAccounts)
      assert.equal(l.balance, p.v.core.ledger.signedBalance(l.ledgerAccount));
  });

  it('maps amends, cancels and refused places; a refused place never stands for a live order', () => {
    const p = new Projected();
    p.setup();
    p.place(1, 20, Side.Buy, 400, 5);
    p.run({
      kind: 'amendOrder',
      accountId: 1,
      instrument: INSTRUMENT,
      orderId: 20,
      price: 410,
      qty: 7,
      triggerPrice: 0,
    });
    // Reuses the live id 20: refused, and order 20 stays as it is.
    p.place(2, 20, Side.Sell, 900, 1);
    // More than account 1 has.
    p.place(1, 21, Side.Buy, 400, 1_000_000);
    p.run({ kind: 'cancelOrder', accountId: 1, instrument: INSTRUMENT, orderId: 20 });
    const b = p.mapper.finish();
    assert.equal(b.orders.length, 1);
    const o = b.orders[0];
    assert.deepEqual(
      [o.orderId, o.status, o.priceTicks, o.qtyLots, o.remainingLots, o.cancelReason > 0, o.updatedSeq],
      [20, 'cancelled', 410, 7, 0, true, p.seq],
    );
    assert.deepEqual(
      b.rejected.map((r) => [
        r.orderId,
        r.status,
        r.accountId,
        r.qtyLots,
        r.rejectCode > 0,
        r.orderType,
        r.tif,
      ]),
      [[21, 'rejected', 1, 1_000_000, true, OrderType.Limit, TimeInForce.GTC]],
    );
    assert.equal(p.mapper.live.size, 0);
    assert.deepEqual(
      b.balances.filter((r) => r.accountId === 1).map((r) => [r.asset, r.held]),
      [[USD, 0]],
      'the cancel released the hold',
    );
  });

  it('maps a halt and a kill switch to their rows', () => {
    const p = new Projected();
    p.setup();
    p.run({ kind: 'setTradingStatus', instrument: INSTRUMENT, halted: true });
    p.run({ kind: 'killSwitch', accountId: 2 });
    const b = p.mapper.finish();
    assert.deepEqual(
      b.instruments.map((i) => [i.instrument, i.halted, i.updatedSeq]),
      [[INSTRUMENT, true, 10]],
    );
    assert.deepEqual(
      b.accounts.map((a) => [a.accountId, a.killSwitch, a.createdSeq, a.updatedSeq]),
      [[2, true, 0, 11]],
      'an account created before the batch keeps its creation (0 here)',
    );
  });

  it('refuses commands out of order, and changes to orders it does not know', () => {
    const p = new Projected();
    p.setup();
    p.v.exec({ kind: 'advanceTime', timeUs: T0 + 1 });
    assert.throws(() => p.mapper.command(12, T0, p.v.core.events.data, p.v.core.events.count), /after/);
    const q = new Projected();
    q.setup();
    q.place(1, 30, Side.Buy, 400, 1);
    q.mapper.finish();
    // A mapper that lost its live orders (not restored after a restart) cannot take their changes.
    const fresh = new RowMapper(q.v.core);
    q.v.exec({ kind: 'cancelOrder', accountId: 1, instrument: INSTRUMENT, orderId: 30 });
    assert.throws(
      () => fresh.command(11, T0, q.v.core.events.data, q.v.core.events.count),
      /unknown order 30/,
    );
  });
});
