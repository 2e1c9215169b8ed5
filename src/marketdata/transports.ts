/**
 * The venue's market data and events across processes, as `rialto start` runs them when the configuration
 * names the servers:
 *
 * - `NATS_URL`: the venue's own events (`venue-events.ts`) and the pipeline's topics (raw events, enriched
 *   ticks, bars, dead letters) go to NATS JetStream, each through an outbox (`src/bus/outbox.ts`) that never
 *   makes the engine's listener wait; durable consumers of the enriched ticks and of each interval's bars write
 *   the query store (idempotent by event id), in place of the in-process writer. Each outbox's progress (the
 *   journal sequence number through which everything is stored in JetStream) is saved in `md_progress`
 *   (every second and at the stop). New commands go out at once through the live outboxes; what the journal
 *   has after the saved progress (everything, on the first start with NATS; what a crash, an outage or a full
 *   outbox left) is published from the journal in the background, paced, through outboxes of its own
 *   (`backfill.ts`): nothing the journal has is lost, and the order path never waits for it.
 * - `REDIS_URL`: the latest-price projection (`redis/latest.ts`) is fed beside the in-memory one; when Redis
 *   comes back after a disconnection, everything the in-memory projection holds is written again (the writes
 *   are monotonic, so that is safe), so a Redis that lost its data catches up.
 *
 * NATS may be away at the start: the venue starts anyway and connects in the background (every
 * `connectRetryMs`); the outboxes hold what comes meanwhile, within their bound.
 */
import {
  Outbox,
  connectJetStream,
  type JetStreamBus,
  batchingHandler,
  type DurableConsumer,
  type DurableConsumerCounters,
  type Envelope,
  type JetStreamBusCounters,
  type OutboxLimits,
  type OutboxPublisher,
  type OutboxStats,
  type TopicFamily,
} from '../bus/index.js';
import type { DependencyGuard } from '../ops/index.js';
import type { Store } from '../store/index.js';
import {
  TOPICS,
  barsTopic,
  type BatchRecords,
  type InMemoryLatest,
  type LatestProjection,
} from './pipeline/index.js';
import { RedisLatest, createLatestRedisClient, type RedisLatestCounters } from './redis/index.js';
import { MarketDataStore } from './store/index.js';
import { JournalBackfill, type BackfillLimits, type BackfillPart, type BackfillStats } from './backfill.js';
import { VenueEvents } from './venue-events.js';
import type { Redis } from 'ioredis';

export const TRANSPORT_DEFAULTS = Object.freeze({
  /** How often NATS is tried again while it could not be reached. */
  connectRetryMs: 2_000,
  /** How often the outboxes' progress is saved. */
  saveProgressEveryMs: 1_000,
  /** How long a stop waits for the outboxes to be stored before it leaves the rest to the next start. */
  closeFlushMs: 5_000,
  /** The store consumers: messages per write, and how long a batch waits to fill. */
  storeBatchMax: 500,
  storeLingerMs: 20,
  /** A store that is away is retried for hours (the last back-off repeats) before a message is given up on. */
  storeDeliveriesMax: 1_000,
});

/** The streams the venue publishes to (normalized ticks and served changes stay in the process). */
const FAMILIES: readonly TopicFamily[] = ['ingestion', 'enriched', 'aggregated', 'deadletter', 'venue'];

