/**
 * One side of a price-level book: for every price with quantity, the total visible quantity and the part of
 * it that is anonymous (resting before the messages start, so not attributable to any order id). Levels are
 * kept in parallel typed arrays sorted by a key that grows toward the best price (the price for bids, minus
 * the price for asks), so the best level is the last one: the levels that change most often sit at the end,
 * where an insertion or removal moves few entries. Prices are integers (dollars × 10,000).
 */
import { growFloat64 } from '../../collections/index.js';

const INITIAL_LEVELS = 256;

export class SideLevels {
  private keys = new Float64Array(INITIAL_LEVELS);
  private totals = new Float64Array(INITIAL_LEVELS);
  private anons = new Float64Array(INITIAL_LEVELS);
  count = 0;
  /**
   * The smallest depth (0 = best) changed since the row encoder last looked: levels better than it are as
   * they were, so a row that does not reach it is the same as the last one. Reset by the encoder.
   */
  touchedDepth = 0;

  /** `isAsk` flips the key's sign so that the best level is always the last one. */
  constructor(private readonly isAsk: boolean) {}

  private key(price: number): number {
    return this.isAsk ? -price : price;
  }

  /** The index of `price`'s level, or -1 - (where it would be inserted). */
  private find(price: number): number {
    const key = this.key(price);
    const keys = this.keys;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.count && keys[lo] === key ? lo : -1 - lo;
  }

  private insert(at: number, price: number): void {
    if (this.count === this.keys.length) {
      const n = this.keys.length * 2;
      this.keys = growFloat64(this.keys, n);
      this.totals = growFloat64(this.totals, n);
      this.anons = growFloat64(this.anons, n);
    }
    const n = this.count;
    this.keys.copyWithin(at + 1, at, n);
    this.totals.copyWithin(at + 1, at, n);
    this.anons.copyWithin(at + 1, at, n);
    this.keys[at] = this.key(price);
    this.totals[at] = 0;
    this.anons[at] = 0;
    this.count = n + 1;
    this.touch(at);
  }

  /** Notes a change at index `at` (whose depth is counted from the end). */
  private touch(at: number): void {
    const depth = this.count - 1 - at;
    if (depth < this.touchedDepth) this.touchedDepth = depth;
  }

  private removeAt(at: number): void {
    this.touch(at);
    const n = this.count;
    this.keys.copyWithin(at, at + 1, n);
    this.totals.copyWithin(at, at + 1, n);
    this.anons.copyWithin(at, at + 1, n);
    this.count = n - 1;
  }

  /** Adds `qty` at `price`, to the anonymous part too when `anonymous`. */
  add(price: number, qty: number, anonymous: boolean): void {
    if (!(qty > 0)) throw new Error(`SideLevels.add: quantity ${qty} is not positive`);
    let i = this.find(price);
    if (i < 0) {
      i = -1 - i;
      this.insert(i, price);
    }
    this.totals[i] += qty;
    if (anonymous) this.anons[i] += qty;
    this.touch(i);
  }

  /** Removes `qty` of attributed (non-anonymous) quantity at `price`, which must be there. */
  removeAttributed(price: number, qty: number): void {
    const i = this.find(price);
    if (i < 0) throw new Error(`SideLevels: no level at ${price} for an order resting there`);
    const total = this.totals[i] - qty;
    if (total < this.anons[i])
      throw new Error(`SideLevels: level ${price} has less than its orders' quantity`);
    this.totals[i] = total;
    this.touch(i);
    if (total === 0) this.removeAt(i);
  }

  /** Removes up to `qty` of anonymous quantity at `price`; returns how much was removed (0 if none). */
  removeAnonymous(price: number, qty: number): number {
    const i = this.find(price);
    if (i < 0) return 0;
    const taken = Math.min(qty, this.anons[i]);
    if (taken === 0) return 0;
    this.anons[i] -= taken;
    this.totals[i] -= taken;
    this.touch(i);
    if (this.totals[i] === 0) this.removeAt(i);
    return taken;
  }

  /** The anonymous quantity at `price` (0 without a level). */
  anonymousAt(price: number): number {
    const i = this.find(price);
    return i < 0 ? 0 : this.anons[i];
  }

  /** The price of the `depth`-th best level (0 = best); depth < count. */
  price(depth: number): number {
    const k = this.keys[this.count - 1 - depth];
    return this.isAsk ? -k : k;
  }

  /** The visible quantity of the `depth`-th best level (0 = best); depth < count. */
  size(depth: number): number {
    return this.totals[this.count - 1 - depth];
  }

  anonymousTotal(): number {
    let sum = 0;
    for (let i = 0; i < this.count; i++) sum += this.anons[i];
    return sum;
  }
}
