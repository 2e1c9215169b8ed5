/**
 * The trading API's benchmark (issue 5): the venue as `rialto start` runs it, in a child process, driven
 * over loopback from this one. Prints one JSON line.
 *
 *   npm run bench:api [-- --seconds S] [--rate N] [--rate-seconds S] [--concurrency N] [--accounts N]
 *                      [--log-level L] [--no-client-ids] [--postgres URL] [--server-flags "FLAGS"]
 *                      [--cpu-prof DIR] [--keep] [--nats URL] [--redis URL] [--only rest|ws]
 *                      [--server-env "K=V ..."]
 *
 * 1. Set-up: a fresh data directory; the admin key and one trader key per account written into its store
 *    before the venue starts (as `rialto keys create` would); then `node dist/src/cli/main.js start` with the
 *    configuration in its environment (127.0.0.1, a free port, PGlite; or PostgreSQL with `--postgres URL`:
 *    a database made for the run through that URL's server, dropped after); accounts created and funded
 *    through the admin API.
 * 2. Saturation (`restOrdersPerSec`): `--concurrency` requests in flight (closed loops, one keep-alive
 *    connection each) for `--seconds` after a warm-up; order operations answered per second.
 * 3. Fixed rate (`ackLatencyAt10kMs`): an open loop at `--rate` operations per second (default 10,000, the
 *    default MAX_ORDERS_PER_SECOND) for `--rate-seconds`; latency from each operation's scheduled send time
 *    to its answer (an acknowledgement: the command durable in the journal), p50, p99 and p99.9.
 *
 * The order mix (bench/api-load.ts): resting limit orders, crossing limit and IOC orders, and cancels of the
 * session's resting orders, over several accounts and both default instruments; placements carry a client
 * order id (--no-client-ids: none). An "order operation" is a placement or a cancel.
 *
 * Rate limits stay on, as in production, so their cost is measured: the per-account order limit is the
 * default (10,000 per second per account: the load is spread over the accounts, below it), and the per-IP
 * limit is raised to its maximum (10,000,000 a minute), since every request of the bench comes from
 * 127.0.0.1. The line says so (`rateLimits`).
 *
 * 4. The same two runs over WebSocket (`wsOrdersPerSec`, `wsAckLatencyAt10kMs`; bench/api-ws-driver.ts): one
 *    `/ws` connection per account, requests pipelined on it, `--ws-concurrency` operations in flight in all
 *    (default 1,024), on a venue started afresh so that neither transport inherits the other's book.
 * `ackLatencyAt10kMs` is REST's; the WebSocket figure has its own key. `--only` runs one transport (the
 * other's figures are then null). `--server-env` adds settings to the venue's environment
 * (`RIALTO_MD_PIPELINE_ENABLED=false`, say, to measure the market data pipeline's share).
 *
 * Each measured part also reports the venue's own acknowledgement latency (`serverAckLatency`, from its
 * `rialto_order_ack_latency_seconds` histogram: from an order read to its answer written; the bucket bounds
 * its p50, p99 and slowest fall under), beside the bench's, its main thread's event loop delay
 * (`eventLoopLagMs`: p99 and max, from prom-client's default metrics), and its journal's group commits
 * (`journal`: batches, fsyncs, records per fsync, the mean fsync, the shares over 1 and 2 ms, how many took over
 * 10 ms and the bucket bound the slowest falls under, from `rialto_journal_sync_duration_seconds`).
 *
 * With `--server-flags=--trace-gc` each measured part also reports the venue's garbage collections during it,
 * per thread (`gc`: the main thread's under `main`, the workers' by isolate; count and pauses of full and young
 * collections, the largest incremental marking step, the heap after the last full collection, and what the
 * thread allocated per second, which divided by the part's rate is its bytes per operation), read from the
 * venue's output; and always its resident memory at the end (`rssMb`).
 *
 * `--nats URL` and `--redis URL` run the venues with NATS_URL and REDIS_URL (streams, subjects and keys of the
 * run's own, deleted after): the venue's events and market data go to JetStream and Redis while it trades;
 * `transports` then has what each venue published and what it still held when the run ended.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { connect as natsConnect } from 'nats';
import pg from 'pg';
import { createKey } from '../src/gateway/index.js';
import { DirLock } from '../src/journal/index.js';
import { CONFIG_LIMITS, loadConfigOrThrow } from '../src/ops/index.js';
import { migrate, openStore } from '../src/store/index.js';
import { DRIVERS, type DriverFactory, type OrderDriver, type Session } from './api-driver.js';
import { wsDriver } from './api-ws-driver.js';
import { OrderMix, fixedRate, saturate, type InstrumentLoad, type MixOptions } from './api-load.js';
import { benchArgs } from './common.js';

/** The targets on a 2-core machine. */
const TARGETS = { wsOrdersPerSec: 50_000, restOrdersPerSec: 10_000, ackP99Ms: 2 } as const;