export interface TransportLog {
  warn(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
}

export interface TransportsOptions {
  readonly natsUrl: string | null;
  readonly jetstream: {
    readonly streamPrefix: string;
    readonly subjectPrefix: string;
    readonly duplicateWindowMs: number;
    readonly ackWaitMs: number;
    readonly ackPendingMax: number;
    /** Each stream's storage bound, bytes (default JETSTREAM_DEFAULTS.streamMaxBytes). */
    readonly streamMaxBytes?: number;
  };
  readonly redisUrl: string | null;
  readonly redisKeyPrefix: string;
  readonly store: Store;
  /** The journal's last sequence number at the start: later commands are live, earlier ones history. */
  readonly lastSeq: number;
  /** The venue's data directory, whose journal the history is read from. */
  readonly journalDir: string;
  /** The venue's instruments by id (those defined later come through `defineInstrument`). */
  readonly instruments: ReadonlyMap<number, string>;
  /** The pipeline's bar intervals, or null when the pipeline is off (no market data topics, no consumers). */
  readonly intervals: readonly string[] | null;
  readonly log: TransportLog;
  readonly outbox?: Partial<OutboxLimits>;
  /** The pace of the history's publication. */
  readonly backfill?: Partial<BackfillLimits>;
  readonly connectRetryMs?: number;
  /** The circuit breaker the outboxes' publishes go through (rialto_dependency_*{dependency="nats"}). */
  readonly natsGuard?: DependencyGuard;
  /**
   * Whether durable consumers of the enriched ticks and bars write the store (default true). False: the
   * topics are only published, the caller's writer stores them (`rialto md run`, a batch that ends with its
   * rows written and counted).
   */
  readonly storeConsumers?: boolean;
}

/** `publisher` with every publish through `guard`: while its circuit is open, publishes fail at once. */
export function guardedPublisher(publisher: OutboxPublisher, guard: DependencyGuard): OutboxPublisher {
  return { publishAsync: (topic, message) => guard.execute(() => publisher.publishAsync(topic, message)) };
}

export interface NamedOutboxStats extends OutboxStats {
  readonly name: 'venue_events' | 'market_data' | 'venue_events_history' | 'market_data_history';
}

export interface TransportStats {
  /** Null without NATS. */
  readonly nats: {
    readonly connected: boolean;
    readonly bus: JetStreamBusCounters | null;
    readonly outboxes: readonly NamedOutboxStats[];
    readonly consumers: readonly { readonly name: string; readonly counters: DurableConsumerCounters }[];
    /** The history's publication from the journal, or null when there was none to publish. */
    readonly history: BackfillStats | null;
  } | null;
  /** Null without Redis. */
  readonly redis: RedisLatestCounters | null;
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function savedProgress(store: Store, feed: string): Promise<number | null> {
  const rows = await store.query('SELECT seq FROM md_progress WHERE feed = $1', [feed]);
  return rows.length === 0 ? null : Number(rows[0].seq);
}

async function saveProgress(store: Store, feed: string, seq: number): Promise<void> {
  await store.query(
    `INSERT INTO md_progress (feed, seq) VALUES ($1, $2)
     ON CONFLICT (feed) DO UPDATE SET seq = GREATEST(md_progress.seq, excluded.seq), updated_at = now()`,
    [feed, seq],
  );
}

export class MarketDataTransports {
  /** The pipeline's outbox (give it to the VenueFeed), or null. */
  readonly mdOutbox: Outbox | null;
  readonly eventsOutbox: Outbox | null;
  readonly events: VenueEvents | null;
  /** The history's outboxes (commands after the saved progress, up to the start's last), or null. */
  readonly eventsHistory: Outbox | null;
  readonly mdHistory: Outbox | null;
  private backfill: JournalBackfill | null = null;
  /** The Redis projection (give it to the VenueFeed), or null. */
  readonly redisLatest: RedisLatest | null;
  private bus: JetStreamBus | null = null;
  private readonly consumers: DurableConsumer[] = [];
  private readonly symbols: Map<number, string>;
  private readonly saved = new Map<string, number>();
  private connectTimer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;
  private latest: InMemoryLatest | null = null;
  private closed = false;
  private lastConnectError: string | null = null;

  private constructor(
    private readonly o: TransportsOptions,
    private readonly feeds: { readonly events: string; readonly md: string },
    progress: { readonly events: number; readonly md: number },
    private readonly redis: Redis | null,
  ) {
    this.symbols = new Map(o.instruments);
    const nats = o.natsUrl !== null;
    // The live outboxes start at the start's last command; the history before it has outboxes of its own.
    const md = nats && o.intervals !== null;
    this.eventsOutbox = nats ? new Outbox(o.lastSeq, o.outbox) : null;
    this.mdOutbox = md ? new Outbox(o.lastSeq, o.outbox) : null;
    this.eventsHistory = nats && progress.events < o.lastSeq ? new Outbox(progress.events, o.outbox) : null;
    this.mdHistory = md && progress.md < o.lastSeq ? new Outbox(progress.md, o.outbox) : null;
    this.events =
      this.eventsOutbox === null ? null : new VenueEvents(this.eventsOutbox, (id) => this.symbols.get(id));
    this.saved.set(feeds.events, progress.events);
    this.saved.set(feeds.md, progress.md);
    this.redisLatest = redis === null ? null : new RedisLatest(redis, { keyPrefix: o.redisKeyPrefix });
    if (redis !== null) {
      let readyBefore = false;
      redis.on('ready', () => {
        if (readyBefore) this.resyncRedis();
        readyBefore = true;
      });
    }
  }

