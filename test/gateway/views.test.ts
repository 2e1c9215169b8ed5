/**
 * The views, pure: a core executes commands, and the views fed its records show each order's status,
 * fills and average, the open orders, the depth, the trades and the statistics; an event the life cycle does
 * not allow throws.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { OrderType, SelfTradePrevention, Side, TimeInForce } from '../../src/book/index.js';
import { venueSetupCommands } from '../../src/cli/venue.js';
import { AccountType, ExchangeCore, type Command } from '../../src/core/index.js';
import { Views } from '../../src/gateway/index.js';
import { testConfig, tempDir } from './helpers.js';

function harness(): { run: (c: Command) => void; batch: (cs: Command[]) => void; views: Views } {
  const core = new ExchangeCore();
  const views = new Views({ tradesKept: 3 });
  let seq = 0;
  const run = (c: Command): void => {
    core.events.clear();
    core.execute(c);
    views.applyCommand(++seq, c.timeUs, core.events.data, 0, core.events.count);
  };
  /** Commands as one durable batch, as the engine publishes it. */
  const batch = (cs: Command[]): void => {
    core.events.clear();
    const ends = new Int32Array(cs.length);
    cs.forEach((c, k) => {
      core.execute(c);
      ends[k] = core.events.count;
    });
    views.applyBatch(seq + 1, 7, core.events.data, ends);
    seq += cs.length;
  };
  for (const c of venueSetupCommands(testConfig(tempDir()), 1)) run(c);
  for (const accountId of [1, 2]) {
    run({ kind: 'createAccount', timeUs: 1, accountId, accountType: AccountType.Customer });
    run({ kind: 'deposit', timeUs: 1, accountId, asset: 0, amount: 1e12, ref: 0 });
    run({ kind: 'deposit', timeUs: 1, accountId, asset: 1, amount: 1e10, ref: 0 });
  }
  return { run, batch, views };
}

const place = (
  accountId: number,
  orderId: number,
  side: Side,
  price: number,
  qty: number,
  tif: TimeInForce = TimeInForce.GTC,
): Command => ({
  kind: 'placeOrder',
  timeUs: 2,
  accountId,
  instrument: 1,
  orderId,
  side,
  type: OrderType.Limit,
  tif,
  price,
  triggerPrice: 0,
  qty,
  displayQty: 0,
  postOnly: false,
  stp: SelfTradePrevention.None,
  expireTimeUs: 0,
});

