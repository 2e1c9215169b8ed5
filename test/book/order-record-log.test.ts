/**
 * The order-record log (OrderBook.logOrderRecords): a book given one notes the offset of every OrderAccepted,
 * TradeExecuted, OrderCancelled, OrderReduced, OrderExpired and OrderAmended record it writes, in the order
 * written, and nothing else; the records themselves are byte-identical to a book's without a log. Checked over
 * every profile of the random command generator (stops, icebergs, expiries, self-trade prevention, amends,
 * mass cancels).
 */
import { describe, it } from 'node:test';
import { deepEqual, equal } from 'node:assert/strict';
import {
  EVENT_STRIDE,
  EventBuffer,
  EventType,
  OrderBook,
  OrderRecordLog,
  newPlaceOrder,
} from '../../src/book/index.js';
import { CommandGenerator, PROFILES, apply } from './random-commands.js';

const LOGGED: ReadonlySet<number> = new Set([
  EventType.OrderAccepted,
  EventType.TradeExecuted,
  EventType.OrderCancelled,
  EventType.OrderReduced,
  EventType.OrderExpired,
  EventType.OrderAmended,
]);

const N = 5_000;

void describe('order record log', () => {
  for (const profile of PROFILES) {
    void it(`notes exactly the order-life records, in order, and changes no record: ${profile.name}`, () => {
      const logged = new OrderBook(new EventBuffer(64), { capacityOrders: 64, rules: profile.rules });
      const plain = new OrderBook(new EventBuffer(64), { capacityOrders: 64, rules: profile.rules });
      const log = new OrderRecordLog();
      logged.logOrderRecords(log);
      const gen = new CommandGenerator(7, profile);
      let notes = 0;
      for (let i = 0; i < N; i++) {
        const c = gen.next(plain);
        logged.events.clear();
        plain.events.clear();
        equal(apply(logged, structuredClone(c)), apply(plain, c));
        const a = logged.events;
        const b = plain.events;
        equal(a.count, b.count);
        deepEqual(a.data.subarray(0, a.count * EVENT_STRIDE), b.data.subarray(0, b.count * EVENT_STRIDE));
        const expected: number[] = [];
        for (let k = 0; k < a.count; k++) if (LOGGED.has(a.type(k))) expected.push(k * EVENT_STRIDE);
        deepEqual(Array.from(log.offsets.subarray(0, log.count)), expected);
        notes += log.count;
        log.clear();
      }
      equal(logged.stateHash(), plain.stateHash());
      // The generator's streams do reach the log (and grow it past its first 64 entries on mass cancels).
      equal(notes > N / 2, true);
    });
  }

  void it('stops noting when given null', () => {
    const book = new OrderBook(new EventBuffer(64));
    const log = new OrderRecordLog();
    book.logOrderRecords(log);
    book.place({ ...newPlaceOrder(), orderId: 1, owner: 1, price: 100, qty: 1, timeUs: 1 });
    equal(log.count, 1);
    book.logOrderRecords(null);
    book.place({ ...newPlaceOrder(), orderId: 2, owner: 1, price: 100, qty: 1, timeUs: 1 });
    equal(log.count, 1);
  });
});
