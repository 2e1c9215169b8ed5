/**
 * The bar aggregator: trades in, OHLCV bars (with exact notional for VWAP and a trade count) out, for several
 * bar specs at once (time bars of whole seconds aligned to UTC, and tick, volume and dollar bars). Pure: no
 * I/O and no clock; time is the ticks' event time, and the caller advances the watermark.
 *
 * The watermark W says that no tick with a time before W is still expected; ticks are allowed to be up to
 * `latenessUs` later than that. So a tick before the horizon W − lateness is dropped and counted
 * (LateTickDropped); every other tick (not a duplicate) is accepted into every spec, so that all specs see the
 * same trades. A time bar [start, end) closes (BarClosed) once W ≥ end; an accepted tick that falls into a
 * closed bar re-emits the corrected bar (BarCorrected, revision + 1); a bar is forgotten once the horizon
 * passes its end, when no acceptable tick can reach it. Tick, volume and dollar bars count ticks in
 * (time, id) order: ticks wait in a reorder buffer until the horizon passes them, so those bars never need a
 * correction (their bars would all shift), and come out `lateness` after the watermark.
 *
 * Each call (push, advanceWatermark, flush) clears `events` and appends what it produced; read them before the
 * next call. A BarError of code BAD_TICK or BAD_SPEC changes nothing; any other error leaves the aggregator
 * failed, and every later call throws: bars that may be wrong are worse than none.
 */
import { BarState } from './bar-state.js';
import { DedupWindow } from './dedup.js';
import { BAR_LIMITS } from './limits.js';
import { ReorderBuffer } from './reorder.js';
import { BarError, type Bar, type BarEvent, type BarSpec, type Tick } from './types.js';

export interface AggregatorOptions {
  readonly specs: readonly BarSpec[];
  /** How far behind the watermark a tick may still be accepted, in µs (a whole number, ≥ 0). */
  readonly latenessUs: number;
  /**
   * Whether ticks carry unique trade ids by which duplicates are recognized. Without it, ids still order ticks
   * of equal time: give each tick a distinct one (a sequence number).
   */
  readonly dedup: boolean;
}

export interface AggregatorStats {
  ticksAccepted: number;
  ticksLate: number;
  ticksDuplicate: number;
}

const SAFE = Number.MAX_SAFE_INTEGER;
const US_PER_SEC = 1_000_000;

function badSpec(message: string): never {
  throw new BarError('BAD_SPEC', message);
}

/** Checks a spec's numbers: a time bar's period divides a UTC day; thresholds are positive integers. */
export function checkBarSpec(spec: BarSpec): void {
  switch (spec.kind) {
    case 'time':
      if (!Number.isSafeInteger(spec.periodSec) || spec.periodSec <= 0)
        badSpec('a period must be whole seconds');
      if (BAR_LIMITS.secondsPerDay % spec.periodSec !== 0) {
        badSpec(`a period must divide a day (86400 s) to align to UTC; ${spec.periodSec} s does not`);
      }
      return;
    case 'tick':
      if (!Number.isSafeInteger(spec.ticks) || spec.ticks <= 0)
        badSpec('a tick bar needs a whole number of ticks');
      return;
    case 'volume':
      if (!Number.isSafeInteger(spec.size) || spec.size <= 0) badSpec('a volume bar needs a positive size');
      return;
    case 'dollar':
      if (spec.notional <= 0n) badSpec('a dollar bar needs a positive notional');
      return;
  }
}

/** The time bars of one period: the bars that can still change, by start. */
class TimeBars {
  private readonly bars = new Map<number, BarState>();
  private last: BarState | null = null;
  /** The least end of a bar not yet emitted, and of any bar kept (Infinity: none). */
  private nextCloseUs = Infinity;
  private nextForgetUs = Infinity;
  private readonly scratch: BarState[] = [];

  constructor(
    readonly spec: number,
    private readonly periodUs: number,
  ) {}

