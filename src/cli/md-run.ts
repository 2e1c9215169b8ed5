/**
 * `rialto md run`: the market data pipeline on its own, without the venue. Files (CSV, JSONL, LOBSTER) are
 * replayed at a speed factor, then live WebSocket feeds (`--connect`) are read, through the pipeline `rialto
 * start` runs (src/marketdata/venue-feed.ts: normalize → enrich with the store's reference data → bars →
 * latest prices → ticks and bars into the store), configured as `rialto start` is (--config, DATABASE_URL,
 * REDIS_URL, NATS_URL). With NATS_URL the pipeline's topics are published to JetStream through the outbox of
 * `rialto start`'s transports (src/marketdata/transports.ts), the store being written here, by the writer.
 * It ends when the inputs are exhausted (the feeds: at --max-events), or at SIGINT/SIGTERM, flushes the open
 * bars, the writer and the outbox, and prints one JSON line of counts on stdout.
 */
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { barSpecsOf } from '../gateway/bar-specs.js';
import type { Outbox } from '../bus/index.js';
import {
  FeedSupervisor,
  MarketDataTransports,
  RIALTO_TRADES_MAPPING,
  VenueFeed,
  WebSocketConnector,
  barsTopic,
  intervalsOf,
  mappingProblem,
  outboxTopics,
  parseDate,
  replayLines,
  wallScheduler,
  type Connector,
  type EpochUnit,
  type FileReplayOptions,
  type JsonFeedMapping,
  type RawEvent,
  type ReplaySpeed,
  type Scheduler,
} from '../marketdata/index.js';
import { ConfigError } from '../ops/config/index.js';
// The store's modules, not its index: that would load both adapters' drivers where one is opened.
import { migrate } from '../store/migrations.js';
import { openStore } from '../store/open.js';
import { StoreError, type Store } from '../store/port.js';
import type { DirLock } from '../journal/index.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { loadCliConfig } from './serving.js';
import { lockEmbeddedStore } from './cli-store.js';

export type InputFormat = FileReplayOptions['format'];

export interface MdRunOptions {
  input?: string[];
  connect?: string[];
  map?: string;
  match?: string;
  timeUnit?: string;
  subscribe?: string;
  maxEvents?: string;
  format?: string;
  kind: string;
  speed: string;
  instrument?: string;
  date?: string;
  config?: string;
}

export interface LiveInput {
  url: string;
  mapping: JsonFeedMapping;
  subscribe: string | undefined;
}

export interface RunSettings {
  inputs: { file: string; format: InputFormat }[];
  live: LiveInput[];
  /** The feeds' raw events after which the run ends (null: at a signal only). */
  maxEvents: number | null;
  kind: 'trade' | 'quote';
  speed: ReplaySpeed;
  symbol: string | undefined;
  midnightSec: number | undefined;
}

const FORMATS: readonly InputFormat[] = ['csv', 'jsonl', 'lobster'];
const TIME_UNITS: readonly EpochUnit[] = ['s', 'ms', 'us', 'ns'];
/** How many raw events go in between two waits for the writer's queue (and the outbox) to have room. */
const ROOM_EVERY_EVENTS = 1_000;
/** Messages the JetStream outbox may hold before the inputs wait for it (its bound, 200,000, is not reached). */
const OUTBOX_BACKLOG_MAX = 50_000;
/** At the end, how long the outbox may go without storing anything in JetStream before the run fails. */
const PUBLISH_STALL_MS = 30_000;
/** Raw events of the feeds waiting for the pipeline at most; past it they are dropped and counted. */
const LIVE_PENDING_MAX = 100_000;
/** How often the feeds' quiet instruments have their time bars closed by the wall clock. */
const WATERMARK_EVERY_MS = 1_000;
/** A Rialto venue's trades feed, whose messages need no --map. */
const RIALTO_TRADES_PATH = /\/ws\/trades\/[^/]+$/;

