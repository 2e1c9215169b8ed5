/**
 * Unit tests of the order book, one feature at a time, through its public API only (src/book/index.ts):
 * commands, their return values, the events they write, and the queries.
 */
import { describe, it } from 'node:test';
import { deepEqual, equal, ok, throws } from 'node:assert/strict';
import {
  ANY_OWNER,
  BookReject,
  CancelReason,
  CommandKind,
  OrderType,
  SelfTradePrevention,
  Side,
  TimeInForce,
  bookRejectName,
  type AmendOrder,
  type BookEvent,
  type OrderBook,
  type PlaceOrder,
} from '../../src/book/index.js';
import {
  drain,
  harmlessReject,
  limit,
  newBook,
  ofType,
  order,
  queue,
  single,
  snapshot,
  trades,
  types,
} from './helpers.js';

const BUY = Side.Buy;
const SELL = Side.Sell;

/** Cancel reasons of the OrderCancelled events for `orderId`. */
function cancelReasons(events: BookEvent[], orderId: number): number[] {
  return ofType(events, 'OrderCancelled')
    .filter((e) => e.orderId === orderId)
    .map((e) => e.reason);
}

void describe('matching', () => {
  void it('a crossing limit buy trades at the resting sell price, with the documented events', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 10, { owner: 1 });
    drain(book);
    equal(limit(book, 2, BUY, 105, 4, { owner: 2, timeUs: 7 }), 4);
    const events = drain(book);
    deepEqual(types(events), [
      'OrderAccepted',
      'TradeExecuted',
      'OrderPartiallyFilled',
      'OrderFilled',
      'LevelChanged',
      'TopOfBookChanged',
    ]);
    const trade = single(events, 'TradeExecuted');
    deepEqual(
      { ...trade, seq: 0 },
      {
        type: 'TradeExecuted',
        seq: 0,
        timeUs: 7,
        tradeId: 1,
        price: 101,
        qty: 4,
        aggressorSide: BUY,
        takerOrderId: 2,
        takerOwner: 2,
        makerOrderId: 1,
        makerOwner: 1,
        takerQtyLeft: 0,
        makerQtyLeft: 6,
      },
    );
    const makerFill = single(events, 'OrderPartiallyFilled');
    deepEqual(
      [makerFill.orderId, makerFill.owner, makerFill.side, makerFill.price, makerFill.qty],
      [1, 1, SELL, 101, 4],
    );
    deepEqual([makerFill.qtyLeft, makerFill.qtyFilled, makerFill.tradeId, makerFill.maker], [6, 4, 1, true]);
    const takerFill = single(events, 'OrderFilled');
    deepEqual(
      [takerFill.orderId, takerFill.owner, takerFill.side, takerFill.price, takerFill.qty],
      [2, 2, BUY, 101, 4],
    );
    deepEqual([takerFill.qtyLeft, takerFill.qtyFilled, takerFill.tradeId, takerFill.maker], [0, 4, 1, false]);
    const level = single(events, 'LevelChanged');
    deepEqual([level.side, level.price, level.qty, level.orders], [SELL, 101, 6, 1]);
    const top = single(events, 'TopOfBookChanged');
    deepEqual([top.bidPrice, top.bidQty, top.askPrice, top.askQty], [0, 0, 101, 6]);
    equal(book.lastTradePrice, 101);
    equal(book.order(2), undefined, 'a filled taker does not rest');
  });

  void it('a crossing limit sell trades at the resting buy price and empties the book', () => {
    const book = newBook();
    limit(book, 1, BUY, 99, 10, { owner: 1 });
    drain(book);
    equal(limit(book, 2, SELL, 95, 10, { owner: 2 }), 10);
    const events = drain(book);
    deepEqual(trades(events), [[99, 10, 1]]);
    equal(ofType(events, 'OrderFilled').length, 2);
    deepEqual(book.depth(BUY, Infinity), []);
    deepEqual(book.depth(SELL, Infinity), []);
    deepEqual(book.bbo(), { bidPrice: 0, bidQty: 0, askPrice: 0, askQty: 0 });
    equal(book.orderCount, 0);
  });

  void it('a market order sweeps levels best first at each maker price and cancels what finds no liquidity', () => {
    const book = newBook();
    limit(book, 1, SELL, 103, 5);
    limit(book, 2, SELL, 101, 5);
    limit(book, 3, SELL, 102, 5);
    drain(book);
    equal(
      book.place(order({ orderId: 4, type: OrderType.Market, tif: TimeInForce.IOC, price: 0, qty: 12 })),
      12,
    );
    deepEqual(trades(drain(book)), [
      [101, 5, 2],
      [102, 5, 3],
      [103, 2, 1],
    ]);
    deepEqual(book.depth(SELL, Infinity), [{ price: 103, qty: 3, orders: 1 }]);

    equal(
      book.place(order({ orderId: 5, type: OrderType.Market, tif: TimeInForce.IOC, price: 0, qty: 20 })),
      3,
    );
    const events = drain(book);
    deepEqual(trades(events), [[103, 3, 1]]);
    const cancel = single(events, 'OrderCancelled');
    deepEqual(
      [cancel.orderId, cancel.qty, cancel.qtyFilled, cancel.reason],
      [5, 17, 3, CancelReason.NoLiquidity],
    );
    equal(book.orderCount, 0);
  });

  void it('a market order into an empty side is cancelled whole for lack of liquidity', () => {
    const book = newBook();
    limit(book, 1, BUY, 99, 5);
    drain(book);
    equal(
      book.place(order({ orderId: 2, type: OrderType.Market, tif: TimeInForce.IOC, price: 0, qty: 7 })),
      0,
    );
    const events = drain(book);
    deepEqual(types(events), ['OrderAccepted', 'OrderCancelled']);
    deepEqual(cancelReasons(events, 2), [CancelReason.NoLiquidity]);
    equal(single(events, 'OrderCancelled').qty, 7);
  });

  void it('a market order with a protection price does not trade through it', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5);
    limit(book, 2, SELL, 102, 5);
    limit(book, 3, SELL, 103, 5);
    drain(book);
    const filled = book.place(
      order({ orderId: 4, type: OrderType.Market, tif: TimeInForce.IOC, price: 102, qty: 20 }),
    );
    equal(filled, 10);
    const events = drain(book);
    deepEqual(trades(events), [
      [101, 5, 1],
      [102, 5, 2],
    ]);
    deepEqual(cancelReasons(events, 4), [CancelReason.NoLiquidity]);
    deepEqual(book.depth(SELL, Infinity), [{ price: 103, qty: 5, orders: 1 }]);
  });

  void it('price-time priority: within a level the earliest order fills first', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5, { timeUs: 1 });
    limit(book, 2, SELL, 101, 5, { timeUs: 2 });
    limit(book, 3, SELL, 101, 5, { timeUs: 3 });
    drain(book);
    equal(limit(book, 4, BUY, 101, 7, { timeUs: 4 }), 7);
    deepEqual(trades(drain(book)), [
      [101, 5, 1],
      [101, 2, 2],
    ]);
    deepEqual(queue(book, SELL, 101), [2, 3]);
    equal(book.order(2)?.qtyLeft, 3);
    equal(book.order(2)?.qtyFilled, 2);
  });

  void it('a better price fills before an earlier order at a worse price', () => {
    const book = newBook();
    limit(book, 1, SELL, 102, 5);
    limit(book, 2, SELL, 101, 5);
    limit(book, 3, BUY, 97, 5);
    limit(book, 4, BUY, 98, 5);
    drain(book);
    limit(book, 5, BUY, 102, 5);
    deepEqual(trades(drain(book)), [[101, 5, 2]]);
    limit(book, 6, SELL, 97, 5);
    deepEqual(trades(drain(book)), [[98, 5, 4]]);
  });

  void it('no trade-through: an incoming order takes the best prices first and stops at its limit', () => {
    const book = newBook();
    limit(book, 1, SELL, 103, 5);
    limit(book, 2, SELL, 101, 5);
    limit(book, 3, SELL, 104, 5);
    limit(book, 4, SELL, 102, 5);
    drain(book);
    equal(limit(book, 5, BUY, 103, 20), 15);
    const events = drain(book);
    deepEqual(trades(events), [
      [101, 5, 2],
      [102, 5, 4],
      [103, 5, 1],
    ]);
    deepEqual(book.depth(BUY, Infinity), [{ price: 103, qty: 5, orders: 1 }]);
    deepEqual(book.depth(SELL, Infinity), [{ price: 104, qty: 5, orders: 1 }]);
    deepEqual(book.bbo(), { bidPrice: 103, bidQty: 5, askPrice: 104, askQty: 5 });
  });

  void it('a limit order that does not reach the other side rests without trading', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5);
    drain(book);
    equal(limit(book, 2, BUY, 100, 5), 0);
    const events = drain(book);
    deepEqual(types(events), ['OrderAccepted', 'LevelChanged', 'TopOfBookChanged']);
    deepEqual(book.bbo(), { bidPrice: 100, bidQty: 5, askPrice: 101, askQty: 5 });
  });

  void it('trade ids go up by one per fill', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 1);
    limit(book, 2, SELL, 101, 1);
    limit(book, 3, SELL, 102, 1);
    drain(book);
    limit(book, 4, BUY, 102, 3);
    const events = drain(book);
    deepEqual(
      ofType(events, 'TradeExecuted').map((t) => t.tradeId),
      [1, 2, 3],
    );
    deepEqual(
      [...ofType(events, 'OrderFilled'), ...ofType(events, 'OrderPartiallyFilled')]
        .filter((f) => !f.maker)
        .sort((a, b) => a.seq - b.seq)
        .map((f) => [f.tradeId, f.qtyFilled, f.qtyLeft]),
      [
        [1, 1, 2],
        [2, 2, 1],
        [3, 3, 0],
      ],
    );
  });
});

