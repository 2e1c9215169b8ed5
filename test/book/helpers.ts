/**
 * Shared helpers for the order-book tests: building commands with defaults, draining and filtering events,
 * and snapshots of everything the public queries expose.
 */
import {
  ANY_OWNER,
  EventBuffer,
  OrderBook,
  OrderType,
  SelfTradePrevention,
  Side,
  TimeInForce,
  decodeEvents,
  type BookEvent,
  type BookOptions,
  type InstrumentRules,
  type PlaceOrder,
} from '../../src/book/index.js';

/** The event interface whose `type` can be T (OrderFill covers both fill types). */
export type EventOf<T extends BookEvent['type']> = BookEvent extends infer E
  ? E extends BookEvent
    ? T extends E['type']
      ? E
      : never
    : never
  : never;

/** A fresh book with its own event buffer. */
export function newBook(
  rules: Partial<InstrumentRules> = {},
  options: Omit<BookOptions, 'rules'> = {},
): OrderBook {
  return new OrderBook(new EventBuffer(), { ...options, rules });
}

/** A GTC limit buy of 10 by owner 1 at 100, time 0, with every field overridable. */
export function order(fields: Partial<PlaceOrder> & { orderId: number }): PlaceOrder {
  return {
    owner: 1,
    side: Side.Buy,
    type: OrderType.Limit,
    tif: TimeInForce.GTC,
    price: 100,
    triggerPrice: 0,
    qty: 10,
    displayQty: 0,
    postOnly: false,
    stp: SelfTradePrevention.None,
    expireTimeUs: 0,
    timeUs: 0,
    ...fields,
  };
}

/** Places a GTC limit order and returns what place returned. */
export function limit(
  book: OrderBook,
  orderId: number,
  side: Side,
  price: number,
  qty: number,
  fields: Partial<PlaceOrder> = {},
): number {
  return book.place(order({ orderId, side, price, qty, ...fields }));
}

/** Decodes the events written since the last drain and clears the buffer. */
export function drain(book: OrderBook): BookEvent[] {
  const events = decodeEvents(book.events);
  book.events.clear();
  return events;
}

export function ofType<T extends BookEvent['type']>(events: readonly BookEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> => e.type === type);
}

/** The one event of `type` in `events`; fails when there is not exactly one. */
export function single<T extends BookEvent['type']>(events: readonly BookEvent[], type: T): EventOf<T> {
  const found = ofType(events, type);
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${type}, got ${found.length} in ${JSON.stringify(events)}`);
  }
  return found[0];
}

/** The event types in order, for compact sequence assertions. */
export function types(events: readonly BookEvent[]): string[] {
  return events.map((e) => e.type);
}

/** Trades as [price, qty, makerOrderId] triples, in execution order. */
export function trades(events: readonly BookEvent[]): [number, number, number][] {
  return ofType(events, 'TradeExecuted').map((t) => [t.price, t.qty, t.makerOrderId]);
}

/** Order ids resting at one price, in queue order. */
export function queue(book: OrderBook, side: Side, price: number): number[] {
  return book.levelOrders(side, price).map((o) => o.orderId);
}

/**
 * Everything the public queries show of a book except its event sequence number: levels, queues with every
 * order field, pending stops, top of book, counters, clock and prices. Two snapshots are equal when the book
 * did not change (as far as anyone outside can tell).
 */
export function snapshot(book: OrderBook): string {
  const sides = [Side.Buy, Side.Sell].map((side) =>
    book.depth(side, Infinity).map((level) => ({ level, orders: book.levelOrders(side, level.price) })),
  );
  return JSON.stringify({
    sides,
    pending: book.pendingOrders(),
    bbo: book.bbo(),
    orderCount: book.orderCount,
    pendingTriggerCount: book.pendingTriggerCount,
    levelCount: [book.levelCount(Side.Buy), book.levelCount(Side.Sell)],
    timeUs: book.timeUs,
    lastTradePrice: book.lastTradePrice,
    referencePrice: book.referencePrice,
  });
}

/** An id no test uses, for commands meant to be rejected with OrderNotFound. */
export const UNKNOWN_ID = 987_654_321;

/** A command that every book rejects without touching anything but its sequence number. */
export function harmlessReject(book: OrderBook, timeUs: number): void {
  book.cancel(UNKNOWN_ID, ANY_OWNER, timeUs);
}

/** Seeded PRNG (xoshiro128**), so random tests are reproducible from their seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 to spread the seed over the state.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
