/**
 * The views' ended orders (filled, cancelled, rejected, expired), kept in columns: one row of numbers per
 * order in a ring, oldest ended first, found by id through an index in typed arrays. Up to a million of them
 * are kept by default; as objects (each with its boxed numbers) they were most of the venue's old generation
 * and made every full garbage collection long (docs/performance.md). An order becomes an `OrderView` object
 * again only when a caller reads it. Live orders stay objects in the views: they change with every fill.
 */
import type { OrderType, Side, TimeInForce } from '../../book/index.js';
import { IdIndex, Ring } from './columns.js';
import type { OrderStatus, OrderView } from './views.js';

const STATUSES: readonly OrderStatus[] = [
  'pending',
  'partially_filled',
  'filled',
  'cancelled',
  'rejected',
  'expired',
];

// A row's fields.
const ORDER_ID = 0;
const INSTRUMENT = 1;
const ACCOUNT = 2;
const SIDE = 3;
const TYPE = 4;
const TIF = 5;
const PRICE = 6;
const TRIGGER = 7;
const QTY = 8;
const FILLED = 9;
const REMAINING = 10;
/** The notional as a number when it is a safe integer, else NaN and the bigint in `bigNotional`. */
const NOTIONAL = 11;
const SETTLED = 12;
const STATUS = 13;
const REJECT = 14;
const CANCEL = 15;
const CREATED = 16;
const UPDATED = 17;
const UPDATED_SEQ = 18;
/** When the order entered the views (their insertion order, for the order history). */
const INSERTED = 19;
const WIDTH = 20;

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export class EndedOrders {
  private readonly rows = new Ring(WIDTH);
  /** Order id to the row's absolute position. */
  private readonly index = new IdIndex();
  /** Notionals beyond 2^53 (none under the core's amount checks, but the view does not assume it). */
  private readonly bigNotional = new Map<number, bigint>();

  get size(): number {
    return this.rows.length;
  }

  /** Keeps an order that has ended, as it stands; `inserted` is its place in the views' insertion order. */
  add(v: Readonly<OrderView>, inserted: number): void {
    const p = this.rows.push();
    const rows = this.rows;
    rows.put(p, ORDER_ID, v.orderId);
    rows.put(p, INSTRUMENT, v.instrument);
    rows.put(p, ACCOUNT, v.accountId);
    rows.put(p, SIDE, v.side);
    rows.put(p, TYPE, v.type);
    rows.put(p, TIF, v.tif);
    rows.put(p, PRICE, v.priceTicks);
    rows.put(p, TRIGGER, v.triggerPriceTicks);
    rows.put(p, QTY, v.qtyLots);
    rows.put(p, FILLED, v.filledLots);
    rows.put(p, REMAINING, v.remainingLots);
    if (v.notional >= 0n && v.notional <= SAFE) rows.put(p, NOTIONAL, Number(v.notional));
    else {
      rows.put(p, NOTIONAL, NaN);
      this.bigNotional.set(v.orderId, v.notional);
    }
    rows.put(p, SETTLED, v.settledMinor);
    rows.put(p, STATUS, STATUSES.indexOf(v.status));
    rows.put(p, REJECT, v.rejectCode);
    rows.put(p, CANCEL, v.cancelReason);
    rows.put(p, CREATED, v.createdUs);
    rows.put(p, UPDATED, v.updatedUs);
    rows.put(p, UPDATED_SEQ, v.updatedSeq);
    rows.put(p, INSERTED, inserted);
    this.index.set(v.orderId, p);
  }

  has(orderId: number): boolean {
    return this.index.get(orderId) !== undefined;
  }

  /** The order's status, if it is kept. */
  status(orderId: number): OrderStatus | undefined {
    const p = this.index.get(orderId);
    return p === undefined ? undefined : STATUSES[this.rows.get(p, STATUS)];
  }

  /** The order's place in the views' insertion order, if it is kept. */
  inserted(orderId: number): number | undefined {
    const p = this.index.get(orderId);
    return p === undefined ? undefined : this.rows.get(p, INSERTED);
  }

  /** The order's account (-1 if it is not kept), without making the object. */
  accountOf(orderId: number): number {
    const p = this.index.get(orderId);
    return p === undefined ? -1 : this.rows.get(p, ACCOUNT);
  }

  /** Adds a settlement's amount to a kept order's `settledMinor`; false if the order is not kept. */
  addSettled(orderId: number, amount: number): boolean {
    const p = this.index.get(orderId);
    if (p === undefined) return false;
    this.rows.put(p, SETTLED, this.rows.get(p, SETTLED) + amount);
    return true;
  }

  /** The order as an object (a new one each call), if it is kept. */
  get(orderId: number): OrderView | undefined {
    const p = this.index.get(orderId);
    if (p === undefined) return undefined;
    const rows = this.rows;
    const notional = rows.get(p, NOTIONAL);
    return {
      orderId: rows.get(p, ORDER_ID),
      instrument: rows.get(p, INSTRUMENT),
      accountId: rows.get(p, ACCOUNT),
      side: rows.get(p, SIDE) as Side,
      type: rows.get(p, TYPE) as OrderType,
      tif: rows.get(p, TIF) as TimeInForce,
      priceTicks: rows.get(p, PRICE),
      triggerPriceTicks: rows.get(p, TRIGGER),
      qtyLots: rows.get(p, QTY),
      filledLots: rows.get(p, FILLED),
      remainingLots: rows.get(p, REMAINING),
      notional: Number.isNaN(notional) ? (this.bigNotional.get(orderId) as bigint) : BigInt(notional),
      settledMinor: rows.get(p, SETTLED),
      status: STATUSES[rows.get(p, STATUS)],
      rejectCode: rows.get(p, REJECT),
      cancelReason: rows.get(p, CANCEL),
      createdUs: rows.get(p, CREATED),
      updatedUs: rows.get(p, UPDATED),
      updatedSeq: rows.get(p, UPDATED_SEQ),
    };
  }

  /** Forgets the order that ended first. */
  forgetOldest(): void {
    const rows = this.rows;
    if (rows.length === 0) return;
    const id = rows.get(rows.head, ORDER_ID);
    this.index.delete(id);
    this.bigNotional.delete(id);
    rows.head++;
  }
}