void describe('time in force', () => {
  void it('GTC rests until cancelled', () => {
    const book = newBook();
    limit(book, 1, BUY, 100, 10);
    book.advanceTime(10_000_000_000);
    equal(book.order(1)?.qtyLeft, 10);
    equal(book.cancel(1, 1, 10_000_000_001), 10);
    equal(book.order(1), undefined);
  });

  void it('IOC fills what crosses and cancels the rest with ImmediateRemainder', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5);
    drain(book);
    equal(book.place(order({ orderId: 2, price: 102, qty: 8, tif: TimeInForce.IOC })), 5);
    const events = drain(book);
    deepEqual(trades(events), [[101, 5, 1]]);
    const cancel = single(events, 'OrderCancelled');
    deepEqual(
      [cancel.orderId, cancel.qty, cancel.qtyFilled, cancel.reason],
      [2, 3, 5, CancelReason.ImmediateRemainder],
    );
    equal(book.order(2), undefined);
    deepEqual(book.depth(BUY, Infinity), []);
  });

  void it('IOC that crosses nothing is cancelled whole and leaves no level', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5);
    drain(book);
    equal(book.place(order({ orderId: 2, price: 100, qty: 8, tif: TimeInForce.IOC })), 0);
    const events = drain(book);
    deepEqual(types(events), ['OrderAccepted', 'OrderCancelled']);
    equal(single(events, 'OrderCancelled').qty, 8);
    deepEqual(cancelReasons(events, 2), [CancelReason.ImmediateRemainder]);
  });

  void it('FOK fills in full across levels when it can', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5);
    limit(book, 2, SELL, 102, 5);
    drain(book);
    equal(book.place(order({ orderId: 3, price: 102, qty: 10, tif: TimeInForce.FOK })), 10);
    deepEqual(trades(drain(book)), [
      [101, 5, 1],
      [102, 5, 2],
    ]);
    equal(book.orderCount, 0);
  });

  void it('FOK that cannot fill in full is killed before any fill and changes nothing', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5);
    limit(book, 2, SELL, 102, 5);
    limit(book, 3, SELL, 103, 5);
    drain(book);
    const before = snapshot(book);
    // 15 is there, but only 10 within the limit.
    equal(book.place(order({ orderId: 4, price: 102, qty: 11, tif: TimeInForce.FOK })), 0);
    let events = drain(book);
    deepEqual(types(events), ['OrderAccepted', 'OrderCancelled']);
    const cancel = single(events, 'OrderCancelled');
    deepEqual(
      [cancel.orderId, cancel.qty, cancel.qtyFilled, cancel.reason],
      [4, 11, 0, CancelReason.FillOrKill],
    );
    equal(snapshot(book), before);
    // Nor more than there is at all.
    equal(book.place(order({ orderId: 5, price: 200, qty: 16, tif: TimeInForce.FOK })), 0);
    events = drain(book);
    deepEqual(cancelReasons(events, 5), [CancelReason.FillOrKill]);
    equal(snapshot(book), before);
  });

  void it('FOK market orders are all or nothing too', () => {
    const book = newBook();
    limit(book, 1, BUY, 99, 5);
    limit(book, 2, BUY, 98, 5);
    drain(book);
    const market = { type: OrderType.Market, tif: TimeInForce.FOK, price: 0, side: SELL };
    equal(book.place(order({ orderId: 3, qty: 11, ...market })), 0);
    deepEqual(cancelReasons(drain(book), 3), [CancelReason.FillOrKill]);
    equal(book.place(order({ orderId: 4, qty: 10, ...market })), 10);
    equal(book.orderCount, 0);
  });

  void it('FOK counts the hidden quantity of icebergs', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 30, { displayQty: 5, owner: 2 });
    drain(book);
    const before = snapshot(book);
    equal(book.place(order({ orderId: 2, price: 101, qty: 31, tif: TimeInForce.FOK })), 0);
    deepEqual(cancelReasons(drain(book), 2), [CancelReason.FillOrKill]);
    equal(snapshot(book), before);
    equal(book.place(order({ orderId: 3, price: 101, qty: 30, tif: TimeInForce.FOK })), 30);
    deepEqual(
      trades(drain(book)),
      Array.from({ length: 6 }, () => [101, 5, 1]),
    );
  });

  void it('FOK with CancelIncoming counts only what lies before its own first resting order', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5, { owner: 2 });
    limit(book, 2, SELL, 101, 10, { owner: 1 });
    limit(book, 3, SELL, 101, 10, { owner: 2 });
    drain(book);
    const before = snapshot(book);
    const fok = { price: 101, owner: 1, tif: TimeInForce.FOK, stp: SelfTradePrevention.CancelIncoming };
    equal(book.place(order({ orderId: 4, qty: 6, ...fok })), 0);
    const events = drain(book);
    deepEqual(trades(events), []);
    deepEqual(cancelReasons(events, 4), [CancelReason.FillOrKill]);
    equal(snapshot(book), before, 'the killed FOK touched nothing');
    equal(book.place(order({ orderId: 5, qty: 5, ...fok })), 5);
    deepEqual(trades(drain(book)), [[101, 5, 1]]);
    deepEqual(queue(book, SELL, 101), [2, 3]);
  });

  void it('FOK with CancelBoth also stops at its own first resting order', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5, { owner: 2 });
    limit(book, 2, SELL, 102, 10, { owner: 1 });
    limit(book, 3, SELL, 102, 10, { owner: 2 });
    drain(book);
    const before = snapshot(book);
    equal(
      book.place(
        order({
          orderId: 4,
          qty: 6,
          price: 102,
          owner: 1,
          tif: TimeInForce.FOK,
          stp: SelfTradePrevention.CancelBoth,
        }),
      ),
      0,
    );
    deepEqual(cancelReasons(drain(book), 4), [CancelReason.FillOrKill]);
    equal(snapshot(book), before);
  });

  void it('FOK with self-trade prevention: iceberg refills behind its own order do not count', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 50, { owner: 2, displayQty: 5 });
    limit(book, 2, SELL, 101, 10, { owner: 1 });
    drain(book);
    const before = snapshot(book);
    equal(
      book.place(
        order({
          orderId: 3,
          price: 101,
          qty: 10,
          owner: 1,
          tif: TimeInForce.FOK,
          stp: SelfTradePrevention.CancelIncoming,
        }),
      ),
      0,
    );
    deepEqual(cancelReasons(drain(book), 3), [CancelReason.FillOrKill]);
    equal(snapshot(book), before);
    // Without prevention the same order fills: the iceberg's slice, then (self trade allowed) order 2.
    equal(book.place(order({ orderId: 4, price: 101, qty: 10, owner: 1, tif: TimeInForce.FOK })), 10);
    deepEqual(trades(drain(book)), [
      [101, 5, 1],
      [101, 5, 2],
    ]);
  });

  void it('FOK with CancelResting skips its own orders, and cancels them only when it goes ahead', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 50, { owner: 2, displayQty: 5 });
    limit(book, 2, SELL, 101, 10, { owner: 1 });
    drain(book);
    const before = snapshot(book);
    const fok = { price: 101, owner: 1, tif: TimeInForce.FOK, stp: SelfTradePrevention.CancelResting };
    equal(book.place(order({ orderId: 3, qty: 51, ...fok })), 0);
    let events = drain(book);
    deepEqual(cancelReasons(events, 3), [CancelReason.FillOrKill]);
    deepEqual(cancelReasons(events, 2), [], 'the own resting order is not cancelled by a killed FOK');
    equal(snapshot(book), before);
    equal(book.place(order({ orderId: 4, qty: 10, ...fok })), 10);
    events = drain(book);
    deepEqual(trades(events), [
      [101, 5, 1],
      [101, 5, 1],
    ]);
    deepEqual(cancelReasons(events, 2), [CancelReason.SelfTrade]);
    equal(book.order(1)?.qtyLeft, 40);
  });

  void it('FOK with DecrementBoth counts its own orders as used up', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 4, { owner: 1 });
    limit(book, 2, SELL, 101, 6, { owner: 2 });
    drain(book);
    const before = snapshot(book);
    const fok = { price: 101, owner: 1, tif: TimeInForce.FOK, stp: SelfTradePrevention.DecrementBoth };
    equal(book.place(order({ orderId: 3, qty: 11, ...fok })), 0);
    deepEqual(cancelReasons(drain(book), 3), [CancelReason.FillOrKill]);
    equal(snapshot(book), before);
    equal(book.place(order({ orderId: 4, qty: 10, ...fok })), 6);
    const events = drain(book);
    deepEqual(trades(events), [[101, 6, 2]]);
    deepEqual(cancelReasons(events, 1), [CancelReason.SelfTrade]);
    const reduced = single(events, 'OrderReduced');
    deepEqual(
      [reduced.orderId, reduced.qty, reduced.qtyLeft, reduced.reason],
      [4, 4, 6, CancelReason.SelfTrade],
    );
    equal(book.orderCount, 0);
  });
});

void describe('DAY and GTD expiry', () => {
  void it('a GTD order expires when advanceTime reaches its expiry time', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 10, { tif: TimeInForce.GTD, expireTimeUs: 1000 });
    limit(book, 2, SELL, 102, 10);
    drain(book);
    equal(book.advanceTime(999), true);
    deepEqual(drain(book), []);
    equal(book.order(1)?.qtyLeft, 10);
    equal(book.advanceTime(1000), true);
    const events = drain(book);
    const expired = single(events, 'OrderExpired');
    deepEqual(
      [
        expired.orderId,
        expired.owner,
        expired.side,
        expired.price,
        expired.qty,
        expired.qtyFilled,
        expired.timeUs,
      ],
      [1, 1, SELL, 101, 10, 0, 1000],
    );
    const level = single(events, 'LevelChanged');
    deepEqual([level.side, level.price, level.qty, level.orders], [SELL, 101, 0, 0]);
    const top = single(events, 'TopOfBookChanged');
    deepEqual([top.askPrice, top.askQty], [102, 10]);
    equal(events[events.length - 1].type, 'TopOfBookChanged');
    equal(book.order(1), undefined);
    equal(book.orderCount, 1);
  });

  void it("a DAY order expires before a later command's own work, at that command's time", () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 10, { tif: TimeInForce.DAY, expireTimeUs: 500 });
    drain(book);
    equal(limit(book, 2, BUY, 101, 5, { timeUs: 500 }), 0, 'the expired order is not there to trade with');
    const events = drain(book);
    const expiredAt = events.findIndex((e) => e.type === 'OrderExpired');
    const acceptedAt = events.findIndex((e) => e.type === 'OrderAccepted');
    ok(expiredAt >= 0 && expiredAt < acceptedAt, `expiry first: ${types(events).join(', ')}`);
    deepEqual(trades(events), []);
    deepEqual(book.bbo(), { bidPrice: 101, bidQty: 5, askPrice: 0, askQty: 0 });
  });

  void it('a partly filled order expires with its remaining quantity', () => {
    const book = newBook();
    limit(book, 1, BUY, 100, 10, { tif: TimeInForce.GTD, expireTimeUs: 50 });
    limit(book, 2, SELL, 100, 4, { owner: 2, timeUs: 10 });
    drain(book);
    book.advanceTime(60);
    const expired = single(drain(book), 'OrderExpired');
    deepEqual([expired.qty, expired.qtyFilled], [6, 4]);
  });

  void it('a pending DAY stop expires', () => {
    const book = newBook();
    book.place(
      order({
        orderId: 1,
        type: OrderType.StopMarket,
        tif: TimeInForce.DAY,
        expireTimeUs: 100,
        triggerPrice: 110,
        price: 0,
      }),
    );
    equal(book.pendingTriggerCount, 1);
    drain(book);
    book.advanceTime(100);
    const expired = single(drain(book), 'OrderExpired');
    equal(expired.orderId, 1);
    equal(book.pendingTriggerCount, 0);
    equal(book.orderCount, 0);
  });

  void it('orders expire in the order of their expiry times', () => {
    const book = newBook();
    limit(book, 1, BUY, 100, 1, { tif: TimeInForce.GTD, expireTimeUs: 300 });
    limit(book, 2, BUY, 99, 1, { tif: TimeInForce.GTD, expireTimeUs: 200 });
    limit(book, 3, BUY, 98, 1, { tif: TimeInForce.DAY, expireTimeUs: 250 });
    limit(book, 4, BUY, 97, 1, { tif: TimeInForce.GTD, expireTimeUs: 400 });
    drain(book);
    book.advanceTime(300);
    deepEqual(
      ofType(drain(book), 'OrderExpired').map((e) => e.orderId),
      [2, 3, 1],
    );
    deepEqual(queue(book, BUY, 97), [4]);
  });

  void it('a cancelled order does not expire later, even when its id comes back with a later expiry', () => {
    const book = newBook();
    limit(book, 5, BUY, 100, 1, { tif: TimeInForce.GTD, expireTimeUs: 100 });
    equal(book.cancel(5, 1, 10), 1);
    limit(book, 5, BUY, 100, 2, { tif: TimeInForce.GTD, expireTimeUs: 200, timeUs: 20 });
    drain(book);
    book.advanceTime(150);
    deepEqual(ofType(drain(book), 'OrderExpired'), []);
    equal(book.order(5)?.qtyLeft, 2);
    book.advanceTime(200);
    equal(single(drain(book), 'OrderExpired').qty, 2);
  });

  void it('a cancel at or after the expiry time finds the order gone (OrderNotFound), not cancelled twice', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 10, { tif: TimeInForce.GTD, expireTimeUs: 100 });
    limit(book, 2, SELL, 101, 10);
    limit(book, 3, SELL, 101, 10);
    drain(book);
    equal(book.cancel(1, 1, 100), 0);
    const events = drain(book);
    deepEqual(
      events.filter((e) => e.type !== 'LevelChanged' && e.type !== 'TopOfBookChanged').map((e) => e.type),
      ['OrderExpired', 'OrderRejected'],
    );
    equal(single(events, 'OrderRejected').code, BookReject.OrderNotFound);
    deepEqual(
      ofType(events, 'LevelChanged').map((e) => [e.side, e.price, e.qty, e.orders]),
      [[SELL, 101, 20, 2]],
    );
    equal(book.orderCount, 2);
    deepEqual(book.depth(SELL, Infinity), [{ price: 101, qty: 20, orders: 2 }]);
    deepEqual(queue(book, SELL, 101), [2, 3]);
    // The book still works: new orders land where they should.
    limit(book, 4, SELL, 102, 10, { timeUs: 101 });
    limit(book, 5, SELL, 103, 10, { timeUs: 101 });
    equal(book.orderCount, 4);
    deepEqual(queue(book, SELL, 102), [4]);
    deepEqual(queue(book, SELL, 103), [5]);
  });

  void it('an amend at or after the expiry time finds the order gone', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 10, { tif: TimeInForce.DAY, expireTimeUs: 100 });
    drain(book);
    equal(book.amend({ orderId: 1, owner: 1, price: 102, qty: 0, triggerPrice: 0, timeUs: 150 }), 0);
    const events = drain(book);
    equal(single(events, 'OrderExpired').orderId, 1);
    equal(single(events, 'OrderRejected').code, BookReject.OrderNotFound);
    equal(book.orderCount, 0);
  });

  void it('the clock never runs backwards: an earlier stamp acts at the book time', () => {
    const book = newBook();
    equal(book.advanceTime(1000), true);
    equal(book.advanceTime(500), true);
    equal(book.timeUs, 1000);
    limit(book, 1, BUY, 100, 1, { timeUs: 400 });
    equal(single(drain(book), 'OrderAccepted').timeUs, 1000);
    equal(book.timeUs, 1000);
  });

  void it('advanceTime refuses a time that is not a non-negative safe integer, changing nothing', () => {
    const book = newBook();
    book.advanceTime(10);
    drain(book);
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
      const before = snapshot(book);
      equal(book.advanceTime(bad), false, `advanceTime(${bad})`);
      deepEqual(drain(book), []);
      equal(snapshot(book), before);
    }
    equal(book.timeUs, 10);
  });
});

