/**
 * The mutable accumulator of one bar while it can still change. Notional (price × size) is summed exactly
 * without a bigint per tick: products and sums stay in a JS number while they are below 2^53 (where a number
 * is exact), and the number is moved into a bigint only when the next addition would pass that bound. A
 * volume past 2^53 size units is refused (VOLUME_OVERFLOW), never rounded.
 */
import { BarError, type Bar } from './types.js';

const SAFE = Number.MAX_SAFE_INTEGER;

/** (aUs, aNs, aId) < (bUs, bNs, bId): the order of ticks by event time, then id. */
export function tickBefore(
  aUs: number,
  aNs: number,
  aId: number,
  bUs: number,
  bNs: number,
  bId: number,
): boolean {
  if (aUs !== bUs) return aUs < bUs;
  if (aNs !== bNs) return aNs < bNs;
  return aId < bId;
}

export class BarState {
  /** Time bars: the period's bounds; count bars: set from the first and last ticks by toBar. */
  startUs = 0;
  endUs = 0;
  openUs = 0;
  openNs = 0;
  openId = 0;
  open = 0;
  closeUs = 0;
  closeNs = 0;
  closeId = 0;
  close = 0;
  high = 0;
  low = 0;
  volume = 0;
  /** The exact notional is notionalBig + notionalSmall; notionalSmall stays a safe integer. */
  notionalSmall = 0;
  notionalBig = 0n;
  count = 0;
  /** Times this bar was emitted (0: never). */
  emitted = 0;

  reset(startUs: number, endUs: number): void {
    this.startUs = startUs;
    this.endUs = endUs;
    this.volume = 0;
    this.notionalSmall = 0;
    this.notionalBig = 0n;
    this.count = 0;
    this.emitted = 0;
  }

  add(timeUs: number, timeNs: number, price: number, size: number, id: number): void {
    const volume = this.volume + size;
    if (volume > SAFE) {
      throw new BarError(
        'VOLUME_OVERFLOW',
        `a bar's volume passes 2^53 size units (${this.volume} + ${size}): use a coarser size scale`,
      );
    }
    if (this.count === 0) {
      this.openUs = this.closeUs = timeUs;
      this.openNs = this.closeNs = timeNs;
      this.openId = this.closeId = id;
      this.open = this.close = this.high = this.low = price;
    } else {
      if (tickBefore(timeUs, timeNs, id, this.openUs, this.openNs, this.openId)) {
        this.openUs = timeUs;
        this.openNs = timeNs;
        this.openId = id;
        this.open = price;
      }
      if (tickBefore(this.closeUs, this.closeNs, this.closeId, timeUs, timeNs, id)) {
        this.closeUs = timeUs;
        this.closeNs = timeNs;
        this.closeId = id;
        this.close = price;
      }
      if (price > this.high) this.high = price;
      if (price < this.low) this.low = price;
    }
    this.volume = volume;
    this.count++;
    const product = price * size;
    if (product <= SAFE) {
      // Both factors are integers, so a product at most 2^53 - 1 is exact; so is a sum that stays below it.
      const sum = this.notionalSmall + product;
      if (sum <= SAFE) {
        this.notionalSmall = sum;
      } else {
        this.notionalBig += BigInt(this.notionalSmall);
        this.notionalSmall = product;
      }
    } else {
      this.notionalBig += BigInt(price) * BigInt(size);
    }
  }

  /** The exact notional, as a bigint (allocates: for bar ends, not per tick). */
  notional(): bigint {
    return this.notionalBig + BigInt(this.notionalSmall);
  }

  /** notional() >= threshold, without a bigint while the notional is small. */
  notionalReaches(threshold: bigint, thresholdNumber: number): boolean {
    if (this.notionalBig === 0n && thresholdNumber <= SAFE) return this.notionalSmall >= thresholdNumber;
    return this.notional() >= threshold;
  }

  /** An immutable copy; time bars keep their period bounds, count bars take their first and last ticks. */
  toBar(spec: number, timeBar: boolean): Bar {
    if (this.count <= 0) throw new Error('BarState.toBar: an empty bar');
    return Object.freeze({
      spec,
      startUs: timeBar ? this.startUs : this.openUs,
      startNs: timeBar ? 0 : this.openNs,
      endUs: timeBar ? this.endUs : this.closeUs,
      endNs: timeBar ? 0 : this.closeNs,
      open: this.open,
      high: this.high,
      low: this.low,
      close: this.close,
      volume: this.volume,
      notional: this.notional(),
      count: this.count,
      revision: this.emitted,
    });
  }
}
