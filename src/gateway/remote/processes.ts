/**
 * The venue split in processes (docs/internal-transport.md): `rialto engine` runs `startEngineProcess` (the
 * engine on the data directory, order ids and client order ids, the audit file, the internal port) and each
 * `rialto gateway` runs `startGateway` (views, trading, the REST and WebSocket APIs, over a RemoteEngine).
 * `rialto start` stays `startVenue`: both in one process, no socket.
 */
import { AuditWriter, type AuditFile, type AuditProjection, type WriterLimits } from '../../audit/index.js';
import { EVENT_STRIDE } from '../../book/index.js';
import { CoreEventType, type Command } from '../../core/index.js';
import { Engine, type DurableBatch, type EngineConfig } from '../../engine/index.js';
import { decodeFramedCommands } from '../../journal/index.js';
import { DependencyGuard, POSTGRES_FAILURES, type VenueConfig } from '../../ops/index.js';
import { migrate, openStore, type Store } from '../../store/index.js';
import { ensureAdminKey } from '../auth/index.js';
import { hasEvent } from '../instruments/index.js';
import type { LimitsLog } from '../limits/index.js';
import type { VenueMetrics } from '../metrics/index.js';
import { readinessOf, storeProbe, type Probe } from '../readiness.js';
import { ClientOrders } from '../trading/client-orders.js';
import { LocalOrderEntry } from '../trading/order-entry.js';
import { Views } from '../views/index.js';
import {
  assemble,
  auditFirstAdminKey,
  auditProjection,
  startQueryTables,
  dependencyGuards,
  engineMetrics,
  openAuditFile,
  openMarketDataSide,
  replayChecked,
  type MarketDataSide,
  type Served,
  type VenueOptions,
} from '../venue.js';
import { RemoteEngine } from './client.js';
import { EngineServer } from './server.js';

export type ProcessLog = (level: 'info' | 'warn', msg: string) => void;

/** JSON lines on stdout, like fastify's. */
export const jsonLines: ProcessLog = (level, msg) =>
  process.stdout.write(JSON.stringify({ level: level === 'warn' ? 40 : 30, time: Date.now(), msg }) + '\n');

export const quiet: ProcessLog = () => undefined;

export interface EngineProcessOptions {
  /** The assets' and instruments' setup commands (those the journal lacks are submitted). */
  readonly setup: readonly Command[];
  /** The internal port. */
  readonly host: string;
  readonly port: number;
  /** The secret gateways must present; null: none (refused in production by the command line). */
  readonly secret: string | null;
  readonly engine?: Omit<EngineConfig, 'dir' | 'publishRecords'>;
  readonly log?: ProcessLog;
  readonly audit?: Partial<WriterLimits>;
  /** Process metrics (CPU, memory, GC) in `/metrics` (default true). */
  readonly processMetrics?: boolean;
  /** The market data pipeline's wall clock, µs (tests move it to close bars). */
  readonly marketDataClockUs?: () => number;
}

export interface EngineProcess {
  readonly engine: Engine;
  readonly store: Store;
  readonly server: EngineServer;
  readonly entry: LocalOrderEntry;
  readonly auditFile: AuditFile;
  readonly auditTable: AuditProjection;
  /** The market data pipeline storing ticks and bars, and the NATS and Redis transports: the venue's writer. */
  readonly marketData: MarketDataSide;
  /** Served at the internal port's GET /metrics. */
  readonly metrics: VenueMetrics;
  /** The first admin key, made by this start on an empty store, else null. */
  readonly adminKey: string | null;
  /** HOST:PORT of the internal port. */
  readonly address: string;
  readonly setupSubmitted: number;
  close(): Promise<void>;
}

/**
 * Tells the market data side of instruments defined after the start, synchronously, from the batch that defines
 * them: the symbol and asset codes come from the batch's own commands (the engine's process has the records), so
 * a trade in that batch or the next is already attributed. Asset codes start from the engine's report and
 * follow the addAsset commands. A batch without records (never here: the engine publishes them) falls back to
 * asking the engine.
 */