void describe('post-only', () => {
  void it('a post-only order that would take is rejected; one that does not rests and later makes', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5, { owner: 2 });
    drain(book);
    const before = snapshot(book);
    equal(limit(book, 2, BUY, 101, 5, { postOnly: true }), 0);
    const reject = single(drain(book), 'OrderRejected');
    equal(reject.code, BookReject.PostOnlyWouldTake);
    equal(snapshot(book), before);
    equal(limit(book, 3, BUY, 100, 5, { postOnly: true, tif: TimeInForce.DAY, expireTimeUs: 1000 }), 0);
    equal(book.order(3)?.postOnly, true);
    limit(book, 4, SELL, 100, 5, { owner: 2 });
    const trade = single(drain(book), 'TradeExecuted');
    deepEqual([trade.makerOrderId, trade.takerOrderId, trade.price], [3, 4, 100]);
  });
});

void describe('stops and take-profits', () => {
  /** Makes one trade at `price` between owners 8 and 9, which have nothing else in the book. */
  function tradeAt(book: OrderBook, id: number, price: number, timeUs = 0): void {
    limit(book, id, SELL, price, 1, { owner: 8, timeUs });
    limit(book, id + 1, BUY, price, 1, { owner: 9, timeUs });
  }

  void it('a buy stop-market waits, then fires when the last trade reaches its trigger from below', () => {
    const book = newBook();
    limit(book, 1, SELL, 105, 5, { owner: 2 });
    limit(book, 2, SELL, 106, 5, { owner: 2 });
    const stop = order({ orderId: 3, type: OrderType.StopMarket, triggerPrice: 103, price: 0, qty: 8 });
    equal(book.place(stop), 0);
    const view = book.order(3);
    equal(view?.pendingTrigger, true);
    deepEqual(
      book.pendingOrders().map((o) => o.orderId),
      [3],
    );
    equal(book.orderCount, 3);
    equal(book.pendingTriggerCount, 1);
    deepEqual(book.depth(BUY, Infinity), [], 'a pending stop is not in the book');
    tradeAt(book, 10, 102);
    equal(book.order(3)?.pendingTrigger, true, 'not yet at 102');
    drain(book);
    tradeAt(book, 20, 103);
    const events = drain(book);
    const triggered = single(events, 'OrderTriggered');
    deepEqual(
      [triggered.orderId, triggered.side, triggered.qty, triggered.triggerPrice, triggered.lastTradePrice],
      [3, BUY, 8, 103, 103],
    );
    deepEqual(trades(events).slice(1), [
      [105, 5, 1],
      [106, 3, 2],
    ]);
    equal(book.order(3), undefined);
    equal(book.pendingTriggerCount, 0);
  });

  void it('a sell stop-market fires when the last trade falls to its trigger', () => {
    const book = newBook();
    limit(book, 1, BUY, 95, 10, { owner: 2 });
    book.place(
      order({ orderId: 2, side: SELL, type: OrderType.StopMarket, triggerPrice: 97, price: 0, qty: 5 }),
    );
    tradeAt(book, 10, 98);
    equal(book.order(2)?.pendingTrigger, true);
    drain(book);
    tradeAt(book, 20, 97);
    const events = drain(book);
    equal(single(events, 'OrderTriggered').orderId, 2);
    deepEqual(trades(events).slice(1), [[95, 5, 1]]);
  });

  void it('a triggered stop-market cancels what it cannot fill', () => {
    const book = newBook();
    limit(book, 1, SELL, 105, 2, { owner: 2 });
    book.place(order({ orderId: 2, type: OrderType.StopMarket, triggerPrice: 101, price: 0, qty: 5 }));
    drain(book);
    tradeAt(book, 10, 101);
    const events = drain(book);
    deepEqual(trades(events).slice(1), [[105, 2, 1]]);
    const reasons = cancelReasons(events, 2);
    equal(reasons.length, 1);
    // types.ts names ImmediateRemainder for "a triggered stop-market's unfilled remainder"; NoLiquidity, "a
    // market order found no more liquidity", fits too.
    ok(
      reasons[0] === CancelReason.ImmediateRemainder || reasons[0] === CancelReason.NoLiquidity,
      `reason ${reasons[0]}`,
    );
    equal(single(events, 'OrderCancelled').qty, 3);
    equal(book.order(2), undefined);
  });

  void it('a triggered stop-limit rests with the priority of its trigger time', () => {
    const book = newBook();
    book.place(
      order({ orderId: 1, type: OrderType.StopLimit, triggerPrice: 101, price: 100, qty: 5, timeUs: 1 }),
    );
    limit(book, 2, BUY, 100, 5, { owner: 2, timeUs: 2 });
    tradeAt(book, 10, 101, 3);
    deepEqual(
      queue(book, BUY, 100),
      [2, 1],
      'the stop queues behind an order placed after it but before its trigger',
    );
    const [first, second] = book.levelOrders(BUY, 100);
    ok(second.priority > first.priority);
    equal(second.pendingTrigger, false);
    deepEqual(book.depth(BUY, 1), [{ price: 100, qty: 10, orders: 2 }]);
  });

  void it('a triggered stop-limit trades what crosses at the maker prices', () => {
    const book = newBook();
    limit(book, 1, SELL, 104, 3, { owner: 2 });
    limit(book, 2, SELL, 106, 3, { owner: 2 });
    book.place(order({ orderId: 3, type: OrderType.StopLimit, triggerPrice: 102, price: 105, qty: 5 }));
    drain(book);
    tradeAt(book, 10, 102);
    deepEqual(trades(drain(book)).slice(1), [[104, 3, 1]]);
    equal(book.order(3)?.qtyLeft, 2);
    deepEqual(queue(book, BUY, 105), [3]);
  });

  void it('a buy take-profit fires when the last trade falls to its trigger', () => {
    const book = newBook();
    limit(book, 1, SELL, 110, 10, { owner: 2 });
    book.place(order({ orderId: 3, type: OrderType.TakeProfit, triggerPrice: 95, price: 0, qty: 2 }));
    tradeAt(book, 10, 96);
    equal(book.order(3)?.pendingTrigger, true);
    drain(book);
    tradeAt(book, 20, 95);
    const events = drain(book);
    const triggered = single(events, 'OrderTriggered');
    deepEqual([triggered.orderId, triggered.lastTradePrice], [3, 95]);
    deepEqual(trades(events), [
      [95, 1, 20],
      [110, 2, 1],
    ]);
  });

  void it('a sell take-profit fires when the last trade rises to its trigger', () => {
    const book = newBook();
    limit(book, 1, BUY, 90, 10, { owner: 2 });
    book.place(
      order({ orderId: 3, side: SELL, type: OrderType.TakeProfit, triggerPrice: 105, price: 0, qty: 3 }),
    );
    tradeAt(book, 10, 104);
    equal(book.order(3)?.pendingTrigger, true);
    drain(book);
    tradeAt(book, 20, 105);
    const events = drain(book);
    equal(single(events, 'OrderTriggered').orderId, 3);
    deepEqual(trades(events), [
      [105, 1, 20],
      [90, 3, 1],
    ]);
  });

  void it('a take-profit-limit fires on its trigger and rests at its limit', () => {
    const book = newBook();
    book.place(
      order({
        orderId: 1,
        side: SELL,
        type: OrderType.TakeProfitLimit,
        triggerPrice: 105,
        price: 107,
        qty: 4,
      }),
    );
    tradeAt(book, 10, 104);
    equal(book.order(1)?.pendingTrigger, true);
    tradeAt(book, 20, 106);
    equal(book.order(1)?.pendingTrigger, false);
    deepEqual(queue(book, SELL, 107), [1]);
  });

  void it('a stop whose trigger the last trade already reached fires in the same command', () => {
    const book = newBook();
    tradeAt(book, 10, 101);
    limit(book, 1, SELL, 103, 5, { owner: 2 });
    drain(book);
    equal(
      book.place(order({ orderId: 2, type: OrderType.StopLimit, triggerPrice: 100, price: 102, qty: 5 })),
      0,
    );
    const events = drain(book);
    deepEqual(types(events).slice(0, 2), ['OrderAccepted', 'OrderTriggered']);
    deepEqual(queue(book, BUY, 102), [2]);
  });

  void it("stops cascade: one stop's trade triggers the next, within one command", () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 1, { owner: 2 });
    limit(book, 2, SELL, 102, 1, { owner: 2 });
    limit(book, 3, SELL, 103, 5, { owner: 2 });
    book.place(order({ orderId: 4, type: OrderType.StopMarket, triggerPrice: 101, price: 0, qty: 1 }));
    book.place(order({ orderId: 5, type: OrderType.StopMarket, triggerPrice: 102, price: 0, qty: 1 }));
    book.place(order({ orderId: 6, type: OrderType.StopMarket, triggerPrice: 104, price: 0, qty: 1 }));
    drain(book);
    limit(book, 7, BUY, 101, 1, { owner: 3 });
    const events = drain(book);
    deepEqual(
      events
        .filter((e) => e.type === 'OrderTriggered' || e.type === 'TradeExecuted')
        .map((e) =>
          e.type === 'OrderTriggered'
            ? `trigger ${e.orderId}`
            : e.type === 'TradeExecuted'
              ? `trade ${e.price}`
              : '',
        ),
      ['trade 101', 'trigger 4', 'trade 102', 'trigger 5', 'trade 103'],
    );
    equal(book.order(6)?.pendingTrigger, true, 'the cascade stops at 103');
  });

  void it('stops reached by the same trade fire nearest trigger first, whatever the order they were placed in', () => {
    const book = newBook();
    limit(book, 1, SELL, 105, 1, { owner: 2 });
    limit(book, 2, SELL, 106, 1, { owner: 2 });
    // Order 3 is placed first with the higher trigger; order 4 second with the lower one.
    book.place(order({ orderId: 3, type: OrderType.StopLimit, triggerPrice: 101, price: 110, qty: 1 }));
    book.place(order({ orderId: 4, type: OrderType.StopLimit, triggerPrice: 100, price: 110, qty: 1 }));
    drain(book);
    tradeAt(book, 10, 102);
    const events = drain(book);
    // The price passed 100 before 101: order 4's trigger was reached first (CME's convention), so it fires
    // first and takes the better ask.
    deepEqual(
      ofType(events, 'OrderTriggered').map((e) => e.orderId),
      [4, 3],
      'fireTriggers: nearest trigger first within a direction',
    );
    deepEqual(
      ofType(events, 'TradeExecuted')
        .slice(1)
        .map((t) => [t.price, t.takerOrderId, t.makerOrderId]),
      [
        [105, 4, 1],
        [106, 3, 2],
      ],
    );
  });

  void it('a rising and a falling stop triggered together fire earliest placed first', () => {
    // Before the first trade nothing has reached any trigger, so the first trade can reach a buy stop (trigger
    // at or below it) and a sell stop (trigger at or above it) at once. Whichever fires first moves the last
    // trade price away from the other one's trigger, so only the earlier placed one fires.
    for (const sellFirst of [true, false]) {
      const book = newBook();
      limit(book, 1, SELL, 105, 5, { owner: 2 });
      limit(book, 2, BUY, 95, 5, { owner: 2 });
      const sellStop = order({
        orderId: 3,
        side: SELL,
        type: OrderType.StopMarket,
        triggerPrice: 102,
        price: 0,
        qty: 1,
      });
      const buyStop = order({
        orderId: 4,
        side: BUY,
        type: OrderType.StopMarket,
        triggerPrice: 100,
        price: 0,
        qty: 1,
      });
      for (const o of sellFirst ? [sellStop, buyStop] : [buyStop, sellStop]) book.place(o);
      equal(book.pendingTriggerCount, 2);
      drain(book);
      tradeAt(book, 10, 101);
      const events = drain(book);
      const first = sellFirst ? 3 : 4;
      deepEqual(
        ofType(events, 'OrderTriggered').map((e) => e.orderId),
        [first],
        `placed ${sellFirst ? 'sell' : 'buy'} stop first`,
      );
      deepEqual(trades(events).slice(1), sellFirst ? [[95, 1, 2]] : [[105, 1, 1]]);
      equal(book.order(sellFirst ? 4 : 3)?.pendingTrigger, true);
    }
  });

  void it('a pending stop can be cancelled and returns its quantity', () => {
    const book = newBook();
    book.place(order({ orderId: 1, type: OrderType.StopLimit, triggerPrice: 105, price: 106, qty: 7 }));
    drain(book);
    equal(book.cancel(1, 1, 0), 7);
    const cancel = single(drain(book), 'OrderCancelled');
    deepEqual([cancel.orderId, cancel.qty, cancel.reason], [1, 7, CancelReason.Requested]);
    deepEqual(book.pendingOrders(), []);
    equal(book.orderCount, 0);
    tradeAt(book, 10, 105);
    deepEqual(ofType(drain(book), 'OrderTriggered'), []);
  });

  void it('amending a pending stop: a smaller quantity keeps its priority, a new trigger loses it', () => {
    const book = newBook();
    book.place(order({ orderId: 1, type: OrderType.StopLimit, triggerPrice: 105, price: 106, qty: 7 }));
    book.place(order({ orderId: 2, type: OrderType.StopLimit, triggerPrice: 105, price: 106, qty: 7 }));
    const p1 = book.order(1)?.priority;
    drain(book);
    equal(
      book.amend({ orderId: 1, owner: 1, price: 0, qty: 5, triggerPrice: 0, timeUs: 0 }),
      0,
      'still pending',
    );
    const kept = single(drain(book), 'OrderAmended');
    deepEqual([kept.qty, kept.oldQtyLeft, kept.priorityKept, kept.triggerPrice], [5, 7, true, 105]);
    equal(book.order(1)?.priority, p1);
    equal(book.order(1)?.pendingTrigger, true);
    book.amend({ orderId: 2, owner: 1, price: 0, qty: 0, triggerPrice: 104, timeUs: 0 });
    book.amend({ orderId: 2, owner: 1, price: 0, qty: 0, triggerPrice: 105, timeUs: 0 });
    const lost = ofType(drain(book), 'OrderAmended');
    deepEqual(
      lost.map((e) => [e.triggerPrice, e.priorityKept]),
      [
        [104, false],
        [105, false],
      ],
    );
    ok((book.order(2)?.priority ?? 0) > (p1 ?? Infinity));
    limit(book, 10, SELL, 106, 10, { owner: 2 });
    tradeAt(book, 20, 105);
    // Both fire on the same trade; order 1 is now the earlier one.
    deepEqual(
      ofType(drain(book), 'OrderTriggered').map((e) => e.orderId),
      [1, 2],
    );
  });

  void it('amending a stop trigger to a price the last trade already reached fires it at once', () => {
    const book = newBook();
    tradeAt(book, 10, 100);
    book.place(order({ orderId: 1, type: OrderType.StopLimit, triggerPrice: 105, price: 99, qty: 7 }));
    drain(book);
    equal(book.amend({ orderId: 1, owner: 1, price: 0, qty: 0, triggerPrice: 100, timeUs: 0 }), 7);
    const events = drain(book);
    deepEqual(types(events).slice(0, 2), ['OrderAmended', 'OrderTriggered']);
    deepEqual(queue(book, BUY, 99), [1]);
  });
});

