/**
 * The in-process market data pipeline, wired in one place: raw events in; normalize (a schema per source onto
 * the one tick schema, quality flags, duplicates by trade id); enrich (reference data through a cache);
 * aggregate (the bar aggregator of src/marketdata/bars, one per instrument, every interval at once); project
 * (latest price, best bid and offer, last bar per instrument). Each stage's result is published on its topic
 * only when the topic has subscribers, so the hot path builds no envelope that nobody reads; the counters
 * count every tick either way. A payload no schema understands, and a trade the bars refuse, go to the
 * dead-letter topic with the reason, counted; the pipeline keeps running.
 *
 * One tick at a time, synchronously: `ingest` returns once every stage ran. The watermark of an instrument's
 * bars follows the newest trade time it saw (as `rialto md aggregate` does); `advanceWatermark` moves it
 * further (a quiet instrument's bars then close), and `flush` ends the input.
 */
import { envelope, type Bus } from '../../bus/index.js';
import {
  BarAggregator,
  BarError,
  DedupWindow,
  BAR_LIMITS,
  type Bar,
  type BarEvent,
  type BarSpec,
} from '../bars/index.js';
import { formatTime } from '../time-text.js';
import { newCounters, snapshotCounters, type PipelineCounters } from './counters.js';
import { PIPELINE_LIMITS } from './limits.js';
import type { LatestProjection } from './projection.js';
import type { RawEvent } from './raw.js';
import type { ReferenceCache } from './reference.js';
import type { SourceSchema } from './schemas.js';
import { FLAGS_EXCLUDED_FROM_BARS, Flag, TickSlot, tickPayload } from './tick.js';
import { PAYLOAD_VERSION, TICK_ID_SUFFIX, TOPICS, barsTopic } from './topics.js';

export interface QualityOptions {
  /** A trade more than this far from the instrument's last good price (basis points) is out_of_range. */
  readonly priceBandBps: number;
  /** A trade larger than this many times the running mean size is a volume_spike ... */
  readonly volumeSpikeFactor: number;
  /** ... once the instrument has had this many trades. */
  readonly volumeSpikeWarmup: number;
}

export const QUALITY_DEFAULTS: QualityOptions = {
  priceBandBps: 1_000,
  volumeSpikeFactor: 20,
  volumeSpikeWarmup: 50,
};

export interface PipelineOptions {
  readonly bus: Bus;
  readonly schemas: readonly SourceSchema[];
  readonly reference: ReferenceCache;
  readonly projection: LatestProjection;
  /** Bar specs, each named by its interval (`1m`, `tick-500`); at most BAR_LIMITS.specsMax. */
  readonly bars: readonly BarSpec[];
  /** How far behind an instrument's newest trade a trade still counts in its bars, in µs. */
  readonly latenessUs: number;
  readonly quality?: QualityOptions;
}

/** What went to the dead-letter topic: the stage, why, and the raw event as received. */
export interface DeadLetter {
  readonly stage: 'normalize' | 'aggregate';
  readonly reason: string;
  readonly raw_event_id: string;
  readonly source: string;
  readonly schema: string;
  readonly payload: unknown;
}

/** The running mean size's weight of the newest trade (an exponential moving average). */
const SPIKE_EWMA_ALPHA = 1 / 64;

/** A bar spec's interval name: `1s` .. `1d` for time bars, `tick-N`, `volume-N`, `dollar-N` for the others. */
export function intervalName(spec: BarSpec): string {
  switch (spec.kind) {
    case 'time': {
      const s = spec.periodSec;
      if (s % 86_400 === 0) return `${s / 86_400}d`;
      if (s % 3_600 === 0) return `${s / 3_600}h`;
      if (s % 60 === 0) return `${s / 60}m`;
      return `${s}s`;
    }
    case 'tick':
      return `tick-${spec.ticks}`;
    case 'volume':
      return `volume-${spec.size}`;
    case 'dollar':
      return `dollar-${spec.notional}`;
  }
}

class InstrumentState {
  lastGoodPrice = NaN;
  meanSize = 0;
  trades = 0;
  newestUs = -1;
  /** Why the bars of this instrument stopped (a BarError that failed its aggregator), or null. */
  failed: string | null = null;
  readonly barSeq: number[];
  constructor(
    readonly name: string,
    readonly agg: BarAggregator,
    readonly dedup: DedupWindow,
  ) {
    this.barSeq = agg.specs.map(() => 0);
  }
}