function formatOf(file: string, given: string | undefined): InputFormat {
  if (given !== undefined) {
    if ((FORMATS as readonly string[]).includes(given)) return given as InputFormat;
    throw new CliError(`--format "${given}" is not one of ${FORMATS.join(', ')}`);
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new CliError(`cannot tell the format of ${file} from its extension: give --format csv|jsonl|lobster`);
}

/** `a=b,c=d` as pairs; `what` names the option in the message. */
function pairsOf(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    if (eq <= 0 || key === '') throw new CliError(`${what} "${text}": "${part}" is not NAME=VALUE`);
    out[key] = part.slice(eq + 1).trim();
  }
  return out;
}

/** The field mapping of a --connect URL: --map's, else a Rialto venue's trades feed by its path. */
function liveInputOf(url: string, opts: MdRunOptions, kind: 'trade' | 'quote'): LiveInput {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--connect "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
    throw new CliError(`--connect "${url}" is not a ws:// or wss:// URL`);
  let timeUnit: EpochUnit | undefined;
  if (opts.timeUnit !== undefined) {
    if (!(TIME_UNITS as readonly string[]).includes(opts.timeUnit))
      throw new CliError(`--time-unit "${opts.timeUnit}" is not one of ${TIME_UNITS.join(', ')}`);
    timeUnit = opts.timeUnit as EpochUnit;
  }
  let mapping: JsonFeedMapping;
  if (opts.map !== undefined) {
    mapping = {
      kind,
      fields: pairsOf(opts.map, '--map'),
      match: opts.match === undefined ? undefined : pairsOf(opts.match, '--match'),
      timeUnit,
      symbol: opts.instrument,
    };
  } else if (RIALTO_TRADES_PATH.test(parsed.pathname)) {
    if (kind !== 'trade')
      throw new CliError(`--connect ${url}: a Rialto trades feed holds trades (--kind trade)`);
    mapping = RIALTO_TRADES_MAPPING;
  } else {
    throw new CliError(
      `--connect ${url}: give --map (time=FIELD,price=FIELD,size=FIELD,...) for its messages; only a Rialto ` +
        `venue's /ws/trades/SYMBOL needs none`,
    );
  }
  const problem = mappingProblem(mapping);
  if (problem !== null) throw new CliError(`--map: ${problem}`);
  return { url, mapping, subscribe: opts.subscribe };
}

/** The options' meaning, or a CliError naming the option that has none (a usage error). */
export function runSettingsOf(opts: MdRunOptions): RunSettings {
  const inputs = (opts.input ?? []).map((file) => ({ file, format: formatOf(file, opts.format) }));
  if (inputs.length === 0 && (opts.connect ?? []).length === 0)
    throw new CliError('give the files to replay (--input FILE) or the feeds to read (--connect URL)');
  if (opts.kind !== 'trade' && opts.kind !== 'quote')
    throw new CliError(`--kind "${opts.kind}" is not trade or quote`);
  const kind = opts.kind;
  const live = (opts.connect ?? []).map((url) => liveInputOf(url, opts, kind));
  if (live.length === 0) {
    for (const [given, name] of [
      [opts.map, '--map'],
      [opts.match, '--match'],
      [opts.timeUnit, '--time-unit'],
      [opts.subscribe, '--subscribe'],
      [opts.maxEvents, '--max-events'],
    ] as const)
      if (given !== undefined) throw new CliError(`${name} is for feeds: give --connect URL`);
  }
  let maxEvents: number | null = null;
  if (opts.maxEvents !== undefined) {
    maxEvents = /^\d{1,15}$/.test(opts.maxEvents) ? Number(opts.maxEvents) : 0;
    if (maxEvents < 1) throw new CliError(`--max-events "${opts.maxEvents}" is not a whole number from 1`);
  }
  let speed: ReplaySpeed;
  if (opts.speed === 'max') speed = 'max';
  else {
    speed = Number(opts.speed);
    if (!/^\d+(\.\d+)?$/.test(opts.speed) || !(speed > 0))
      throw new CliError(`--speed "${opts.speed}" is not a positive factor (1, 10, ...) or max`);
  }
  let midnightSec: number | undefined;
  if (opts.date !== undefined) {
    const parsed = parseDate(opts.date);
    if (parsed === null) throw new CliError(`--date "${opts.date}" is not a date such as 2024-01-02`);
    midnightSec = parsed;
  }
  if (inputs.some((i) => i.format === 'lobster')) {
    if (opts.instrument === undefined) throw new CliError('a LOBSTER input needs --instrument SYMBOL');
    if (midnightSec === undefined) throw new CliError('a LOBSTER input needs --date YYYY-MM-DD');
    if (opts.kind !== 'trade') throw new CliError('a LOBSTER input replays as trades only (--kind trade)');
  }
  return { inputs, live, maxEvents, kind, speed, symbol: opts.instrument, midnightSec };
}

