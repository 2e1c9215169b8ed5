/**
 * A running venue: the engine on the data directory, the query store, the views rebuilt from the journal,
 * the trading service and the HTTP server, started in that order and stopped in the reverse. `rialto start`
 * is this plus signals and printing; tests start it in-process.
 *
 * Start: the engine takes the data directory's lock and recovers; the store opens and migrates; the views
 * replay the journal through a fresh core (and the state hash must equal the engine's, or the start stops);
 * the setup commands of assets and instruments the journal does not have yet are submitted (none on a
 * restart of an unchanged configuration); client order ids are reconciled (their log in the data
 * directory); the first admin key is made on
 * an empty store; the server listens.
 *
 * Stop: the WebSocket gateway answers its requests in flight and closes its clients (1001), the server stops
 * accepting and waits for requests in flight (their commands become durable), then the engine drains and
 * writes a snapshot, then the store closes.
 */
import {
  AuditFile,
  AuditInbox,
  AuditLog,
  AuditProjection,
  AuditWriter,
  auditEventId,
  makeEvent,
  seedFromTable,
  canonicalEventJson,
  type AuditSink,
  type WriterLimits,
} from '../audit/index.js';
import { INSTRUMENT_DEFAULTS, type Command, type InstrumentSpec } from '../core/index.js';
import { Engine, type DurableBatch, type EngineConfig, type EnginePort } from '../engine/index.js';
import {
  MarketDataTransports,
  VenueFeed,
  intervalName,
  type BackfillLimits,
  type ReferenceData,
} from '../marketdata/index.js';
import { DependencyGuard, NATS_FAILURES, POSTGRES_FAILURES, type VenueConfig } from '../ops/index.js';
import { QueryTableProjector } from '../projection/index.js';
import { migrate, openStore, type Store } from '../store/index.js';
import { AccountService } from './accounts/index.js';
import { barSpecsOf } from './bar-specs.js';
import { ensureAdminKey, KeyAdmin, KeyVerifier } from './auth/index.js';
import { HTTP_LIMITS } from './http/limits.js';
import { InstrumentAdmin, InstrumentTable, toSpecConfig } from './instruments/index.js';
import { JwtVerifier } from './jwt/index.js';
import {
  REDIS_LIMITER_DEFAULTS,
  createRedisClient,
  redisLimiterGuard,
  silentLog,
  venueLimiters,
  type LimitsLog,
  type VenueLimiters,
} from './limits/index.js';
import {
  createVenueMetrics,
  registerMarketDataMetrics,
  type AuditBacklog,
  type VenueMetrics,
  type VenueMetricsOptions,
} from './metrics/index.js';
import type { Readiness } from './http/routes-admin.js';
import { buildServer } from './http/server.js';
import { ClientOrders } from './trading/client-orders.js';
import { LocalOrderEntry, type OrderEntry } from './trading/order-entry.js';
import { Trading } from './trading/trading.js';
import { engineProbe, natsProbe, readinessOf, redisProbe, storeProbe, type Probe } from './readiness.js';
import {
  REPLAY_PROGRESS_MS,
  Views,
  progressMessage,
  replayJournalInto,
  type ReplayListener,
  type ReplayReport,
} from './views/index.js';
import { WsGateway, type WsDeps } from './ws/index.js';

export interface VenueOptions {
  /** The assets' and instruments' setup commands (cli/venue.ts makes them from the configuration). */
  readonly setup: readonly Command[];
  /** Engine settings beyond the directory (tests shorten snapshots, say). */
  readonly engine?: Omit<EngineConfig, 'dir'>;
  /** Fastify's JSON logs (default off). */
  readonly log?: boolean;
  /** Listen (default true); tests that use `inject` only may skip it. */
  readonly listen?: boolean;
  /** Process metrics (CPU, memory, GC) in `/metrics` (default true; tests with many venues turn them off). */
  readonly processMetrics?: boolean;
  /** Overrides of the WebSocket gateway's limits (tests shrink the send buffer). */
  readonly wsLimits?: WsDeps['limits'];
  /** Makes the rate limits' Redis client (default createRedisClient; tests watch what it made). */
  readonly redisClient?: typeof createRedisClient;
  /**
   * The rate limits' key prefix in Redis (default `rialto`): venues that share one budget share the prefix;
   * tests on a shared Redis take one of their own.
   */
  readonly redisKeyPrefix?: string;
  /** The audit queue's limits (capacity, batch size, admission and close timeouts); docs/audit.md. */
  readonly audit?: Partial<WriterLimits>;
  /** The market data pipeline's wall clock, µs (tests move it to close bars). */
  readonly marketDataClockUs?: () => number;
  /** The pace of the history's publication to NATS (tests slow it down). */
  readonly marketDataBackfill?: Partial<BackfillLimits>;
}

