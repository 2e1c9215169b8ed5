/**
 * What the core knows of each live order beyond its book: whose it is, which position it feeds, what it holds
 * and at which fee rates it settles. One table per instrument, indexed by the order's slot in that
 * instrument's book, which every book event about the order carries (F_SLOT): the core finds an order
 * without a second hash lookup, and allocates nothing per order.
 *
 * Each order is one record of STRIDE numbers, the fields a fill, a cancel or a release reads together side
 * by side: a few cache lines per order touched, where one array per field cost a line per field.
 *
 * An order holds `perLot` minor units for each lot still open: quote for a buy (the limit or protection price
 * plus the largest fee it can pay), base for a sell. Because the hold is linear in the open quantity, every
 * fill, reduction or cancel releases an exact multiple of `perLot` and a finished order holds nothing.
 */
import { growFloat64, type SnapshotReader, type SnapshotWriter } from '../collections/index.js';

const SLOTS_INITIAL = 1024;
/** A book's most orders (BOOK_LIMITS.ordersMax). */
const SLOTS_MAX = 1 << 24;

// The record: the fields of the order path first (one cache line when the record is aligned).
const STRIDE = 16;
const FLAGS = 0;
const ORDER_ID = 1;
const ACCOUNT = 2;
const PER_LOT = 3;
const LEFT = 4;
const POSITION = 5;
const HOLD_ACCOUNT = 6;
const TAKER_FEE = 7;
const FILLED = 8;
const MAKER_FEE = 9;

const LIVE = 1;
const BUY = 2;
const MARKET = 4;

/** What an order opens with (OrderRecords.open). */
export interface OrderOpening {
  orderId: number;
  account: number;
  buy: boolean;
  /** A market, stop-market or take-profit order, whose price is a protection price the core set. */
  market: boolean;
  perLot: number;
  qty: number;
  makerFeePpm: number;
  takerFeePpm: number;
  /** The position slot (ledger Positions) the order's fills go to. */
  position: number;
  /** The ledger account the hold is taken from (the customer's available; held is the next account). */
  holdAccount: number;
}

export class OrderRecords {
  private capacity = 0;
  private rec = new Float64Array(0);
  /** Live orders. */
  size = 0;

  constructor(slots: number = SLOTS_INITIAL) {
    this.grow(Math.max(16, slots));
  }

  /** Opens book slot `s` for a new order. Integer fields are stored as int32 (so -0 is 0), as the snapshot has them. */
  open(s: number, o: OrderOpening): void {
    if (s >= this.capacity) this.grow(Math.max(s + 1, this.capacity * 2));
    const r = this.rec;
    const at = s * STRIDE;
    r[at + FLAGS] = LIVE | (o.buy ? BUY : 0) | (o.market ? MARKET : 0);
    r[at + ORDER_ID] = o.orderId;
    r[at + ACCOUNT] = o.account | 0;
    r[at + PER_LOT] = o.perLot;
    r[at + LEFT] = o.qty;
    r[at + POSITION] = o.position | 0;
    r[at + HOLD_ACCOUNT] = o.holdAccount | 0;
    r[at + TAKER_FEE] = o.takerFeePpm | 0;
    r[at + FILLED] = 0;
    r[at + MAKER_FEE] = o.makerFeePpm | 0;
    this.size++;
  }

  close(s: number): void {
    this.rec[s * STRIDE + FLAGS] = 0;
    this.size--;
  }

  isLive(s: number): boolean {
    return s < this.capacity && (this.rec[s * STRIDE + FLAGS] & LIVE) !== 0;
  }
  isBuy(s: number): boolean {
    return (this.rec[s * STRIDE + FLAGS] & BUY) !== 0;
  }
  isMarket(s: number): boolean {
    return (this.rec[s * STRIDE + FLAGS] & MARKET) !== 0;
  }
  orderIdOf(s: number): number {
    return this.rec[s * STRIDE + ORDER_ID];
  }
  accountOf(s: number): number {
    return this.rec[s * STRIDE + ACCOUNT];
  }
  perLotOf(s: number): number {
    return this.rec[s * STRIDE + PER_LOT];
  }
  /** Lots still open. */
  leftOf(s: number): number {
    return this.rec[s * STRIDE + LEFT];
  }
  filledOf(s: number): number {
    return this.rec[s * STRIDE + FILLED];
  }
  positionOf(s: number): number {
    return this.rec[s * STRIDE + POSITION];
  }
  holdAccountOf(s: number): number {
    return this.rec[s * STRIDE + HOLD_ACCOUNT];
  }
  makerFeeOf(s: number): number {
    return this.rec[s * STRIDE + MAKER_FEE];
  }
  takerFeeOf(s: number): number {
    return this.rec[s * STRIDE + TAKER_FEE];
  }

  /** A fill of `qty` lots leaving `left` open. */
  fill(s: number, qty: number, left: number): void {
    this.rec[s * STRIDE + FILLED] += qty;
    this.rec[s * STRIDE + LEFT] = left;
  }