  /** Reads the saved progress and makes the outboxes; NATS is connected by `start`. */
  static async open(o: TransportsOptions): Promise<MarketDataTransports> {
    const base = `jetstream:${o.jetstream.streamPrefix}:${o.jetstream.subjectPrefix}`;
    const feeds = { events: `${base}venue-events`, md: `${base}market-data` };
    let progress = { events: 0, md: 0 };
    if (o.natsUrl !== null) {
      // A first start with NATS publishes the whole journal (0): JetStream's readers, the store's consumers
      // among them, get the history too (their writes are idempotent, so rows already stored stay single).
      const events = Math.min(o.lastSeq, (await savedProgress(o.store, feeds.events)) ?? 0);
      const md = Math.min(o.lastSeq, (await savedProgress(o.store, feeds.md)) ?? 0);
      progress = { events, md };
      await saveProgress(o.store, feeds.events, events);
      if (o.intervals !== null) await saveProgress(o.store, feeds.md, md);
    }
    const redis = o.redisUrl === null ? null : createLatestRedisClient(o.redisUrl);
    return new MarketDataTransports(o, feeds, progress, redis);
  }

  /** The Redis projection as the pipeline's port, or null. */
  get projection(): LatestProjection | null {
    return this.redisLatest;
  }

  /** The JetStream bus once connected (tests read the streams through it), else null. */
  get jetstream(): JetStreamBus | null {
    return this.bus;
  }

  /** Why NATS could not be reached at the last attempt, or why the last publish failed; null when neither. */
  get natsError(): string | null {
    return this.lastConnectError ?? this.mdOutbox?.lastError ?? this.eventsOutbox?.lastError ?? null;
  }

  /** The in-memory projection Redis is brought back to after a reconnection. */
  bindLatest(latest: InMemoryLatest): void {
    this.latest = latest;
  }

  /** An instrument defined after the start (its events are published from now on). */
  defineInstrument(id: number, symbol: string): void {
    this.symbols.set(id, symbol);
  }

  /** One command of the start-up replay. */
  replayCommand(seq: number, timeUs: number, events: Float64Array, count: number): void {
    this.events?.replayCommand(seq, timeUs, events, count);
  }

  /** The engine's listener (copies the batch's records only). */
  applyBatch(b: BatchRecords): void {
    this.events?.applyBatch(b);
  }

  /**
   * After the replay: live events, the connection to NATS (in the background), progress saved each second,
   * and the history's publication from the journal (`md`: the venue's pipeline, whose twin makes the history's
   * market data; null when the pipeline is off).
   */
  goLive(md: { historyPart(outbox: Outbox): BackfillPart } | null): void {
    this.events?.goLive();
    if (this.o.natsUrl === null) return;
    const parts: BackfillPart[] = [];
    const history = this.eventsHistory;
    if (history !== null) {
      const events = new VenueEvents(history, (id) => this.symbols.get(id));
      parts.push({ outbox: history, command: (seq, t, e, n) => events.replayCommand(seq, t, e, n) });
    }
    if (this.mdHistory !== null && md !== null) parts.push(md.historyPart(this.mdHistory));
    if (parts.length > 0) {
      this.backfill = new JournalBackfill(this.o.journalDir, this.o.lastSeq, parts, this.o.backfill);
      this.backfill.start();
    }
    this.tryConnect();
    this.saveTimer = setInterval(
      () => void this.saveAll().catch(() => undefined),
      TRANSPORT_DEFAULTS.saveProgressEveryMs,
    );
    this.saveTimer.unref();
  }