/** The default instruments (rialto.example.yaml), around plausible prices. */
const INSTRUMENTS: readonly InstrumentLoad[] = [
  {
    symbol: 'BTC-USDT',
    midTicks: 6_500_000,
    priceDecimals: 2,
    qtyStepLots: 10,
    qtyStepsMax: 10,
    qtyDecimals: 4,
  },
  {
    symbol: 'ETH-USDT',
    midTicks: 300_000,
    priceDecimals: 2,
    qtyStepLots: 10,
    qtyStepsMax: 10,
    qtyDecimals: 3,
  },
];
const DEPOSITS = [
  ['USDT', '1000000000'],
  ['BTC', '100000'],
  ['ETH', '1000000'],
] as const;

const CLI = resolve('dist/src/cli/main.js');
const START_TIMEOUT_MS = 120_000;

interface Args {
  seconds: number;
  warmupSeconds: number;
  rate: number;
  rateSeconds: number;
  concurrency: number;
  /** Operations in flight over WebSocket (pipelined on one connection per account). */
  wsConcurrency: number;
  accounts: number;
  logLevel: string;
  clientOrderIds: boolean;
  cpuProfDir: string | null;
  /** Node flags for the venue's process (`--single-threaded-gc`, say), space-separated. */
  serverFlags: string[];
  keep: boolean;
  /** A PostgreSQL server's URL (its database only to connect to): the run's own database is made there. */
  postgres: string | null;
  /** NATS and Redis URLs the venues publish to (null: none). */
  nats: string | null;
  redis: string | null;
  /** Run one transport only (null: both). */
  only: 'rest' | 'ws' | null;
  /** Extra environment of the venue (configuration), after the bench's own. */
  serverEnv: Record<string, string>;
}

function args(): Args {
  const { values } = benchArgs('api', {
    options: {
      seconds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      rate: { type: 'string', default: '10000' },
      'rate-seconds': { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '128' },
      'ws-concurrency': { type: 'string', default: '1024' },
      accounts: { type: 'string', default: '8' },
      'log-level': { type: 'string', default: 'info' },
      'no-client-ids': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      postgres: { type: 'string' },
      'server-flags': { type: 'string', default: '' },
      keep: { type: 'boolean', default: false },
      nats: { type: 'string' },
      redis: { type: 'string' },
      only: { type: 'string' },
      'server-env': { type: 'string', default: '' },
    },
  });
  const only = values.only ?? null;
  if (only !== null && only !== 'rest' && only !== 'ws') throw new Error('--only must be rest or ws');
  const whole = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!(Number.isSafeInteger(n) && n >= min)) throw new Error(`--${name} must be a whole number >= ${min}`);
    return n;
  };
  return {
    seconds: whole('seconds', values.seconds, 1),
    warmupSeconds: whole('warmup', values.warmup, 0),
    rate: whole('rate', values.rate, 1),
    rateSeconds: whole('rate-seconds', values['rate-seconds'], 1),
    concurrency: whole('concurrency', values.concurrency, 1),
    wsConcurrency: whole('ws-concurrency', values['ws-concurrency'], 1),
    accounts: whole('accounts', values.accounts, 1),
    logLevel: values['log-level'],
    clientOrderIds: !values['no-client-ids'],
    cpuProfDir: values['cpu-prof'] === undefined ? null : resolve(values['cpu-prof']),
    keep: values.keep,
    postgres: values.postgres ?? null,
    nats: values.nats ?? null,
    redis: values.redis ?? null,
    serverFlags: values['server-flags'].split(' ').filter((f) => f !== ''),
    only,
    serverEnv: Object.fromEntries(
      values['server-env']
        .split(' ')
        .filter((kv) => kv !== '')
        .map((kv) => {
          const at = kv.indexOf('=');
          if (at <= 0) throw new Error(`--server-env: ${kv} is not NAME=VALUE`);
          return [kv.slice(0, at), kv.slice(at + 1)];
        }),
    ),
  };
}

/** The venue's configuration, as environment variables (the same for the keys written here and the child). */
function venueEnv(
  dataDir: string,
  a: Args,
  databaseUrl: string | null,
  prefix: string,
): Record<string, string> {
  return {
    ...(databaseUrl === null ? {} : { DATABASE_URL: databaseUrl }),
    ...(a.nats === null
      ? {}
      : {
          NATS_URL: a.nats,
          RIALTO_NATS_STREAM_PREFIX: `${prefix.toUpperCase()}_`,
          RIALTO_NATS_SUBJECT_PREFIX: `${prefix}.`,
        }),
    ...(a.redis === null ? {} : { REDIS_URL: a.redis, RIALTO_MD_REDIS_PREFIX: `${prefix}:` }),
    RIALTO_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: a.logLevel,
    RIALTO_REQUESTS_PER_MINUTE_PER_IP: String(CONFIG_LIMITS.requestsPerMinutePerIpMax),
    ...a.serverEnv,
  };
}

