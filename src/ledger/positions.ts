/**
 * Positions per account and instrument, with average cost and realized PnL, in integer units: quantity in
 * lots (signed, long positive), cost and PnL in minor units of the instrument's quote asset. A fill that
 * reduces a position realizes the difference between its value and the closed part's cost; the closed part's
 * cost is the position's cost pro rata, rounded down, and the rounding stays in the remaining cost so that
 * totals are exact. Unrealized PnL is the position marked at a price, less its cost.
 */
import { IntMap, growFloat64, type SnapshotReader, type SnapshotWriter } from '../collections/index.js';
import { mulDivFloor } from './money.js';

export const POSITION_LIMITS = Object.freeze({
  instrumentsMax: 1 << 16,
  slotsInitial: 1024,
  slotsMax: 1 << 24,
});

export interface PositionView {
  account: number;
  instrument: number;
  qty: number;
  /** Cost of the open position: positive for a long, negative (proceeds) for a short. */
  cost: number;
  /** Average price per lot in quote minor units, rounded toward zero; 0 when flat. */
  avgCostPerLot: number;
  realizedPnl: number;
  /** Fees paid less rebates received, in quote minor units. */
  fees: number;
}

// A position is one record of STRIDE numbers (a cache line): a fill reads and writes them together.
const STRIDE = 8;
const ACCOUNT = 0;
const INSTRUMENT = 1;
const QTY = 2;
const COST = 3;
const REALIZED = 4;
const FEES = 5;

export class Positions {
  private readonly index = new IntMap(1024);
  private count = 0;
  private rec = new Float64Array(POSITION_LIMITS.slotsInitial * STRIDE);

  get size(): number {
    return this.count;
  }

  accountOf(s: number): number {
    return this.rec[s * STRIDE + ACCOUNT];
  }
  instrumentOf(s: number): number {
    return this.rec[s * STRIDE + INSTRUMENT];
  }
  /** Net quantity in lots, long positive. */
  qtyOf(s: number): number {
    return this.rec[s * STRIDE + QTY];
  }
  /** Cost of the open position: positive for a long, negative (proceeds) for a short. */
  costOf(s: number): number {
    return this.rec[s * STRIDE + COST];
  }
  realizedOf(s: number): number {
    return this.rec[s * STRIDE + REALIZED];
  }
  /** Fees paid less rebates received. */
  feesOf(s: number): number {
    return this.rec[s * STRIDE + FEES];
  }

  /** The slot of (account, instrument), or -1. */
  find(account: number, instrument: number): number {
    return this.index.get(account * POSITION_LIMITS.instrumentsMax + instrument);
  }

  /** The slot of (account, instrument), opened flat on first use. */
  slot(account: number, instrument: number): number {
    const key = account * POSITION_LIMITS.instrumentsMax + instrument;
    const found = this.index.get(key);
    if (found !== -1) return found;
    if ((this.count + 1) * STRIDE > this.rec.length) this.grow();
    const s = this.count++;
    this.rec[s * STRIDE + ACCOUNT] = account;
    this.rec[s * STRIDE + INSTRUMENT] = instrument;
    this.index.set(key, s);
    return s;
  }

  /**
   * Books a fill of `qty` lots worth `value` quote minor units (both > 0), bought or sold, with `fee` paid
   * (negative for a rebate). Returns the PnL it realized.
   */
  applyFill(s: number, buy: boolean, qty: number, value: number, fee: number): number {
    const r = this.rec;
    const at = s * STRIDE;
    r[at + FEES] += fee;
    const q0 = r[at + QTY];
    const signed = buy ? qty : -qty;
    // Opening or adding: no realization.
    if (q0 === 0 || q0 > 0 === buy) {
      r[at + QTY] = q0 + signed;
      r[at + COST] += buy ? value : -value;
      return 0;
    }
    const cost = r[at + COST];
    const open = Math.abs(q0);
    const closing = Math.min(open, qty);
    // The closed part's cost, pro rata, rounded toward zero; the remainder stays with the open part.
    const closedCost = q0 > 0 ? mulDivFloor(cost, closing, open) : -mulDivFloor(-cost, closing, open);
    const closingValue = closing === qty ? value : mulDivFloor(value, closing, qty);
    // A long sells: proceeds less cost. A short buys back: the proceeds it had (−cost) less what it pays.
    const pnl = q0 > 0 ? closingValue - closedCost : -closedCost - closingValue;
    r[at + REALIZED] += pnl;
    r[at + COST] = cost - closedCost;
    r[at + QTY] = q0 + signed;
    if (qty > closing) {
      // The fill flips the position: the rest opens a new one at the rest of the value.
      const rest = value - closingValue;
      r[at + COST] = buy ? rest : -rest;
    } else if (q0 + signed === 0) {
      r[at + COST] = 0;
    }
    return pnl;
  }