export class MarketDataPipeline {
  private readonly c: PipelineCounters = newCounters();
  private readonly schemas = new Map<string, SourceSchema>();
  private readonly instruments = new Map<string, InstrumentState>();
  private readonly slot = new TickSlot();
  private readonly quality: QualityOptions;
  private readonly intervals: string[];
  private readonly barTopics: string[];
  private readonly deadLetters: DeadLetter[] = [];
  private readonly deadLetterCounts = new Map<string, number>();
  private last: InstrumentState | null = null;
  private enrichedReaders: ((t: Readonly<TickSlot>) => void)[] = [];

  constructor(private readonly o: PipelineOptions) {
    for (const s of o.schemas) {
      if (this.schemas.has(s.name)) throw new Error(`pipeline: two schemas named ${s.name}`);
      this.schemas.set(s.name, s);
    }
    this.quality = o.quality ?? QUALITY_DEFAULTS;
    this.intervals = o.bars.map(intervalName);
    if (new Set(this.intervals).size !== this.intervals.length)
      throw new Error('pipeline: an interval twice');
    this.barTopics = this.intervals.map(barsTopic);
    // Checks the specs and the lateness once, here, rather than at the first trade.
    new BarAggregator({ specs: o.bars, latenessUs: o.latenessUs, dedup: false });
  }

  /** Counters, as a copy. */
  counters(): PipelineCounters {
    return snapshotCounters(this.c);
  }

  /**
   * The bar of `interval` still forming for `instrument` (it has trades, it is not closed), as of the ticks
   * ingested so far; null when there is none, or the instrument's bars stopped on an error.
   */
  formingBar(instrument: string, interval: string): Bar | null {
    const st = this.instruments.get(instrument);
    const spec = this.intervals.indexOf(interval);
    if (st === undefined || spec === -1 || st.failed !== null) return null;
    return st.agg.formingBar(spec);
  }

  /** The interval names of the bars, in spec order. */
  get barIntervals(): readonly string[] {
    return this.intervals;
  }

  /** The last dead letters (at most PIPELINE_LIMITS.deadLettersKept), oldest first. */
  recentDeadLetters(): readonly DeadLetter[] {
    return this.deadLetters;
  }

  /**
   * An in-process reader of the enriched ticks that takes the tick itself rather than its message (the store's
   * writer in the same process: a message per tick would cost more than the rest of the pipeline). `read` gets
   * the pipeline's reused tick, to read at once and not keep; the message it stands for has the event id of
   * the raw event plus `TICK_ID_SUFFIX.enriched`. Returns a function that stops it.
   */
  onEnriched(read: (t: Readonly<TickSlot>) => void): () => void {
    this.enrichedReaders = [...this.enrichedReaders, read];
    return () => {
      this.enrichedReaders = this.enrichedReaders.filter((r) => r !== read);
    };
  }

  /** Runs one raw event through every stage. */
  ingest(raw: RawEvent): void {
    const c = this.c;
    c.raw.in++;
    const bus = this.o.bus;
    if (bus.hasSubscribers(TOPICS.raw)) {
      bus.publish(
        TOPICS.raw,
        envelope({
          event_type: 'MarketDataReceived',
          event_id: raw.id,
          timestamp: formatTime(raw.receivedUs, 0),
          source: raw.source,
          version: PAYLOAD_VERSION,
          correlation_id: raw.id,
          causation_id: null,
          payload: { schema: raw.schema, payload: raw.payload },
        }),
      );
    }
    c.raw.out++;
    const t = this.normalize(raw);
    if (t === null) return;
    const st = this.stateOf(t.instrument);
    this.enrich(t);
    if (t.kind === 'trade') this.aggregate(st, t, raw);
    this.project(t);
  }

  /** Moves an instrument's watermark forward (its time bars up to `watermarkUs` close). */
  advanceWatermark(instrument: string, watermarkUs: number): void {
    const st = this.instruments.get(instrument);
    if (st === undefined || st.failed !== null) return;
    if (watermarkUs > st.newestUs) st.newestUs = watermarkUs;
    this.advance(st, watermarkUs, null);
  }