/** The admin key and one trader key per account, written into the store before the venue starts. */
async function writeKeys(dataDir: string, env: Record<string, string>, accounts: number) {
  const config = loadConfigOrThrow({ file: null, env, cwd: dataDir }).config;
  const lock = await DirLock.acquire(dataDir, 'bench:api keys');
  const store = await openStore(config.database, { create: true });
  try {
    await migrate(store);
    const admin = (await createKey(store, { role: 'admin', accountIds: [] })).token;
    const sessions: Session[] = [];
    for (let id = 1; id <= accounts; id++) {
      const t = await createKey(store, { role: 'trader', accountIds: [id] });
      sessions.push({ accountId: id, key: t.token });
    }
    return { admin, sessions, config };
  } finally {
    await store.close();
    await lock.release();
  }
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
}

/** Starts `rialto start` with its output in files of the data directory; resolves with its URL. */
async function startServer(root: string, env: Record<string, string>, a: Args): Promise<Server> {
  const nodeArgs: string[] = [...a.serverFlags];
  if (a.cpuProfDir !== null) {
    mkdirSync(a.cpuProfDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${a.cpuProfDir}`);
  }
  const outPath = join(root, 'venue.out');
  const out = openSync(outPath, 'w');
  const err = openSync(join(root, 'venue.err'), 'w');
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'start'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', out, err],
  });
  closeSync(out);
  closeSync(err);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `the venue exited (${child.exitCode}): ${readFileSync(join(root, 'venue.err'), 'utf8')}`,
      );
    }
    const m = /venue listening on (http:\/\/[0-9.:]+)/.exec(readFileSync(outPath, 'utf8'));
    if (m !== null) return { child, url: m[1] };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  throw new Error('the venue did not start in time');
}

async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise<void>((r) => s.child.once('exit', () => r()));
  s.child.kill('SIGTERM');
  await exited;
}

async function adminPost(url: string, admin: string, path: string, body: unknown): Promise<void> {
  const r = await fetch(url + path, {
    method: 'POST',
    headers: { 'x-api-key': admin, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
}

async function fund(url: string, admin: string, sessions: readonly Session[]): Promise<void> {
  for (const s of sessions) {
    await adminPost(url, admin, '/api/v1/admin/accounts', { account_id: s.accountId });
    for (const [asset, amount] of DEPOSITS) {
      await adminPost(url, admin, `/api/v1/admin/accounts/${s.accountId}/deposits`, { asset, amount });
    }
  }
}

/**
 * A process's CPU time so far (user + system), in microseconds, from /proc (Linux); with `thread`, that thread's
 * only (the main thread's id is the process's).
 */
function cpuUsOf(pid: number, thread: number | null = null): number {
  const stat = readFileSync(
    thread === null ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
    'utf8',
  );
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the file (utime, stime), in clock ticks of 1/100 s on Linux.
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Every thread's CPU time so far (µs), by thread id, in the order of their ids (creation, mostly). */
function threadsCpuUs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  const ids = readdirSync(`/proc/${pid}/task`)
    .map(Number)
    .sort((x, y) => x - y);
  for (const tid of ids) {
    try {
      out.set(tid, cpuUsOf(pid, tid));
    } catch {
      // Ended meanwhile.
    }
  }
  return out;
}

/** CPU microseconds per operation of the venue and of this process over a measured part. */
function cpuMeter(pid: number) {
  let threads0 = new Map<number, number>();
  let threadsUs = new Map<number, number>();
  let server0 = 0;
  let bench0 = process.cpuUsage();
  let main0 = 0;
  let serverUs = 0;
  let mainUs = 0;
  let benchUs = 0;
  return {
    on: (phase: 'start' | 'end'): void => {
      if (phase === 'start') {
        server0 = cpuUsOf(pid);
        main0 = cpuUsOf(pid, pid);
        threads0 = threadsCpuUs(pid);
        bench0 = process.cpuUsage();
      } else {
        serverUs = cpuUsOf(pid) - server0;
        mainUs = cpuUsOf(pid, pid) - main0;
        threadsUs = new Map([...threadsCpuUs(pid)].map(([tid, us]) => [tid, us - (threads0.get(tid) ?? 0)]));
        const b = process.cpuUsage(bench0);
        benchUs = b.user + b.system;
      }
    },
    perOp: (ops: number) => ({
      serverCpuUsPerOp: Math.round(serverUs / ops),
      // The venue's main thread alone (fastify, ws, views, audit): the one that saturates first.
      serverMainThreadCpuUsPerOp: Math.round(mainUs / ops),
      // Each thread that took at least 1 µs per operation, by thread id (the main thread's is the pid; the
      // workers' ids follow in the order they started: the engine, PGlite, the audit file).
      serverThreadsCpuUsPerOp: Object.fromEntries(
        [...threadsUs]
          .filter(([, us]) => us / ops >= 1)
          .map(([tid, us]) => [tid === pid ? 'main' : String(tid), Math.round(us / ops)]),
      ),
      benchCpuUsPerOp: Math.round(benchUs / ops),
    }),
  };
}

/** One thread's collections over a measured part, from `--trace-gc` lines. */
interface GcFigures {
  markCompacts: number;
  markCompactMsTotal: number;
  markCompactMsMax: number;
  /** The largest incremental marking step a full collection reported ("biggest step"). */
  markingStepMsMax: number;
  scavenges: number;
  scavengeMsTotal: number;
  scavengeMsMax: number;
  /** The heap after the last full collection of the part (MB), null if none ran. */
  heapAfterLastMarkCompactMb: number | null;
  /**
   * What the thread allocated per second between its first and last collection of the part (MB/s: each
   * collection's heap before, less the previous one's after), null with fewer than two collections. Divided by
   * the part's rate, it is the bytes an operation allocates, which the machine's load does not change.
   */
  allocatedMbPerSec: number | null;
}

/** Per isolate, while reading a part's lines: the last collection's time and heap after it. */
interface GcCursor {
  firstMs: number;
  lastMs: number;
  lastAfterMb: number;
  allocatedMb: number;
}

const GC_LINE =
  /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: (Mark-Compact|Scavenge)\S* ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms(?:.*?biggest step ([\d.]+) ms)?/;

/** The `--trace-gc` lines of `text`, per isolate. */
export function gcFigures(text: string): Record<string, GcFigures> {
  const byIsolate = new Map<string, GcFigures>();
  const cursors = new Map<string, GcCursor>();
  for (const line of text.split('\n')) {
    const m = GC_LINE.exec(line);
    if (m === null) continue;
    const [timeMs, beforeMb, afterMb] = [Number(m[2]), Number(m[4]), Number(m[5])];
    const c = cursors.get(m[1]);
    if (c === undefined) {
      cursors.set(m[1], { firstMs: timeMs, lastMs: timeMs, lastAfterMb: afterMb, allocatedMb: 0 });
    } else {
      c.allocatedMb += Math.max(0, beforeMb - c.lastAfterMb);
      c.lastMs = timeMs;
      c.lastAfterMb = afterMb;
    }
    let g = byIsolate.get(m[1]);
    if (g === undefined) {
      g = {
        markCompacts: 0,
        markCompactMsTotal: 0,
        markCompactMsMax: 0,
        markingStepMsMax: 0,
        scavenges: 0,
        scavengeMsTotal: 0,
        scavengeMsMax: 0,
        heapAfterLastMarkCompactMb: null,
        allocatedMbPerSec: null,
      };
      byIsolate.set(m[1], g);
    }
    const ms = Number(m[6]);
    if (m[3] === 'Mark-Compact') {
      g.markCompacts++;
      g.markCompactMsTotal = Math.round((g.markCompactMsTotal + ms) * 100) / 100;
      g.markCompactMsMax = Math.max(g.markCompactMsMax, ms);
      g.markingStepMsMax = Math.max(g.markingStepMsMax, Number(m[7] ?? 0));
      g.heapAfterLastMarkCompactMb = afterMb;
    } else {
      g.scavenges++;
      g.scavengeMsTotal = Math.round((g.scavengeMsTotal + ms) * 100) / 100;
      g.scavengeMsMax = Math.max(g.scavengeMsMax, ms);
    }
  }
  for (const [isolate, c] of cursors) {
    const g = byIsolate.get(isolate) as GcFigures;
    const span = c.lastMs - c.firstMs;
    g.allocatedMbPerSec = span > 0 ? Math.round((c.allocatedMb / span) * 1000 * 10) / 10 : null;
  }
  return Object.fromEntries(byIsolate);
}

/** The venue's output written between a part's start and end, for its `--trace-gc` lines. */
function outputMeter(outPath: string) {
  let from = 0;
  let text = '';
  /** The main thread's isolate, read once from the output's start (null until a collection is found). */
  let main: string | null = null;
  return {
    on: (phase: 'start' | 'end'): void => {
      const size = statSync(outPath).size;
      if (phase === 'start') {
        from = size;
        return;
      }
      const buf = Buffer.alloc(size - from);
      const fd = openSync(outPath, 'r');
      try {
        readSync(fd, buf, 0, buf.length, from);
      } finally {
        closeSync(fd);
      }
      text = buf.toString('utf8');
    },
    /** The part's figures per thread, the main thread's under `main` (the isolate of the output's first line). */
    gc: (): Record<string, GcFigures> => {
      const byIsolate = gcFigures(text);
      main ??= firstGcIsolate(outPath);
      return Object.fromEntries(
        Object.entries(byIsolate).map(([isolate, g]) => [isolate === main ? 'main' : isolate, g]),
      );
    },
  };
}

/**
 * The isolate of the first `--trace-gc` line of the venue's output: its main thread's, which starts (and
 * collects) before any worker exists. A part's own lines may start with a worker's.
 */
function firstGcIsolate(outPath: string): string | null {
  const buf = Buffer.alloc(Math.min(statSync(outPath).size, 1 << 20));
  const fd = openSync(outPath, 'r');
  try {
    readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  for (const line of buf.toString('utf8').split('\n')) {
    const m = GC_LINE.exec(line);
    if (m !== null) return m[1];
  }
  return null;
}

/** A process's resident memory (MB), from /proc (Linux). */
function rssMbOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Math.round(Number(m[1]) / 1024);
}

function mixOptions(a: Args, seed: number): MixOptions {
  return {
    sessions: a.accounts,
    instruments: INSTRUMENTS,
    cancelShare: 0.35,
    crossShare: 0.15,
    spreadTicks: 50,
    clientOrderIds: a.clientOrderIds,
    seed,
  };
}

/**
 * The venue's /metrics now: a sample's value by metric name (its first sample, whatever its labels, unless `le`
 * names a histogram bucket's bound; NaN if none).
 */
async function scrape(url: string): Promise<(name: string, le?: string) => number> {
  return sampleOf(await (await fetch(`${url}/metrics`)).text());
}

function sampleOf(text: string): (name: string, le?: string) => number {
  return (name, le) => {
    const labels =
      le === undefined
        ? '(?:\\{[^}]*\\})?'
        : `\\{(?:[^}]*,)?le="${le.replace(/[.+]/g, '\\$&')}"(?:,[^}]*)?\\}`;
    const m = new RegExp(`^${name}${labels} (\\S+)$`, 'm').exec(text);
    return m === null ? NaN : Number(m[1]);
  };
}

/**
 * The venue's background work left at the end of a part, from /metrics: audit events not yet in
 * `audit_events`, market data rows not yet stored.
 */
async function backlogOf(url: string): Promise<Record<string, number>> {
  const value = await scrape(url);
  return {
    auditProjectionLagEvents: value('rialto_audit_projection_lag_events'),
    mdStoreQueueRows: value('rialto_md_store_queue_rows'),
  };
}

/** The journal's counters from /metrics (commands written, group commits and the time in their fsyncs). */
interface JournalCounts {
  records: number;
  batches: number;
  syncs: number;
  syncSeconds: number;
  /** fsyncs of at most 1 ms and of at most 2 ms (the duration histogram's buckets). */
  syncsUpTo1ms: number;
  syncsUpTo2ms: number;
  /** The venue's acknowledgement-latency histogram, cumulative counts by bucket bound (seconds, as text). */
  ackBuckets: Map<string, number>;
  /** The journal's fsync-duration histogram, the same way. */
  syncBuckets: Map<string, number>;
  /**
   * The main thread's event loop delay since the scrape before (prom-client's default metrics reset their
   * histogram at each scrape): p99 and max, seconds.
   */
  eventLoopLagP99: number;
  eventLoopLagMax: number;
}

/** A histogram's cumulative bucket counts by bound (seconds, as text), summed over its label sets. */
function bucketsOf(text: string, histogram: string): Map<string, number> {
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(
    new RegExp(`^${histogram}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'),
  )) {
    buckets.set(m[1], (buckets.get(m[1]) ?? 0) + Number(m[2]));
  }
  return buckets;
}