  /** Unrealized PnL given the position's value at the mark (qty × mark, signed like qty). */
  unrealized(s: number, markValue: number): number {
    return this.qtyOf(s) === 0 ? 0 : markValue - this.costOf(s);
  }

  view(s: number): PositionView {
    const qty = this.qtyOf(s);
    const cost = this.costOf(s);
    return {
      account: this.accountOf(s),
      instrument: this.instrumentOf(s),
      qty,
      cost,
      avgCostPerLot:
        qty === 0 ? 0 : Math.sign(cost / qty) * mulDivFloor(Math.abs(cost), 1, Math.abs(qty)) || 0,
      realizedPnl: this.realizedOf(s),
      fees: this.feesOf(s),
    };
  }

  /** Every slot in opening order. */
  forEach(fn: (slot: number) => void): void {
    for (let s = 0; s < this.count; s++) fn(s);
  }

  /** Writes every position (columns up to the count) and the index table as it is. */
  writeSnapshot(w: SnapshotWriter): void {
    const n = this.count;
    w.tag('POSN');
    w.u32(this.rec.length / STRIDE);
    w.f64s(this.column(ACCOUNT, new Float64Array(n)), n);
    w.i32s(this.column(INSTRUMENT, new Int32Array(n)), n);
    for (const field of [QTY, COST, REALIZED, FEES]) w.f64s(this.column(field, new Float64Array(n)), n);
    this.index.writeSnapshot(w);
  }

  /** Replaces every position with those written by writeSnapshot. */
  readSnapshot(r: SnapshotReader): void {
    r.tag('POSN');
    const capacity = r.count('position capacity', POSITION_LIMITS.slotsMax);
    if (capacity < 1) r.fail('positions of no capacity');
    this.rec = new Float64Array(capacity * STRIDE);
    const accounts = new Float64Array(capacity);
    const n = r.f64sInto(accounts, 'position accounts');
    this.setColumn(ACCOUNT, accounts, n);
    const instruments = new Int32Array(n);
    r.i32sExact(instruments, n, 'position instruments');
    this.setColumn(INSTRUMENT, instruments, n);
    const column = new Float64Array(n);
    for (const [field, what] of [
      [QTY, 'position quantities'],
      [COST, 'position costs'],
      [REALIZED, 'realized PnL'],
      [FEES, 'position fees'],
    ] as const) {
      r.f64sExact(column, n, what);
      this.setColumn(field, column, n);
    }
    this.count = n;
    this.index.readSnapshot(r);
    if (this.index.size !== n) r.fail(`${this.index.size} positions indexed, ${n} held`);
    for (let s = 0; s < n; s++) {
      if (this.find(this.accountOf(s), this.instrumentOf(s)) !== s) r.fail(`position ${s} is not indexed`);
    }
  }

  /** One field of every position, into `out`. */
  private column<T extends Float64Array | Int32Array>(field: number, out: T): T {
    for (let s = 0; s < out.length; s++) out[s] = this.rec[s * STRIDE + field];
    return out;
  }

  private setColumn(field: number, values: Float64Array | Int32Array, n: number): void {
    for (let s = 0; s < n; s++) this.rec[s * STRIDE + field] = values[s];
  }

  private grow(): void {
    const n = (this.rec.length / STRIDE) * 2;
    if (n > POSITION_LIMITS.slotsMax) throw new Error(`at most ${POSITION_LIMITS.slotsMax} positions`);
    this.rec = growFloat64(this.rec, n * STRIDE);
  }
}