export interface RunSummary {
  inputs: number;
  lines: number;
  ticksIn: number;
  ticksEnriched: number;
  deadLettered: number;
  deadLetterReasons: Record<string, number>;
  barsByInterval: Record<string, number>;
  ticksWritten: number;
  barsWritten: number;
  /** Rows the store had already (a file run again): not written twice. */
  ticksExisting: number;
  barsExisting: number;
  /** The live feeds (--connect), each with its supervisor's and its messages' counts. */
  feeds: FeedSummary[];
  /** With NATS_URL: the messages JetStream stored, and those it had already (by event id); else null. */
  jetstream: { published: number; duplicates: number } | null;
  stoppedBy: string | null;
}

export interface FeedSummary {
  url: string;
  connects: number;
  disconnects: number;
  failures: number;
  lastError: string | null;
  frames: number;
  events: number;
  malformed: number;
  skipped: number;
  /** Raw events dropped because the pipeline (the store) fell LIVE_PENDING_MAX behind. */
  dropped: number;
}

function symbolOf(raw: RawEvent): string | null {
  const p = raw.payload;
  if (typeof p !== 'object' || p === null || !('symbol' in p)) return null;
  return typeof p.symbol === 'string' ? p.symbol : null;
}

interface StopSignals {
  signal: () => NodeJS.Signals | null;
  /** Resolves at the first signal. */
  signalled: Promise<void>;
  /** Ends the scheduler's waits now, as a signal would (the feeds' back-off, once the run is ending). */
  wake: () => void;
  /** The wall clock, whose waits end early at a signal (a replay at --speed 1 may wait hours for a trade). */
  scheduler: Scheduler;
  off: () => void;
}

/** SIGINT and SIGTERM ask the run to stop (after flushing) instead of killing it. */
function stopSignals(): StopSignals {
  let got: NodeJS.Signals | null = null;
  const sleepers = new Set<() => void>();
  let signalled: () => void = () => undefined;
  const on = (s: NodeJS.Signals): void => {
    got = s;
    signalled();
    for (const wake of sleepers) wake();
  };
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
  return {
    signal: () => got,
    signalled: new Promise<void>((resolve) => (signalled = resolve)),
    wake: () => {
      for (const wake of sleepers) wake();
    },
    scheduler: {
      nowUs: () => wallScheduler.nowUs(),
      sleepUntil: (timeUs) =>
        new Promise<void>((resolve) => {
          if (got !== null) return resolve();
          const wake = (): void => {
            clearTimeout(timer);
            sleepers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, Math.max(0, Math.ceil((timeUs - wallScheduler.nowUs()) / 1000)));
          sleepers.add(wake);
        }),
    },
    off: () => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
    },
  };
}

function checkReadable(file: string): number {
  try {
    return statSync(file).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new CliError(code === 'ENOENT' ? `no such input file: ${file}` : `cannot read ${file}: ${code}`);
  }
}