  get live(): number {
    return this.bars.size;
  }

  add(
    w: number,
    timeUs: number,
    timeNs: number,
    price: number,
    size: number,
    id: number,
    out: BarEvent[],
  ): void {
    let bar = this.last;
    if (bar === null || timeUs < bar.startUs || timeUs >= bar.endUs) {
      bar = this.barAt(w, timeUs);
      this.last = bar;
    }
    bar.add(timeUs, timeNs, price, size, id);
    if (bar.endUs <= w) {
      // The period is over: the first emission of a bar that had no ticks, or a correction.
      const type = bar.emitted === 0 ? 'BarClosed' : 'BarCorrected';
      out.push({ type, bar: bar.toBar(this.spec, true) });
      bar.emitted++;
    }
  }

  /** The bar whose period holds `timeUs`, created when it has none yet. */
  private barAt(w: number, timeUs: number): BarState {
    // `%` is exact on doubles, so the start is exact for any safe time.
    const startUs = timeUs - (timeUs % this.periodUs);
    const found = this.bars.get(startUs);
    if (found !== undefined) return found;
    const bar = new BarState();
    bar.reset(startUs, startUs + this.periodUs);
    this.bars.set(startUs, bar);
    if (bar.endUs < this.nextForgetUs) this.nextForgetUs = bar.endUs;
    if (bar.endUs > w && bar.endUs < this.nextCloseUs) this.nextCloseUs = bar.endUs;
    return bar;
  }

  /** Emits, in order of start, the bars whose end the watermark reached. */
  close(w: number, out: BarEvent[]): void {
    if (w < this.nextCloseUs) return;
    let next = Infinity;
    for (const bar of this.bars.values()) {
      if (bar.emitted > 0) continue;
      if (bar.endUs <= w) this.scratch.push(bar);
      else if (bar.endUs < next) next = bar.endUs;
    }
    this.nextCloseUs = next;
    this.emitScratch(out);
  }

  /** Forgets the bars that no acceptable tick can reach any more (their end at or before the horizon). */
  forget(horizonUs: number): void {
    if (horizonUs < this.nextForgetUs) return;
    let next = Infinity;
    for (const [start, bar] of this.bars) {
      if (bar.endUs <= horizonUs) {
        if (bar.emitted === 0) throw new Error('TimeBars.forget: a bar forgotten before it was closed');
        this.bars.delete(start);
        if (bar === this.last) this.last = null;
      } else if (bar.endUs < next) {
        next = bar.endUs;
      }
    }
    this.nextForgetUs = next;
  }

  /** The latest bar not closed yet that has trades (the one still forming), or null. */
  forming(): Bar | null {
    let latest: BarState | null = null;
    for (const bar of this.bars.values()) {
      if (bar.emitted === 0 && bar.count > 0 && (latest === null || bar.startUs > latest.startUs))
        latest = bar;
    }
    return latest === null ? null : latest.toBar(this.spec, true);
  }

  /** Emits every bar not yet emitted and forgets them all. */
  flush(out: BarEvent[]): void {
    for (const bar of this.bars.values()) if (bar.emitted === 0) this.scratch.push(bar);
    this.emitScratch(out);
    this.bars.clear();
    this.last = null;
    this.nextCloseUs = this.nextForgetUs = Infinity;
  }

  private emitScratch(out: BarEvent[]): void {
    const bars = this.scratch;
    if (bars.length > 1) bars.sort((a, b) => a.startUs - b.startUs);
    for (const bar of bars) {
      out.push({ type: 'BarClosed', bar: bar.toBar(this.spec, true) });
      bar.emitted++;
    }
    bars.length = 0;
  }
}

/** Tick, volume or dollar bars: one bar at a time, fed in (time, id) order, closed at the threshold. */
class CountBars {
  private readonly state = new BarState();
  private readonly thresholdNumber: number;