  /** The end of the input: every instrument's open bars are emitted. The pipeline takes nothing after it. */
  flush(): void {
    for (const st of this.instruments.values()) {
      if (st.failed !== null) continue;
      if (st.agg.flush() > 0) this.bars(st, st.agg.events, null);
    }
  }

  private normalize(raw: RawEvent): TickSlot | null {
    const c = this.c;
    c.normalize.in++;
    const t = this.slot;
    t.flags = 0;
    t.timeNs = 0;
    t.side = 'unknown';
    t.ref = null;
    const schema = this.schemas.get(raw.schema);
    const reason = schema === undefined ? `no schema named ${raw.schema}` : schema.decode(raw.payload, t);
    if (reason !== null) {
      this.deadLetter('normalize', reason, raw, schema === undefined ? 'unknown_schema' : 'bad_payload');
      return null;
    }
    t.source = raw.source;
    t.eventId = raw.id;
    if (this.instruments.size >= PIPELINE_LIMITS.instrumentsMax && !this.instruments.has(t.instrument)) {
      this.deadLetter(
        'normalize',
        `more than ${PIPELINE_LIMITS.instrumentsMax} instruments`,
        raw,
        'too_many_instruments',
      );
      return null;
    }
    if (t.kind === 'trade') this.checkTrade(this.stateOf(t.instrument), t);
    else this.checkQuote(t);
    c.normalize.out++;
    this.publishTick(TOPICS.normalized, 'TickNormalized', TICK_ID_SUFFIX.normalized, t, false);
    return t;
  }

  private checkTrade(st: InstrumentState, t: TickSlot): void {
    const q = this.quality;
    if (t.price < 0) t.flags |= Flag.PriceNegative;
    else if (t.price === 0 || t.size <= 0) t.flags |= Flag.OutOfRange;
    else if (st.lastGoodPrice === st.lastGoodPrice) {
      // Basis points of the move, compared without a division: |p − last| × 10,000 > band × last.
      if (Math.abs(t.price - st.lastGoodPrice) * 10_000 > q.priceBandBps * st.lastGoodPrice)
        t.flags |= Flag.OutOfRange;
    }
    if (t.timeUs < st.newestUs) t.flags |= Flag.LateArrival;
    if ((t.flags & (Flag.PriceNegative | Flag.OutOfRange)) !== 0) return;
    if (st.trades >= q.volumeSpikeWarmup && t.size > q.volumeSpikeFactor * st.meanSize)
      t.flags |= Flag.VolumeSpike;
    // Ids are remembered while their trade could still enter the bars; one before the horizon is late anyway.
    if (t.timeUs >= st.agg.watermarkUs - this.o.latenessUs && !st.dedup.admit(t.tradeId, t.timeUs)) {
      t.flags |= Flag.Duplicate;
      return;
    }
    st.lastGoodPrice = t.price;
    st.trades++;
    if ((t.flags & Flag.VolumeSpike) === 0) {
      st.meanSize = st.trades === 1 ? t.size : st.meanSize + (t.size - st.meanSize) * SPIKE_EWMA_ALPHA;
    }
  }

  private checkQuote(t: TickSlot): void {
    if (t.bidPrice < 0 || t.askPrice < 0) t.flags |= Flag.PriceNegative;
    else if (t.bidPrice === 0 || t.askPrice === 0 || t.bidSize <= 0 || t.askSize <= 0)
      t.flags |= Flag.OutOfRange;
    // A crossed or locked quote cannot be a venue's best bid and offer.
    else if (t.bidPrice >= t.askPrice) t.flags |= Flag.OutOfRange;
  }

  private enrich(t: TickSlot): void {
    const c = this.c;
    c.enrich.in++;
    t.ref = this.o.reference.lookup(t.instrument);
    if (t.ref === null) t.flags |= Flag.MissingMetadata;
    this.countFlags(t.flags);
    c.enrich.out++;
    const readers = this.enrichedReaders;
    for (let k = 0; k < readers.length; k++) readers[k](t);
    this.publishTick(TOPICS.enriched, 'TickEnriched', TICK_ID_SUFFIX.enriched, t, true);
  }