void describe('icebergs', () => {
  void it('show only their display quantity in depth, L3 and events', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 30, { displayQty: 10 });
    const events = drain(book);
    const level = single(events, 'LevelChanged');
    deepEqual([level.qty, level.orders], [10, 1]);
    equal(single(events, 'OrderAccepted').displayQty, 10);
    deepEqual(book.depth(SELL, 1), [{ price: 101, qty: 10, orders: 1 }]);
    const v = book.order(1);
    deepEqual([v?.qtyLeft, v?.qtyVisible, v?.displayQty], [30, 10, 10]);
    deepEqual(book.bbo(), { bidPrice: 0, bidQty: 0, askPrice: 101, askQty: 10 });
  });

  void it('refill at the back of the queue once their visible slice is gone', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 30, { displayQty: 10, owner: 1 });
    limit(book, 2, SELL, 101, 10, { owner: 2 });
    const p2 = book.order(2)?.priority ?? NaN;
    drain(book);
    equal(limit(book, 3, BUY, 101, 15, { owner: 3 }), 15);
    deepEqual(trades(drain(book)), [
      [101, 10, 1],
      [101, 5, 2],
    ]);
    deepEqual(queue(book, SELL, 101), [2, 1]);
    const v = book.order(1);
    deepEqual([v?.qtyLeft, v?.qtyVisible, v?.qtyFilled], [20, 10, 10]);
    ok((v?.priority ?? -1) > p2, 'the refill has a later priority');
    deepEqual(book.depth(SELL, 1), [{ price: 101, qty: 15, orders: 2 }]);
  });

  void it('keep their place while their visible slice is only partly filled', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 30, { displayQty: 10, owner: 1 });
    limit(book, 2, SELL, 101, 10, { owner: 2 });
    drain(book);
    limit(book, 3, BUY, 101, 4, { owner: 3 });
    deepEqual(queue(book, SELL, 101), [1, 2]);
    deepEqual([book.order(1)?.qtyVisible, book.order(1)?.qtyLeft], [6, 26]);
  });

  void it('show a last slice smaller than the display size', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 25, { displayQty: 10 });
    drain(book);
    equal(limit(book, 2, BUY, 101, 25, { owner: 3 }), 25);
    deepEqual(trades(drain(book)), [
      [101, 10, 1],
      [101, 10, 1],
      [101, 5, 1],
    ]);
    equal(book.orderCount, 0);
  });

  void it('an incoming iceberg matches with its whole quantity and rests only a slice', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5, { owner: 2 });
    drain(book);
    equal(limit(book, 2, BUY, 101, 30, { displayQty: 10 }), 5);
    deepEqual([book.order(2)?.qtyLeft, book.order(2)?.qtyVisible], [25, 10]);
    deepEqual(book.depth(BUY, 1), [{ price: 101, qty: 10, orders: 1 }]);
  });

  void it('cancelling an iceberg removes and returns its hidden quantity too', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 30, { displayQty: 10 });
    drain(book);
    equal(book.cancel(1, 1, 0), 30);
    equal(single(drain(book), 'OrderCancelled').qty, 30);
  });
});

void describe('amend', () => {
  function twoBids(): OrderBook {
    const book = newBook();
    limit(book, 1, BUY, 100, 10, { timeUs: 1 });
    limit(book, 2, BUY, 100, 10, { owner: 2, timeUs: 2 });
    drain(book);
    return book;
  }

  void it('a quantity decrease keeps time priority', () => {
    const book = twoBids();
    const p1 = book.order(1)?.priority;
    equal(book.amend({ orderId: 1, owner: 1, price: 0, qty: 6, triggerPrice: 0, timeUs: 3 }), 6);
    const events = drain(book);
    const amended = single(events, 'OrderAmended');
    deepEqual(
      [
        amended.orderId,
        amended.price,
        amended.qty,
        amended.oldPrice,
        amended.oldQtyLeft,
        amended.priorityKept,
      ],
      [1, 100, 6, 100, 10, true],
    );
    const level = single(events, 'LevelChanged');
    deepEqual([level.side, level.price, level.qty, level.orders], [BUY, 100, 16, 2]);
    deepEqual(queue(book, BUY, 100), [1, 2]);
    equal(book.order(1)?.priority, p1);
    deepEqual(book.bbo(), { bidPrice: 100, bidQty: 16, askPrice: 0, askQty: 0 });
  });

  void it('a quantity increase loses time priority', () => {
    const book = twoBids();
    equal(book.amend({ orderId: 1, owner: 1, price: 0, qty: 12, triggerPrice: 0, timeUs: 3 }), 12);
    equal(single(drain(book), 'OrderAmended').priorityKept, false);
    deepEqual(queue(book, BUY, 100), [2, 1]);
    deepEqual(book.depth(BUY, 1), [{ price: 100, qty: 22, orders: 2 }]);
  });

  void it('a price change loses time priority, even back to the old price', () => {
    const book = twoBids();
    equal(book.amend({ orderId: 1, owner: 1, price: 99, qty: 0, triggerPrice: 0, timeUs: 3 }), 10);
    deepEqual(queue(book, BUY, 99), [1]);
    deepEqual(queue(book, BUY, 100), [2]);
    book.amend({ orderId: 1, owner: 1, price: 100, qty: 0, triggerPrice: 0, timeUs: 4 });
    deepEqual(queue(book, BUY, 100), [2, 1]);
    deepEqual(book.depth(BUY, Infinity), [{ price: 100, qty: 20, orders: 2 }]);
  });

  void it('a price change with a smaller quantity still loses priority', () => {
    const book = twoBids();
    book.amend({ orderId: 1, owner: 1, price: 101, qty: 5, triggerPrice: 0, timeUs: 3 });
    book.amend({ orderId: 1, owner: 1, price: 100, qty: 0, triggerPrice: 0, timeUs: 4 });
    const amended = ofType(drain(book), 'OrderAmended');
    deepEqual(
      amended.map((e) => e.priorityKept),
      [false, false],
    );
    deepEqual(queue(book, BUY, 100), [2, 1]);
    equal(book.order(1)?.qtyLeft, 5);
  });

  void it('an amend that crosses matches at the maker price and returns what is left resting', () => {
    const book = newBook();
    limit(book, 1, BUY, 99, 10);
    limit(book, 2, SELL, 101, 4, { owner: 2 });
    drain(book);
    equal(book.amend({ orderId: 1, owner: 1, price: 102, qty: 0, triggerPrice: 0, timeUs: 0 }), 6);
    const events = drain(book);
    ok(types(events).indexOf('OrderAmended') < types(events).indexOf('TradeExecuted'));
    deepEqual(trades(events), [[101, 4, 2]]);
    deepEqual(book.depth(BUY, Infinity), [{ price: 102, qty: 6, orders: 1 }]);
    deepEqual(book.depth(SELL, Infinity), []);
    // An amend that fills completely returns 0 and the order is gone.
    limit(book, 3, SELL, 104, 6, { owner: 2 });
    equal(book.amend({ orderId: 1, owner: 1, price: 104, qty: 0, triggerPrice: 0, timeUs: 0 }), 0);
    equal(book.order(1), undefined);
  });

  void it('the new quantity is the total, filled included (FIX style)', () => {
    const book = newBook();
    limit(book, 1, BUY, 100, 10);
    limit(book, 9, BUY, 100, 10, { owner: 2 });
    limit(book, 2, SELL, 100, 4, { owner: 2 });
    drain(book);
    deepEqual([book.order(1)?.qtyLeft, book.order(1)?.qtyFilled], [6, 4]);
    equal(book.amend({ orderId: 1, owner: 1, price: 0, qty: 8, triggerPrice: 0, timeUs: 0 }), 4);
    const dec = single(drain(book), 'OrderAmended');
    deepEqual([dec.qty, dec.oldQtyLeft, dec.priorityKept], [4, 6, true]);
    deepEqual(queue(book, BUY, 100), [1, 9]);
    equal(book.amend({ orderId: 1, owner: 1, price: 0, qty: 12, triggerPrice: 0, timeUs: 0 }), 8);
    const inc = single(drain(book), 'OrderAmended');
    deepEqual([inc.qty, inc.oldQtyLeft, inc.priorityKept], [8, 4, false]);
    deepEqual(queue(book, BUY, 100), [9, 1]);
    deepEqual([book.order(1)?.qtyLeft, book.order(1)?.qtyFilled], [8, 4]);
  });

  void it('an iceberg quantity decrease comes off the hidden part first', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 30, { displayQty: 10 });
    limit(book, 2, SELL, 101, 5, { owner: 2 });
    book.amend({ orderId: 1, owner: 1, price: 0, qty: 25, triggerPrice: 0, timeUs: 0 });
    deepEqual([book.order(1)?.qtyLeft, book.order(1)?.qtyVisible], [25, 10]);
    book.amend({ orderId: 1, owner: 1, price: 0, qty: 8, triggerPrice: 0, timeUs: 0 });
    deepEqual([book.order(1)?.qtyLeft, book.order(1)?.qtyVisible], [8, 8]);
    deepEqual(queue(book, SELL, 101), [1, 2]);
    deepEqual(book.depth(SELL, 1), [{ price: 101, qty: 13, orders: 2 }]);
  });

  void it('an operator (ANY_OWNER) may amend and cancel any order', () => {
    const book = twoBids();
    equal(book.amend({ orderId: 2, owner: ANY_OWNER, price: 0, qty: 3, triggerPrice: 0, timeUs: 0 }), 3);
    equal(book.cancel(2, ANY_OWNER, 0), 3);
    equal(book.order(2), undefined);
  });
});