/**
 * The order in which orders entered the views (newest last), for the order history: pairs of order id and
 * insertion number in a growable Float64Array. An entry whose order is no longer kept (or whose id was kept
 * again later, under a newer number) is skipped when read and dropped when the log is compacted.
 */
/** Entries per chunk of the InsertionLog. */
const LOG_CHUNK_PAIRS = 4096;

export class InsertionLog {
  /** Pairs of order id and insertion number, LOG_CHUNK_PAIRS to a chunk: growing never copies the log. */
  private chunks: Float64Array[] = [];
  /** Pairs in the last chunk. */
  private lastUsed = LOG_CHUNK_PAIRS;
  private count = 0;
  private next = 1;

  /** Appends an order and returns its insertion number. */
  add(orderId: number): number {
    const n = this.next++;
    this.append(orderId, n);
    return n;
  }

  private append(orderId: number, inserted: number): void {
    if (this.lastUsed === LOG_CHUNK_PAIRS) {
      this.chunks.push(new Float64Array(2 * LOG_CHUNK_PAIRS));
      this.lastUsed = 0;
    }
    const chunk = this.chunks[this.chunks.length - 1];
    chunk[2 * this.lastUsed] = orderId;
    chunk[2 * this.lastUsed + 1] = inserted;
    this.lastUsed++;
    this.count++;
  }

  get entries(): number {
    return this.count;
  }

  /** Visits the entries newest first until `visit` returns false. */
  walkNewestFirst(visit: (orderId: number, inserted: number) => boolean): void {
    for (let c = this.chunks.length - 1; c >= 0; c--) {
      const chunk = this.chunks[c];
      const used = c === this.chunks.length - 1 ? this.lastUsed : LOG_CHUNK_PAIRS;
      for (let k = 2 * (used - 1); k >= 0; k -= 2) {
        if (!visit(chunk[k], chunk[k + 1])) return;
      }
    }
  }

  /** Keeps only the entries `kept` accepts, in order. */
  compact(kept: (orderId: number, inserted: number) => boolean): void {
    const old = this.chunks;
    const oldLastUsed = this.lastUsed;
    this.chunks = [];
    this.lastUsed = LOG_CHUNK_PAIRS;
    this.count = 0;
    for (let c = 0; c < old.length; c++) {
      const chunk = old[c];
      const used = c === old.length - 1 ? oldLastUsed : LOG_CHUNK_PAIRS;
      for (let k = 0; k < 2 * used; k += 2) {
        if (kept(chunk[k], chunk[k + 1])) this.append(chunk[k], chunk[k + 1]);
      }
    }
  }
}