  private countFlags(flags: number): void {
    const f = this.c.flags;
    if (flags === 0) {
      f.valid++;
      return;
    }
    if ((flags & Flag.PriceNegative) !== 0) f.price_negative++;
    if ((flags & Flag.OutOfRange) !== 0) f.out_of_range++;
    if ((flags & Flag.VolumeSpike) !== 0) f.volume_spike++;
    if ((flags & Flag.LateArrival) !== 0) f.late_arrival++;
    if ((flags & Flag.MissingMetadata) !== 0) f.missing_metadata++;
    if ((flags & Flag.Duplicate) !== 0) f.duplicate++;
  }

  private aggregate(st: InstrumentState, t: TickSlot, raw: RawEvent): void {
    const c = this.c.aggregate;
    if ((t.flags & FLAGS_EXCLUDED_FROM_BARS) !== 0) {
      c.skipped++;
      return;
    }
    c.in++;
    if (st.failed !== null) {
      this.deadLetter('aggregate', st.failed, raw, 'bars_failed');
      return;
    }
    const agg = st.agg;
    const accepted = agg.stats.ticksAccepted;
    try {
      if (agg.pushTrade(t.timeUs, t.timeNs, t.price, t.size, t.tradeId) > 0) this.bars(st, agg.events, t);
      if (agg.stats.ticksAccepted > accepted) c.out++;
      if (t.timeUs > st.newestUs) {
        st.newestUs = t.timeUs;
        this.advance(st, t.timeUs, t);
      }
    } catch (e) {
      this.barFailure(st, e, raw);
    }
  }

  private advance(st: InstrumentState, watermarkUs: number, t: TickSlot | null): void {
    if (st.agg.advanceWatermark(watermarkUs) > 0) this.bars(st, st.agg.events, t);
    st.dedup.forgetBefore(st.agg.watermarkUs - this.o.latenessUs);
  }

  /** A trade the aggregator refused is dead-lettered; an aggregator that failed stops that instrument's bars. */
  private barFailure(st: InstrumentState, e: unknown, raw: RawEvent): void {
    if (!(e instanceof BarError)) throw e;
    const reason = `${e.code}: ${e.message}`;
    if (e.code !== 'BAD_TICK') st.failed = reason;
    this.deadLetter('aggregate', reason, raw, e.code.toLowerCase());
  }

  private bars(st: InstrumentState, events: readonly BarEvent[], t: TickSlot | null): void {
    const c = this.c.aggregate;
    for (const e of events) {
      if (e.type === 'LateTickDropped') c.late++;
      else if (e.type === 'DuplicateTickDropped') {
        // The aggregators run without duplicate detection: normalize recognizes duplicates.
        throw new Error('pipeline: an aggregator reported a duplicate');
      } else {
        if (e.type === 'BarClosed') c.barsClosed++;
        else c.barsCorrected++;
        this.bar(st, e.type, e.bar, t);
      }
    }
  }

  private bar(st: InstrumentState, type: 'BarClosed' | 'BarCorrected', bar: Bar, t: TickSlot | null): void {
    const interval = this.intervals[bar.spec];
    this.o.projection.bar(st.name, interval, bar);
    const topic = this.barTopics[bar.spec];
    const n = st.barSeq[bar.spec]++;
    if (!this.o.bus.hasSubscribers(topic)) return;
    const time = this.o.bars[bar.spec].kind === 'time';
    // Time bars are named by their start and revision; the others by their number in the instrument's stream.
    const id = time
      ? `${st.name}:${interval}:${bar.startUs}:r${bar.revision}`
      : `${st.name}:${interval}:n${n}`;
    this.o.bus.publish(
      topic,
      envelope({
        event_type: type,
        event_id: id,
        timestamp: formatTime(bar.endUs, bar.endNs),
        source: 'pipeline',
        version: PAYLOAD_VERSION,
        correlation_id: t === null ? id : t.eventId,
        causation_id: t === null ? null : t.eventId + TICK_ID_SUFFIX.enriched,
        payload: barPayload(st.name, interval, bar),
      }),
    );
  }