void describe('cancel by slot (cancelAt)', () => {
  /** The same orders in two books: a resting one, a stop, a GTD order expiring at 1000, and one more. */
  function twoBooks(): [OrderBook, OrderBook] {
    const books: [OrderBook, OrderBook] = [newBook(), newBook()];
    for (const book of books) {
      limit(book, 1, SELL, 101, 10, { owner: 3 });
      limit(book, 2, SELL, 102, 5, { tif: TimeInForce.GTD, expireTimeUs: 1000 });
      limit(book, 3, BUY, 99, 7);
      book.place(
        order({ orderId: 4, side: BUY, type: OrderType.StopLimit, price: 110, triggerPrice: 105, qty: 2 }),
      );
      drain(book);
    }
    return books;
  }

  void it('gives the events, return value and book of cancel(): resting and pending orders', () => {
    for (const id of [1, 3, 4]) {
      const [a, b] = twoBooks();
      equal(a.cancelAt(a.slotOf(id), id, 50), b.cancel(id, ANY_OWNER, 50));
      deepEqual(drain(a), drain(b));
      equal(snapshot(a), snapshot(b));
      equal(a.stateHash(), b.stateHash());
      equal(a.order(id), undefined);
    }
  });

  void it('an order its own clock move expired is refused as cancel() refuses it (not found)', () => {
    const [a, b] = twoBooks();
    const slot = a.slotOf(2);
    equal(a.cancelAt(slot, 2, 1000), b.cancel(2, ANY_OWNER, 1000));
    const events = drain(a);
    deepEqual(events, drain(b));
    equal(single(events, 'OrderExpired').orderId, 2);
    equal(single(events, 'OrderRejected').code, BookReject.OrderNotFound);
    equal(a.stateHash(), b.stateHash());
  });

  void it('a slot that does not hold the order, or a bad time, falls back to cancel()', () => {
    const [a, b] = twoBooks();
    equal(a.cancelAt(a.slotOf(3), 1, 60), b.cancel(1, ANY_OWNER, 60), 'the slot of another order');
    deepEqual(drain(a), drain(b));
    equal(a.cancelAt(-1, 3, 70), b.cancel(3, ANY_OWNER, 70), 'no slot');
    deepEqual(drain(a), drain(b));
    equal(a.cancelAt(a.slotOf(4), 4, -5), b.cancel(4, ANY_OWNER, -5), 'a bad time');
    const events = drain(a);
    deepEqual(events, drain(b));
    equal(single(events, 'OrderRejected').code, BookReject.InvalidTime);
    equal(a.stateHash(), b.stateHash());
    equal(a.order(4)?.qtyLeft, 2);
  });
});

void describe('mass cancel', () => {
  /** Owner 1: bid 1, ask 2, buy stop 3. Owner 2: bid 4, ask 5, sell stop 6. */
  function twoOwners(): OrderBook {
    const book = newBook();
    limit(book, 1, BUY, 99, 10, { owner: 1 });
    limit(book, 2, SELL, 102, 10, { owner: 1 });
    book.place(
      order({ orderId: 3, owner: 1, type: OrderType.StopMarket, triggerPrice: 110, price: 0, qty: 5 }),
    );
    limit(book, 4, BUY, 98, 10, { owner: 2 });
    limit(book, 5, SELL, 103, 10, { owner: 2 });
    book.place(
      order({
        orderId: 6,
        owner: 2,
        side: SELL,
        type: OrderType.StopLimit,
        triggerPrice: 90,
        price: 89,
        qty: 5,
      }),
    );
    drain(book);
    return book;
  }

  function cancelledIds(events: BookEvent[]): number[] {
    const cancels = ofType(events, 'OrderCancelled');
    ok(cancels.every((e) => e.reason === CancelReason.MassCancel));
    return cancels.map((e) => e.orderId).sort((a, b) => a - b);
  }

  void it("cancels all of one owner's orders, pending stops included", () => {
    const book = twoOwners();
    equal(book.massCancel(1, -1, 0), 3);
    deepEqual(cancelledIds(drain(book)), [1, 2, 3]);
    equal(book.orderCount, 3);
    deepEqual(
      book.pendingOrders().map((o) => o.orderId),
      [6],
    );
    deepEqual(book.bbo(), { bidPrice: 98, bidQty: 10, askPrice: 103, askQty: 10 });
  });

  void it("cancels one side of one owner's orders", () => {
    const book = twoOwners();
    equal(book.massCancel(1, BUY, 0), 2);
    deepEqual(cancelledIds(drain(book)), [1, 3]);
    equal(book.massCancel(2, SELL, 0), 2);
    deepEqual(cancelledIds(drain(book)), [5, 6]);
    deepEqual([book.order(2)?.orderId, book.order(4)?.orderId], [2, 4]);
  });

  void it("cancels everyone's orders on one side or both with ANY_OWNER", () => {
    let book = twoOwners();
    equal(book.massCancel(ANY_OWNER, SELL, 0), 3);
    deepEqual(cancelledIds(drain(book)), [2, 5, 6]);
    book = twoOwners();
    equal(book.massCancel(ANY_OWNER, -1, 0), 6);
    const events = drain(book);
    deepEqual(cancelledIds(events), [1, 2, 3, 4, 5, 6]);
    equal(book.orderCount, 0);
    equal(book.pendingTriggerCount, 0);
    const top = single(events, 'TopOfBookChanged');
    deepEqual([top.bidPrice, top.bidQty, top.askPrice, top.askQty], [0, 0, 0, 0]);
    deepEqual(
      ofType(events, 'LevelChanged')
        .map((e) => [e.side, e.price, e.qty, e.orders])
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]),
      [
        [BUY, 98, 0, 0],
        [BUY, 99, 0, 0],
        [SELL, 102, 0, 0],
        [SELL, 103, 0, 0],
      ],
    );
  });

  void it('returns 0 and emits nothing when nothing matches', () => {
    const book = twoOwners();
    const before = snapshot(book);
    equal(book.massCancel(7, -1, 0), 0);
    deepEqual(drain(book), []);
    equal(snapshot(book), before);
  });
});

void describe('self-trade prevention (the incoming order decides)', () => {
  /** Asks at 101: order 1 of owner 2 (3), order 2 of owner 1 (5), order 3 of owner 2 (5). */
  function mixedLevel(): OrderBook {
    const book = newBook();
    limit(book, 1, SELL, 101, 3, { owner: 2 });
    limit(book, 2, SELL, 101, 5, { owner: 1, stp: SelfTradePrevention.CancelBoth });
    limit(book, 3, SELL, 101, 5, { owner: 2 });
    drain(book);
    return book;
  }
  const incoming = (stp: SelfTradePrevention, qty = 10): PlaceOrder =>
    order({ orderId: 4, owner: 1, side: BUY, price: 101, qty, stp });

  void it('None: the self trade happens, whatever the resting order asked for', () => {
    const book = mixedLevel();
    equal(book.place(incoming(SelfTradePrevention.None)), 10);
    const events = drain(book);
    deepEqual(trades(events), [
      [101, 3, 1],
      [101, 5, 2],
      [101, 2, 3],
    ]);
    const self = ofType(events, 'TradeExecuted')[1];
    deepEqual([self.takerOwner, self.makerOwner], [1, 1]);
  });

  void it('CancelIncoming: the incoming order stops at its own resting order', () => {
    const book = mixedLevel();
    equal(book.place(incoming(SelfTradePrevention.CancelIncoming)), 3);
    const events = drain(book);
    deepEqual(trades(events), [[101, 3, 1]]);
    const cancel = single(events, 'OrderCancelled');
    deepEqual(
      [cancel.orderId, cancel.qty, cancel.qtyFilled, cancel.reason],
      [4, 7, 3, CancelReason.SelfTrade],
    );
    deepEqual(queue(book, SELL, 101), [2, 3]);
    equal(book.order(4), undefined, 'a GTC remainder does not rest');
    deepEqual(book.depth(BUY, Infinity), []);
  });

  void it('CancelResting: its own resting order is cancelled and matching goes on', () => {
    const book = mixedLevel();
    equal(book.place(incoming(SelfTradePrevention.CancelResting)), 8);
    const events = drain(book);
    deepEqual(trades(events), [
      [101, 3, 1],
      [101, 5, 3],
    ]);
    const cancel = single(events, 'OrderCancelled');
    deepEqual([cancel.orderId, cancel.qty, cancel.reason], [2, 5, CancelReason.SelfTrade]);
    deepEqual(book.depth(SELL, Infinity), []);
    deepEqual(book.depth(BUY, Infinity), [{ price: 101, qty: 2, orders: 1 }]);
  });

  void it('CancelBoth: both are cancelled', () => {
    const book = mixedLevel();
    equal(book.place(incoming(SelfTradePrevention.CancelBoth)), 3);
    const events = drain(book);
    deepEqual(trades(events), [[101, 3, 1]]);
    deepEqual(cancelReasons(events, 2), [CancelReason.SelfTrade]);
    deepEqual(cancelReasons(events, 4), [CancelReason.SelfTrade]);
    equal(ofType(events, 'OrderCancelled').find((e) => e.orderId === 4)?.qty, 7);
    deepEqual(queue(book, SELL, 101), [3]);
    equal(book.order(4), undefined);
  });

  void it('DecrementBoth, incoming larger: the resting order is used up (cancelled), the incoming reduced', () => {
    const book = mixedLevel();
    equal(book.place(incoming(SelfTradePrevention.DecrementBoth)), 5);
    const events = drain(book);
    deepEqual(trades(events), [
      [101, 3, 1],
      [101, 2, 3],
    ]);
    const cancel = single(events, 'OrderCancelled');
    deepEqual([cancel.orderId, cancel.qty, cancel.reason], [2, 5, CancelReason.SelfTrade]);
    const reduced = single(events, 'OrderReduced');
    deepEqual(
      [reduced.orderId, reduced.qty, reduced.qtyLeft, reduced.reason],
      [4, 5, 2, CancelReason.SelfTrade],
    );
    equal(book.order(4), undefined, 'the incoming order filled what was left');
    deepEqual(queue(book, SELL, 101), [3]);
    equal(book.order(3)?.qtyLeft, 3);
  });

  void it('DecrementBoth, incoming smaller: the resting order is reduced, the incoming used up', () => {
    const book = newBook();
    limit(book, 2, SELL, 101, 5, { owner: 1 });
    limit(book, 3, SELL, 101, 5, { owner: 2 });
    drain(book);
    equal(book.place(incoming(SelfTradePrevention.DecrementBoth, 4)), 0);
    const events = drain(book);
    deepEqual(trades(events), []);
    const reduced = single(events, 'OrderReduced');
    deepEqual(
      [reduced.orderId, reduced.qty, reduced.qtyLeft, reduced.reason],
      [2, 4, 1, CancelReason.SelfTrade],
    );
    const cancel = single(events, 'OrderCancelled');
    deepEqual([cancel.orderId, cancel.qty, cancel.reason], [4, 4, CancelReason.SelfTrade]);
    deepEqual(queue(book, SELL, 101), [2, 3]);
    deepEqual(book.depth(SELL, 1), [{ price: 101, qty: 6, orders: 2 }]);
    const level = single(events, 'LevelChanged');
    deepEqual([level.price, level.qty, level.orders], [101, 6, 2]);
  });

  void it('DecrementBoth, equal quantities: both are used up', () => {
    const book = newBook();
    limit(book, 2, SELL, 101, 5, { owner: 1 });
    drain(book);
    equal(book.place(incoming(SelfTradePrevention.DecrementBoth, 5)), 0);
    const events = drain(book);
    deepEqual(trades(events), []);
    deepEqual(cancelReasons(events, 2), [CancelReason.SelfTrade]);
    deepEqual(cancelReasons(events, 4), [CancelReason.SelfTrade]);
    equal(book.orderCount, 0);
  });

  void it('orders of other owners trade normally under any mode', () => {
    for (const stp of [1, 2, 3, 4] as const) {
      const book = mixedLevel();
      equal(
        book.place(order({ orderId: 4, owner: 3, side: BUY, price: 101, qty: 13, stp })),
        13,
        `stp ${stp}`,
      );
      equal(ofType(drain(book), 'TradeExecuted').length, 3);
    }
  });
});