export async function instrumentFollower(
  engine: Pick<Engine, 'venueReport'>,
  side: Pick<MarketDataSide, 'defineInstrument'>,
  log: LimitsLog,
): Promise<(b: DurableBatch) => void> {
  const venue = await engine.venueReport();
  const assetCodes = new Map(venue.assets.map((a) => [a.asset, a.code]));
  const symbols = new Map(venue.instruments.map((i) => [i.instrument, i.symbol]));
  const fromReport = (): void => {
    engine.venueReport().then(
      (v) => {
        for (const a of v.assets) assetCodes.set(a.asset, a.code);
        for (const i of v.instruments) {
          const base = assetCodes.get(i.baseAsset);
          const quote = assetCodes.get(i.quoteAsset);
          // Known ones are no-ops (the feed and the transports keep their symbol).
          if (base !== undefined && quote !== undefined)
            side.defineInstrument(i.instrument, i.symbol, base, quote);
        }
      },
      (e: unknown) =>
        log.warn({ err: e instanceof Error ? e.message : String(e) }, 'market data: new instruments'),
    );
  };
  return (b) => {
    const events = b.events;
    let changes = false;
    for (let o = 0; o < events.length && !changes; o += EVENT_STRIDE) {
      const type = events[o];
      changes = type === CoreEventType.InstrumentDefined || type === CoreEventType.AssetAdded;
    }
    if (!changes) return;
    if (b.records === undefined) return fromReport();
    let unresolved = false;
    const commands = decodeFramedCommands(b.records, b.count);
    for (let k = 0, from = 0; k < commands.length; from = b.ends[k], k++) {
      const c = commands[k];
      // Only what the core accepted: a refused command left no event of its kind.
      if (
        !hasEvent(
          events,
          from,
          b.ends[k],
          c.kind === 'addAsset' ? CoreEventType.AssetAdded : CoreEventType.InstrumentDefined,
        )
      )
        continue;
      if (c.kind === 'addAsset') assetCodes.set(c.asset, c.code);
      else if (c.kind === 'defineInstrument') {
        // A change of a known instrument may leave these out; a refused definition names no new instrument.
        const symbol = c.spec.symbol ?? symbols.get(c.spec.instrument);
        const base = c.spec.baseAsset === undefined ? undefined : assetCodes.get(c.spec.baseAsset);
        const quote = c.spec.quoteAsset === undefined ? undefined : assetCodes.get(c.spec.quoteAsset);
        if (symbols.has(c.spec.instrument)) continue;
        if (symbol === undefined || base === undefined || quote === undefined) unresolved = true;
        else {
          symbols.set(c.spec.instrument, symbol);
          side.defineInstrument(c.spec.instrument, symbol, base, quote);
        }
      }
    }
    if (unresolved) fromReport();
  };
}

/**
 * The engine's process: the engine on the data directory (its lock, journal, snapshots), the query store
 * (migrated), the market data pipeline and the NATS and Redis transports (the venue's one writer, rebuilt by
 * a replay of the journal as in `rialto start`), the internal port (with /metrics), the setup commands the
 * journal lacks, the order entry (order ids, and client order ids from the journal), the audit file (it chains the gateways' events from PostgreSQL's
 * audit_inbox) and the first admin key.
 */