export async function runPipeline(
  opts: MdRunOptions,
  settings: RunSettings,
  io: ProgramIo,
): Promise<RunSummary> {
  for (const i of settings.inputs) checkReadable(i.file);
  let store: Store | null = null;
  let lock: DirLock | null = null;
  let transports: MarketDataTransports | null = null;
  let feed: VenueFeed | null = null;
  const stop = stopSignals();
  try {
    const config = await loadCliConfig(opts, io);
    const bars = barSpecsOf(config);
    // PGlite has one user at a time: the data directory's lock keeps a venue (or another command) out.
    lock = await lockEmbeddedStore(config, 'rialto md run');
    // As `rialto start` would: the embedded store lives under the data directory, made on a first run.
    if (config.database.kind === 'pglite') mkdirSync(config.database.dir, { recursive: true });
    store = await openStore(config.database, { create: true });
    await migrate(store);
    transports = await MarketDataTransports.open({
      natsUrl: config.natsUrl,
      jetstream: config.jetstream,
      redisUrl: config.redisUrl,
      redisKeyPrefix: config.marketData.redisKeyPrefix,
      store,
      lastSeq: 0,
      journalDir: config.dataDir,
      instruments: new Map(),
      intervals: intervalsOf(bars),
      // The writer below stores the rows, counted in the summary; JetStream's readers get the topics.
      storeConsumers: false,
      log: { warn: (f, m) => io.stderr(`rialto: ${m} ${JSON.stringify(f)}\n`), info: () => undefined },
    });
    let writeFailure: Error | null = null;
    const opened = await VenueFeed.open({
      store,
      projection: transports.projection,
      instruments: [],
      bars,
      latenessUs: config.marketData.pipeline.latenessMs * 1000,
      partitionsAheadDays: config.marketData.pipeline.partitionsAheadDays,
      onError: (e) => {
        writeFailure = e;
        io.stderr(`rialto: writing to the store failed, retrying: ${e.message}\n`);
      },
    });
    feed = opened;
    transports.bindLatest(opened.latest);
    const outbox = transports.mdOutbox;
    if (outbox !== null) {
      // The topics `rialto start` publishes, through its outbox (idempotent by event id: Nats-Msg-Id).
      for (const t of outboxTopics(opened.intervals)) opened.bus.subscribe(t, (m) => void outbox.offer(t, m));
      transports.goLive(null);
    }
    const barsByInterval: Record<string, number> = {};
    for (const interval of opened.intervals) {
      barsByInterval[interval] = 0;
      opened.bus.subscribe(barsTopic(interval), () => void barsByInterval[interval]++);
    }
    const ingest = new Ingest(opened, outbox, stop);
    let lines = 0;
    for (const input of settings.inputs) {
      if (stop.signal() !== null) break;
      lines += await replayFile(ingest, input, settings, stop, io);
    }
    const feeds =
      settings.live.length > 0 && stop.signal() === null
        ? await readFeeds(ingest, settings, stop, io, config.marketData.pipeline.latenessMs * 1000)
        : [];
    opened.pipeline.flush();
    feed = null;
    await opened.close();
    const writer = opened.writer;
    const w = writer?.stats();
    if (writer !== null && (writer.failure !== null || (w?.dropped ?? 0) > 0)) {
      const why = writer.failure?.message ?? (writeFailure as Error | null)?.message ?? 'rows dropped';
      throw new CliError(`writing to the store failed: ${why}`);
    }
    if (outbox !== null) await publishAll(outbox, transports);
    const c = opened.pipeline.counters();
    const reasons: Record<string, number> = {};
    let deadLettered = 0;
    for (const d of opened.stats().deadLetters) {
      reasons[`${d.stage}:${d.reason}`] = d.count;
      deadLettered += d.count;
    }
    const published = outbox?.stats();
    return {
      inputs: settings.inputs.length,
      lines,
      ticksIn: c.raw.in,
      ticksEnriched: c.enrich.out,
      deadLettered,
      deadLetterReasons: reasons,
      barsByInterval,
      ticksWritten: w?.ticksWritten ?? 0,
      barsWritten: w?.barsWritten ?? 0,
      ticksExisting: w?.ticksExisting ?? 0,
      barsExisting: w?.barsExisting ?? 0,
      feeds,
      jetstream:
        published === undefined ? null : { published: published.published, duplicates: published.duplicates },
      stoppedBy: stop.signal(),
    };
  } catch (e) {
    if (e instanceof ConfigError || e instanceof StoreError) throw new CliError(e.message);
    throw e;
  } finally {
    stop.off();
    await feed?.close().catch(() => undefined);
    await transports?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await lock?.release().catch(() => undefined);
  }
}