  setLeft(s: number, left: number): void {
    this.rec[s * STRIDE + LEFT] = left;
  }

  /** An amend: the new hold per lot and open quantity. */
  reprice(s: number, perLot: number, left: number): void {
    this.rec[s * STRIDE + PER_LOT] = perLot;
    this.rec[s * STRIDE + LEFT] = left;
  }

  /** Every live slot, in slot order. */
  forEach(fn: (slot: number) => void): void {
    for (let s = 0; s < this.capacity; s++) if (this.isLive(s)) fn(s);
  }

  /**
   * Writes the orders up to the highest slot ever opened (an opened slot has a positive order id; the rest
   * are all zero), closed slots' stale values included, so a restore is the same memory. The layout is one
   * column per field, as it was before the records.
   */
  writeSnapshot(w: SnapshotWriter): void {
    let n = this.capacity;
    while (n > 0 && this.orderIdOf(n - 1) === 0) n--;
    w.tag('OCOL');
    w.u32(this.capacity);
    w.u32(this.size);
    const flag = (bit: number): Uint8Array => {
      const out = new Uint8Array(n);
      for (let s = 0; s < n; s++) out[s] = (this.rec[s * STRIDE + FLAGS] & bit) !== 0 ? 1 : 0;
      return out;
    };
    w.u8s(flag(LIVE), n);
    w.f64s(this.column(ORDER_ID, new Float64Array(n)), n);
    w.i32s(this.column(ACCOUNT, new Int32Array(n)), n);
    w.u8s(flag(BUY), n);
    w.u8s(flag(MARKET), n);
    w.f64s(this.column(PER_LOT, new Float64Array(n)), n);
    w.f64s(this.column(LEFT, new Float64Array(n)), n);
    w.f64s(this.column(FILLED, new Float64Array(n)), n);
    w.i32s(this.column(MAKER_FEE, new Int32Array(n)), n);
    w.i32s(this.column(TAKER_FEE, new Int32Array(n)), n);
    w.i32s(this.column(POSITION, new Int32Array(n)), n);
    w.i32s(this.column(HOLD_ACCOUNT, new Int32Array(n)), n);
  }

  /** Replaces the orders with those written by writeSnapshot. */
  readSnapshot(r: SnapshotReader): void {
    r.tag('OCOL');
    const capacity = r.count('order column capacity', SLOTS_MAX);
    const size = r.count('live order columns', capacity);
    this.rec = new Float64Array(0);
    this.capacity = 0;
    this.grow(capacity);
    const live = new Uint8Array(capacity);
    const n = r.u8sInto(live, 'live flags');
    const f64 = new Float64Array(n);
    const i32 = new Int32Array(n);
    const u8 = new Uint8Array(n);
    r.f64sExact(f64, n, 'order ids');
    this.setColumn(ORDER_ID, f64, n);
    r.i32sExact(i32, n, 'order accounts');
    this.setColumn(ACCOUNT, i32, n);
    const flags = new Uint8Array(n);
    for (let s = 0; s < n; s++) flags[s] = live[s] === 0 ? 0 : live[s] === 1 ? LIVE : 0xff;
    r.u8sExact(u8, n, 'order sides');
    for (let s = 0; s < n; s++) flags[s] |= u8[s] === 0 ? 0 : u8[s] === 1 ? BUY : 0xff;
    r.u8sExact(u8, n, 'order market flags');
    for (let s = 0; s < n; s++) flags[s] |= u8[s] === 0 ? 0 : u8[s] === 1 ? MARKET : 0xff;
    for (let s = 0; s < n; s++) if (flags[s] === 0xff) r.fail(`order flags of slot ${s}`);
    this.setColumn(FLAGS, flags, n);
    for (const [field, what] of [
      [PER_LOT, 'holds per lot'],
      [LEFT, 'open quantities'],
      [FILLED, 'filled quantities'],
    ] as const) {
      r.f64sExact(f64, n, what);
      this.setColumn(field, f64, n);
    }
    for (const [field, what] of [
      [MAKER_FEE, 'maker fees'],
      [TAKER_FEE, 'taker fees'],
      [POSITION, 'order positions'],
      [HOLD_ACCOUNT, 'hold accounts'],
    ] as const) {
      r.i32sExact(i32, n, what);
      this.setColumn(field, i32, n);
    }
    let count = 0;
    for (let s = 0; s < n; s++) if (this.isLive(s)) count++;
    if (count !== size) r.fail(`${count} live order columns, ${size} counted`);
    this.size = size;
  }

  private column<T extends Float64Array | Int32Array>(field: number, out: T): T {
    for (let s = 0; s < out.length; s++) out[s] = this.rec[s * STRIDE + field];
    return out;
  }

  private setColumn(field: number, values: Float64Array | Int32Array | Uint8Array, n: number): void {
    for (let s = 0; s < n; s++) this.rec[s * STRIDE + field] = values[s];
  }

  private grow(n: number): void {
    this.rec = growFloat64(this.rec, n * STRIDE);
    this.capacity = n;
  }
}