export async function startEngineProcess(
  config: VenueConfig,
  options: EngineProcessOptions,
): Promise<EngineProcess> {
  const log = options.log ?? quiet;
  const limitsLog: LimitsLog = {
    warn: (_f, m) => log('warn', m),
    info: (_f, m) => log('info', m),
  };
  const engine = await Engine.start({ ...options.engine, dir: config.dataDir, publishRecords: true });
  const { guards, guard } = dependencyGuards(options.log !== undefined && options.log !== quiet);
  let store: Store | null = null;
  let side: MarketDataSide | null = null;
  let unfollow: (() => void) | null = null;
  let server: EngineServer | null = null;
  let entry: LocalOrderEntry | null = null;
  let auditFile: AuditFile | null = null;
  try {
    const pgGuard =
      config.database.kind === 'postgres'
        ? guard(new DependencyGuard('postgres', POSTGRES_FAILURES))
        : undefined;
    store = await openStore(config.database, { create: true, guard: pgGuard });
    await migrate(store);
    // The market data and the transports are rebuilt from the journal as `rialto start` rebuilds them (the
    // views' replay, whose views are dropped), then follow every durable batch.
    side = await openMarketDataSide(config, engine, store, options, limitsLog, guard, {
      role: 'writer',
      recoveredSeq: engine.recovery.lastSeq,
    });
    const md = side;
    // When the journal is replayed anyway, the client order ids of its places are noted on the way; otherwise
    // the order entry reads them from the journal itself.
    let journaled: ClientOrders | null = null;
    if (md.md !== null || config.natsUrl !== null || config.redisUrl !== null) {
      journaled = new ClientOrders();
      await replayChecked(config, engine, new Views(), md.replay, journaled, limitsLog);
    }
    md.goLive();
    const learn = await instrumentFollower(engine, md, limitsLog);
    unfollow = engine.subscribe((b) => {
      learn(b);
      md.applyBatch(b);
    });
    // The readiness probes and the audit trail are made below; the gauges read them once they exist.
    let readinessNow: (() => ReturnType<typeof readinessOf>) | null = null;
    let auditBacklog: (() => { queued: number; projectionLag: number }) | null = null;
    const metrics = engineMetrics(engine, guards, {
      processMetrics: options.processMetrics ?? true,
      auditStats: () => auditBacklog?.() ?? null,
      readinessChecks: () => readinessNow?.() ?? Promise.resolve({ checks: {} }),
    });
    md.registerMetrics(metrics);
    // Subscribed before any submit, so that every durable batch from here on reaches the gateways.
    server = await EngineServer.listen({
      host: options.host,
      port: options.port,
      secret: options.secret,
      engine,
      entry: () => entry,
      dir: config.dataDir,
      log,
      metrics: metrics.registry,
      metricsToken: config.metrics.token,
    });
    const venue = await engine.venueReport();
    const assets = new Set(venue.assets.map((a) => a.asset));
    const instruments = new Set(venue.instruments.map((i) => i.instrument));
    const setup = options.setup.filter((c) =>
      c.kind === 'addAsset'
        ? !assets.has(c.asset)
        : c.kind === 'defineInstrument'
          ? !instruments.has(c.spec.instrument)
          : true,
    );
    if (setup.length > 0) await engine.submit(setup);
    const journal = { dir: config.dataDir, lastSeq: engine.recovery.lastSeq, journaled };
    entry = await LocalOrderEntry.open(engine, store, journal, await engine.highestOrderId());
    auditFile = await openAuditFile(config.dataDir, store, limitsLog);
    const admin = await ensureAdminKey(store);
    if (admin !== null) await auditFirstAdminKey(auditFile, admin.record.id);
    const file = auditFile;
    const audit = new AuditWriter({ append: (events) => file.append(events) }, options.audit, (e) =>
      log('warn', `audit: writing events failed, retrying: ${e.message}`),
    );
    const auditTable = auditProjection(file, store, audit, limitsLog, store.kind === 'pglite');
    auditTable.start();
    auditBacklog = () => {
      const w = audit.stats();
      return { queued: w.queued + w.reserved, projectionLag: auditTable.lag };
    };
    metrics.projections.register('audit', () => {
      const a = audit.stats();
      return { backlog: a.queued, oldestUs: a.oldestQueuedUs };
    });
    // The query tables are projected here, where the journal is (gateways have none).
    const queryTables = config.queryTables.enabled
      ? startQueryTables(config, store, engine, engine.recovery.lastSeq, limitsLog)
      : null;
    if (queryTables !== null)
      metrics.projections.register('query_tables', () => queryTables.projector.stats());
    const probes: Record<string, Probe> = {
      engine: () => Promise.resolve(engine.health()),
      store: storeProbe(store),
      ...md.probes(),
    };
    readinessNow = () => readinessOf(probes);
    engine.startClock();
    const opened = { store, server, entry, unfollow };
    let closed: Promise<void> | null = null;
    return {
      engine,
      store,
      server,
      entry,
      auditFile: file,
      auditTable,
      marketData: md,
      metrics,
      adminKey: admin?.token ?? null,
      address: server.address,
      setupSubmitted: setup.length,
      close: () =>
        (closed ??= (async () => {
          // Gateways first (they reconnect to the next engine); then what is written here, then the engine.
          await opened.server.close();
          const audited = audit.close().then(
            () => null,
            (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
          );
          await engine.close();
          opened.unfollow();
          // No batch comes any more: the market data is written and published, as in `rialto start`.
          const mdFailure = await md.close();
          await opened.entry.close();
          const failure = await audited;
          await auditTable.close();
          await queryTables?.close();
          await file.close();
          await opened.store.close();
          if (failure !== null) throw failure;
          if (mdFailure !== null) throw mdFailure;
        })()),
    };
  } catch (e) {
    await server?.close().catch(() => undefined);
    unfollow?.();
    await side?.close();
    await entry?.close().catch(() => undefined);
    await auditFile?.close().catch(() => undefined);
    await engine.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    throw e;
  }
}

export interface GatewayOptions extends Omit<VenueOptions, 'setup' | 'engine'> {
  /** The engine's internal port, HOST:PORT. */
  readonly engineAddress: string;
  readonly secret: string | null;
  readonly processLog?: ProcessLog;
}

export type GatewayProcess = Served<RemoteEngine>;

/**
 * A gateway: the query store (PostgreSQL, shared with the engine's process and the other gateways: keys,
 * audit inbox), then the views caught up from the engine, then the servers. It owns no file: its audit events
 * go to audit_inbox, order ids and client order ids are the engine's, and its market data pipeline runs in
 * memory (live candles) while the history routes read what the engine's process stores.
 */
export async function startGateway(config: VenueConfig, options: GatewayOptions): Promise<GatewayProcess> {
  const { guards, guard } = dependencyGuards(options.log === true);
  const engine = new RemoteEngine({
    address: options.engineAddress,
    secret: options.secret,
    log: options.processLog ?? quiet,
  });
  let store: Store | null = null;
  try {
    const pgGuard =
      config.database.kind === 'postgres'
        ? guard(new DependencyGuard('postgres', POSTGRES_FAILURES))
        : undefined;
    store = await openStore(config.database, { create: true, guard: pgGuard });
    await migrate(store);
    return await assemble(config, { ...options, setup: [] }, store, guards, guard, {
      engine,
      replay: (views, also) => engine.catchUp(views, also),
      orderEntry: () => Promise.resolve(engine),
      audit: 'inbox',
      marketData: false,
      recoveredSeq: 0,
      adminKey: false,
    });
  } catch (e) {
    await engine.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    throw e;
  }
}
