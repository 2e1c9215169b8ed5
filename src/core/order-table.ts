/**
 * What the core knows of each live order beyond the book: whose it is, which position it feeds, what it holds
 * and at which fee rates it settles. Columns of typed arrays by slot, an IntMap from order id to slot, and a
 * free list: nothing is allocated per order.
 *
 * An order holds `perLot` minor units for each lot still open: quote for a buy (the limit or protection price
 * plus the largest fee it can pay), base for a sell. Because the hold is linear in the open quantity, every
 * fill, reduction or cancel releases an exact multiple of `perLot` and a finished order holds nothing.
 */
import { IntMap, growFloat64, growInt32, growUint8 } from '../collections/index.js';

export const ORDER_TABLE_LIMITS = Object.freeze({ slotsInitial: 4096, slotsMax: 1 << 24 });

export class OrderTable {
  private readonly index = new IntMap(ORDER_TABLE_LIMITS.slotsInitial);
  private free: Int32Array;
  private freeCount = 0;
  private capacity = 0;

  orderId = new Float64Array(0);
  account = new Float64Array(0);
  instrument = new Int32Array(0);
  /** 1 for a buy, 0 for a sell. */
  buy = new Uint8Array(0);
  /** 1 for market, stop-market and take-profit orders, whose price is a protection price the core set. */
  market = new Uint8Array(0);
  perLot = new Float64Array(0);
  left = new Float64Array(0);
  filled = new Float64Array(0);
  makerFeePpm = new Int32Array(0);
  takerFeePpm = new Int32Array(0);
  /** The position slot (ledger Positions) the order's fills go to. */
  position = new Int32Array(0);
  /** The ledger account the hold is taken from (the customer's available; held is the next account). */
  holdAccount = new Int32Array(0);

  constructor() {
    this.free = new Int32Array(0);
    this.grow(ORDER_TABLE_LIMITS.slotsInitial);
  }

  get size(): number {
    return this.index.size;
  }

  /** The slot of a live order, or -1. */
  find(orderId: number): number {
    return this.index.get(orderId);
  }

  has(orderId: number): boolean {
    return this.index.has(orderId);
  }

  /** A slot for a new order; the caller fills its columns. */
  add(orderId: number): number {
    if (this.freeCount === 0) this.grow(this.capacity * 2);
    const s = this.free[--this.freeCount];
    this.orderId[s] = orderId;
    this.index.set(orderId, s);
    return s;
  }

  remove(s: number): void {
    this.index.delete(this.orderId[s]);
    this.free[this.freeCount++] = s;
  }

  /** Every live slot, in slot order. */
  forEach(fn: (slot: number) => void): void {
    this.index.forEach((slot) => fn(slot));
  }

  private grow(n: number): void {
    if (n > ORDER_TABLE_LIMITS.slotsMax)
      throw new Error(`the core holds at most ${ORDER_TABLE_LIMITS.slotsMax} orders`);
    const old = this.capacity;
    this.orderId = growFloat64(this.orderId, n);
    this.account = growFloat64(this.account, n);
    this.instrument = growInt32(this.instrument, n);
    this.buy = growUint8(this.buy, n);
    this.market = growUint8(this.market, n);
    this.perLot = growFloat64(this.perLot, n);
    this.left = growFloat64(this.left, n);
    this.filled = growFloat64(this.filled, n);
    this.makerFeePpm = growInt32(this.makerFeePpm, n);
    this.takerFeePpm = growInt32(this.takerFeePpm, n);
    this.position = growInt32(this.position, n);
    this.holdAccount = growInt32(this.holdAccount, n);
    const free = new Int32Array(n);
    free.set(this.free.subarray(0, this.freeCount));
    // Lowest slots first out, so a fresh table fills from slot 0.
    for (let s = n - 1; s >= old; s--) free[this.freeCount++] = s;
    this.free = free;
    this.capacity = n;
  }
}
