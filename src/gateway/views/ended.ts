/**
 * The views' ended orders (filled, cancelled, rejected, expired), kept in columns: one row of numbers per
 * order in a ring, oldest ended first, found by id through an index in typed arrays. Up to a million of them
 * are kept by default; as objects (each with its boxed numbers) they were most of the venue's old generation
 * and made every full garbage collection long (docs/performance.md). An order becomes an `OrderView` object
 * again only when a caller reads it. Live orders stay objects in the views: they change with every fill.
 */
import type { OrderType, Side, TimeInForce } from '../../book/index.js';
import { IdIndex, Ring } from '../../collections/index.js';
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
const EXPIRE = 20;
const WIDTH = 21;

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
    rows.put(p, EXPIRE, v.expireTimeUs);
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
      expireTimeUs: rows.get(p, EXPIRE),
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

/** Entries per chunk of the InsertionLog. */
const LOG_CHUNK_PAIRS = 4096;
/** Entries read by one compaction step of the InsertionLog: about a tenth of a millisecond of lookups. */
const LOG_STEP_PAIRS = 512;

/**
 * The order in which orders entered the views (newest last), for the order history: pairs of order id and
 * insertion number, LOG_CHUNK_PAIRS to a chunk, so that growing never copies the log. An entry whose order is no
 * longer kept (or whose id was kept again later, under a newer number) is skipped when read and dropped when the
 * log is compacted.
 *
 * Compaction goes a step of at most LOG_STEP_PAIRS entries at a time (a whole pass over millions of entries
 * held the main thread for a tenth of a second or more): a pass copies the kept entries of the chunks, oldest
 * first, into a new list of chunks while new entries still go to the old list's last chunk, and the new list
 * takes the old one's place when the pass has read that last chunk too. In a pass, the entries not read yet
 * (in the old list) are newer than those read (in the new list), so a walk reads the old list's part first.
 */
export class InsertionLog {
  private chunks: Float64Array[] = [];
  /** Entries used in each chunk of `chunks`: every one full but the last. */
  private used: number[] = [];
  private count = 0;
  private next = 1;
  /** A pass in progress: the kept entries of the chunks before `readChunk` (and of its first `readPair`). */
  private pass: { chunks: Float64Array[]; used: number[]; readChunk: number; readPair: number } | null = null;

  /** Appends an order and returns its insertion number. */
  add(orderId: number): number {
    const n = this.next++;
    append(this.chunks, this.used, orderId, n);
    this.count++;
    return n;
  }

  get entries(): number {
    return this.count;
  }

  /** Whether a compaction pass has begun and not ended. */
  get compacting(): boolean {
    return this.pass !== null;
  }

  /** Visits the entries newest first until `visit` returns false. */
  walkNewestFirst(visit: (orderId: number, inserted: number) => boolean): void {
    const pass = this.pass;
    if (pass === null) {
      walkBack(this.chunks, this.used, 0, 0, visit);
      return;
    }
    if (walkBack(this.chunks, this.used, pass.readChunk, pass.readPair, visit)) {
      walkBack(pass.chunks, pass.used, 0, 0, visit);
    }
  }

  /**
   * Reads the next at most LOG_STEP_PAIRS entries of a compaction pass (beginning one if none is in progress),
   * keeping those `kept` accepts, in order.
   */
  compactStep(kept: (orderId: number, inserted: number) => boolean): void {
    let pass = this.pass;
    if (pass === null) pass = this.pass = { chunks: [], used: [], readChunk: 0, readPair: 0 };
    let budget = LOG_STEP_PAIRS;
    while (budget > 0 && pass.readChunk < this.chunks.length) {
      const chunk = this.chunks[pass.readChunk];
      const end = Math.min(this.used[pass.readChunk], pass.readPair + budget);
      for (let p = pass.readPair; p < end; p++) {
        if (kept(chunk[2 * p], chunk[2 * p + 1]))
          append(pass.chunks, pass.used, chunk[2 * p], chunk[2 * p + 1]);
        else this.count--;
      }
      budget -= end - pass.readPair;
      pass.readPair = end;
      if (end === this.used[pass.readChunk] && end < LOG_CHUNK_PAIRS) {
        // The last chunk (the only one not full), read to its end: the new list takes the old one's place.
        this.endPass(pass);
        return;
      }
      if (end === LOG_CHUNK_PAIRS) {
        pass.readChunk++;
        pass.readPair = 0;
      }
    }
    if (pass.readChunk === this.chunks.length) {
      // Every chunk read, the last one full: nothing is left in the old list.
      this.endPass(pass);
    }
  }

  private endPass(pass: { chunks: Float64Array[]; used: number[] }): void {
    this.chunks = pass.chunks;
    this.used = pass.used;
    this.pass = null;
  }
}

/**
 * Visits the pairs of a list of chunks newest first, down to pair `firstPair` of chunk `firstChunk`, until
 * `visit` returns false; returns whether it went to the end.
 */
function walkBack(
  chunks: readonly Float64Array[],
  used: readonly number[],
  firstChunk: number,
  firstPair: number,
  visit: (orderId: number, inserted: number) => boolean,
): boolean {
  for (let c = chunks.length - 1; c >= firstChunk; c--) {
    const chunk = chunks[c];
    const first = c === firstChunk ? firstPair : 0;
    for (let k = 2 * (used[c] - 1); k >= 2 * first; k -= 2) {
      if (!visit(chunk[k], chunk[k + 1])) return false;
    }
  }
  return true;
}

/** Appends a pair to a list of chunks, with a new chunk when the last is full. */
function append(chunks: Float64Array[], used: number[], orderId: number, inserted: number): void {
  let last = chunks.length - 1;
  if (last < 0 || used[last] === LOG_CHUNK_PAIRS) {
    chunks.push(new Float64Array(2 * LOG_CHUNK_PAIRS));
    used.push(0);
    last++;
  }
  const u = used[last];
  chunks[last][2 * u] = orderId;
  chunks[last][2 * u + 1] = inserted;
  used[last] = u + 1;
}
