/**
 * What the core knows of each live order beyond its book: whose it is, which position it feeds, what it holds
 * and at which fee rates it settles. One set of columns per instrument, indexed by the order's slot in that
 * instrument's book, which every book event about the order carries (F_SLOT): the core finds an order's
 * columns without a second hash lookup, and allocates nothing per order.
 *
 * The order's open and filled quantities are the book's (OrderBook.leftAt, filledAt): the core kept copies of
 * them here, updated on every fill, until 2026-12-02 (docs/performance.md, the exchange core's step 12).
 *
 * An order holds `perLot` minor units for each lot still open: quote for a buy (the limit or protection price
 * plus the largest fee it can pay), base for a sell. Because the hold is linear in the open quantity, every
 * fill, reduction or cancel releases an exact multiple of `perLot` and a finished order holds nothing.
 */
import {
  growFloat64,
  growInt32,
  growUint8,
  type SnapshotReader,
  type SnapshotWriter,
} from '../collections/index.js';

/** What the columns read from the book of their instrument: the live order's quantities by slot. */
export interface OrderQuantities {
  leftAt(slot: number): number;
  filledAt(slot: number): number;
}

const SLOTS_INITIAL = 1024;
/** A book's most orders (BOOK_LIMITS.ordersMax). */
const SLOTS_MAX = 1 << 24;

export class OrderColumns {
  private capacity = 0;
  /** Live orders. */
  size = 0;

  /** 1 while the slot holds a live order the core opened. */
  live = new Uint8Array(0);
  orderId = new Float64Array(0);
  account = new Int32Array(0);
  /** 1 for a buy, 0 for a sell. */
  buy = new Uint8Array(0);
  /** 1 for market, stop-market and take-profit orders, whose price is a protection price the core set. */
  market = new Uint8Array(0);
  perLot = new Float64Array(0);
  makerFeePpm = new Int32Array(0);
  takerFeePpm = new Int32Array(0);
  /** The position slot (ledger Positions) the order's fills go to. */
  position = new Int32Array(0);
  /** The ledger account the hold is taken from (the customer's available; held is the next account). */
  holdAccount = new Int32Array(0);

  constructor(slots: number = SLOTS_INITIAL) {
    this.grow(Math.max(16, slots));
  }

  /** Marks book slot `s` live for `orderId`; the caller fills the other columns. */
  open(s: number, orderId: number): void {
    if (s >= this.capacity) this.grow(Math.max(s + 1, this.capacity * 2));
    this.live[s] = 1;
    this.orderId[s] = orderId;
    this.size++;
  }

  close(s: number): void {
    this.live[s] = 0;
    this.size--;
  }

  /** Every live slot, in slot order. */
  forEach(fn: (slot: number) => void): void {
    for (let s = 0; s < this.capacity; s++) if (this.live[s] === 1) fn(s);
  }

  /**
   * Writes the columns up to the highest slot ever opened (an opened slot has a positive order id; the rest
   * are all zero), closed slots' stale values included, so a restore is the same memory. The open and filled
   * quantities, which are the book's, are written as columns too (the format from when the core kept copies):
   * the book's for live slots, 0 for closed ones.
   */
  writeSnapshot(w: SnapshotWriter, book: OrderQuantities): void {
    let n = this.capacity;
    while (n > 0 && this.orderId[n - 1] === 0) n--;
    w.tag('OCOL');
    w.u32(this.capacity);
    w.u32(this.size);
    w.u8s(this.live, n);
    w.f64s(this.orderId, n);
    w.i32s(this.account, n);
    w.u8s(this.buy, n);
    w.u8s(this.market, n);
    w.f64s(this.perLot, n);
    const left = new Float64Array(n);
    const filled = new Float64Array(n);
    for (let s = 0; s < n; s++) {
      if (this.live[s] !== 1) continue;
      left[s] = book.leftAt(s);
      filled[s] = book.filledAt(s);
    }
    w.f64s(left, n);
    w.f64s(filled, n);
    w.i32s(this.makerFeePpm, n);
    w.i32s(this.takerFeePpm, n);
    w.i32s(this.position, n);
    w.i32s(this.holdAccount, n);
  }

  /**
   * Replaces the columns with those written by writeSnapshot; `book` is the instrument's book, restored
   * already, whose live orders' quantities the written ones must equal.
   */
  readSnapshot(r: SnapshotReader, book: OrderQuantities): void {
    r.tag('OCOL');
    const capacity = r.count('order column capacity', SLOTS_MAX);
    const size = r.count('live order columns', capacity);
    this.grow(capacity, true);
    const n = r.u8sInto(this.live, 'live flags');
    r.f64sExact(this.orderId, n, 'order ids');
    r.i32sExact(this.account, n, 'order accounts');
    r.u8sExact(this.buy, n, 'order sides');
    r.u8sExact(this.market, n, 'order market flags');
    r.f64sExact(this.perLot, n, 'holds per lot');
    const left = new Float64Array(n);
    const filled = new Float64Array(n);
    r.f64sExact(left, n, 'open quantities');
    r.f64sExact(filled, n, 'filled quantities');
    r.i32sExact(this.makerFeePpm, n, 'maker fees');
    r.i32sExact(this.takerFeePpm, n, 'taker fees');
    r.i32sExact(this.position, n, 'order positions');
    r.i32sExact(this.holdAccount, n, 'hold accounts');
    let live = 0;
    for (let s = 0; s < n; s++) {
      if (this.live[s] === 0) continue;
      live++;
      if (left[s] !== book.leftAt(s) || filled[s] !== book.filledAt(s))
        r.fail(`order in slot ${s}: quantities differ from the book's`);
    }
    if (live !== size) r.fail(`${live} live order columns, ${size} counted`);
    this.size = size;
  }

  /** Columns of `n` slots, holding the current contents, or all zero when `fresh`. */
  private grow(n: number, fresh = false): void {
    const f64 = (a: Float64Array): Float64Array<ArrayBuffer> => growFloat64(fresh ? a.subarray(0, 0) : a, n);
    const i32 = (a: Int32Array): Int32Array<ArrayBuffer> => growInt32(fresh ? a.subarray(0, 0) : a, n);
    const u8 = (a: Uint8Array): Uint8Array<ArrayBuffer> => growUint8(fresh ? a.subarray(0, 0) : a, n);
    this.live = u8(this.live);
    this.orderId = f64(this.orderId);
    this.account = i32(this.account);
    this.buy = u8(this.buy);
    this.market = u8(this.market);
    this.perLot = f64(this.perLot);
    this.makerFeePpm = i32(this.makerFeePpm);
    this.takerFeePpm = i32(this.takerFeePpm);
    this.position = i32(this.position);
    this.holdAccount = i32(this.holdAccount);
    this.capacity = n;
  }
}