async function journalCountsOf(url: string): Promise<JournalCounts> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = sampleOf(text);
  return {
    ackBuckets: bucketsOf(text, 'rialto_order_ack_latency_seconds'),
    syncBuckets: bucketsOf(text, 'rialto_journal_sync_duration_seconds'),
    eventLoopLagP99: value('nodejs_eventloop_lag_p99_seconds'),
    eventLoopLagMax: value('nodejs_eventloop_lag_max_seconds'),
    records: value('rialto_journal_records_total'),
    batches: value('rialto_engine_submits_total'),
    syncs: value('rialto_journal_syncs_total'),
    syncSeconds: value('rialto_journal_sync_seconds_total'),
    syncsUpTo1ms: value('rialto_journal_sync_duration_seconds_bucket', '0.001'),
    syncsUpTo2ms: value('rialto_journal_sync_duration_seconds_bucket', '0.002'),
  };
}

/**
 * A part's batches (the engine's messages from the gateway) and group commits: how many, the commands each
 * commit carried on average, and the mean fsync's time (the
 * counters' differences over the part; null when either read failed).
 */
function journalFigures(at0: JournalCounts | null, at1: JournalCounts | null) {
  if (at0 === null || at1 === null) return null;
  const syncs = at1.syncs - at0.syncs;
  if (!Number.isFinite(syncs)) return null;
  return {
    batches: at1.batches - at0.batches,
    syncs,
    recordsPerSync: syncs > 0 ? Math.round(((at1.records - at0.records) / syncs) * 10) / 10 : null,
    meanSyncUs: syncs > 0 ? Math.round(((at1.syncSeconds - at0.syncSeconds) / syncs) * 1e6) : null,
    // The share of the part's fsyncs that took longer than 1 ms and than 2 ms: an acknowledgement waits for one.
    syncsOver1msShare: syncs > 0 ? share(syncs - (at1.syncsUpTo1ms - at0.syncsUpTo1ms), syncs) : null,
    syncsOver2msShare: syncs > 0 ? share(syncs - (at1.syncsUpTo2ms - at0.syncsUpTo2ms), syncs) : null,
    // The slow tail, which an acknowledgement's p99 can follow: fsyncs over 10 ms, and the bucket bound the
    // slowest one falls under (null: past the last bound, or none).
    syncsOver10ms: syncs > 0 ? syncs - bucketDelta(at0.syncBuckets, at1.syncBuckets, '0.01') : null,
    slowestSyncAtMostMs: syncs > 0 ? slowestBoundMs(at0.syncBuckets, at1.syncBuckets) : null,
  };
}