export interface Venue {
  readonly config: VenueConfig;
  readonly engine: Engine;
  readonly store: Store;
  readonly views: Views;
  readonly trading: Trading;
  readonly server: Awaited<ReturnType<typeof buildServer>>;
  /** The WebSocket gateway on the server's port (`/ws`, `/ws/market-data/...`, `/ws/trades/...`). */
  readonly ws: WsGateway;
  readonly metrics: VenueMetrics;
  /** The audit trail's writer (REST and WebSocket events go through it, into `auditFile`). */
  readonly audit: AuditWriter;
  /** The market data pipeline and its storage, or null when `marketData.pipeline.enabled` is false. */
  readonly marketData: VenueFeed | null;
  /** Events and market data on NATS JetStream (`NATS_URL`), latest prices in Redis (`REDIS_URL`). */
  readonly transports: MarketDataTransports;
  /** The audit trail's file in the data directory, the truth. */
  readonly auditFile: AuditFile;
  /** `audit_events` kept as a projection of the file (it may lag: `catchUp` waits for it). */
  readonly auditTable: AuditProjection;
  /** The query tables kept as a projection of the journal (may lag: `catchUp`), or null when off. */
  readonly queryTables: QueryTableProjector | null;
  /** The first admin key, made by this start on an empty store (print it once), else null. */
  readonly adminKey: string | null;
  readonly replay: ReplayReport;
  /** Setup commands submitted by this start (0 on a restart of an unchanged configuration). */
  readonly setupSubmitted: number;
  /** The address the server listens on ('' when not listening). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * What serving needs besides the configuration, and differs between `rialto start` (the engine in this
 * process, owning the data directory) and `rialto gateway` (the engine in another: gateway/remote).
 */
export interface ServingParts<E extends EnginePort> {
  readonly engine: E;
  /** Rebuilds `views` (and `also`) up to the engine's state and checks it against the engine's. */
  replay(views: Views, also: ReplayListener | null): Promise<ReplayReport>;
  /** Order ids and client order ids (after the setup commands are durable). */
  orderEntry(views: Views): Promise<OrderEntry>;
  /**
   * 'file': this process owns the data directory's audit file (and chains the PostgreSQL inbox into it);
   * 'inbox': it owns no file, and its events go to PostgreSQL's audit_inbox for the engine process to chain.
   */
  readonly audit: 'file' | 'inbox';
  /**
   * Stores the market data pipeline's ticks and bars and runs the NATS and Redis transports: one writer per
   * venue, `rialto start` does; a gateway runs the pipeline in memory only (`MarketDataRole`).
   */
  readonly marketData: boolean;
  /** The engine's last sequence number at its recovery (where the transports' replay ends). */
  readonly recoveredSeq: number;
  /** Makes the first admin key on an empty store. */
  readonly adminKey: boolean;
}

/** A venue's serving side over any engine: a Venue without the parts only the engine's process has. */
export type Served<E extends EnginePort> = Omit<Venue, 'engine' | 'auditFile' | 'auditTable'> & {
  readonly engine: E;
  readonly auditFile: AuditFile | null;
  readonly auditTable: AuditProjection | null;
};

/** The rate limiters' few lines (Redis down, back), as JSON lines on stdout like fastify's. */
const jsonLinesLog: LimitsLog = {
  warn: (fields, msg) =>
    process.stdout.write(JSON.stringify({ level: 40, time: Date.now(), ...fields, msg }) + '\n'),
  info: (fields, msg) =>
    process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), ...fields, msg }) + '\n'),
};

/**
 * Counts the trades of each durable batch into `rialto_trades_total{symbol}`, from the views' per-instrument
 * trade counts (the trades replayed at start are not counted: the counter starts with the process).
 */
function tradeCounter(table: InstrumentTable, views: Views, metrics: VenueMetrics): () => void {
  const seen = new Map<number, number>();
  for (const i of table.instruments())
    seen.set(i.spec.instrument, views.stats(i.spec.instrument)?.trades ?? 0);
  return () => {
    for (const i of table.instruments()) {
      const id = i.spec.instrument;
      const now = views.stats(id)?.trades ?? 0;
      const added = now - (seen.get(id) ?? 0);
      if (added > 0) metrics.trades.inc({ symbol: i.spec.symbol }, added);
      seen.set(id, now);
    }
  };
}

/** The pipeline of `marketData.pipeline`, on the venue's instruments, storing into `store`. */
/** The reference data the venue's feed seeds for one of its instruments (an operator may edit it after). */
function referenceOf(symbol: string, base: string, quote: string): ReferenceData {
  return {
    instrument: symbol,
    assetClass: 'spot',
    venue: 'rialto',
    currency: quote,
    unit: base,
    tickSize: 1,
    lotSize: 1,
    taxonomy: { path: ['spot', base, quote], confidence: 1, method: 'manual' },
    revision: 1,
  };
}