  private project(t: TickSlot): void {
    const c = this.c.project;
    c.in++;
    if ((t.flags & FLAGS_EXCLUDED_FROM_BARS) !== 0) return;
    const p = this.o.projection;
    if (t.kind === 'trade') p.trade(t.instrument, t.price, t.size, t.timeUs, t.timeNs);
    else p.quote(t.instrument, t.bidPrice, t.bidSize, t.askPrice, t.askSize, t.timeUs);
    c.out++;
    this.publishTick(
      TOPICS.latestPrices,
      t.kind === 'trade' ? 'LastPriceChanged' : 'QuoteChanged',
      TICK_ID_SUFFIX.latestPrices,
      t,
      false,
    );
  }

  private publishTick(topic: string, type: string, suffix: string, t: TickSlot, enriched: boolean): void {
    const bus = this.o.bus;
    if (!bus.hasSubscribers(topic)) return;
    bus.publish(
      topic,
      envelope({
        event_type: type,
        event_id: t.eventId + suffix,
        timestamp: formatTime(t.timeUs, t.timeNs),
        source: t.source,
        version: PAYLOAD_VERSION,
        correlation_id: t.eventId,
        causation_id:
          suffix === TICK_ID_SUFFIX.normalized ? t.eventId : t.eventId + TICK_ID_SUFFIX.normalized,
        payload: tickPayload(t, enriched),
      }),
    );
  }

  /**
   * Dead letters by stage and reason code (a bounded set: `unknown_schema`, `bad_payload`,
   * `too_many_instruments`, `bars_failed` and the bars' error codes), for metrics.
   */
  deadLettersByReason(): { stage: DeadLetter['stage']; reason: string; count: number }[] {
    return [...this.deadLetterCounts].map(([key, count]) => {
      const [stage, reason] = key.split(' ') as [DeadLetter['stage'], string];
      return { stage, reason, count };
    });
  }

  private deadLetter(stage: DeadLetter['stage'], reason: string, raw: RawEvent, code: string): void {
    this.c[stage].deadLettered++;
    const key = `${stage} ${code}`;
    this.deadLetterCounts.set(key, (this.deadLetterCounts.get(key) ?? 0) + 1);
    const letter: DeadLetter = Object.freeze({
      stage,
      reason,
      raw_event_id: raw.id,
      source: raw.source,
      schema: raw.schema,
      payload: raw.payload,
    });
    this.deadLetters.push(letter);
    if (this.deadLetters.length > PIPELINE_LIMITS.deadLettersKept) this.deadLetters.shift();
    const bus = this.o.bus;
    if (!bus.hasSubscribers(TOPICS.deadLetter)) return;
    bus.publish(
      TOPICS.deadLetter,
      envelope({
        event_type: 'MarketDataDeadLettered',
        event_id: `${raw.id}/dl`,
        timestamp: formatTime(raw.receivedUs, 0),
        source: raw.source,
        version: PAYLOAD_VERSION,
        correlation_id: raw.id,
        causation_id: raw.id,
        payload: letter,
      }),
    );
  }

  private stateOf(name: string): InstrumentState {
    const last = this.last;
    if (last !== null && last.name === name) return last;
    let st = this.instruments.get(name);
    if (st === undefined) {
      const agg = new BarAggregator({ specs: this.o.bars, latenessUs: this.o.latenessUs, dedup: false });
      st = new InstrumentState(
        name,
        agg,
        new DedupWindow(BAR_LIMITS.dedupIdsInitial, BAR_LIMITS.dedupIdsMax),
      );
      this.instruments.set(name, st);
    }
    this.last = st;
    return st;
  }
}

export interface BarPayload {
  readonly instrument: string;
  readonly interval: string;
  readonly start: string;
  readonly end: string;
  readonly start_us: number;
  readonly end_us: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** The exact sum of price × size, as a decimal string of units (VWAP = notional / volume). */
  readonly notional: string;
  readonly count: number;
  readonly revision: number;
}

function barPayload(instrument: string, interval: string, b: Bar): BarPayload {
  return {
    instrument,
    interval,
    start: formatTime(b.startUs, b.startNs),
    end: formatTime(b.endUs, b.endNs),
    start_us: b.startUs,
    end_us: b.endUs,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    notional: b.notional.toString(),
    count: b.count,
    revision: b.revision,
  };
}