const bucketDelta = (at0: Map<string, number>, at1: Map<string, number>, le: string): number =>
  (at1.get(le) ?? 0) - (at0.get(le) ?? 0);

/** The smallest bucket bound (ms) under which all of a part's observations fall; null when only +Inf holds them. */
function slowestBoundMs(at0: Map<string, number>, at1: Map<string, number>): number | null {
  const all = bucketDelta(at0, at1, '+Inf');
  const le = [...at1.keys()].find((b) => bucketDelta(at0, at1, b) >= all) ?? '+Inf';
  return le === '+Inf' ? null : Number(le) * 1000;
}

/**
 * How long the venue's main thread kept events waiting during a part (the scrape at its start reset the
 * histogram): p99 and max of the event loop's delay, in ms. A stall of the main thread shows here as it does in
 * every answer waiting behind it.
 */
function eventLoopLagOf(at1: JournalCounts | null) {
  if (at1 === null || !Number.isFinite(at1.eventLoopLagMax)) return null;
  const ms = (s: number) => Math.round(s * 1e4) / 10;
  return { p99: ms(at1.eventLoopLagP99), max: ms(at1.eventLoopLagMax) };
}

/**
 * The venue's own view of a part's acknowledgement latency (from an order's frame or request read to its
 * answer written), from its histogram's buckets: how many, the share over 2 ms, and the bucket bounds the p50
 * and p99 fall under. Against the bench's latency (from the scheduled send), the difference is the time in
 * the bench, the sockets and the venue's event loop before it reads the order.
 */