async function openMarketData(
  config: VenueConfig,
  engine: EnginePort,
  store: Store,
  options: Pick<VenueOptions, 'marketDataClockUs'>,
  log: LimitsLog,
  transports: MarketDataTransports,
  role: MarketDataRole,
): Promise<VenueFeed> {
  const c = config.marketData.pipeline;
  const bars = barSpecsOf(config);
  const instruments = new Map<number, { id: number; reference: ReferenceData }>();
  for (const i of config.instruments)
    instruments.set(i.spec.instrument, {
      id: i.spec.instrument,
      reference: referenceOf(i.spec.symbol, i.baseCode, i.quoteCode),
    });
  // The journal's instruments too (some may have been added over the API), where the engine can tell now: a
  // gateway's engine is not connected before its catch-up, so a reader learns them as they are defined.
  if (role === 'writer') {
    const journaled = await engine.venueReport();
    const codeOf = new Map(journaled.assets.map((a) => [a.asset, a.code]));
    for (const i of journaled.instruments) {
      const base = codeOf.get(i.baseAsset);
      const quote = codeOf.get(i.quoteAsset);
      if (base !== undefined && quote !== undefined)
        instruments.set(i.instrument, { id: i.instrument, reference: referenceOf(i.symbol, base, quote) });
    }
  }
  const feed = await VenueFeed.open({
    store,
    writes: role === 'writer',
    outbox: transports.mdOutbox,
    projection: transports.projection,
    instruments: [...instruments.values()],
    bars,
    latenessUs: c.latenessMs * 1000,
    partitionsAheadDays: c.partitionsAheadDays,
    clockUs: options.marketDataClockUs,
    onError: (e) => log.warn({ err: e.message }, 'market data: writing to the store failed, retrying'),
  });
  transports.bindLatest(feed.latest);
  return feed;
}

/** NATS and Redis as the configuration names them (src/marketdata/transports.ts). */
async function openTransports(
  config: VenueConfig,
  engine: EnginePort,
  lastSeq: number,
  store: Store,
  log: LimitsLog,
  guard: (g: DependencyGuard) => DependencyGuard,
  backfill: Partial<BackfillLimits> | undefined,
): Promise<MarketDataTransports> {
  const instruments = new Map<number, string>();
  // With neither NATS nor Redis nothing is published (a gateway's case, whose engine is not connected yet).
  if (config.natsUrl !== null || config.redisUrl !== null) {
    const report = await engine.venueReport();
    for (const i of report.instruments) instruments.set(i.instrument, i.symbol);
  }
  for (const i of config.instruments) instruments.set(i.spec.instrument, i.spec.symbol);
  return MarketDataTransports.open({
    natsUrl: config.natsUrl,
    jetstream: config.jetstream,
    redisUrl: config.redisUrl,
    redisKeyPrefix: config.marketData.redisKeyPrefix,
    store,
    lastSeq,
    journalDir: config.dataDir,
    backfill,
    instruments,
    intervals: config.marketData.pipeline.enabled ? barSpecsOf(config).map(intervalName) : null,
    log,
    // No retries: the outboxes retry each message in order themselves; the circuit spares them the timeouts.
    natsGuard:
      config.natsUrl === null ? undefined : guard(new DependencyGuard('nats', NATS_FAILURES, { retries: 0 })),
  });
}

/**
 * 'writer': the venue's one writer of market data (the process that owns the engine: `rialto start`,
 * `rialto engine`) stores ticks and bars and runs the NATS and Redis transports; 'reader' (a gateway) runs the
 * pipeline in memory for its `candles:` channels, with the same bars (they are by event time), and reads the
 * store the writer fills for the history routes.
 */
export type MarketDataRole = 'writer' | 'reader';

/**
 * The market data pipeline (when the configuration enables it) and the NATS and Redis transports, as one
 * projection of the engine's events: rebuilt by the start-up replay, then fed every durable batch.
 */
export interface MarketDataSide {
  readonly md: VenueFeed | null;
  readonly transports: MarketDataTransports;
  /** One command of the start-up replay. */
  readonly replay: ReplayListener;
  /** After the replay: live batches from now on. */
  goLive(): void;
  /** A durable batch; cheap (the pipeline and the outboxes run it on a later turn). */
  applyBatch(b: DurableBatch): void;
  /** An instrument defined after the start: its trades are taken from the next batch on. */
  defineInstrument(id: number, symbol: string, base: string, quote: string): void;
  /** The pipeline's, the transports' and the outboxes' figures in `metrics`. */
  registerMetrics(metrics: VenueMetrics): void;
  /** Readiness probes: `marketData` and (with NATS) `events`. */
  probes(): Record<string, Probe>;
  /** Runs and writes what it holds, then closes; resolves with the failure, if any (never rejects). */
  close(): Promise<Error | null>;
}

