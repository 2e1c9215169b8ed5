/**
 * What the core knows of each live order beyond its book: whose it is, which position it feeds, what it holds
 * and at which fee rates it settles. One set of columns per instrument, indexed by the order's slot in that
 * instrument's book, which every book event about the order carries (F_SLOT): the core finds an order's
 * columns without a second hash lookup, and allocates nothing per order.
 *
 * An order holds `perLot` minor units for each lot still open: quote for a buy (the limit or protection price
 * plus the largest fee it can pay), base for a sell. Because the hold is linear in the open quantity, every
 * fill, reduction or cancel releases an exact multiple of `perLot` and a finished order holds nothing.
 */
import { growFloat64, growInt32, growUint8 } from '../collections/index.js';

const SLOTS_INITIAL = 1024;

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
  left = new Float64Array(0);
  filled = new Float64Array(0);
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

  private grow(n: number): void {
    this.live = growUint8(this.live, n);
    this.orderId = growFloat64(this.orderId, n);
    this.account = growInt32(this.account, n);
    this.buy = growUint8(this.buy, n);
    this.market = growUint8(this.market, n);
    this.perLot = growFloat64(this.perLot, n);
    this.left = growFloat64(this.left, n);
    this.filled = growFloat64(this.filled, n);
    this.makerFeePpm = growInt32(this.makerFeePpm, n);
    this.takerFeePpm = growInt32(this.takerFeePpm, n);
    this.position = growInt32(this.position, n);
    this.holdAccount = growInt32(this.holdAccount, n);
    this.capacity = n;
  }
}
