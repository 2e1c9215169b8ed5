/**
 * Positions per account and instrument, with average cost and realized PnL, in integer units: quantity in
 * lots (signed, long positive), cost and PnL in minor units of the instrument's quote asset. A fill that
 * reduces a position realizes the difference between its value and the closed part's cost; the closed part's
 * cost is the position's cost pro rata, rounded down, and the rounding stays in the remaining cost so that
 * totals are exact. Unrealized PnL is the position marked at a price, less its cost.
 */
import {
  IntMap,
  growFloat64,
  growInt32,
  type SnapshotReader,
  type SnapshotWriter,
} from '../collections/index.js';
import * as money from './money.js';

// A module-local `const` rather than an import: each call through an import loads the function from its module
// cell and checks it; through a `const`, the compiler knows it (applyFill runs on every trade).
const mulDivFloor = money.mulDivFloor;

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

export class Positions {
  private readonly index = new IntMap(1024);
  private count = 0;
  // Initialized where declared, not in the constructor: compiled to ES2022 class fields, a field declared
  // without a value is first defined as undefined, and V8 then no longer knows the field holds a typed
  // array, so every use checked the array's map (measured: docs/performance.md, the exchange core's step 12).
  account = new Float64Array(POSITION_LIMITS.slotsInitial);
  instrument = new Int32Array(POSITION_LIMITS.slotsInitial);
  qty = new Float64Array(POSITION_LIMITS.slotsInitial);
  cost = new Float64Array(POSITION_LIMITS.slotsInitial);
  realized = new Float64Array(POSITION_LIMITS.slotsInitial);
  fees = new Float64Array(POSITION_LIMITS.slotsInitial);

  get size(): number {
    return this.count;
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
    if (this.count === this.qty.length) this.grow();
    const s = this.count++;
    this.account[s] = account;
    this.instrument[s] = instrument;
    this.index.set(key, s);
    return s;
  }

  /**
   * Books a fill of `qty` lots worth `value` quote minor units (both > 0), bought or sold, with `fee` paid
   * (negative for a rebate). Returns the PnL it realized.
   */
  applyFill(s: number, buy: boolean, qty: number, value: number, fee: number): number {
    this.fees[s] += fee;
    const q0 = this.qty[s];
    const signed = buy ? qty : -qty;
    // Opening or adding: no realization.
    if (q0 === 0 || q0 > 0 === buy) {
      this.qty[s] = q0 + signed;
      this.cost[s] += buy ? value : -value;
      return 0;
    }
    const open = Math.abs(q0);
    const closing = Math.min(open, qty);
    // The closed part's cost, pro rata, rounded toward zero; the remainder stays with the open part.
    // Closing all of it takes all of its cost (what the pro-rata division gives, without the call).
    const closedCost =
      closing === open
        ? this.cost[s]
        : q0 > 0
          ? mulDivFloor(this.cost[s], closing, open)
          : -mulDivFloor(-this.cost[s], closing, open);
    const closingValue = closing === qty ? value : mulDivFloor(value, closing, qty);
    // A long sells: proceeds less cost. A short buys back: the proceeds it had (−cost) less what it pays.
    const pnl = q0 > 0 ? closingValue - closedCost : -closedCost - closingValue;
    this.realized[s] += pnl;
    this.cost[s] -= closedCost;
    this.qty[s] = q0 + signed;
    if (qty > closing) {
      // The fill flips the position: the rest opens a new one at the rest of the value.
      const rest = value - closingValue;
      this.cost[s] = buy ? rest : -rest;
    } else if (this.qty[s] === 0) {
      this.cost[s] = 0;
    }
    return pnl;
  }

  /** Unrealized PnL given the position's value at the mark (qty × mark, signed like qty). */
  unrealized(s: number, markValue: number): number {
    return this.qty[s] === 0 ? 0 : markValue - this.cost[s];
  }

  view(s: number): PositionView {
    const qty = this.qty[s];
    return {
      account: this.account[s],
      instrument: this.instrument[s],
      qty,
      cost: this.cost[s],
      avgCostPerLot:
        qty === 0
          ? 0
          : Math.sign(this.cost[s] / qty) * mulDivFloor(Math.abs(this.cost[s]), 1, Math.abs(qty)) || 0,
      realizedPnl: this.realized[s],
      fees: this.fees[s],
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
    w.u32(this.qty.length);
    w.f64s(this.account, n);
    w.i32s(this.instrument, n);
    w.f64s(this.qty, n);
    w.f64s(this.cost, n);
    w.f64s(this.realized, n);
    w.f64s(this.fees, n);
    this.index.writeSnapshot(w);
  }

  /** Replaces every position with those written by writeSnapshot. */
  readSnapshot(r: SnapshotReader): void {
    r.tag('POSN');
    const capacity = r.count('position capacity', POSITION_LIMITS.slotsMax);
    if (capacity < 1) r.fail('positions of no capacity');
    this.account = new Float64Array(capacity);
    this.instrument = new Int32Array(capacity);
    this.qty = new Float64Array(capacity);
    this.cost = new Float64Array(capacity);
    this.realized = new Float64Array(capacity);
    this.fees = new Float64Array(capacity);
    const n = r.f64sInto(this.account, 'position accounts');
    r.i32sExact(this.instrument, n, 'position instruments');
    r.f64sExact(this.qty, n, 'position quantities');
    r.f64sExact(this.cost, n, 'position costs');
    r.f64sExact(this.realized, n, 'realized PnL');
    r.f64sExact(this.fees, n, 'position fees');
    this.count = n;
    this.index.readSnapshot(r);
    if (this.index.size !== n) r.fail(`${this.index.size} positions indexed, ${n} held`);
    for (let s = 0; s < n; s++) {
      if (this.find(this.account[s], this.instrument[s]) !== s) r.fail(`position ${s} is not indexed`);
    }
  }

  private grow(): void {
    const n = this.qty.length * 2;
    if (n > POSITION_LIMITS.slotsMax) throw new Error(`at most ${POSITION_LIMITS.slotsMax} positions`);
    this.account = growFloat64(this.account, n);
    this.instrument = growInt32(this.instrument, n);
    this.qty = growFloat64(this.qty, n);
    this.cost = growFloat64(this.cost, n);
    this.realized = growFloat64(this.realized, n);
    this.fees = growFloat64(this.fees, n);
  }
}