/**
 * Waits until JetStream stored everything the outbox holds. There is no journal behind this run to publish
 * the rest from later, so a NATS that stays away (no message stored for PUBLISH_STALL_MS) fails the run; the
 * store has the rows, and a run again publishes them (JetStream keeps one of each event id within its window).
 */
async function publishAll(outbox: Outbox, transports: MarketDataTransports): Promise<void> {
  let stored = -1;
  let since = Date.now();
  while (!(await outbox.flushed(1_000))) {
    const s = outbox.stats();
    if (s.published + s.duplicates !== stored) {
      stored = s.published + s.duplicates;
      since = Date.now();
    } else if (Date.now() - since >= PUBLISH_STALL_MS) {
      throw new CliError(
        `${s.queued} messages were not published to NATS JetStream (${transports.natsError ?? 'no answer'}); ` +
          'the store has the rows: run again to publish them (JetStream keeps one of each event id)',
      );
    }
  }
  const dropped = outbox.stats().dropped;
  if (dropped > 0)
    throw new CliError(`${dropped} messages were not published to NATS JetStream (the outbox was full)`);
}

/**
 * Raw events into the feed's pipeline, in order, one run at a time: before a symbol's first event its
 * reference data is loaded (so its ticks are enriched, not flagged missing_metadata) and, every so often, the
 * writer (and the JetStream outbox) is waited for until it has room (backpressure).
 */
class Ingest {
  /** The symbols seen so far (their reference data loaded). */
  readonly known = new Set<string>();
  /** Called before each wait for room (a file's progress). */
  onRoom: () => void = () => undefined;
  private pending: RawEvent[] = [];
  private sinceRoom = 0;
  private running: Promise<void> | null = null;

  constructor(
    readonly feed: VenueFeed,
    private readonly outbox: Outbox | null,
    private readonly stop: StopSignals,
  ) {}

  get queued(): number {
    return this.pending.length;
  }

  push(raw: RawEvent): void {
    this.pending.push(raw);
  }

  /** Runs what is pending, and what comes while it runs; resolves once nothing is. */
  run(): Promise<void> {
    this.running ??= this.drain().finally(() => (this.running = null));
    return this.running;
  }

  private async drain(): Promise<void> {
    const feed = this.feed;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      for (const raw of batch) {
        const symbol = symbolOf(raw);
        if (symbol !== null && !this.known.has(symbol)) {
          this.known.add(symbol);
          await feed.loadReference(symbol);
        }
        feed.pipeline.ingest(raw);
        if (++this.sinceRoom >= ROOM_EVERY_EVENTS) {
          this.sinceRoom = 0;
          this.onRoom();
          await feed.writer?.waitForRoom(ROOM_EVERY_EVENTS);
          const box = this.outbox;
          while (box !== null && box.backlog > OUTBOX_BACKLOG_MAX && this.stop.signal() === null)
            await box.flushed(1_000);
        }
      }
    }
  }
}

/** One file through the feed's pipeline: the replay hands raw events to `ingest`, run before each next line. */
async function replayFile(
  ingest: Ingest,
  input: { file: string; format: InputFormat },
  settings: RunSettings,
  stop: StopSignals,
  io: ProgramIo,
): Promise<number> {
  const bytes = checkReadable(input.file);
  const stream = createReadStream(input.file);
  const progress = io.progress(`replaying ${basename(input.file)}`, bytes, 'bytes');
  ingest.onRoom = () => progress.update(stream.bytesRead);
  async function* lines(): AsyncGenerator<string> {
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      await ingest.run();
      if (stop.signal() !== null) break;
      yield line;
    }
    await ingest.run();
  }
  try {
    const report = await replayLines(
      lines(),
      {
        name: basename(input.file),
        format: input.format,
        kind: settings.kind,
        speed: settings.speed,
        scheduler: stop.scheduler,
        symbol: settings.symbol,
        midnightSec: settings.midnightSec,
      },
      (raw) => ingest.push(raw),
    );
    await ingest.run();
    return report.lines;
  } finally {
    ingest.onRoom = () => undefined;
    stream.destroy();
    progress.stop();
  }
}