export async function openMarketDataSide(
  config: VenueConfig,
  engine: EnginePort,
  store: Store,
  options: Pick<VenueOptions, 'marketDataClockUs' | 'marketDataBackfill'>,
  log: LimitsLog,
  guard: (g: DependencyGuard) => DependencyGuard,
  { role, recoveredSeq }: { role: MarketDataRole; recoveredSeq: number },
): Promise<MarketDataSide> {
  // Readers publish nothing to NATS or Redis: one writer per venue.
  const transports = await openTransports(
    role === 'writer' ? config : { ...config, natsUrl: null, redisUrl: null },
    engine,
    recoveredSeq,
    store,
    log,
    guard,
    options.marketDataBackfill,
  );
  let md: VenueFeed | null = null;
  try {
    md = config.marketData.pipeline.enabled
      ? await openMarketData(config, engine, store, options, log, transports, role)
      : null;
  } catch (e) {
    await transports.close().catch(() => undefined);
    throw e;
  }
  const feed = md;
  return {
    md: feed,
    transports,
    replay: (seq, timeUs, events, count) => {
      feed?.replayCommand(seq, timeUs, events, count);
      transports.replayCommand(seq, timeUs, events, count);
    },
    goLive: () => {
      feed?.goLive();
      transports.goLive(feed);
    },
    applyBatch: (b) => {
      // Only picks the batch's trades and quotes out; the pipeline runs them on a later turn.
      feed?.applyBatch(b);
      // Copies the records; the envelopes are made and published later.
      transports.applyBatch(b);
    },
    defineInstrument: (id, symbol, base, quote) => {
      transports.defineInstrument(id, symbol);
      void feed
        ?.defineInstrument(id, referenceOf(symbol, base, quote))
        .catch((e: unknown) =>
          log.warn({ err: e instanceof Error ? e.message : String(e) }, 'market data: reference data'),
        );
    },
    registerMetrics: (metrics) => {
      registerMarketDataMetrics(metrics.registry, {
        marketData: () => feed?.stats() ?? null,
        transports: () => transports.stats(),
      });
      for (const box of transports.stats().nats?.outboxes ?? []) {
        metrics.projections.register(`events_${box.name}`, () => {
          const b = transports.stats().nats?.outboxes.find((x) => x.name === box.name);
          return { backlog: b?.queued ?? 0, oldestUs: b?.oldestQueuedUs ?? null };
        });
      }
    },
    probes: () => {
      const probes: Record<string, Probe> = {};
      if (feed !== null) probes.marketData = () => Promise.resolve(feed.health());
      if (role === 'writer' && config.natsUrl !== null)
        probes.events = () => Promise.resolve(transports.health());
      return probes;
    },
    // No batch comes any more: the pipeline runs what it holds and the writer writes it; the outboxes
    // publish what they hold (within a bound) and save their progress.
    close: () =>
      (feed?.close() ?? Promise.resolve())
        .finally(() => transports.close())
        .then(
          () => null,
          (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
        ),
  };
}

/**
 * The venue's metrics over `engine` (its journal, the dependencies' breakers, kill switches and halts), with the
 * process, audit and readiness sources the caller gives: `rialto start`, a gateway and the engine's process.
 */
export function engineMetrics(
  engine: EnginePort,
  guards: readonly DependencyGuard[],
  sources: Pick<VenueMetricsOptions, 'processMetrics' | 'auditStats' | 'readinessChecks'>,
): VenueMetrics {
  return createVenueMetrics({
    ...sources,
    journalStats: () => engine.stats(),
    dependencyStats: () => guards.map((g) => g.stats()),
    venueState: async () => {
      const v = await engine.venueReport();
      return {
        venueKillSwitch: v.killSwitch,
        accountKillSwitches: v.accountKillSwitches,
        instruments: v.instruments.map((i) => ({ symbol: i.symbol, halted: i.halted })),
      };
    },
  });
}

/** The setup commands whose asset or instrument the journal does not have yet. */
export function missingSetup(setup: readonly Command[], replay: ReplayReport): Command[] {
  const assets = new Set(replay.assets);
  const instruments = new Set(replay.instruments);
  return setup.filter((c) => {
    if (c.kind === 'addAsset') return !assets.has(c.asset);
    if (c.kind === 'defineInstrument') return !instruments.has(c.spec.instrument);
    return true;
  });
}

/** Submits the setup commands, the instrument table expecting what they define. */
async function submitSetup(
  engine: EnginePort,
  table: InstrumentTable,
  setup: readonly Command[],
): Promise<void> {
  for (const c of setup) {
    if (c.kind === 'addAsset') table.expectAsset({ id: c.asset, code: c.code, decimals: c.decimals });
    else if (c.kind === 'defineInstrument') {
      const known = table.instrumentById(c.spec.instrument)?.spec;
      table.expectInstrument(toSpecConfig({ ...INSTRUMENT_DEFAULTS, ...known, ...c.spec } as InstrumentSpec));
    }
  }
  try {
    await engine.submit(setup);
  } finally {
    for (const c of setup) {
      if (c.kind === 'addAsset') table.settled('asset', c.asset);
      else if (c.kind === 'defineInstrument') table.settled('instrument', c.spec.instrument);
    }
  }
}

/** The first admin key, made by the venue itself at its first start, is recorded like any other key. */
export async function auditFirstAdminKey(file: AuditFile, keyId: string): Promise<void> {
  const event = makeEvent({
    id: auditEventId(),
    timeUs: Date.now() * 1000,
    actor: { id: 'venue', role: 'system', ip: null },
    action: 'key.create',
    target: { kind: 'key', id: keyId },
    result: { status: 'ok', code: null },
    requestId: null,
    details: { role: 'admin', reason: 'first start on an empty store' },
  });
  await file.append([event]);
}

/**
 * Opens the audit file of the data directory. A first start after an upgrade from a version that kept the
 * chain in the table only (the file absent, the table not empty) copies the table into the file first.
 */
export async function openAuditFile(dir: string, store: Store, log: LimitsLog): Promise<AuditFile> {
  // Groups are chained, written and synced on a worker: this thread serves the API (audit/file-thread.ts).
  const file = await AuditFile.open(dir, { onRepair: (m) => log.warn({}, `audit: ${m}`), thread: 'worker' });
  try {
    await seedFromTable(file, new AuditLog(store));
    return file;
  } catch (e) {
    await file.close();
    throw e;
  }
}

/** The dependencies' circuit breakers, exported in /metrics and logged when they open and close. */
export function dependencyGuards(logging: boolean): {
  guards: DependencyGuard[];
  guard: (g: DependencyGuard) => DependencyGuard;
} {
  const guards: DependencyGuard[] = [];
  const log: LimitsLog = logging ? jsonLinesLog : silentLog;
  const guard = (g: DependencyGuard): DependencyGuard => {
    guards.push(g);
    g.onStateChange((state, cause) => {
      const err = { message: cause instanceof Error ? cause.message : String(cause) };
      if (state === 'open')
        log.warn({ dependency: g.dependency, err }, `${g.dependency}: circuit open, calls refused`);
      else if (state === 'closed')
        log.info({ dependency: g.dependency }, `${g.dependency}: circuit closed again`);
    });
    return g;
  };
  return { guards, guard };
}

/**
 * Where the audit writer's groups go: the data directory's file when this process owns it, else PostgreSQL's
 * audit_inbox, which the engine's process chains into its file (a gateway is stateless).
 */
function auditSink(file: AuditFile | null, store: Store): AuditSink {
  if (file !== null) return { append: (events) => file.append(events) };
  // One INSERT per group; idempotent by event id, so that a group retried after a failure is not doubled.
  return {
    append: async (events) => {
      const values: string[] = [];
      const params: string[] = [];
      for (const e of events) {
        values.push(`($${params.length + 1}, $${params.length + 2})`);
        params.push(e.id, canonicalEventJson(0, e));
      }
      if (values.length === 0) return;
      await store.query(
        `INSERT INTO audit_inbox (event_id, event) VALUES ${values.join(', ')} ON CONFLICT (event_id) DO NOTHING`,
        params,
      );
    },
  };
}

/**
 * `audit_events` as a projection of the file, which also chains the PostgreSQL inbox into the file;
 * `sqlOnThisThread`: the store runs its SQL on this thread (PGlite opened in-process).
 */
export function auditProjection(
  file: AuditFile,
  store: Store,
  audit: AuditWriter,
  log: LimitsLog,
  sqlOnThisThread: boolean,
): AuditProjection {
  const projection = new AuditProjection(new AuditLog(store), file.path, {
    durableSeq: () => file.head.seq,
    inbox: store.kind === 'postgres' ? new AuditInbox(store) : null,
    // PGlite in-process runs the projection's SQL here: its share stays bounded while the thread is busy.
    // PostgreSQL runs it in its own processes, the venue's PGlite on a worker thread at a lower priority
    // (store/pglite-thread.ts), which keeps it off the cores the order path needs: full batches while behind.
    // Paced by this thread's utilization, as when PGlite ran here, the venue's projection fell behind for good
    // under a steady load (16 rows a batch, a twentieth of the time).
    sharesThread: sqlOnThisThread,
    chain: async (events) => {
      const tickets = await Promise.all(events.map(() => audit.reserve()));
      tickets.forEach((t, i) => t.commit(events[i]));
      await audit.flush();
    },
    onError: (e) => log.warn({ err: e.message }, 'audit: projecting events into audit_events failed'),
  });
  // The file's worker makes each group's rows as COPY text: this thread then only passes it on to the store.
  file.handOverCopyText(projection);
  return projection;
}

/**
 * The query tables' projector over the journal of `config.dataDir` (src/projection), started: it reads the
 * journal itself and only learns from `engine` how far it is durable. Its close also unsubscribes.
 */
export function startQueryTables(
  config: VenueConfig,
  store: Store,
  engine: EnginePort,
  durableSeq: number,
  log: LimitsLog,
): { readonly projector: QueryTableProjector; close(): Promise<void> } {
  const projector = new QueryTableProjector({
    dir: config.dataDir,
    store,
    durableSeq,
    onError: (e) => log.warn({ err: e.message }, 'query tables: projecting the journal failed'),
  });
  const unsubscribe = engine.subscribe((b) => projector.noteDurable(b.firstSeq + b.count - 1, b.timeUs));
  projector.start();
  return {
    projector,
    close: async () => {
      unsubscribe();
      await projector.close();
    },
  };
}

/**
 * Replays the journal up to the engine's recovery into `views` and `also`, noting the client order ids of its
 * places in `clientOrders`, and checks the state it reaches against the engine's (a difference refuses to
 * serve). A long replay logs how far it is to `log` every REPLAY_PROGRESS_MS: the process listens only
 * after it (docs/deployment.md, start time).
 */
export async function replayChecked(
  config: VenueConfig,
  engine: Engine,
  views: Views,
  also: ReplayListener | null,
  clientOrders: ClientOrders | null,
  log: LimitsLog = silentLog,
): Promise<ReplayReport> {
  const replay = await replayJournalInto(
    config.dataDir,
    engine.recovery.lastSeq,
    views,
    also,
    clientOrders === null ? null : (c, events, count) => clientOrders.journaled(c, events, count),
    {
      everyMs: REPLAY_PROGRESS_MS,
      report: (replayed, total) => {
        const { percent, text } = progressMessage('replaying the journal', replayed, total);
        log.info({ replayed, total, percent }, text);
      },
    },
  );
  const engineHash = await engine.stateHash();
  if (replay.stateHash !== engineHash) {
    throw new Error(
      `the views' replay reached state ${replay.stateHash}, the engine ${engineHash}: refusing to serve`,
    );
  }
  return replay;
}

export async function startVenue(config: VenueConfig, options: VenueOptions): Promise<Venue> {
  const engine = await Engine.start({ ...options.engine, dir: config.dataDir });
  let store: Store | null = null;
  const { guards, guard } = dependencyGuards(options.log === true);
  try {
    const pgGuard =
      config.database.kind === 'postgres'
        ? guard(new DependencyGuard('postgres', POSTGRES_FAILURES))
        : undefined;
    // PGlite's SQL on a thread of its own, off the event loop that answers orders (store/pglite-thread.ts).
    store = await openStore(config.database, { create: true, guard: pgGuard, pgliteThread: 'worker' });
    await migrate(store);
    const opened = store;
    // The views' replay reads every record of the journal: it notes the client order ids on the way.
    const journaled = new ClientOrders();
    const served = await assemble(config, options, opened, guards, guard, {
      engine,
      replay: (views, also) =>
        replayChecked(
          config,
          engine,
          views,
          also,
          journaled,
          options.log === true ? jsonLinesLog : silentLog,
        ),
      orderEntry: async (views) => {
        const highestOrderId = Math.max(await engine.highestOrderId(), views.highestOrderId);
        const journal = { dir: config.dataDir, lastSeq: engine.recovery.lastSeq, journaled };
        return LocalOrderEntry.open(engine, opened, journal, highestOrderId);
      },
      audit: 'file',
      marketData: true,
      recoveredSeq: engine.recovery.lastSeq,
      adminKey: true,
    });
    const { auditFile, auditTable } = served;
    if (auditFile === null || auditTable === null) throw new Error('a venue owns its audit file');
    engine.startClock();
    return { ...served, auditFile, auditTable };
  } catch (e) {
    await engine.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    throw e;
  }
}

/**
 * The serving side (views, trading, HTTP and WebSocket servers, audit, market data) over `parts.engine` and
 * `store`, which the caller opened and closes if this throws; the result's close closes them.
 */
export async function assemble<E extends EnginePort>(
  config: VenueConfig,
  options: VenueOptions,
  store: Store,
  guards: readonly DependencyGuard[],
  guard: (g: DependencyGuard) => DependencyGuard,
  parts: ServingParts<E>,
): Promise<Served<E>> {
  const views = new Views();
  const limitsLog: LimitsLog = options.log === true ? jsonLinesLog : silentLog;
  const side = await openMarketDataSide(config, parts.engine, store, options, limitsLog, guard, {
    role: parts.marketData ? 'writer' : 'reader',
    recoveredSeq: parts.recoveredSeq,
  });
  try {
    return await assembleWith(config, options, parts, store, { guards, guard }, views, side, limitsLog);
  } catch (e) {
    await side.close();
    throw e;
  }
}

async function assembleWith<E extends EnginePort>(
  config: VenueConfig,
  options: VenueOptions,
  parts: ServingParts<E>,
  store: Store,
  { guards, guard }: { guards: readonly DependencyGuard[]; guard: (g: DependencyGuard) => DependencyGuard },
  views: Views,
  side: MarketDataSide,
  limitsLog: LimitsLog,
): Promise<Served<E>> {
  const engine = parts.engine;
  const { md, transports } = side;
  // The market data pipeline is rebuilt by the same replay as the views (its bars' state, its recent bars),
  // and the events not yet on JetStream are offered again.
  const replay = await parts.replay(views, side.replay);
  // The query tables follow the journal on their own loop; the engine only tells them how far it is durable.
  // Only the process that owns the data directory (rialto start) has the journal to read.
  const queryTables =
    config.queryTables.enabled && parts.audit === 'file'
      ? startQueryTables(config, store, engine, parts.recoveredSeq, limitsLog)
      : null;
  // The audit trail is made below; its gauges read it once it exists.
  let auditBacklog: (() => AuditBacklog) | null = null;
  // So are the readiness probes, run at each scrape for rialto_readiness_check.
  let readinessNow: (() => Promise<Readiness>) | null = null;
  const metrics = engineMetrics(engine, guards, {
    processMetrics: options.processMetrics ?? true,
    auditStats: () => auditBacklog?.() ?? null,
    readinessChecks: () => readinessNow?.() ?? Promise.resolve({ checks: {} }),
  });
  side.registerMetrics(metrics);
  // The instruments and assets as the journal left them; from here on they follow the core's events.
  const table = InstrumentTable.of(replay.assetList, replay.instrumentSpecs);
  const countTrades = tradeCounter(table, views, metrics);
  let ws: WsGateway | null = null;
  // From here on every durable batch reaches the instrument table (when it waits for a definition), the
  // views, then the WebSocket feeds, before its submitter hears of it.
  side.goLive();
  const unsubscribe = engine.subscribe((b) => {
    // A gateway's batches carry their commands: what another gateway defined is taken from them.
    const elsewhere = table.expectDefinedElsewhere(b);
    if (table.awaiting) {
      table.applyBatch(b.events);
      for (const [kind, id] of elsewhere) table.settled(kind, id);
      // An instrument defined over the API: the market data takes its trades from this batch on.
      for (const i of table.instruments())
        side.defineInstrument(i.spec.instrument, i.spec.symbol, i.baseCode, i.quoteCode);
    }
    views.applyBatch(b.firstSeq, b.timeUs, b.events, b.ends);
    countTrades();
    ws?.publish(views.changes);
    side.applyBatch(b);
  });
  const setup = missingSetup(options.setup, replay);
  if (setup.length > 0) await submitSetup(engine, table, setup);
  const clientOrders = await parts.orderEntry(views);
  const auditFile = parts.audit === 'file' ? await openAuditFile(config.dataDir, store, limitsLog) : null;
  const admin = parts.adminKey ? await ensureAdminKey(store) : null;
  if (admin !== null && auditFile !== null) await auditFirstAdminKey(auditFile, admin.record.id);
  const trading = new Trading(engine, views, clientOrders, config, table);
  const verifier = new KeyVerifier(store);
  const jwt = config.auth.enabled ? await JwtVerifier.create(config.auth.jwt) : null;
  // Rate limits in this process's memory, or shared through Redis when the venue has one.
  const redis =
    config.rateLimits.enabled && config.redisUrl !== null
      ? (options.redisClient ?? createRedisClient)(config.redisUrl, limitsLog)
      : null;
  let closing = false;
  const audit = new AuditWriter(auditSink(auditFile, store), options.audit, (e) =>
    limitsLog.warn({ err: e.message }, 'audit: writing events failed, retrying'),
  );
  const auditTable =
    auditFile === null
      ? null
      : // Only startVenue owns the audit file here, its PGlite on a worker thread.
        auditProjection(auditFile, store, audit, limitsLog, false);
  auditTable?.start();
  if (queryTables !== null) metrics.projections.register('query_tables', () => queryTables.projector.stats());
  auditBacklog = () => {
    const w = audit.stats();
    return { queued: w.queued + w.reserved, projectionLag: auditTable?.lag ?? 0 };
  };
  // The audit trail is projected into the query store through the writer's queue: its lag is the queue's.
  metrics.projections.register('audit', () => {
    const a = audit.stats();
    return { backlog: a.queued, oldestUs: a.oldestQueuedUs };
  });
  const probes: Record<string, Probe> = {
    engine: engineProbe(engine, () => closing),
    store: storeProbe(store),
    audit: () => Promise.resolve(audit.failure === null ? 'ok' : `failing: ${audit.failure.message}`),
  };
  Object.assign(probes, side.probes());
  if (redis !== null) probes.redis = redisProbe(redis);
  if (config.natsUrl !== null) probes.nats = natsProbe(config.natsUrl);
  const readiness = (): Promise<Readiness> => readinessOf(probes);
  readinessNow = readiness;
  // From the Redis client on, a failed start (a port in use, say) releases what it made before it throws;
  // startVenue then closes the engine and the store.
  let limiters: VenueLimiters | null = null;
  let server: Awaited<ReturnType<typeof buildServer>> | null = null;
  let wsGateway: WsGateway | null = null;
  let url = '';
  try {
    limiters = venueLimiters(config.rateLimits, redis, {
      log: limitsLog,
      guard:
        redis === null ? undefined : guard(redisLimiterGuard(REDIS_LIMITER_DEFAULTS.retryAfterFailureMs)),
      ...(options.redisKeyPrefix === undefined ? {} : { prefix: options.redisKeyPrefix }),
    });
    server = await buildServer({
      trading,
      verifier,
      config,
      readiness,
      log: options.log,
      limiters,
      metrics,
      jwt,
      accounts: new AccountService(engine, views, config, table),
      instruments: new InstrumentAdmin(engine, table),
      // A key revoked over the API ends this process's WebSocket sessions on it too.
      keys: new KeyAdmin(store, verifier, (id) => wsGateway?.closeKey(id)),
      audit,
      marketData: md,
    });
    wsGateway = WsGateway.attach(server.server, {
      trading,
      verifier,
      config,
      jwt,
      limiters,
      metrics,
      limits: options.wsLimits,
      audit,
      candles: md,
    });
    ws = wsGateway;
    const gateway = wsGateway;
    md?.onBars((symbol, interval, candle, corrected) =>
      gateway.publishCandle(symbol, interval, candle, corrected),
    );
    if (options.listen ?? true) {
      url = await server.listen({ host: config.server.host, port: config.server.port });
    }
  } catch (e) {
    ws = null;
    await wsGateway?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await audit.close().catch(() => undefined);
    await auditTable?.close();
    await auditFile?.close().catch(() => undefined);
    await queryTables?.close();
    limiters?.close();
    redis?.disconnect();
    unsubscribe();
    await clientOrders.close().catch(() => undefined);
    throw e;
  }
  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      // WebSocket clients first: their requests in flight are answered, then they are closed with 1001.
      await wsGateway.close();
      // Stops accepting and waits for requests in flight; connections idle or stuck past the drain are cut.
      const cut = setTimeout(() => server.server.closeAllConnections(), HTTP_LIMITS.drainMs);
      try {
        await server.close();
      } finally {
        clearTimeout(cut);
      }
      // Every answer is decided by now: the audit writer writes what it holds before the store closes, and a
      // failure to is reported once the rest is closed.
      const audited = audit.close().then(
        () => null,
        (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
      );
      await engine.close();
      const mdClosed = side.close();
      await clientOrders.close();
      unsubscribe();
      limiters?.close();
      redis?.disconnect();
      const auditFailure = await audited;
      const mdFailure = await mdClosed;
      await auditTable?.close();
      await auditFile?.close();
      await queryTables?.close();
      await store.close();
      if (auditFailure !== null) throw auditFailure;
      if (mdFailure !== null) throw mdFailure;
    })();
    return closed;
  };
  return {
    config,
    engine,
    store,
    views,
    trading,
    server,
    ws: wsGateway,
    metrics,
    audit,
    marketData: md,
    transports,
    auditFile,
    auditTable,
    queryTables: queryTables?.projector ?? null,
    adminKey: admin?.token ?? null,
    replay,
    setupSubmitted: setup.length,
    url,
    close,
  };
}