void describe('instrument rules', () => {
  void it('band edges are inclusive and the width is floor(reference * bps / 10000)', () => {
    const book = newBook({ priceBandBps: 1000 });
    equal(book.setReferencePrice(1005, 0), true);
    equal(book.referencePrice, 1005);
    drain(book);
    for (const [price, ok_] of [
      [905, true],
      [904, false],
      [1105, true],
      [1106, false],
    ] as const) {
      limit(book, price, price < 1000 ? BUY : SELL, price, 1);
      const rejects = ofType(drain(book), 'OrderRejected');
      deepEqual(
        rejects.map((r) => r.code),
        ok_ ? [] : [BookReject.PriceOutsideBand],
        `price ${price}`,
      );
    }
  });

  void it('a market order stops at the edge of the band with reason PriceBand', () => {
    const book = newBook({ priceBandBps: 1000 });
    book.setReferencePrice(1100, 0);
    limit(book, 1, SELL, 1050, 10, { owner: 2 });
    limit(book, 2, SELL, 1100, 10, { owner: 2 });
    limit(book, 3, SELL, 1150, 10, { owner: 2 });
    book.setReferencePrice(1000, 0);
    drain(book);
    equal(
      book.place(order({ orderId: 4, type: OrderType.Market, tif: TimeInForce.IOC, price: 0, qty: 30 })),
      20,
    );
    const events = drain(book);
    deepEqual(trades(events), [
      [1050, 10, 1],
      [1100, 10, 2],
    ]);
    const cancel = single(events, 'OrderCancelled');
    deepEqual([cancel.orderId, cancel.qty, cancel.reason], [4, 10, CancelReason.PriceBand]);
    deepEqual(queue(book, SELL, 1150), [3]);
  });

  void it('a sell market order stops at the lower edge of the band', () => {
    const book = newBook({ priceBandBps: 500 });
    book.setReferencePrice(1000, 0);
    limit(book, 1, BUY, 960, 10, { owner: 2 });
    book.setReferencePrice(900, 0);
    limit(book, 2, BUY, 900, 10, { owner: 2 });
    book.setReferencePrice(1000, 0);
    drain(book);
    const filled = book.place(
      order({ orderId: 3, side: SELL, type: OrderType.Market, tif: TimeInForce.IOC, price: 0, qty: 15 }),
    );
    equal(filled, 10);
    const events = drain(book);
    deepEqual(trades(events), [[960, 10, 1]]);
    deepEqual(cancelReasons(events, 3), [CancelReason.PriceBand]);
  });

  void it('a market order that runs out of liquidity inside the band is cancelled for NoLiquidity', () => {
    const book = newBook({ priceBandBps: 1000 });
    book.setReferencePrice(1000, 0);
    limit(book, 1, SELL, 1050, 10, { owner: 2 });
    drain(book);
    equal(
      book.place(order({ orderId: 2, type: OrderType.Market, tif: TimeInForce.IOC, price: 0, qty: 30 })),
      10,
    );
    deepEqual(cancelReasons(drain(book), 2), [CancelReason.NoLiquidity]);
  });

  void it('a market order whose protection price is inside the band stops there for NoLiquidity', () => {
    const book = newBook({ priceBandBps: 1000 });
    book.setReferencePrice(1000, 0);
    limit(book, 1, SELL, 1050, 10, { owner: 2 });
    limit(book, 2, SELL, 1060, 10, { owner: 2 });
    drain(book);
    equal(
      book.place(order({ orderId: 3, type: OrderType.Market, tif: TimeInForce.IOC, price: 1055, qty: 30 })),
      10,
    );
    deepEqual(cancelReasons(drain(book), 3), [CancelReason.NoLiquidity]);
  });

  void it('a triggered stop-market is also stopped at the band', () => {
    const book = newBook({ priceBandBps: 1000 });
    book.setReferencePrice(1200, 0);
    limit(book, 1, SELL, 1150, 10, { owner: 2 });
    book.setReferencePrice(1000, 0);
    limit(book, 2, SELL, 1010, 1, { owner: 2 });
    book.place(
      order({ orderId: 3, type: OrderType.StopMarket, triggerPrice: 1010, price: 0, qty: 5, owner: 1 }),
    );
    drain(book);
    limit(book, 4, BUY, 1010, 1, { owner: 3 });
    const events = drain(book);
    equal(single(events, 'OrderTriggered').orderId, 3);
    deepEqual(cancelReasons(events, 3), [CancelReason.PriceBand]);
    deepEqual(queue(book, SELL, 1150), [1]);
  });

  void it('with referenceFollowsLastTrade the band follows the last trade', () => {
    const book = newBook({ priceBandBps: 1000, referenceFollowsLastTrade: true });
    book.setReferencePrice(1000, 0);
    limit(book, 1, SELL, 1100, 1, { owner: 2 });
    limit(book, 2, BUY, 1100, 1, { owner: 3 });
    equal(book.referencePrice, 1100);
    drain(book);
    equal(limit(book, 3, SELL, 1210, 1), 0);
    deepEqual(ofType(drain(book), 'OrderRejected'), [], '1210 is inside 1100 +- 10%');
    limit(book, 4, SELL, 1211, 1);
    equal(single(drain(book), 'OrderRejected').code, BookReject.PriceOutsideBand);
  });

  void it("a refused place's record carries the type and time in force it asked for; other refusals carry none", () => {
    const book = newBook({ priceBandBps: 1000 });
    book.setReferencePrice(1000, 0);
    drain(book);
    book.place(
      order({
        orderId: 1,
        type: OrderType.StopLimit,
        tif: TimeInForce.FOK,
        price: 5000,
        triggerPrice: 990,
        qty: 1,
      }),
    );
    const placed = single(drain(book), 'OrderRejected');
    equal(placed.code, BookReject.PriceOutsideBand);
    deepEqual(
      [placed.command, placed.orderType, placed.tif],
      [CommandKind.Place, OrderType.StopLimit, TimeInForce.FOK],
    );
    // The record's slot is reused: a cancel's refusal right after must not show the place's type.
    book.cancel(77, ANY_OWNER, 1);
    const cancelled = single(drain(book), 'OrderRejected');
    deepEqual([cancelled.command, cancelled.orderType, cancelled.tif], [CommandKind.Cancel, 0, 0]);
  });

  void it('without referenceFollowsLastTrade only setReferencePrice moves the band', () => {
    const book = newBook({ priceBandBps: 1000 });
    book.setReferencePrice(1000, 0);
    limit(book, 1, SELL, 1100, 1, { owner: 2 });
    limit(book, 2, BUY, 1100, 1, { owner: 3 });
    equal(book.referencePrice, 1000);
    drain(book);
    limit(book, 3, SELL, 1101, 1);
    equal(single(drain(book), 'OrderRejected').code, BookReject.PriceOutsideBand);
  });

  void it('tick, lot and size rules accept the values that follow them', () => {
    const book = newBook({ tickSize: 5, lotSize: 10, qtyMin: 20, qtyMax: 100 });
    limit(book, 1, BUY, 995, 20);
    limit(book, 2, BUY, 990, 100, { displayQty: 30 });
    book.place(order({ orderId: 3, type: OrderType.StopLimit, triggerPrice: 1010, price: 1015, qty: 50 }));
    book.place(
      order({ orderId: 4, side: SELL, type: OrderType.Market, tif: TimeInForce.IOC, price: 990, qty: 30 }),
    );
    const events = drain(book);
    deepEqual(ofType(events, 'OrderRejected'), []);
    deepEqual(trades(events), [
      [995, 20, 1],
      [990, 10, 2],
    ]);
  });

  void it('invalid rules are refused at construction and by setRules', () => {
    for (const rules of [
      { tickSize: 0 },
      { tickSize: 1.5 },
      { lotSize: -1 },
      { lotSize: 10, qtyMin: 5 },
      { qtyMin: 10, qtyMax: 5 },
      { priceBandBps: -1 },
      { priceBandBps: 10001 },
      { priceBandBps: 2.5 },
    ]) {
      throws(() => newBook(rules), /invalid instrument rules/, JSON.stringify(rules));
      const book = newBook();
      throws(() => book.setRules(rules), /invalid instrument rules/, JSON.stringify(rules));
      deepEqual(book.instrumentRules, newBook().instrumentRules, 'a refused setRules changes nothing');
    }
  });
});