/** A connector that says on stderr when it connects, when its connection ends, and why a connect failed. */
function logged(inner: Connector, url: string, io: ProgramIo): Connector {
  let lastFailure: string | null = null;
  return {
    name: inner.name,
    connect: async (onEvent) => {
      try {
        const connection = await inner.connect(onEvent);
        lastFailure = null;
        io.stderr(`rialto: feed ${url}: connected\n`);
        void connection.closed.then((why) => io.stderr(`rialto: feed ${url}: disconnected (${why})\n`));
        return connection;
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        // Once per run of the same failure: a feed away for an hour is one line, not one per attempt.
        if (why !== lastFailure) io.stderr(`rialto: feed ${url}: cannot connect (${why}); retrying\n`);
        lastFailure = why;
        throw e;
      }
    },
  };
}

/**
 * The live feeds, each kept connected by a supervisor (reconnecting with back-off), until a signal or
 * --max-events; their events go through `ingest` as they come. Every second the time bars of their quiet
 * instruments close on the wall clock (the watermark to now − lateness), as `rialto start` closes its own.
 */
async function readFeeds(
  ingest: Ingest,
  settings: RunSettings,
  stop: StopSignals,
  io: ProgramIo,
  latenessUs: number,
): Promise<FeedSummary[]> {
  let events = 0;
  /** The feeds' instruments, whose time bars the wall clock closes (not the files'). */
  const symbols = new Set<string>();
  let failure: Error | null = null;
  let enough: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (enough = resolve));
  const fail = (e: unknown): void => {
    failure ??= e instanceof Error ? e : new Error(String(e));
    enough();
  };
  const feeds = settings.live.map((live) => {
    const connector = new WebSocketConnector({
      url: live.url,
      mapping: live.mapping,
      subscribe: live.subscribe,
      scheduler: stop.scheduler,
    });
    const summary = { dropped: 0 };
    const sink = (raw: RawEvent): void => {
      if (ingest.queued >= LIVE_PENDING_MAX) {
        summary.dropped++;
        return;
      }
      ingest.push(raw);
      const symbol = symbolOf(raw);
      if (symbol !== null) symbols.add(symbol);
      if (settings.maxEvents !== null && ++events >= settings.maxEvents) enough();
      ingest.run().catch(fail);
    };
    const supervisor = new FeedSupervisor(logged(connector, live.url, io), sink, stop.scheduler);
    return { live, connector, supervisor, summary };
  });
  const clock = setInterval(() => {
    void ingest
      .run()
      .then(() => {
        const watermarkUs = wallScheduler.nowUs() - latenessUs;
        for (const symbol of symbols) ingest.feed.pipeline.advanceWatermark(symbol, watermarkUs);
      })
      .catch(fail);
  }, WATERMARK_EVERY_MS);
  try {
    const running = feeds.map((f) => f.supervisor.start());
    await Promise.race([stop.signalled, ended, Promise.all(running)]);
  } finally {
    clearInterval(clock);
    // Stopped first, then woken: a supervisor waiting to reconnect ends instead of connecting again.
    const stopping = feeds.map((f) => f.supervisor.stop());
    stop.wake();
    await Promise.all(stopping);
  }
  await ingest.run();
  if (failure !== null) throw failure as Error;
  return feeds.map(({ live, connector, supervisor, summary }) => ({
    url: live.url,
    connects: supervisor.stats.connects,
    disconnects: supervisor.stats.disconnects,
    failures: supervisor.stats.failures,
    lastError: supervisor.stats.lastError,
    ...connector.stats,
    dropped: summary.dropped,
  }));
}