  stats(): TransportStats {
    const outboxes: NamedOutboxStats[] = [];
    if (this.eventsOutbox !== null) outboxes.push({ name: 'venue_events', ...this.eventsOutbox.stats() });
    if (this.mdOutbox !== null) outboxes.push({ name: 'market_data', ...this.mdOutbox.stats() });
    if (this.eventsHistory !== null)
      outboxes.push({ name: 'venue_events_history', ...this.eventsHistory.stats() });
    if (this.mdHistory !== null) outboxes.push({ name: 'market_data_history', ...this.mdHistory.stats() });
    return {
      nats:
        this.o.natsUrl === null
          ? null
          : {
              connected: this.bus?.connected ?? false,
              bus: this.bus?.counters() ?? null,
              outboxes,
              consumers: this.consumers.map((c) => ({ name: c.name, counters: c.counters() })),
              history: this.backfill?.stats() ?? null,
            },
      redis: this.redisLatest?.counters() ?? null,
    };
  }

  /** 'ok' or what is wrong: events dropped by a full outbox (published by the next start). */
  health(): string {
    for (const [name, box] of [
      ['venue events', this.eventsOutbox],
      ['market data', this.mdOutbox],
      ['venue events history', this.eventsHistory],
      ['market data history', this.mdHistory],
    ] as const) {
      const h = box?.health() ?? 'ok';
      if (h !== 'ok') return `${name}: ${h}`;
    }
    return this.backfill?.health() ?? 'ok';
  }

  /** Resolves once everything offered so far, and the history, is stored in JetStream and Redis (tests). */
  async settle(timeoutMs = 10_000): Promise<void> {
    this.events?.drain();
    await this.backfill?.read();
    const failure = this.backfill?.stats().failure ?? null;
    if (failure !== null) throw new Error(`transports: history: ${failure}`);
    for (const box of this.allOutboxes()) {
      if (box !== null && !(await box.flushed(timeoutMs))) throw new Error('transports: outbox not flushed');
    }
    await this.redisLatest?.flush();
    await this.saveAll();
  }