function serverAckFigures(at0: JournalCounts | null, at1: JournalCounts | null) {
  if (at0 === null || at1 === null) return null;
  const bounds = [...at1.ackBuckets.keys()];
  const countOf = (le: string) => bucketDelta(at0.ackBuckets, at1.ackBuckets, le);
  const count = countOf('+Inf');
  if (!(count > 0)) return null;
  const bound = (q: number) => {
    const le = bounds.find((b) => countOf(b) >= q * count) ?? '+Inf';
    return le === '+Inf' ? null : Number(le) * 1000;
  };
  return {
    count,
    p50AtMostMs: bound(0.5),
    p99AtMostMs: bound(0.99),
    maxAtMostMs: slowestBoundMs(at0.ackBuckets, at1.ackBuckets),
    over2msShare: share(count - countOf('0.002'), count),
  };
}

/** part / whole to three decimals, or null when a count could not be read. */
function share(part: number, whole: number): number | null {
  return Number.isFinite(part) ? Math.round((part / whole) * 1000) / 1000 : null;
}

/** Backlog at most this much counts as drained (the audit projection's and the store's batches linger). */
const DRAINED_ROWS = 512;
const DRAIN_TIMEOUT_MS = 120_000;

/**
 * Waits until the venue's background work left by the saturation part is done, so that the fixed-rate part
 * measures the venue at 10,000 a second in its steady state, not while it also works off the burst before.
 * Returns the seconds waited (the timeout's when it never drained).
 */
