/**
 * The venue's market data, wired in one place as `rialto start` runs it: the engine's durable batches →
 * the venue source (trades, best bid and offer) → normalize → enrich → bars → the latest-price projection →
 * the store (ticks and bars through the bounded writer), plus the recent bars each `candles:` WebSocket
 * channel starts with.
 *
 * Off the order path: the engine's listener only picks the batch's trades and top-of-book changes out of it
 * (the batch's buffer is not ours to keep) and queues them; the pipeline runs them on a later turn, so an
 * order's acknowledgement never waits for normalize, bars or envelopes.
 *
 * Enrich reads each instrument's reference data from the store (md_reference_data, seeded from the
 * configuration), through the cache that a change made anywhere invalidates.
 *
 * A restart rebuilds everything from the journal, as the views do: the start-up replay runs every command
 * through the pipeline (the bars' state and the recent bars come back exactly), and the writer takes only
 * the commands after the progress the store recorded (the rest is written already; writes are idempotent
 * anyway). Time bars of a quiet instrument close on the wall clock: every second the watermark moves to
 * now − lateness (the venue's event times are the sequencer's clock).
 */
import { InProcessBus, type Envelope, type Outbox } from '../bus/index.js';
import type { BarSpec } from './bars/index.js';
import {
  InMemoryLatest,
  InMemoryReferenceData,
  MarketDataPipeline,
  ReferenceCache,
  StoreReferenceData,
  VenueSource,
  barsTopic,
  defaultSchemas,
  intervalName,
  TOPICS,
  type BarPayload,
  type BatchRecords,
  type LatestProjection,
  type PipelineCounters,
  type RawEvent,
  type ReferenceData,
  type ReferenceDataPort,
} from './pipeline/index.js';
import {
  MarketDataStore,
  MarketDataWriter,
  DAY_US,
  type MdWriterLimits,
  type MdWriterStats,
  type StoredBar,
} from './store/index.js';
import type { Store } from '../store/index.js';
import type { BackfillPart } from './backfill.js';

/** The feed name of the venue's progress in md_progress. */
export const VENUE_FEED = 'venue';

export const VENUE_FEED_LIMITS = Object.freeze({
  /** Raw events picked from batches and not yet run through the pipeline; past it they are dropped, counted. */
  pendingEventsMax: 100_000,
  /** Closed bars kept per instrument and interval for a `candles:` channel's snapshot. */
  recentBarsMax: 100,
  /** How often quiet instruments' watermarks follow the clock. */
  watermarkEveryMs: 1_000,
  /** Instruments whose reference data the enrich cache holds at most. */
  referenceEntriesMax: 10_000,
});

export interface VenueFeedOptions {
  /** The query store; null: no storage (bars and recent bars in memory only). */
  readonly store: Store | null;
  /**
   * Whether this feed writes the store (default true). False: another process is the venue's writer (a split
   * venue's engine); this one reads the store's history and keeps its bars in memory, its reference data
   * too (enrich's flags do not change bars).
   */
  readonly writes?: boolean;
  /**
   * The venue's instruments: id, symbol, and the reference data enrich attaches (seeded into the store's
   * md_reference_data where an instrument has none: an operator's edits there win, and reach the cache at once).
   */
  readonly instruments: readonly { readonly id: number; readonly reference: ReferenceData }[];
  readonly bars: readonly BarSpec[];
  readonly latenessUs: number;
  /** Days of partitions made ahead of today at start. */
  readonly partitionsAheadDays: number;
  readonly writer?: Partial<MdWriterLimits>;
  /** The wall clock, µs (tests pass their own). */
  readonly clockUs?: () => number;
  /** Told of a storage failure once per run of failures. */
  readonly onError?: (e: Error) => void;
  /**
   * Where the pipeline's topics go across processes (NATS JetStream, `NATS_URL`): the raw events, the
   * enriched ticks, the bars and the dead letters are offered to it, each command's after its sequence number
   * is marked, and the store is written by durable consumers of those topics instead of the writer here. Null
   * (the default): the writer stores the topics straight from the in-process bus.
   */
  readonly outbox?: Outbox | null;
  /** A projection fed beside the in-memory one (Redis, `REDIS_URL`). */
  readonly projection?: LatestProjection | null;
}