  constructor(
    readonly spec: number,
    private readonly kind: 'tick' | 'volume' | 'dollar',
    private readonly threshold: bigint,
  ) {
    this.thresholdNumber = threshold <= BigInt(SAFE) ? Number(threshold) : Infinity;
  }

  add(timeUs: number, timeNs: number, price: number, size: number, id: number, out: BarEvent[]): void {
    const s = this.state;
    s.add(timeUs, timeNs, price, size, id);
    let reached: boolean;
    if (this.kind === 'tick') reached = s.count >= this.thresholdNumber;
    else if (this.kind === 'volume') reached = s.volume >= this.thresholdNumber;
    else reached = s.notionalReaches(this.threshold, this.thresholdNumber);
    if (reached) this.emit(out);
  }

  flush(out: BarEvent[]): void {
    if (this.state.count > 0) this.emit(out);
  }

  /** The bar being filled, when it has trades, else null. */
  forming(): Bar | null {
    return this.state.count > 0 ? this.state.toBar(this.spec, false) : null;
  }

  private emit(out: BarEvent[]): void {
    out.push({ type: 'BarClosed', bar: this.state.toBar(this.spec, false) });
    this.state.reset(0, 0);
  }
}

export class BarAggregator {
  /** What the last call produced; cleared by the next one. */
  readonly events: BarEvent[] = [];
  readonly specs: readonly BarSpec[];
  readonly latenessUs: number;
  readonly stats: AggregatorStats = { ticksAccepted: 0, ticksLate: 0, ticksDuplicate: 0 };
  private w = 0;
  private readonly timeBars: TimeBars[] = [];
  private readonly countBars: CountBars[] = [];
  private readonly dedup: DedupWindow | null;
  private readonly reorder: ReorderBuffer | null;
  private readonly release: (timeUs: number, timeNs: number, price: number, size: number, id: number) => void;
  private state: 'open' | 'flushed' | 'failed' = 'open';

  constructor(options: AggregatorOptions) {
    const { specs, latenessUs } = options;
    if (specs.length === 0 || specs.length > BAR_LIMITS.specsMax) {
      badSpec(`an aggregator takes 1 to ${BAR_LIMITS.specsMax} bar specs`);
    }
    if (!Number.isSafeInteger(latenessUs) || latenessUs < 0) badSpec('the lateness must be whole µs, ≥ 0');
    this.specs = Object.freeze([...specs]);
    this.latenessUs = latenessUs;
    specs.forEach((spec, i) => {
      checkBarSpec(spec);
      if (spec.kind === 'time') this.timeBars.push(new TimeBars(i, spec.periodSec * US_PER_SEC));
      else if (spec.kind === 'tick') this.countBars.push(new CountBars(i, 'tick', BigInt(spec.ticks)));
      else if (spec.kind === 'volume') this.countBars.push(new CountBars(i, 'volume', BigInt(spec.size)));
      else this.countBars.push(new CountBars(i, 'dollar', spec.notional));
    });
    this.dedup = options.dedup ? new DedupWindow(BAR_LIMITS.dedupIdsInitial, BAR_LIMITS.dedupIdsMax) : null;
    this.reorder =
      this.countBars.length > 0
        ? new ReorderBuffer(BAR_LIMITS.reorderTicksInitial, BAR_LIMITS.reorderTicksMax)
        : null;
    this.release = (timeUs, timeNs, price, size, id) => {
      for (const c of this.countBars) c.add(timeUs, timeNs, price, size, id, this.events);
    };
  }

  /**
   * The bar of spec `spec` (its index in `specs`) that has trades and is not closed yet, or null: a time
   * bar's latest open period, or the tick, volume or dollar bar being filled (from the ticks released to it).
   */
  formingBar(spec: number): Bar | null {
    for (const t of this.timeBars) if (t.spec === spec) return t.forming();
    for (const c of this.countBars) if (c.spec === spec) return c.forming();
    return null;
  }

  /** The watermark, in µs since the epoch (0 before the first advance). */
  get watermarkUs(): number {
    return this.w;
  }