async function drain(url: string): Promise<number> {
  const start = performance.now();
  for (;;) {
    const b = await backlogOf(url);
    const left = Math.max(b.auditProjectionLagEvents ?? 0, b.mdStoreQueueRows ?? 0);
    const waited = performance.now() - start;
    if (!(left > DRAINED_ROWS) || waited > DRAIN_TIMEOUT_MS) return Math.round(waited / 10) / 100;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function measure(
  driver: OrderDriver,
  pid: number,
  url: string,
  outPath: string,
  a: Args,
  concurrency: number,
) {
  const traced = a.serverFlags.includes('--trace-gc');
  const part = () => {
    const cpu = cpuMeter(pid);
    const out = outputMeter(outPath);
    let rssMb = NaN;
    // Read when the part starts and ends (a scrape answers within a few ms, while the load goes on).
    let journal0: Promise<JournalCounts> | null = null;
    let journal1: Promise<JournalCounts> | null = null;
    return {
      on: (phase: 'start' | 'end'): void => {
        cpu.on(phase);
        if (traced) out.on(phase);
        if (phase === 'start') journal0 = journalCountsOf(url);
        if (phase === 'end') {
          rssMb = rssMbOf(pid);
          journal1 = journalCountsOf(url);
        }
      },
      figures: async (ops: number) => ({
        ...cpu.perOp(ops),
        rssMb,
        journal: journalFigures(await journal0, await journal1),
        serverAckLatency: serverAckFigures(await journal0, await journal1),
        eventLoopLagMs: eventLoopLagOf(await journal1),
        ...(traced ? { gc: out.gc() } : {}),
      }),
    };
  };
  const satPart = part();
  const sat = await saturate(
    driver,
    new OrderMix(mixOptions(a, 1), 'sat'),
    concurrency,
    a.warmupSeconds,
    a.seconds,
    satPart.on,
  );
  const satBacklog = await backlogOf(url);
  const drainSeconds = await drain(url);
  const ratePart = part();
  const fixed = await fixedRate(
    driver,
    new OrderMix(mixOptions(a, 2), 'rate'),
    a.rate,
    1,
    a.rateSeconds,
    concurrency * 64,
    ratePart.on,
  );
  const rateBacklog = await backlogOf(url);
  return {
    saturation: { ...sat, ...(await satPart.figures(sat.ops)), backlogAtEnd: satBacklog, drainSeconds },
    fixedRate: { ...fixed, ...(await ratePart.figures(fixed.ops)), backlogAtEnd: rateBacklog },
  };
}

/** A fresh database on the server of `adminUrl` for this run; `drop` removes it. */
async function benchDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `rialto_bench_${process.pid}_${Date.now()}`;
  const admin = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function main(): Promise<void> {
  const a = args();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build`);
  const root = mkdtempSync(join(tmpdir(), 'rialto-bench-api-'));
  // What a run has started, for the finally below to stop if the run throws.
  const live: {
    server: Server | null;
    db: { url: string; drop: () => Promise<void> } | null;
    prefixes: string[];
  } = { server: null, db: null, prefixes: [] };
  // Each transport gets a venue of its own on an empty directory (and database): the same book and balances.
  const run = async (name: string, factory: DriverFactory, concurrency: number, connections: number) => {
    const dataDir = join(root, name);
    mkdirSync(dataDir);
    const db = a.postgres === null ? null : await benchDatabase(a.postgres);
    live.db = db;
    const prefix = `benchapi${process.pid}${name}`;
    live.prefixes.push(prefix);
    const env = venueEnv(dataDir, a, db?.url ?? null, prefix);
    const keys = await writeKeys(dataDir, env, a.accounts);
    const server = await startServer(dataDir, env, a);
    live.server = server;
    await fund(server.url, keys.admin, keys.sessions);
    const pid = server.child.pid;
    if (pid === undefined) throw new Error('the venue has no pid');
    const driver = await factory({ url: server.url, sessions: keys.sessions, connections });
    const result = await measure(driver, pid, server.url, join(dataDir, 'venue.out'), a, concurrency);
    await driver.close();
    const transports = a.nats === null && a.redis === null ? null : await transportFigures(server.url);
    await stopServer(server);
    live.server = null;
    await db?.drop();
    live.db = null;
    return { ...result, transports, config: keys.config };
  };
  try {
    const restFactory = DRIVERS.rest;
    if (restFactory === undefined) throw new Error('no REST driver');
    const restRun = a.only === 'ws' ? null : await run('rest', restFactory, a.concurrency, a.concurrency);
    const wsRun = a.only === 'rest' ? null : await run('ws', wsDriver, a.wsConcurrency, a.accounts);
    const config = (restRun ?? wsRun)?.config;
    if (config === undefined) throw new Error('no transport ran');
    const rest = restRun === null ? null : { saturation: restRun.saturation, fixedRate: restRun.fixedRate };
    const ws = wsRun === null ? null : { saturation: wsRun.saturation, fixedRate: wsRun.fixedRate };
    const latency = rest?.fixedRate.latencyMs ?? null;
    const wsLatency = ws?.fixedRate.latencyMs ?? null;
    const p = (l: typeof latency) => (l === null ? null : { p50: l.p50, p99: l.p99, p999: l.p999 });
    console.log(
      JSON.stringify({
        bench: 'api',
        node: process.version,
        cores: availableParallelism(),
        wsOrdersPerSec: ws?.saturation.opsPerSec ?? null,
        restOrdersPerSec: rest?.saturation.opsPerSec ?? null,
        ackLatencyAt10kMs: p(latency),
        ackLatencyTransport: 'rest',
        wsAckLatencyAt10kMs: p(wsLatency),
        targets: TARGETS,
        met: {
          wsOrdersPerSec: ws !== null && ws.saturation.opsPerSec >= TARGETS.wsOrdersPerSec,
          restOrdersPerSec: rest !== null && rest.saturation.opsPerSec >= TARGETS.restOrdersPerSec,
          ackP99Ms:
            rest !== null &&
            rest.fixedRate.latencyMs.p99 <= TARGETS.ackP99Ms &&
            rest.fixedRate.answeredPerSec >= a.rate * 0.98,
          wsAckP99Ms:
            ws !== null &&
            ws.fixedRate.latencyMs.p99 <= TARGETS.ackP99Ms &&
            ws.fixedRate.answeredPerSec >= a.rate * 0.98,
        },
        rest,
        ws,
        setup: {
          accounts: a.accounts,
          concurrency: a.concurrency,
          connections: a.concurrency,
          wsConcurrency: a.wsConcurrency,
          wsConnections: a.accounts,
          mix: { ...mixOptions(a, 0), instruments: INSTRUMENTS.map((i) => i.symbol), seed: undefined },
          store: config.database.kind,
          logLevel: a.logLevel,
          serverFlags: a.serverFlags,
          serverEnv: a.serverEnv,
          rateLimits: {
            enabled: config.rateLimits.enabled,
            ordersPerSecondPerAccount: config.rateLimits.ordersPerSecondPerAccount,
            requestsPerMinutePerIp: config.rateLimits.requestsPerMinutePerIp,
            note: 'per-IP limit raised to its maximum: every bench request comes from 127.0.0.1',
          },
          cpuProfile: a.cpuProfDir,
          nats: a.nats !== null,
          redis: a.redis !== null,
        },
      }),
    );
  } finally {
    if (live.server !== null) await stopServer(live.server).catch(() => undefined);
    await live.db?.drop().catch(() => undefined);
    await dropTransports(a, live.prefixes).catch((e: unknown) =>
      process.stderr.write(`bench:api: cleaning NATS and Redis up: ${String(e)}\n`),
    );
    if (a.keep) process.stderr.write(`bench:api: kept ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  }
}

/** What the venue's /metrics says of its outboxes and Redis writes at the end of a run. */
async function transportFigures(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(rialto_(?:events|md_redis)_[a-z_]+)(\{[^}]*\})? (\S+)$/gm)) {
    out[`${m[1]}${m[2] ?? ''}`] = Number(m[3]);
  }
  return out;
}

/** Deletes the run's streams and Redis keys. */
async function dropTransports(a: Args, prefixes: readonly string[]): Promise<void> {
  if (a.nats !== null) {
    const nc = await natsConnect({ servers: a.nats, timeout: 2000 });
    try {
      const jsm = await nc.jetstreamManager();
      for await (const name of jsm.streams.names())
        if (prefixes.some((p) => name.startsWith(`${p.toUpperCase()}_`))) await jsm.streams.delete(name);
    } finally {
      await nc.close();
    }
  }
  if (a.redis !== null) {
    const r = new Redis(a.redis);
    try {
      for (const p of prefixes) {
        const keys = await r.keys(`${p}:*`);
        if (keys.length > 0) await r.del(...keys);
      }
    } finally {
      r.disconnect();
    }
  }
}

await main();