describe('views', () => {
  it('record what each batch changed: the best changed price per side, the trades, each order once', () => {
    const { run, batch, views } = harness();
    assert.equal(views.changes.books.length, 0, 'replayed commands record nothing');
    run(place(1, 1, Side.Sell, 6_000_000, 10));
    assert.equal(views.changes.orders.length, 0);
    batch([
      place(1, 2, Side.Sell, 6_000_300, 10),
      place(1, 3, Side.Sell, 6_000_200, 10),
      place(2, 4, Side.Buy, 5_999_000, 10),
      place(2, 5, Side.Buy, 6_000_000, 4),
      place(2, 6, Side.Buy, 6_000_000, 3),
    ]);
    const c = views.changes;
    assert.deepEqual([c.firstSeq, c.lastSeq, c.timeUs], [views.venue.lastSeq - 4, views.venue.lastSeq, 7]);
    assert.deepEqual(c.books, [{ instrument: 1, bidBestTicks: 5_999_000, askBestTicks: 6_000_000 }]);
    assert.deepEqual(
      c.trades.map((t) => [t.makerOrderId, t.takerOrderId, t.qtyLots]),
      [
        [1, 5, 4],
        [1, 6, 3],
      ],
    );
    // Order 1 changed twice and is listed once, where it first changed, as it stands after the batch.
    assert.deepEqual(
      c.orders.map((o) => [o.orderId, o.status]),
      [
        [2, 'pending'],
        [3, 'pending'],
        [4, 'pending'],
        [5, 'filled'],
        [1, 'partially_filled'],
        [6, 'filled'],
      ],
    );
    batch([place(2, 7, Side.Buy, 5_000_000, 1)]);
    assert.deepEqual(views.changes.books, [{ instrument: 1, bidBestTicks: 5_000_000, askBestTicks: NaN }]);
    assert.deepEqual([views.changes.trades.length, views.changes.orders.length], [0, 1]);
  });

  it('follow an order through partial fill, fill, cancel and reject', () => {
    const { run, views } = harness();
    run(place(1, 1, Side.Sell, 6_000_000, 10));
    run(place(1, 2, Side.Sell, 6_000_100, 10));
    assert.equal(views.order(1)?.status, 'pending');
    assert.deepEqual(
      views.depth(1, 5)?.asks.map((l) => [l.priceTicks, l.qtyLots, l.orders]),
      [
        [6_000_000, 10, 1],
        [6_000_100, 10, 1],
      ],
    );
    run(place(2, 3, Side.Buy, 6_000_100, 15, TimeInForce.IOC));
    const o1 = views.order(1);
    const o2 = views.order(2);
    const o3 = views.order(3);
    assert.equal(o1?.status, 'filled');
    assert.equal(o2?.status, 'partially_filled');
    assert.equal(o2?.filledLots, 5);
    assert.equal(o3?.status, 'filled');
    assert.equal(o3?.notional, 6_000_000n * 10n + 6_000_100n * 5n);
    assert.deepEqual(
      views.openOrders(1).map((o) => o.orderId),
      [2],
    );
    assert.deepEqual(views.openOrders(2), []);
    assert.deepEqual(
      views.trades(1, 10).map((t) => [t.priceTicks, t.qtyLots, t.takerOrderId, t.makerOrderId]),
      [
        [6_000_100, 5, 3, 2],
        [6_000_000, 10, 3, 1],
      ],
    );
    assert.equal(views.stats(1)?.volumeLots, 15);
    run({ kind: 'cancelOrder', timeUs: 3, accountId: 1, instrument: 1, orderId: 2 });
    assert.equal(views.order(2)?.status, 'cancelled');
    assert.equal(views.order(2)?.remainingLots, 0);
    assert.deepEqual(views.depth(1, 5), { bids: [], asks: [] });
    run(place(1, 4, Side.Buy, 6_000_000, 1e9, TimeInForce.FOK));
    assert.equal(views.order(4)?.status, 'rejected');
    assert.ok((views.order(4)?.rejectCode ?? 0) > 0);
    // What the refused place asked for, from its record.
    assert.deepEqual([views.order(4)?.type, views.order(4)?.tif], [OrderType.Limit, TimeInForce.FOK]);
    assert.equal(views.venue.openOrders, 0);
    assert.equal(views.highestOrderId, 4);
  });

  it('keep a bounded ring of trades and refuse commands out of order', () => {
    const { run, views } = harness();
    for (let i = 0; i < 5; i++) {
      run(place(1, 10 + 2 * i, Side.Sell, 6_000_000, 1));
      run(place(2, 11 + 2 * i, Side.Buy, 6_000_000, 1));
    }
    assert.equal(views.trades(1, 100).length, 3);
    assert.equal(views.stats(1)?.trades, 5);
    const last = views.trades(1, 1)[0].tradeId;
    assert.deepEqual(views.trades(1, 100, last), []);
    assert.throws(() => views.applyCommand(1, 0, new Float64Array(0), 0, 0), /after/);
  });
  it("list an account's open orders oldest first past the size where their set splits into parts", () => {
    const { run, views } = harness();
    // 10,000 resting bids of account 1: past the 8,192 ids its IdSet keeps in one Set; one of every three
    // cancelled (some before the split, most after), then one filled.
    const n = 10_000;
    for (let id = 1; id <= n; id++) run(place(1, id, Side.Buy, 5_000_000 - (id % 97), 1));
    for (let id = 3; id <= n; id += 3) {
      run({ kind: 'cancelOrder', timeUs: 3, accountId: 1, instrument: 1, orderId: id });
    }
    run(place(2, n + 1, Side.Sell, 5_000_000 - 1, 1));
    const open = views.openOrders(1).map((o) => o.orderId);
    const filled = views.order(n + 1)?.status === 'filled' ? 1 : 0;
    assert.equal(filled, 1, 'the sell filled against a bid');
    const expected: number[] = [];
    for (let id = 1; id <= n; id++)
      if (id % 3 !== 0 && views.order(id)?.status === 'pending') expected.push(id);
    assert.equal(expected.length, n - Math.floor(n / 3) - 1, 'one bid filled');
    assert.deepEqual(open, expected);
    assert.equal(views.liveOrderCount(), expected.length);
    assert.deepEqual(views.openOrders(2), []);
  });
});