/** Both projections, each call to each. */
class TeeProjection implements LatestProjection {
  constructor(
    private readonly a: LatestProjection,
    private readonly b: LatestProjection,
  ) {}
  trade(instrument: string, price: number, size: number, timeUs: number, timeNs: number): void {
    this.a.trade(instrument, price, size, timeUs, timeNs);
    this.b.trade(instrument, price, size, timeUs, timeNs);
  }
  quote(i: string, bidPrice: number, bidSize: number, askPrice: number, askSize: number, t: number): void {
    this.a.quote(i, bidPrice, bidSize, askPrice, askSize, t);
    this.b.quote(i, bidPrice, bidSize, askPrice, askSize, t);
  }
  bar(instrument: string, interval: string, bar: Parameters<LatestProjection['bar']>[2]): void {
    this.a.bar(instrument, interval, bar);
    this.b.bar(instrument, interval, bar);
  }
}

/** The projection of a pipeline whose only output is its messages (the history's, see `historyPart`). */
const NO_PROJECTION: LatestProjection = {
  trade: () => undefined,
  quote: () => undefined,
  bar: () => undefined,
};

/** The pipeline's topics an outbox publishes (normalized ticks and served changes stay in the process). */
export const outboxTopics = (intervals: readonly string[]): string[] => [
  TOPICS.raw,
  TOPICS.enriched,
  TOPICS.deadLetter,
  ...intervals.map(barsTopic),
];

/** A bar as a `candles:` channel and the candles route show it (the store's shape). */
export type Candle = StoredBar;
export type BarListener = (symbol: string, interval: string, candle: Candle, corrected: boolean) => void;

export interface VenueFeedStats {
  readonly pipeline: PipelineCounters;
  readonly writer: MdWriterStats | null;
  /** Raw events dropped because the pipeline fell behind by `pendingEventsMax`. */
  readonly pendingDropped: number;
  /** Raw events picked from batches, waiting for the pipeline's next turn. */
  readonly pending: number;
  /** Dead letters by stage and reason code. */
  readonly deadLetters: readonly {
    readonly stage: string;
    readonly reason: string;
    readonly count: number;
  }[];
}

function candleOf(p: BarPayload): Candle {
  return {
    startUs: p.start_us,
    endUs: p.end_us,
    number: 0,
    open: p.open,
    high: p.high,
    low: p.low,
    close: p.close,
    volume: p.volume,
    notional: BigInt(p.notional),
    trades: p.count,
    revision: p.revision,
  };
}