void describe('rejections leave the book untouched', () => {
  const STRICT = { tickSize: 5, lotSize: 10, qtyMin: 20, qtyMax: 1000, priceBandBps: 1000 };
  const T = 1000;

  /**
   * The same book under either rule set, built at time 1000 with reference price 1000: bids 1 (owner 1, 995 x
   * 100) and 2 (owner 2, 990 x 200, iceberg 50); asks 3 (owner 2, 1005, 40 of 100 filled by IOC 6) and 4
   * (owner 1, 1010 x 100); post-only ask 7 (owner 1, 1020 x 20); pending stops 5 (owner 1, buy stop-limit,
   * trigger 1050 at 1060 x 20) and 8 (owner 2, sell stop-market, trigger 950 x 20).
   */
  function populated(strict: boolean, ordersMax?: number): OrderBook {
    const book = newBook(strict ? STRICT : {}, ordersMax === undefined ? {} : { ordersMax });
    const at = { timeUs: T };
    book.setReferencePrice(1000, T);
    limit(book, 1, BUY, 995, 100, { owner: 1, ...at });
    limit(book, 2, BUY, 990, 200, { owner: 2, displayQty: 50, ...at });
    limit(book, 3, SELL, 1005, 100, { owner: 2, ...at });
    limit(book, 4, SELL, 1010, 100, { owner: 1, ...at });
    book.place(order({ orderId: 6, owner: 3, price: 1005, qty: 40, tif: TimeInForce.IOC, ...at }));
    book.place(
      order({
        orderId: 5,
        owner: 1,
        type: OrderType.StopLimit,
        triggerPrice: 1050,
        price: 1060,
        qty: 20,
        ...at,
      }),
    );
    limit(book, 7, SELL, 1020, 20, { owner: 1, postOnly: true, ...at });
    book.place(
      order({
        orderId: 8,
        owner: 2,
        side: SELL,
        type: OrderType.StopMarket,
        triggerPrice: 950,
        price: 0,
        qty: 20,
        ...at,
      }),
    );
    const events = drain(book);
    if (
      ofType(events, 'OrderRejected').length !== 0 ||
      book.orderCount !== 7 ||
      book.order(3)?.qtyFilled !== 40
    ) {
      throw new Error(`test setup failed: ${JSON.stringify(events)}`);
    }
    return book;
  }

  type Run = (book: OrderBook) => number | boolean;
  interface Case {
    code: BookReject;
    command: CommandKind;
    what: string;
    run: Run;
    strict?: boolean;
    ordersMax?: number;
    /** The order id the reject event must carry. */
    orderId?: number;
  }

  const P = (fields: Partial<PlaceOrder>): Run => {
    return (book) => book.place(order({ orderId: 100, owner: 1, price: 980, qty: 20, timeUs: T, ...fields }));
  };
  const A = (fields: Partial<AmendOrder>): Run => {
    return (book) =>
      book.amend({ orderId: 1, owner: 1, price: 0, qty: 0, triggerPrice: 0, timeUs: T, ...fields });
  };
  const big = 2 ** 53;
  const cases: Case[] = [];
  const place = (
    code: BookReject,
    what: string,
    fields: Partial<PlaceOrder>,
    extra: Partial<Case> = {},
  ): void => {
    cases.push({
      code,
      command: CommandKind.Place,
      what,
      run: P(fields),
      orderId: fields.orderId ?? 100,
      ...extra,
    });
  };
  const amend = (code: BookReject, what: string, fields: Partial<AmendOrder>, strict = false): void => {
    cases.push({
      code,
      command: CommandKind.Amend,
      what,
      run: A(fields),
      strict,
      orderId: fields.orderId ?? 1,
    });
  };

  for (const orderId of [0, -1, 1.5, NaN, big, Infinity])
    place(BookReject.InvalidOrderId, `orderId ${orderId}`, { orderId });
  for (const owner of [ANY_OWNER, -2, 1.5, NaN, 2 ** 31])
    place(BookReject.InvalidOwner, `owner ${owner}`, { owner });
  for (const side of [2, -1, 0.5, NaN]) place(BookReject.InvalidSide, `side ${side}`, { side: side as Side });
  for (const type of [0, 7, 1.5, NaN])
    place(BookReject.InvalidOrderType, `type ${type}`, { type: type as OrderType });
  for (const tif of [0, 6, 1.5, NaN])
    place(BookReject.InvalidTimeInForce, `tif ${tif}`, { tif: tif as TimeInForce });
  place(BookReject.InvalidTimeInForce, 'market GTC', { type: OrderType.Market, price: 0 });
  place(BookReject.InvalidTimeInForce, 'market DAY', {
    type: OrderType.Market,
    price: 0,
    tif: TimeInForce.DAY,
    expireTimeUs: 5000,
  });
  place(BookReject.InvalidTimeInForce, 'stop-market IOC', {
    type: OrderType.StopMarket,
    price: 0,
    triggerPrice: 1050,
    tif: TimeInForce.IOC,
  });
  place(BookReject.InvalidTimeInForce, 'stop-limit FOK', {
    type: OrderType.StopLimit,
    triggerPrice: 1050,
    tif: TimeInForce.FOK,
  });
  for (const qty of [0, -20, 20.5, NaN, big, Infinity])
    place(BookReject.InvalidQuantity, `qty ${qty}`, { qty });
  place(BookReject.QuantityNotLotMultiple, 'qty 25, lot 10', { qty: 25 }, { strict: true });
  place(BookReject.QuantityBelowMinimum, 'qty 10, min 20', { qty: 10 }, { strict: true });
  place(BookReject.QuantityAboveMaximum, 'qty 1010, max 1000', { qty: 1010 }, { strict: true });
  for (const price of [0, -5, 980.5, NaN, big, Infinity])
    place(BookReject.InvalidPrice, `limit price ${price}`, { price });
  place(BookReject.InvalidPrice, 'market protection -5', {
    type: OrderType.Market,
    tif: TimeInForce.IOC,
    price: -5,
  });
  place(BookReject.InvalidPrice, 'market protection 2.5', {
    type: OrderType.Market,
    tif: TimeInForce.IOC,
    price: 2.5,
  });
  place(BookReject.InvalidPrice, 'stop-limit price 0', {
    type: OrderType.StopLimit,
    triggerPrice: 1050,
    price: 0,
  });
  place(BookReject.PriceNotTickMultiple, 'limit 982, tick 5', { price: 982 }, { strict: true });
  place(
    BookReject.PriceNotTickMultiple,
    'market protection 982',
    { type: OrderType.Market, tif: TimeInForce.IOC, price: 982, side: SELL },
    { strict: true },
  );
  place(
    BookReject.PriceNotTickMultiple,
    'stop-limit price 1062',
    { type: OrderType.StopLimit, triggerPrice: 1050, price: 1062 },
    { strict: true },
  );
  place(
    BookReject.PriceOutsideBand,
    'sell 1105, band 900-1100',
    { price: 1105, side: SELL },
    { strict: true },
  );
  place(BookReject.PriceOutsideBand, 'buy 895', { price: 895 }, { strict: true });
  place(
    BookReject.PriceOutsideBand,
    'stop-limit price 1105',
    { type: OrderType.StopLimit, triggerPrice: 1050, price: 1105 },
    { strict: true },
  );
  place(BookReject.InvalidTriggerPrice, 'limit with a trigger', { triggerPrice: 990 });
  for (const triggerPrice of [0, -1, 1.5, NaN, big]) {
    place(BookReject.InvalidTriggerPrice, `stop trigger ${triggerPrice}`, {
      type: OrderType.StopMarket,
      price: 0,
      triggerPrice,
    });
  }
  place(
    BookReject.InvalidTriggerPrice,
    'trigger 1052, tick 5',
    { type: OrderType.StopMarket, price: 0, triggerPrice: 1052 },
    { strict: true },
  );
  for (const displayQty of [21, -5, 5.5, NaN]) {
    place(BookReject.InvalidDisplayQuantity, `display ${displayQty} of 20`, { displayQty });
  }
  place(BookReject.InvalidDisplayQuantity, 'display on a market order', {
    type: OrderType.Market,
    tif: TimeInForce.IOC,
    price: 0,
    displayQty: 10,
  });
  place(BookReject.InvalidDisplayQuantity, 'display on an IOC', { tif: TimeInForce.IOC, displayQty: 10 });
  place(BookReject.InvalidDisplayQuantity, 'display on a stop-market', {
    type: OrderType.StopMarket,
    price: 0,
    triggerPrice: 1050,
    displayQty: 10,
  });
  place(
    BookReject.InvalidDisplayQuantity,
    'display 15, lot 10',
    { qty: 30, displayQty: 15 },
    { strict: true },
  );
  place(BookReject.InvalidPostOnly, 'post-only IOC', { postOnly: true, tif: TimeInForce.IOC });
  place(BookReject.InvalidPostOnly, 'post-only FOK', { postOnly: true, tif: TimeInForce.FOK });
  place(BookReject.InvalidPostOnly, 'post-only market', {
    postOnly: true,
    type: OrderType.Market,
    tif: TimeInForce.IOC,
    price: 0,
  });
  place(BookReject.InvalidPostOnly, 'post-only stop-limit', {
    postOnly: true,
    type: OrderType.StopLimit,
    triggerPrice: 1050,
  });
  for (const stp of [5, -1, NaN, 1.5, 4.5]) {
    place(BookReject.InvalidSelfTradePrevention, `stp ${stp}`, { stp: stp as SelfTradePrevention });
  }
  place(BookReject.InvalidExpireTime, 'DAY without expiry', { tif: TimeInForce.DAY, expireTimeUs: 0 });
  for (const expireTimeUs of [T, T - 1, 2000.5, big, NaN]) {
    place(BookReject.InvalidExpireTime, `GTD expiring at ${expireTimeUs}`, {
      tif: TimeInForce.GTD,
      expireTimeUs,
    });
  }
  place(BookReject.InvalidExpireTime, 'GTC with an expiry', { expireTimeUs: 5000 });
  place(BookReject.InvalidExpireTime, 'IOC with an expiry', { tif: TimeInForce.IOC, expireTimeUs: 5000 });
  for (const timeUs of [-1, 1.5, NaN, big, Infinity])
    place(BookReject.InvalidTime, `place at ${timeUs}`, { timeUs });
  place(BookReject.DuplicateOrderId, 'id of a resting order', { orderId: 1 });
  place(BookReject.DuplicateOrderId, 'id of a pending stop', { orderId: 5 });
  place(BookReject.BookFull, 'seven live orders of seven', {}, { ordersMax: 7 });
  place(BookReject.PostOnlyWouldTake, 'post-only buy at the best ask', { price: 1005, postOnly: true });

  for (const orderId of [999, 6, 0, NaN]) {
    cases.push({
      code: BookReject.OrderNotFound,
      command: CommandKind.Cancel,
      what: `cancel ${orderId}`,
      run: (b) => b.cancel(orderId, ANY_OWNER, T),
      orderId,
    });
  }
  for (const [orderId, owner] of [
    [1, 2],
    [5, 2],
    [3, 1],
  ]) {
    cases.push({
      code: BookReject.NotOrderOwner,
      command: CommandKind.Cancel,
      what: `cancel ${orderId} by owner ${owner}`,
      run: (b) => b.cancel(orderId, owner, T),
      orderId,
    });
  }
  for (const timeUs of [-1, 1.5, NaN, big]) {
    cases.push({
      code: BookReject.InvalidTime,
      command: CommandKind.Cancel,
      what: `cancel at ${timeUs}`,
      run: (b) => b.cancel(1, 1, timeUs),
      orderId: 1,
    });
  }

  amend(BookReject.OrderNotFound, 'unknown id', { orderId: 999, price: 990 });
  amend(BookReject.OrderNotFound, 'gone id', { orderId: 6, price: 990 });
  amend(BookReject.NotOrderOwner, 'another owner', { owner: 2, price: 990 });
  for (const price of [-5, 990.5, NaN, big]) amend(BookReject.InvalidPrice, `price ${price}`, { price });
  amend(BookReject.InvalidPrice, 'a price for a stop-market', { orderId: 8, owner: 2, price: 940 });
  amend(BookReject.PriceNotTickMultiple, 'price 992, tick 5', { price: 992 }, true);
  amend(BookReject.PriceOutsideBand, 'price 895', { price: 895 }, true);
  for (const qty of [-10, 10.5, NaN, big]) amend(BookReject.InvalidQuantity, `qty ${qty}`, { qty });
  amend(BookReject.QuantityNotLotMultiple, 'qty 55, lot 10', { qty: 55 }, true);
  amend(BookReject.QuantityBelowMinimum, 'qty 10, min 20', { qty: 10 }, true);
  amend(BookReject.QuantityAboveMaximum, 'qty 1010, max 1000', { qty: 1010 }, true);
  amend(BookReject.AmendQuantityNotAboveFilled, 'qty equal to filled', { orderId: 3, owner: 2, qty: 40 });
  amend(BookReject.AmendQuantityNotAboveFilled, 'qty below filled', { orderId: 3, owner: 2, qty: 30 });
  amend(BookReject.InvalidTriggerPrice, 'trigger on a resting order', { triggerPrice: 1050 });
  for (const triggerPrice of [-1, 1.5, NaN, big]) {
    amend(BookReject.InvalidTriggerPrice, `stop trigger ${triggerPrice}`, { orderId: 5, triggerPrice });
  }
  amend(BookReject.InvalidTriggerPrice, 'trigger 1052, tick 5', { orderId: 5, triggerPrice: 1052 }, true);
  amend(BookReject.AmendNoChange, 'nothing', {});
  amend(BookReject.AmendNoChange, 'same price', { price: 995 });
  amend(BookReject.AmendNoChange, 'same total quantity', { qty: 100, price: 995 });
  amend(BookReject.AmendNoChange, 'same total quantity, partly filled', { orderId: 3, owner: 2, qty: 100 });
  amend(BookReject.AmendNoChange, 'same trigger', { orderId: 5, triggerPrice: 1050 });
  amend(BookReject.PostOnlyWouldTake, 'post-only moved across', { orderId: 7, price: 995 });
  for (const timeUs of [-1, NaN]) amend(BookReject.InvalidTime, `amend at ${timeUs}`, { price: 990, timeUs });

  for (const side of [2, -2, 0.5, NaN]) {
    cases.push({
      code: BookReject.InvalidSideFilter,
      command: CommandKind.MassCancel,
      what: `mass cancel side ${side}`,
      run: (b) => b.massCancel(1, side, T),
    });
  }
  for (const owner of [-2, 1.5, 2 ** 31, NaN]) {
    cases.push({
      code: BookReject.InvalidOwner,
      command: CommandKind.MassCancel,
      what: `mass cancel owner ${owner}`,
      run: (b) => b.massCancel(owner, -1, T),
    });
  }
  for (const timeUs of [-1, NaN]) {
    cases.push({
      code: BookReject.InvalidTime,
      command: CommandKind.MassCancel,
      what: `mass cancel at ${timeUs}`,
      run: (b) => b.massCancel(ANY_OWNER, -1, timeUs),
    });
  }
  for (const price of [0, -1, 1.5, NaN, big, Infinity]) {
    cases.push({
      code: BookReject.InvalidReferencePrice,
      command: CommandKind.SetReferencePrice,
      what: `reference price ${price}`,
      run: (b) => b.setReferencePrice(price, T),
    });
  }
  for (const timeUs of [-1, NaN]) {
    cases.push({
      code: BookReject.InvalidTime,
      command: CommandKind.SetReferencePrice,
      what: `reference price at ${timeUs}`,
      run: (b) => b.setReferencePrice(1000, timeUs),
    });
  }

  void it('the cases reach every BookReject code', () => {
    const reached = new Set(cases.map((c) => c.code));
    deepEqual(
      Object.values(BookReject)
        .filter((code) => !reached.has(code))
        .map(bookRejectName),
      [],
    );
  });

  for (const c of cases) {
    void it(`${bookRejectName(c.code)}: ${c.what}`, () => {
      const book = populated(c.strict ?? false, c.ordersMax);
      const twin = populated(c.strict ?? false, c.ordersMax);
      equal(book.stateHash(), twin.stateHash());
      const before = snapshot(book);
      const seq = book.sequence;
      const result = c.run(book);
      const events = drain(book);
      deepEqual(types(events), ['OrderRejected'], JSON.stringify(events));
      const r = single(events, 'OrderRejected');
      equal(bookRejectName(r.code), bookRejectName(c.code));
      equal(r.command, c.command);
      equal(r.seq, seq + 1);
      if (c.orderId !== undefined)
        ok(Object.is(r.orderId, c.orderId), `reject carries order id ${c.orderId}`);
      equal(result, c.command === CommandKind.SetReferencePrice ? false : 0);
      equal(snapshot(book), before, 'queries show the same book');
      // A twin that took the same valid commands and one harmless rejection hashes alike.
      harmlessReject(twin, book.timeUs);
      equal(book.stateHash(), twin.stateHash(), 'state hash equals a twin that only took a harmless reject');
    });
  }
});