  /** Ticks held for tick, volume and dollar bars, and time bars that can still change: for monitoring. */
  get held(): { reorderTicks: number; liveTimeBars: number; dedupIds: number } {
    let liveTimeBars = 0;
    for (const t of this.timeBars) liveTimeBars += t.live;
    return { reorderTicks: this.reorder?.length ?? 0, liveTimeBars, dedupIds: this.dedup?.size ?? 0 };
  }

  push(tick: Tick): number {
    return this.pushTrade(tick.timeUs, tick.timeNs, tick.price, tick.size, tick.id);
  }

  /** push without a tick object, for a caller that reads its fields from columns. Returns events.length. */
  pushTrade(timeUs: number, timeNs: number, price: number, size: number, id: number): number {
    this.usable();
    checkTick(timeUs, timeNs, price, size, id);
    const out = this.events;
    out.length = 0;
    if (timeUs < this.w - this.latenessUs) {
      this.stats.ticksLate++;
      out.push({ type: 'LateTickDropped', timeUs, timeNs, id });
      return out.length;
    }
    if (this.dedup !== null && !this.dedup.admit(id, timeUs)) {
      this.stats.ticksDuplicate++;
      out.push({ type: 'DuplicateTickDropped', timeUs, timeNs, id });
      return out.length;
    }
    try {
      for (const t of this.timeBars) t.add(this.w, timeUs, timeNs, price, size, id, out);
      this.reorder?.push(timeUs, timeNs, price, size, id);
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
    this.stats.ticksAccepted++;
    return out.length;
  }

  /**
   * Moves the watermark to `watermarkUs` (a whole number of µs); a value at or below the current one changes
   * nothing, so the watermark never goes back. Returns events.length.
   */
  advanceWatermark(watermarkUs: number): number {
    this.usable();
    if (!Number.isSafeInteger(watermarkUs)) throw new BarError('BAD_TICK', 'a watermark must be whole µs');
    const out = this.events;
    out.length = 0;
    if (watermarkUs <= this.w) return 0;
    this.w = watermarkUs;
    const horizon = watermarkUs - this.latenessUs;
    try {
      for (const t of this.timeBars) {
        t.close(watermarkUs, out);
        t.forget(horizon);
      }
      this.dedup?.forgetBefore(horizon);
      const r = this.reorder;
      if (r !== null) while (r.length > 0 && r.peekTimeUs() < horizon) r.pop(this.release);
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
    return out.length;
  }

  /** The end of the input: emits every bar still open (the last tick, volume or dollar bars may be short). */
  flush(): number {
    this.usable();
    const out = this.events;
    out.length = 0;
    this.state = 'flushed';
    for (const t of this.timeBars) t.flush(out);
    const r = this.reorder;
    if (r !== null) while (r.length > 0) r.pop(this.release);
    for (const c of this.countBars) c.flush(out);
    return out.length;
  }

  private usable(): void {
    if (this.state === 'open') return;
    throw new BarError(
      'FLUSHED',
      this.state === 'flushed'
        ? 'the aggregator was flushed'
        : 'the aggregator failed earlier; its bars cannot be trusted',
    );
  }
}

function checkTick(timeUs: number, timeNs: number, price: number, size: number, id: number): void {
  if (!Number.isSafeInteger(timeUs) || timeUs < 0) bad('a tick time must be whole µs since 1970, ≥ 0');
  if (!Number.isInteger(timeNs) || timeNs < 0 || timeNs > 999) bad('a tick time ns remainder must be 0..999');
  if (!Number.isSafeInteger(price) || price <= 0)
    bad('a tick price must be a positive whole number of units');
  if (!Number.isSafeInteger(size) || size <= 0) bad('a tick size must be a positive whole number of units');
  if (!Number.isSafeInteger(id) || id < 0) bad('a tick id must be a whole number, ≥ 0');
}

function bad(message: string): never {
  throw new BarError('BAD_TICK', message);
}
