/**
 * `rialto md run`: the market data pipeline on its own, without the venue. Files (CSV, JSONL, LOBSTER) are
 * replayed at a speed factor through the pipeline `rialto start` runs (src/marketdata/venue-feed.ts: normalize
 * → enrich with the store's reference data → bars → latest prices → ticks and bars into the store), configured
 * as `rialto start` is (--config, DATABASE_URL, REDIS_URL). It ends when the inputs are exhausted, or at
 * SIGINT/SIGTERM, flushes the open bars and the writer, and prints one JSON line of counts on stdout.
 */
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { barSpecsOf } from '../gateway/bar-specs.js';
import {
  MarketDataTransports,
  VenueFeed,
  barsTopic,
  parseDate,
  replayLines,
  wallScheduler,
  type FileReplayOptions,
  type RawEvent,
  type ReplaySpeed,
  type Scheduler,
} from '../marketdata/index.js';
import { ConfigError, loadConfigOrThrow, type VenueConfig } from '../ops/config/index.js';
// The store's modules, not its index: that would load both adapters' drivers where one is opened.
import { migrate } from '../store/migrations.js';
import { openStore } from '../store/open.js';
import { StoreError, type Store } from '../store/port.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { configFileOf } from './venue.js';

export type InputFormat = FileReplayOptions['format'];

export interface MdRunOptions {
  input: string[];
  format?: string;
  kind: string;
  speed: string;
  instrument?: string;
  date?: string;
  config?: string;
}

export interface RunSettings {
  inputs: { file: string; format: InputFormat }[];
  kind: 'trade' | 'quote';
  speed: ReplaySpeed;
  symbol: string | undefined;
  midnightSec: number | undefined;
}

const FORMATS: readonly InputFormat[] = ['csv', 'jsonl', 'lobster'];
/** How many raw events go in between two waits for the writer's queue to have room. */
const ROOM_EVERY_EVENTS = 1_000;

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

/** The options' meaning, or a CliError naming the option that has none (a usage error). */
export function runSettingsOf(opts: MdRunOptions): RunSettings {
  const inputs = opts.input.map((file) => ({ file, format: formatOf(file, opts.format) }));
  if (opts.kind !== 'trade' && opts.kind !== 'quote')
    throw new CliError(`--kind "${opts.kind}" is not trade or quote`);
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
  return { inputs, kind: opts.kind, speed, symbol: opts.instrument, midnightSec };
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
  stoppedBy: string | null;
}

function symbolOf(raw: RawEvent): string | null {
  const p = raw.payload;
  if (typeof p !== 'object' || p === null || !('symbol' in p)) return null;
  return typeof p.symbol === 'string' ? p.symbol : null;
}

interface StopSignals {
  signal: () => NodeJS.Signals | null;
  /** The wall clock, whose waits end early at a signal (a replay at --speed 1 may wait hours for a trade). */
  scheduler: Scheduler;
  off: () => void;
}

/** SIGINT and SIGTERM ask the run to stop (after flushing) instead of killing it. */
function stopSignals(): StopSignals {
  let got: NodeJS.Signals | null = null;
  const sleepers = new Set<() => void>();
  const on = (s: NodeJS.Signals): void => {
    got = s;
    for (const wake of sleepers) wake();
  };
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
  return {
    signal: () => got,
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

function loadConfig(opts: MdRunOptions, io: ProgramIo): VenueConfig {
  const loaded = loadConfigOrThrow({
    file: configFileOf(opts.config, process.cwd()),
    env: process.env,
    cwd: process.cwd(),
  });
  for (const w of loaded.warnings) io.stderr(`rialto: warning: ${w}\n`);
  return loaded.config;
}

export async function runPipeline(
  opts: MdRunOptions,
  settings: RunSettings,
  io: ProgramIo,
): Promise<RunSummary> {
  for (const i of settings.inputs) checkReadable(i.file);
  let store: Store | null = null;
  let transports: MarketDataTransports | null = null;
  let feed: VenueFeed | null = null;
  const stop = stopSignals();
  try {
    const config = loadConfig(opts, io);
    if (config.natsUrl !== null)
      io.stderr('rialto: warning: md run does not publish to NATS JetStream yet; NATS_URL is ignored\n');
    const bars = barSpecsOf(config);
    // As `rialto start` would: the embedded store lives under the data directory, made on a first run.
    if (config.database.kind === 'pglite') mkdirSync(config.database.dir, { recursive: true });
    store = await openStore(config.database, { create: true });
    await migrate(store);
    transports = await MarketDataTransports.open({
      natsUrl: null,
      jetstream: config.jetstream,
      redisUrl: config.redisUrl,
      redisKeyPrefix: config.marketData.redisKeyPrefix,
      store,
      lastSeq: 0,
      journalDir: config.dataDir,
      instruments: new Map(),
      intervals: null,
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
    const barsByInterval: Record<string, number> = {};
    for (const interval of opened.intervals) {
      barsByInterval[interval] = 0;
      opened.bus.subscribe(barsTopic(interval), () => void barsByInterval[interval]++);
    }
    let lines = 0;
    for (const input of settings.inputs) {
      if (stop.signal() !== null) break;
      lines += await replayFile(opened, input, settings, stop, io);
    }
    opened.pipeline.flush();
    feed = null;
    await opened.close();
    const writer = opened.writer;
    const w = writer?.stats();
    if (writer !== null && (writer.failure !== null || (w?.dropped ?? 0) > 0)) {
      const why = writer.failure?.message ?? (writeFailure as Error | null)?.message ?? 'rows dropped';
      throw new CliError(`writing to the store failed: ${why}`);
    }
    const c = opened.pipeline.counters();
    const reasons: Record<string, number> = {};
    let deadLettered = 0;
    for (const d of opened.stats().deadLetters) {
      reasons[`${d.stage}:${d.reason}`] = d.count;
      deadLettered += d.count;
    }
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
  }
}

/**
 * One file through the feed's pipeline. The replay hands raw events to a queue; before each next line the
 * queue runs through the pipeline, after the reference data of a symbol seen first is loaded (so its ticks are
 * enriched, not flagged missing_metadata) and, every so often, after the writer has room (backpressure).
 */
async function replayFile(
  feed: VenueFeed,
  input: { file: string; format: InputFormat },
  settings: RunSettings,
  stop: StopSignals,
  io: ProgramIo,
): Promise<number> {
  const bytes = checkReadable(input.file);
  const stream = createReadStream(input.file);
  const progress = io.progress(`replaying ${basename(input.file)}`, bytes, 'bytes');
  const known = new Set<string>();
  let pending: RawEvent[] = [];
  let sinceRoom = 0;
  const run = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    for (const raw of batch) {
      const symbol = symbolOf(raw);
      if (symbol !== null && !known.has(symbol)) {
        known.add(symbol);
        await feed.loadReference(symbol);
      }
      feed.pipeline.ingest(raw);
      if (++sinceRoom >= ROOM_EVERY_EVENTS && feed.writer !== null) {
        sinceRoom = 0;
        progress.update(stream.bytesRead);
        await feed.writer.waitForRoom(ROOM_EVERY_EVENTS);
      }
    }
  };
  async function* lines(): AsyncGenerator<string> {
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      await run();
      if (stop.signal() !== null) break;
      yield line;
    }
    await run();
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
      (raw) => void pending.push(raw),
    );
    await run();
    return report.lines;
  } finally {
    stream.destroy();
    progress.stop();
  }
}