void describe('queries', () => {
  void it('depth returns up to the asked number of levels, best first, and all of them with Infinity', () => {
    const book = newBook();
    // 150 levels a side, placed in a scrambled order, two orders on every tenth level.
    const n = 150;
    let id = 1;
    for (let k = 0; k < n; k++) {
      const i = (k * 61) % n; // 61 is prime to 150: a permutation
      limit(book, id++, BUY, 1000 - i, i + 1);
      limit(book, id++, SELL, 1001 + i, i + 1);
      if (i % 10 === 0) {
        limit(book, id++, BUY, 1000 - i, 1);
        limit(book, id++, SELL, 1001 + i, 1);
      }
    }
    equal(book.levelCount(BUY), n);
    equal(book.levelCount(SELL), n);
    const bids = book.depth(BUY, 100);
    const asks = book.depth(SELL, 100);
    equal(bids.length, 100);
    equal(asks.length, 100);
    for (let i = 0; i < 100; i++) {
      const extra = i % 10 === 0 ? 1 : 0;
      deepEqual(bids[i], { price: 1000 - i, qty: i + 1 + extra, orders: 1 + extra });
      deepEqual(asks[i], { price: 1001 + i, qty: i + 1 + extra, orders: 1 + extra });
    }
    const allBids = book.depth(BUY, Infinity);
    equal(allBids.length, n);
    deepEqual(allBids.slice(0, 100), bids);
    deepEqual(
      allBids.map((l) => l.price),
      Array.from({ length: n }, (_, i) => 1000 - i),
    );
    deepEqual(
      book.depth(SELL, Infinity).map((l) => l.price),
      Array.from({ length: n }, (_, i) => 1001 + i),
    );
    deepEqual(book.depth(BUY, 0), []);
    deepEqual(book.depth(SELL, 1), [{ price: 1001, qty: 2, orders: 2 }]);
    // Removing levels in the middle keeps the rest in order.
    for (let i = 20; i < 40; i++)
      for (const o of book.levelOrders(BUY, 1000 - i)) book.cancel(o.orderId, ANY_OWNER, 0);
    deepEqual(
      book.depth(BUY, Infinity).map((l) => l.price),
      Array.from({ length: n }, (_, i) => 1000 - i).filter((p) => p > 980 || p <= 960),
    );
    equal(book.levelCount(BUY), n - 20);
  });

  void it('depth stays sorted as levels come and go in the middle', () => {
    const book = newBook();
    for (let i = 0; i < 120; i++) limit(book, i + 1, BUY, 500 + ((i * 37) % 120), 1);
    for (let i = 0; i < 120; i += 3) book.cancel(((i * 5) % 120) + 1, 1, 0);
    const prices = book.depth(BUY, Infinity).map((l) => l.price);
    deepEqual(
      prices,
      [...prices].sort((a, b) => b - a),
    );
    equal(prices.length, book.orderCount);
    equal(new Set(prices).size, prices.length);
  });

  void it('levelOrders shows the queue with every order field', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 10, { owner: 3, timeUs: 5, stp: SelfTradePrevention.CancelResting });
    limit(book, 2, SELL, 101, 30, {
      owner: 4,
      timeUs: 6,
      displayQty: 7,
      tif: TimeInForce.GTD,
      expireTimeUs: 99_000,
      postOnly: true,
    });
    limit(book, 3, BUY, 101, 4, { owner: 5, timeUs: 7 });
    const [first, second] = book.levelOrders(SELL, 101);
    ok(first.priority < second.priority);
    deepEqual(
      { ...first, priority: 0 },
      {
        orderId: 1,
        owner: 3,
        side: SELL,
        type: OrderType.Limit,
        tif: TimeInForce.GTC,
        price: 101,
        triggerPrice: 0,
        qtyLeft: 6,
        qtyVisible: 6,
        qtyFilled: 4,
        displayQty: 0,
        postOnly: false,
        stp: SelfTradePrevention.CancelResting,
        expireTimeUs: 0,
        priority: 0,
        pendingTrigger: false,
      },
    );
    deepEqual(
      { ...second, priority: 0 },
      {
        orderId: 2,
        owner: 4,
        side: SELL,
        type: OrderType.Limit,
        tif: TimeInForce.GTD,
        price: 101,
        triggerPrice: 0,
        qtyLeft: 30,
        qtyVisible: 7,
        qtyFilled: 0,
        displayQty: 7,
        postOnly: true,
        stp: SelfTradePrevention.None,
        expireTimeUs: 99_000,
        priority: 0,
        pendingTrigger: false,
      },
    );
    deepEqual(book.order(2), second);
    deepEqual(book.levelOrders(SELL, 102), []);
    deepEqual(book.levelOrders(BUY, 101), []);
  });

  void it('order(id) shows pending stops and forgets filled and cancelled orders', () => {
    const book = newBook();
    book.place(
      order({
        orderId: 1,
        side: SELL,
        type: OrderType.StopLimit,
        triggerPrice: 95,
        price: 94,
        qty: 8,
        tif: TimeInForce.DAY,
        expireTimeUs: 10_000,
        displayQty: 2,
      }),
    );
    const v = book.order(1);
    deepEqual(
      [
        v?.type,
        v?.side,
        v?.triggerPrice,
        v?.price,
        v?.qtyLeft,
        v?.displayQty,
        v?.pendingTrigger,
        v?.tif,
        v?.expireTimeUs,
      ],
      [OrderType.StopLimit, SELL, 95, 94, 8, 2, true, TimeInForce.DAY, 10_000],
    );
    deepEqual(book.pendingOrders(), [v]);
    limit(book, 2, BUY, 100, 5);
    limit(book, 3, SELL, 100, 5, { owner: 2 });
    equal(book.order(2), undefined, 'filled');
    equal(book.order(3), undefined, 'filled');
    limit(book, 4, BUY, 90, 5);
    book.cancel(4, 1, 0);
    equal(book.order(4), undefined, 'cancelled');
    equal(book.order(12345), undefined, 'never existed');
  });

  void it('bbo, bestBid, bestAsk and counters follow the book', () => {
    const book = newBook();
    deepEqual(book.bbo(), { bidPrice: 0, bidQty: 0, askPrice: 0, askQty: 0 });
    deepEqual([book.bestBid(), book.bestAsk(), book.orderCount, book.lastTradePrice], [0, 0, 0, 0]);
    limit(book, 1, BUY, 99, 5);
    limit(book, 2, BUY, 99, 6);
    limit(book, 3, BUY, 98, 7);
    limit(book, 4, SELL, 102, 8);
    limit(book, 5, SELL, 101, 9, { displayQty: 3 });
    deepEqual(book.bbo(), { bidPrice: 99, bidQty: 11, askPrice: 101, askQty: 3 });
    deepEqual([book.bestBid(), book.bestAsk(), book.orderCount], [99, 101, 5]);
    limit(book, 6, SELL, 99, 11, { owner: 2 });
    deepEqual(book.bbo(), { bidPrice: 98, bidQty: 7, askPrice: 101, askQty: 3 });
    equal(book.lastTradePrice, 99);
    equal(book.orderCount, 3);
  });
});

void describe('events', () => {
  void it('sequence numbers go up by exactly one across all commands, rejections included', () => {
    const book = newBook();
    let last = 0;
    const commands: (() => unknown)[] = [
      () => limit(book, 1, BUY, 99, 5),
      () => limit(book, 2, SELL, 101, 5, { displayQty: 1 }),
      () => limit(book, 3, BUY, 101, 3),
      () => book.cancel(99, 1, 0),
      () => book.amend({ orderId: 1, owner: 1, price: 100, qty: 0, triggerPrice: 0, timeUs: 1 }),
      () =>
        book.place(order({ orderId: 4, type: OrderType.StopMarket, triggerPrice: 101, price: 0, qty: 1 })),
      () => book.setReferencePrice(100, 2),
      () => book.setReferencePrice(-1, 2),
      () => limit(book, 5, SELL, 98, 3, { tif: TimeInForce.GTD, expireTimeUs: 50, timeUs: 3 }),
      () => limit(book, 6, BUY, 90, 3, { tif: TimeInForce.GTD, expireTimeUs: 50, timeUs: 3 }),
      () => book.advanceTime(60),
      () => book.massCancel(ANY_OWNER, -1, 70),
      () => book.massCancel(ANY_OWNER, 5, 70),
    ];
    let total = 0;
    for (const run of commands) {
      run();
      const events = drain(book);
      total += events.length;
      for (const e of events) {
        equal(e.seq, last + 1);
        last = e.seq;
      }
      equal(book.sequence, last);
    }
    ok(total > 30, `only ${total} events`);
  });

  void it('TopOfBookChanged comes once per command, only when the top changes, after the other events', () => {
    const book = newBook();
    limit(book, 1, BUY, 99, 5, { timeUs: 3 });
    let events = drain(book);
    const top = single(events, 'TopOfBookChanged');
    deepEqual(top, {
      type: 'TopOfBookChanged',
      seq: 3,
      timeUs: 3,
      bidPrice: 99,
      bidQty: 5,
      askPrice: 0,
      askQty: 0,
    });
    limit(book, 2, BUY, 98, 5);
    events = drain(book);
    deepEqual(types(events), ['OrderAccepted', 'LevelChanged'], 'a deeper level leaves the top alone');
    limit(book, 3, BUY, 99, 2);
    deepEqual(
      ofType(drain(book), 'TopOfBookChanged').map((e) => [e.bidPrice, e.bidQty]),
      [[99, 7]],
    );
    limit(book, 4, SELL, 103, 1);
    limit(book, 5, SELL, 102, 1);
    drain(book);
    // One sweep through two levels: one LevelChanged per level, one TopOfBookChanged at the end.
    limit(book, 6, SELL, 98, 10, { owner: 2 });
    events = drain(book);
    deepEqual(
      ofType(events, 'LevelChanged').map((e) => [e.side, e.price, e.qty, e.orders]),
      [
        [BUY, 99, 0, 0],
        [BUY, 98, 2, 1],
      ],
    );
    const tops = ofType(events, 'TopOfBookChanged');
    equal(tops.length, 1);
    deepEqual([tops[0].bidPrice, tops[0].bidQty, tops[0].askPrice, tops[0].askQty], [98, 2, 102, 1]);
    equal(events[events.length - 1].type, 'TopOfBookChanged');
  });

  void it('LevelChanged reports a new level, a changed one and a removed one', () => {
    const book = newBook();
    limit(book, 1, SELL, 101, 5);
    deepEqual(
      ofType(drain(book), 'LevelChanged').map((e) => [e.side, e.price, e.qty, e.orders]),
      [[SELL, 101, 5, 1]],
    );
    limit(book, 2, SELL, 101, 4);
    deepEqual(
      ofType(drain(book), 'LevelChanged').map((e) => [e.side, e.price, e.qty, e.orders]),
      [[SELL, 101, 9, 2]],
    );
    book.cancel(1, 1, 0);
    deepEqual(
      ofType(drain(book), 'LevelChanged').map((e) => [e.side, e.price, e.qty, e.orders]),
      [[SELL, 101, 4, 1]],
    );
    book.cancel(2, 1, 0);
    const events = drain(book);
    deepEqual(
      ofType(events, 'LevelChanged').map((e) => [e.side, e.price, e.qty, e.orders]),
      [[SELL, 101, 0, 0]],
    );
    deepEqual(book.depth(SELL, Infinity), []);
    const top = single(events, 'TopOfBookChanged');
    deepEqual([top.askPrice, top.askQty], [0, 0]);
  });

  void it('OrderAccepted echoes the order, and every event carries the book time', () => {
    const book = newBook();
    book.place(
      order({
        orderId: 7,
        owner: 9,
        side: SELL,
        type: OrderType.StopLimit,
        tif: TimeInForce.GTD,
        price: 95,
        triggerPrice: 96,
        qty: 12,
        displayQty: 4,
        stp: SelfTradePrevention.DecrementBoth,
        expireTimeUs: 5000,
        timeUs: 1234,
      }),
    );
    const events = drain(book);
    deepEqual(events, [
      {
        type: 'OrderAccepted',
        seq: 1,
        timeUs: 1234,
        orderId: 7,
        owner: 9,
        side: SELL,
        orderType: OrderType.StopLimit,
        tif: TimeInForce.GTD,
        price: 95,
        qty: 12,
        triggerPrice: 96,
        displayQty: 4,
        expireTimeUs: 5000,
        postOnly: false,
        stp: SelfTradePrevention.DecrementBoth,
      },
    ]);
    limit(book, 8, BUY, 90, 1, { postOnly: true, timeUs: 1300 });
    const accepted = single(drain(book), 'OrderAccepted');
    deepEqual([accepted.postOnly, accepted.timeUs, accepted.stp], [true, 1300, SelfTradePrevention.None]);
    equal(book.sequence, 4);
  });
});
