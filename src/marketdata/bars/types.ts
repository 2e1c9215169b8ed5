/**
 * The values the bar aggregator takes and gives: trades (ticks) in, bars and what happened to late and
 * duplicate ticks out. Every number is an integer: time in whole microseconds since the Unix epoch (UTC) plus
 * the nanoseconds within that microsecond, prices and sizes in integer units of a scale the caller chose.
 */

/**
 * One trade. `timeUs` is exact as a JS number until the year 2255 (2^53 µs); `timeNs` (0..999) keeps the
 * nanoseconds a feed may carry, so nanosecond time is exact without a bigint on the hot path. Bars align to
 * whole seconds, so only `timeUs` decides which time bar a tick belongs to; `timeNs` orders ticks within it.
 */
export interface Tick {
  readonly timeUs: number;
  readonly timeNs: number;
  /** Price units (a positive safe integer). */
  readonly price: number;
  /** Size units (a positive safe integer). */
  readonly size: number;
  /** The trade's id, unique per trade: a tick whose id was already taken is a duplicate. */
  readonly id: number;
}

/** How ticks are cut into bars. */
export type BarSpec =
  | { readonly kind: 'time'; readonly periodSec: number }
  | { readonly kind: 'tick'; readonly ticks: number }
  | { readonly kind: 'volume'; readonly size: number }
  | { readonly kind: 'dollar'; readonly notional: bigint };

/**
 * One bar. A time bar covers [start, end) on UTC boundaries (`startNs` and `endNs` are 0); a tick, volume or
 * dollar bar runs from its first tick's time to its last tick's time, both included. Open is the price of the
 * tick with the least (time, id), close that of the greatest, whatever order they arrived in. `notional` is
 * the exact sum of price × size (price units × size units), so VWAP = notional / volume exactly (see vwapText).
 */
export interface Bar {
  /** Index of the bar's spec in the aggregator's specs. */
  readonly spec: number;
  readonly startUs: number;
  readonly startNs: number;
  readonly endUs: number;
  readonly endNs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly notional: bigint;
  readonly count: number;
  /** 0 when first closed, then 1, 2, ... for each correction by a late tick. */
  readonly revision: number;
}

/** What a push, a watermark advance or a flush produced, in the order it happened. */
export type BarEvent =
  | { readonly type: 'BarClosed'; readonly bar: Bar }
  | { readonly type: 'BarCorrected'; readonly bar: Bar }
  | {
      readonly type: 'LateTickDropped';
      readonly timeUs: number;
      readonly timeNs: number;
      readonly id: number;
    }
  | {
      readonly type: 'DuplicateTickDropped';
      readonly timeUs: number;
      readonly timeNs: number;
      readonly id: number;
    };

/** Stable codes of the aggregator's errors. */
export type BarErrorCode =
  'BAD_TICK' | 'BAD_SPEC' | 'VOLUME_OVERFLOW' | 'REORDER_BUFFER_FULL' | 'DEDUP_WINDOW_FULL' | 'FLUSHED';

/** A tick or a setting the aggregator refuses, or a limit reached: nothing was counted. */
export class BarError extends Error {
  override name = 'BarError';
  constructor(
    readonly code: BarErrorCode,
    message: string,
  ) {
    super(message);
  }
}