  /**
   * Publishes what is queued (within `closeFlushMs`), saves the progress, stops the consumers and closes the
   * connections. What could not be published is published by the next start, from the journal.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    if (this.saveTimer !== null) clearInterval(this.saveTimer);
    this.events?.close();
    this.backfill?.close();
    await this.backfill?.read();
    const errors: string[] = [];
    if (this.bus !== null) {
      for (const box of this.allOutboxes()) await box.flushed(TRANSPORT_DEFAULTS.closeFlushMs);
    }
    for (const box of this.allOutboxes()) box.close();
    await this.saveAll().catch((e: unknown) => errors.push(`saving the progress: ${describe(e)}`));
    await this.connecting?.catch(() => undefined);
    await this.bus?.close().catch((e: unknown) => errors.push(`closing NATS: ${describe(e)}`));
    if (this.redisLatest !== null) {
      await this.redisLatest.close().catch((e: unknown) => errors.push(`writing Redis: ${describe(e)}`));
      this.redis?.disconnect();
    }
    if (errors.length > 0) this.o.log.warn({ errors }, 'market data transports: closed with errors');
  }

  private tryConnect(): void {
    if (this.closed || this.o.natsUrl === null) return;
    this.connecting = this.connect().catch((e: unknown) => {
      const msg = describe(e);
      if (msg !== this.lastConnectError)
        this.o.log.warn({ err: msg }, 'NATS: not reachable; events wait in the outbox, retrying');
      this.lastConnectError = msg;
      if (this.closed) return;
      this.connectTimer = setTimeout(
        () => this.tryConnect(),
        this.o.connectRetryMs ?? TRANSPORT_DEFAULTS.connectRetryMs,
      );
      this.connectTimer.unref();
    });
  }

  private async connect(): Promise<void> {
    const j = this.o.jetstream;
    const bus = await connectJetStream({
      servers: this.o.natsUrl as string,
      streamPrefix: j.streamPrefix,
      subjectPrefix: j.subjectPrefix,
      duplicateWindowMs: j.duplicateWindowMs,
      ackWaitMs: j.ackWaitMs,
      ackPendingMax: j.ackPendingMax,
      streamMaxBytes: j.streamMaxBytes,
      families: FAMILIES,
      name: 'rialto-venue',
    });
    if (this.closed) {
      await bus.close();
      return;
    }
    try {
      if (this.mdOutbox !== null && this.o.intervals !== null && this.o.storeConsumers !== false)
        await this.startConsumers(bus, this.o.intervals);
    } catch (e) {
      await bus.close().catch(() => undefined);
      for (const c of this.consumers.splice(0)) await c.stop().catch(() => undefined);
      throw e;
    }
    this.bus = bus;
    this.lastConnectError = null;
    this.o.log.info({}, 'NATS: connected; publishing events');
    const publisher = this.o.natsGuard === undefined ? bus : guardedPublisher(bus, this.o.natsGuard);
    for (const box of this.allOutboxes()) box.setPublisher(publisher);
  }

  private allOutboxes(): Outbox[] {
    return [this.eventsOutbox, this.mdOutbox, this.eventsHistory, this.mdHistory].filter(
      (b): b is Outbox => b !== null,
    );
  }

  /** Durable consumers that write the enriched ticks and each interval's bars into the store. */
  private async startConsumers(bus: JetStreamBus, intervals: readonly string[]): Promise<void> {
    const store = new MarketDataStore(this.o.store);
    const T = TRANSPORT_DEFAULTS;
    const options = {
      inFlightMax: T.storeBatchMax,
      ackPendingMax: Math.max(T.storeBatchMax, this.o.jetstream.ackPendingMax),
      deliveriesMax: T.storeDeliveriesMax,
    };
    const sink = (write: (m: readonly Envelope[]) => Promise<unknown>) =>
      batchingHandler(
        { write: async (batch) => (await write(batch), batch.length) },
        { batchMax: T.storeBatchMax, lingerMs: T.storeLingerMs },
      );
    this.consumers.push(
      await bus.consume(
        TOPICS.enriched,
        sink((m) => store.writeTicks(m)),
        {
          ...options,
          durable: 'md-store-ticks',
        },
      ),
    );
    for (const interval of intervals) {
      this.consumers.push(
        await bus.consume(
          barsTopic(interval),
          sink((m) => store.writeBars(m)),
          {
            ...options,
            durable: `md-store-bars-${interval}`,
          },
        ),
      );
    }
  }

  /**
   * A feed's progress: its history's until the history is stored (the live outbox is ahead of it, but the
   * commands in between are not all stored), then its live outbox's.
   */
  private async saveAll(): Promise<void> {
    for (const [feed, box, history] of [
      [this.feeds.events, this.eventsOutbox, this.eventsHistory],
      [this.feeds.md, this.mdOutbox, this.mdHistory],
    ] as const) {
      if (box === null) continue;
      const seq =
        history !== null && history.progressSeq < this.o.lastSeq ? history.progressSeq : box.progressSeq;
      if (seq > (this.saved.get(feed) ?? 0)) {
        await saveProgress(this.o.store, feed, seq);
        this.saved.set(feed, seq);
      }
    }
  }

  /** Writes everything the in-memory projection holds to Redis again (a Redis that lost its data catches up). */
  private resyncRedis(): void {
    const r = this.redisLatest;
    const latest = this.latest;
    if (r === null || latest === null) return;
    for (const name of latest.instruments()) {
      const s = latest.get(name);
      if (s === undefined) continue;
      if (s.lastPrice !== null && s.lastSize !== null && s.lastTimeUs !== null)
        r.trade(name, s.lastPrice, s.lastSize, s.lastTimeUs, s.lastTimeNs ?? 0);
      if (s.quoteTimeUs !== null)
        r.quote(
          name,
          s.bidPrice ?? NaN,
          s.bidSize ?? NaN,
          s.askPrice ?? NaN,
          s.askSize ?? NaN,
          s.quoteTimeUs,
        );
      for (const [interval, bar] of Object.entries(s.bars)) r.bar(name, interval, bar);
    }
    this.o.log.info({}, 'Redis: back; the latest prices are written again');
  }
}