export class VenueFeed {
  readonly bus = new InProcessBus();
  readonly latest = new InMemoryLatest();
  readonly pipeline: MarketDataPipeline;
  readonly mdStore: MarketDataStore | null;
  readonly writer: MarketDataWriter | null;
  /** The JetStream outbox of the pipeline's topics, or null (the writer stores them). */
  readonly outbox: Outbox | null;
  private readonly source: VenueSource;
  private readonly reference: ReferenceCache;
  private readonly recent = new Map<string, Candle[]>();
  private readonly listeners: BarListener[] = [];
  /** Instrument ids to symbols: the configured ones and those defined since (`defineInstrument`). */
  private readonly byId = new Map<number, string>();
  private readonly clockUs: () => number;
  private pending: RawEvent[] = [];
  private pendingSeq = 0;
  private pendingDropped = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  /** Commands up to this sequence number are in the store already: the replay does not write them again. */
  private writtenThrough = 0;
  private detachWriter: (() => void) | null = null;
  /** The day whose partitions ahead were made last. */
  private aheadFromDay = -1;
  private ahead: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly o: VenueFeedOptions,
    refs: ReferenceDataPort,
    private readonly closeRefs: () => Promise<void>,
    /** Adds reference data for an instrument that has none (keeping an operator's edits). */
    private readonly seedReference: (r: ReferenceData) => Promise<void>,
  ) {
    for (const i of o.instruments) this.byId.set(i.id, i.reference.instrument);
    this.clockUs = o.clockUs ?? (() => Date.now() * 1000);
    this.reference = new ReferenceCache(refs, {
      ttlUs: 3_600_000_000,
      entriesMax: VENUE_FEED_LIMITS.referenceEntriesMax,
      clockUs: this.clockUs,
    });
    this.source = new VenueSource((id) => this.byId.get(id));
    this.pipeline = new MarketDataPipeline({
      bus: this.bus,
      // The venue's schemas are integers already; the decimal scale is for files and feeds.
      schemas: defaultSchemas({ priceDecimals: 8, sizeDecimals: 8 }),
      reference: this.reference,
      projection: o.projection ? new TeeProjection(this.latest, o.projection) : this.latest,
      bars: o.bars,
      latenessUs: o.latenessUs,
    });
    this.mdStore = o.store === null ? null : new MarketDataStore(o.store);
    this.outbox = o.outbox ?? null;
    this.writer =
      this.mdStore === null || this.outbox !== null || o.writes === false
        ? null
        : new MarketDataWriter(this.mdStore, { limits: o.writer, feed: VENUE_FEED, onError: o.onError });
    for (const interval of this.pipeline.barIntervals) {
      this.bus.subscribe(barsTopic(interval), (m) => this.onBar(m));
    }
  }

  /** Loads the reference data and the store's progress, and makes today's partitions and those ahead. */
  static async open(o: VenueFeedOptions): Promise<VenueFeed> {
    let feed: VenueFeed;
    if (o.store === null || o.writes === false) {
      const refs = new InMemoryReferenceData();
      for (const i of o.instruments) refs.set(i.reference);
      feed = new VenueFeed(
        o,
        refs,
        () => Promise.resolve(),
        (r) => {
          return refs.get(r.instrument).then((known) => {
            if (known === null) refs.set(r);
          });
        },
      );
    } else {
      const refs = await StoreReferenceData.open(o.store);
      try {
        await refs.seed(o.instruments.map(({ reference: { revision: _, ...input } }) => input));
      } catch (e) {
        await refs.close();
        throw e;
      }
      feed = new VenueFeed(
        o,
        refs,
        () => refs.close(),
        async ({ revision: _, ...input }) => void (await refs.seed([input])),
      );
    }
    await Promise.all([...feed.byId.values()].map((s) => feed.reference.load(s)));
    if (feed.mdStore !== null && o.writes !== false) {
      const today = Math.floor(feed.clockUs() / DAY_US);
      await feed.mdStore.ensureDays(today, today + o.partitionsAheadDays);
      feed.aheadFromDay = today;
    }
    if (feed.outbox !== null) {
      const outbox = feed.outbox;
      feed.writtenThrough = outbox.progressSeq;
      const offs = outboxTopics(feed.pipeline.barIntervals).map((t) =>
        feed.bus.subscribe(t, (m) => void outbox.offer(t, m)),
      );
      feed.detachWriter = () => offs.forEach((off) => off());
    } else if (feed.mdStore !== null && feed.writer !== null) {
      feed.writtenThrough = await feed.mdStore.progress(VENUE_FEED);
      // The ticks from the pipeline itself: no enriched message per tick when only the writer would read it.
      feed.detachWriter = feed.writer.attachPipeline(feed.pipeline, feed.bus);
    }
    return feed;
  }

  /**
   * An instrument defined after the feed opened (over the admin API): its trades and quotes are taken from now
   * on, at once (this batch's too), and its reference data is added when it has none; until that lands, its
   * ticks are flagged missing_metadata (they still make bars).
   */
  defineInstrument(id: number, reference: ReferenceData): Promise<void> {
    if (this.byId.get(id) === reference.instrument) return Promise.resolve();
    this.byId.set(id, reference.instrument);
    return this.seedReference(reference).then(() => this.reference.load(reference.instrument));
  }

  /** Loads a symbol's reference data into the enrich cache (a source other than the venue's, before its ticks). */
  loadReference(symbol: string): Promise<void> {
    return this.reference.load(symbol);
  }

  get intervals(): readonly string[] {
    return this.pipeline.barIntervals;
  }

  /** The last closed bars of an instrument and interval, oldest first (a correction replaces its bar). */
  recentBars(symbol: string, interval: string): readonly Candle[] {
    return this.recent.get(`${symbol}\u0000${interval}`) ?? [];
  }

  /**
   * The bar of an instrument and interval still forming (trades in a period not closed yet), or null; as of
   * the pipeline's last turn, a moment behind the trades.
   */
  formingBar(symbol: string, interval: string): Candle | null {
    const b = this.pipeline.formingBar(symbol, interval);
    if (b === null) return null;
    return {
      startUs: b.startUs,
      endUs: b.endUs,
      number: 0,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
      notional: b.notional,
      trades: b.count,
      revision: 0,
    };
  }

  /** Calls `listener` with every bar closed or corrected from now on; returns a function that stops it. */
  onBars(listener: BarListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  stats(): VenueFeedStats {
    return {
      pipeline: this.pipeline.counters(),
      writer: this.writer?.stats() ?? null,
      pendingDropped: this.pendingDropped,
      pending: this.pending.length,
      deadLetters: this.pipeline.deadLettersByReason(),
    };
  }

  /** 'ok' or what is wrong with the storage (readiness). */
  health(): string {
    if (this.pendingDropped > 0) {
      return `${this.pendingDropped} market data events dropped (the pipeline fell behind); the next start writes them`;
    }
    return this.outbox?.health() ?? this.writer?.health() ?? 'ok';
  }

  /**
   * The history's market data for JetStream (`backfill.ts`): a second pipeline like this one (same schemas,
   * reference data, bars and lateness), fed every command from the first, whose messages of the commands after
   * `outbox`'s progress are offered to it. Same input, same pipeline: the same ticks and bars, with the same
   * ids, as this one made at the replay (bars a quiet instrument's clock closed excepted: those close here
   * when a later trade passes them, as at a replay).
   */
  historyPart(outbox: Outbox): BackfillPart {
    const bus = new InProcessBus();
    const pipeline = new MarketDataPipeline({
      bus,
      schemas: defaultSchemas({ priceDecimals: 8, sizeDecimals: 8 }),
      reference: this.reference,
      projection: NO_PROJECTION,
      bars: this.o.bars,
      latenessUs: this.o.latenessUs,
    });
    for (const t of outboxTopics(pipeline.barIntervals)) bus.subscribe(t, (m) => void outbox.offer(t, m));
    const source = new VenueSource((id) => this.byId.get(id));
    const from = outbox.progressSeq;
    const ends = new Int32Array(1);
    return {
      outbox,
      command: (seq, timeUs, events, count) => {
        outbox.accepting = seq > from;
        ends[0] = count;
        for (const r of source.rawEvents({ firstSeq: seq, timeUs, events, ends })) pipeline.ingest(r);
        outbox.mark(seq);
      },
    };
  }

  /** One command of the start-up replay (its records `events`, `count` of them from record 0). */
  replayCommand(seq: number, timeUs: number, events: Float64Array, count: number): void {
    const w = this.writer ?? this.outbox;
    if (w !== null) w.accepting = seq > this.writtenThrough;
    const raws = this.source.rawEvents({ firstSeq: seq, timeUs, events, ends: Int32Array.of(count) });
    for (const r of raws) this.pipeline.ingest(r);
    w?.mark(seq);
  }

  /** After the replay: live batches from now on, and the watermark timer. */
  goLive(): void {
    if (this.writer !== null) this.writer.accepting = true;
    if (this.outbox !== null) this.outbox.accepting = true;
    this.timer = setInterval(() => this.followClock(), VENUE_FEED_LIMITS.watermarkEveryMs);
    this.timer.unref();
  }

  /** The engine's listener: picks the batch's market data out now, runs the pipeline on a later turn. */
  applyBatch(b: BatchRecords & { readonly count: number }): void {
    if (this.closed) return;
    const before = this.pending.length;
    this.source.rawEvents(b, this.pending);
    const added = this.pending.length - before;
    if (before + added > VENUE_FEED_LIMITS.pendingEventsMax) {
      this.pending.length = before;
      this.pendingDropped += added;
      return;
    }
    // Progress may pass this batch only if nothing of it was dropped.
    if (this.pendingDropped === 0) this.pendingSeq = b.firstSeq + b.count - 1;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Runs what is pending now and resolves once the writer has written it (tests, benchmarks). */
  async settle(): Promise<void> {
    this.drain();
    await this.writer?.flush();
    await this.ahead;
  }

  /**
   * Closes the time bars the clock has passed (the watermark of every instrument to now − lateness), and on a
   * new day makes the partitions ahead again.
   */
  followClock(): void {
    // The batches picked already go first: their times are before now, and the watermark must not pass them
    // before they are in (they would count as late arrivals).
    if (this.scheduled) this.drain();
    const nowUs = this.clockUs();
    const watermarkUs = nowUs - this.o.latenessUs;
    for (const s of this.byId.values()) this.pipeline.advanceWatermark(s, watermarkUs);
    const today = Math.floor(nowUs / DAY_US);
    if (today !== this.aheadFromDay && this.aheadFromDay >= 0 && this.mdStore !== null) {
      this.aheadFromDay = today;
      // A failure here costs nothing: the writer makes a missing day's partition before its rows anyway.
      this.ahead = this.mdStore.ensureDays(today, today + this.o.partitionsAheadDays).then(
        () => undefined,
        (e: unknown) => this.o.onError?.(e instanceof Error ? e : new Error(String(e))),
      );
    }
  }

  /** Stops the timer, runs what is pending, and writes what the writer holds. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.drain();
    this.detachWriter?.();
    try {
      await this.writer?.close();
    } finally {
      this.reference.close();
      await this.closeRefs();
      await this.bus.close();
    }
  }

  private drain(): void {
    this.scheduled = false;
    const events = this.pending;
    this.pending = [];
    for (const r of events) this.pipeline.ingest(r);
    if (this.pendingSeq > 0) (this.writer ?? this.outbox)?.mark(this.pendingSeq);
  }

  private onBar(m: Envelope): void {
    const p = m.payload as BarPayload;
    const candle = candleOf(p);
    const key = `${p.instrument}\u0000${p.interval}`;
    let list = this.recent.get(key);
    if (list === undefined) {
      list = [];
      this.recent.set(key, list);
    }
    const corrected = m.event_type === 'BarCorrected';
    // Only time bars are corrected, and a time bar is named by its start.
    const i = corrected ? list.findIndex((c) => c.startUs === candle.startUs) : -1;
    if (i >= 0) list[i] = candle;
    else {
      list.push(candle);
      if (list.length > 1 && list[list.length - 2].startUs > candle.startUs) {
        list.sort((a, b) => a.startUs - b.startUs);
      }
      if (list.length > VENUE_FEED_LIMITS.recentBarsMax) list.shift();
    }
    for (const l of this.listeners) l(p.instrument, p.interval, candle, corrected);
  }
}

/** The bar specs' interval names (`1m`, `tick-500`), in order. */
export const intervalsOf = (specs: readonly BarSpec[]): string[] => specs.map(intervalName);
