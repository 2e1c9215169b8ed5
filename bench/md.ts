/**
 * The market data pipeline in one process: raw venue trades through normalize (schema, quality flags,
 * duplicates), enrich (reference data through the cache) and aggregate (the 1s, 1m, 5m, 1h and 1d bars), the
 * latest-price projection included, and prints one JSON line with `inProcessTicksPerSec`.
 *
 *   npm run bench:md -- [--ticks N] [--instruments N] [--rate PER_SEC] [--subscribe-ticks]
 *                       [--pg-ticks N] [--pg-queue ROWS] [--database-url URL]
 *                       [--jetstream-ticks N] [--no-jetstream]
 *
 * The raw events are made before the clock starts (a source's decoding of its wire format is not measured).
 * Nobody subscribes to the tick topics unless --subscribe-ticks, so no per-tick envelope is built; the bars
 * topics have a subscriber (counting bars). One warm-up pass, then three measured passes on fresh pipelines;
 * the figure is their median.
 *
 * `postgresTicksPerSec`: the same stream (its first --pg-ticks trades) end to end into a real PostgreSQL
 * (--database-url, else BENCH_DATABASE_URL, else the local test database) in a schema of its own, dropped after:
 * the pipeline with the bars subscribed and the enriched ticks taken by the writer from the pipeline itself
 * (`attachPipeline`: the rows their messages would make, without the messages), the bounded writer (queue of
 * --pg-queue rows) writing ticks and bars in batches, two at a time on two connections, its day partitions
 * made on demand; the clock runs from the first tick in
 * to the last row committed, and every tick and bar must be in the store. The producer feeds 5,000 raw events
 * at a time, each chunk once the writer's queue has room for it (a bulk replay's back-pressure).
 * `barWriteLatencyP99Ms`: from a bar's publication to the commit of the batch holding it, under that load.
 * Without a reachable server both are null and `postgresSkipped` says why.
 * `jetstreamTicksPerSec`: the first `--jetstream-ticks` raw events published as envelopes to the raw topic of
 * a NATS JetStream (NATS_URL, default nats://127.0.0.1:4222; streams of a unique prefix, deleted afterwards)
 * while a durable consumer (explicit acks, in stream order) feeds them to a pipeline that normalizes, enriches
 * and aggregates; from the first publish to the last ack. The bars it makes are checked against an in-process
 * pass over the same events. Without a reachable NATS the field is null and `jetstreamSkipped` says why.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { connect } from 'nats';
import { BusBackpressureError, InProcessBus, envelope } from '../src/bus/index.js';
import { JetStreamBus } from '../src/bus/jetstream.js';
import {
  DEFAULT_BAR_SPECS,
  InMemoryLatest,
  InMemoryReferenceData,
  MarketDataPipeline,
  ReferenceCache,
  TOPICS,
  barsTopic,
  MarketDataStore,
  MarketDataWriter,
  defaultSchemas,
  formatTime,
  intervalName,
  parseIsoTime,
  type RawEvent,
} from '../src/marketdata/index.js';
import { migrate, openPostgresStore, type Store } from '../src/store/index.js';
import { benchArgs, median, peakRssMB, xorshift32 } from './common.js';

const { values } = benchArgs('md', {
  options: {
    ticks: { type: 'string', default: '1000000' },
    instruments: { type: 'string', default: '4' },
    rate: { type: 'string', default: '20000' },
    'subscribe-ticks': { type: 'boolean', default: false },
    'pg-ticks': { type: 'string', default: '300000' },
    'pg-queue': { type: 'string', default: '20000' },
    'database-url': { type: 'string' },
    'jetstream-ticks': { type: 'string', default: '50000' },
    'no-jetstream': { type: 'boolean', default: false },
  },
});
const PG_TICKS = Number(values['pg-ticks']);
const PG_QUEUE = Number(values['pg-queue']);
const DATABASE_URL =
  values['database-url'] ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TICKS = Number(values.ticks);
const INSTRUMENTS = Number(values.instruments);
const SUBSCRIBE_TICKS = values['subscribe-ticks'];
const MEASURED_PASSES = 3;
const T0_US = 1_704_186_000_000_000; // 2024-01-02T09:00:00Z
const RATE = Number(values.rate); // trades per second of event time, all instruments

/** A deterministic stream (xorshift): 1 % up to 50 ms out of order, 0.1 % duplicates of an earlier trade. */
function makeStream(): RawEvent[] {
  const state = xorshift32(0x2545f491);
  const next = (): number => state() / 2 ** 32;
  const symbols = Array.from({ length: INSTRUMENTS }, (_, i) => `SYM${i}`);
  const prices = symbols.map(() => 6_000_000);
  const tradeIds = symbols.map(() => 0);
  const out: RawEvent[] = [];
  for (let i = 0; i < TICKS; i++) {
    const k = i % INSTRUMENTS;
    const onTime = T0_US + Math.floor((i * 1e6) / RATE);
    const timeUs = next() < 0.01 ? Math.max(T0_US, onTime - Math.floor(next() * 50_000)) : onTime;
    prices[k] = Math.max(1, prices[k] + Math.round((next() - 0.5) * 10));
    const dup = next() < 0.001 && tradeIds[k] > 0;
    const tradeId = dup ? tradeIds[k] : ++tradeIds[k];
    out.push({
      id: `venue:${i}:0`,
      source: 'venue',
      schema: 'venue.trade.v1',
      receivedUs: timeUs,
      payload: {
        instrument: symbols[k],
        timeUs,
        priceTicks: prices[k],
        qtyLots: 1 + Math.floor(next() * 1000),
        side: next() < 0.5 ? 'buy' : 'sell',
        tradeId,
      },
    });
  }
  return out;
}

async function referenceCache(): Promise<ReferenceCache> {
  const refs = new InMemoryReferenceData();
  for (let k = 0; k < INSTRUMENTS; k++) {
    refs.set({
      instrument: `SYM${k}`,
      assetClass: 'crypto',
      venue: 'rialto',
      currency: 'USDT',
      unit: 'BTC',
      tickSize: 1,
      lotSize: 1,
      taxonomy: { path: ['crypto', 'spot'], confidence: 1, method: 'manual' },
      revision: 1,
    });
  }
  const reference = new ReferenceCache(refs, { ttlUs: 60_000_000, entriesMax: 10_000, clockUs: () => 0 });
  await Promise.all(Array.from({ length: INSTRUMENTS }, (_, k) => reference.load(`SYM${k}`)));
  return reference;
}

/** A pipeline over an in-process bus with the reference data loaded (every pass of this bench). */
async function pipelineFor(): Promise<{
  pipeline: MarketDataPipeline;
  bus: InProcessBus;
  reference: ReferenceCache;
}> {
  const bus = new InProcessBus();
  const reference = await referenceCache();
  const pipeline = new MarketDataPipeline({
    bus,
    schemas: defaultSchemas({ priceDecimals: 2, sizeDecimals: 4 }),
    reference,
    projection: new InMemoryLatest(),
    bars: DEFAULT_BAR_SPECS,
    latenessUs: 100_000,
  });
  return { pipeline, bus, reference };
}

interface PostgresFigures {
  postgresTicksPerSec: number | null;
  barWriteLatencyP99Ms: number | null;
  /**
   * CPU time per tick of this process (pipeline, envelopes, rows, the driver; every thread), of its main
   * thread alone (null where /proc is not), and of the server's backends.
   */
  postgresCpuUsPerTick?: { node: number; mainThread: number | null; server: number | null };
  postgresTicks?: number;
  postgresBars?: number;
  postgresBatches?: number;
  postgresSkipped?: string;
}

/** The stream's first `PG_TICKS` trades through the pipeline into PostgreSQL (see the header). */
async function postgresPass(stream: readonly RawEvent[]): Promise<PostgresFigures> {
  const schema = `rialto_bench_md_${randomBytes(4).toString('hex')}`;
  let admin: Store;
  try {
    admin = await openPostgresStore({ url: DATABASE_URL, schema: null, connectTimeoutMs: 2_000 });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { postgresTicksPerSec: null, barWriteLatencyP99Ms: null, postgresSkipped: why };
  }
  await admin.exec(`CREATE SCHEMA ${schema}`);
  // Two connections: the writer has up to two batches in flight (writesInFlight); the server's CPU time is
  // that of both backends.
  const store = await openPostgresStore({ url: DATABASE_URL, schema, poolSize: 2 });
  try {
    await migrate(store);
    return await writeIntoPostgres(stream.slice(0, PG_TICKS), store);
  } finally {
    await store.close();
    await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
    await admin.close();
  }
}

/**
 * The CPU time (µs) the store's server backends (both connections of its pool) have used so far, read from
 * /proc when the server runs on this machine (else null): throughput on a shared machine says little, CPU
 * time per tick says what it costs.
 */
async function backendCpu(store: Store): Promise<() => number | null> {
  // Two transactions at once make the pool open both its connections; each says its backend's pid.
  const pids = await Promise.all(
    [0, 1].map((k) =>
      store.transaction(async (tx) => {
        await tx.query('SELECT pg_sleep(0.05)');
        const [{ pid }] = await tx.query(`SELECT pg_backend_pid() AS pid, ${k} AS k`);
        return Number(pid);
      }),
    ),
  );
  const hz = 100; // USER_HZ: /proc counts CPU time in 1/100 s on Linux
  return () => {
    try {
      let ticks = 0;
      for (const pid of new Set(pids)) {
        const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
        ticks += Number(fields[11]) + Number(fields[12]);
      }
      return (ticks * 1e6) / hz;
    } catch {
      return null;
    }
  };
}

/** This process's main thread's CPU time so far (µs, from /proc in 1/100 s), or null where there is none. */
function mainThreadCpuUs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${String(process.pid)}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return null;
  }
}

async function writeIntoPostgres(stream: readonly RawEvent[], store: Store): Promise<PostgresFigures> {
  const { pipeline: p, bus, reference } = await pipelineFor();
  const latencies: number[] = [];
  const writer = new MarketDataWriter(new MarketDataStore(store), {
    limits: { queueRowsMax: PG_QUEUE },
    onBarsWritten: (ms) => latencies.push(...ms),
  });
  writer.attachPipeline(p, bus);
  const chunk = 5_000;
  const backend = await backendCpu(store);
  const server0 = backend();
  const main0 = mainThreadCpuUs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < stream.length; i += chunk) {
    // Room for the chunk's ticks and as many bars again (a chunk closes far fewer).
    await writer.waitForRoom(2 * chunk);
    const end = Math.min(stream.length, i + chunk);
    for (let k = i; k < end; k++) p.ingest(stream[k]);
  }
  p.flush();
  await writer.flush();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuUs();
  const server1 = backend();
  await writer.close();
  reference.close();
  const c = p.counters();
  const s = writer.stats();
  const bars = c.aggregate.barsClosed + c.aggregate.barsCorrected;
  if (s.ticksWritten !== c.enrich.out || s.barsWritten + s.barsExisting !== bars || s.dropped > 0) {
    throw new Error(`bench: rows lost: ${JSON.stringify({ counters: c.aggregate, writer: s })}`);
  }
  const [{ n }] = await store.query('SELECT count(*)::int4 AS n FROM md_ticks');
  if (n !== c.enrich.out) throw new Error(`bench: ${String(n)} ticks in the store, ${c.enrich.out} written`);
  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0;
  return {
    postgresTicksPerSec: Math.round(stream.length / seconds),
    barWriteLatencyP99Ms: +p99.toFixed(1),
    postgresCpuUsPerTick: {
      node: +((cpu.user + cpu.system) / stream.length).toFixed(2),
      mainThread: main0 === null || main1 === null ? null : +((main1 - main0) / stream.length).toFixed(2),
      server: server0 === null || server1 === null ? null : +((server1 - server0) / stream.length).toFixed(2),
    },
    postgresTicks: s.ticksWritten,
    postgresBars: s.barsWritten,
    postgresBatches: s.batches,
  };
}

async function pass(
  stream: readonly RawEvent[],
): Promise<{ seconds: number; bars: number; delivered: number }> {
  const { pipeline: p, bus, reference } = await pipelineFor();
  let bars = 0;
  for (const spec of DEFAULT_BAR_SPECS) bus.subscribe(barsTopic(intervalName(spec)), () => bars++);
  let ticksSeen = 0;
  if (SUBSCRIBE_TICKS) bus.subscribe(TOPICS.enriched, () => ticksSeen++);
  const t0 = performance.now();
  for (let i = 0; i < stream.length; i++) p.ingest(stream[i]);
  p.flush();
  const seconds = (performance.now() - t0) / 1000;
  const c = p.counters();
  if (c.enrich.out + c.normalize.deadLettered !== stream.length) throw new Error('bench: ticks lost');
  reference.close();
  return { seconds, bars, delivered: c.aggregate.out };
}

interface JetStreamFigures {
  jetstreamTicksPerSec: number | null;
  jetstreamTicks?: number;
  jetstreamSkipped?: string;
  jetstreamFailed?: string;
  jetstreamRedelivered?: number;
  /** CPU time of this process (publisher, consumer and pipeline) per tick: what the load of the machine does not change. */
  jetstreamClientCpuUsPerTick?: number;
}

/** The raw event as the pipeline's raw envelope carries it (ingestion.market.raw.v1). */
const rawEnvelope = (raw: RawEvent) =>
  envelope({
    event_type: 'MarketDataReceived',
    event_id: raw.id,
    timestamp: formatTime(raw.receivedUs, 0),
    source: raw.source,
    version: 1,
    correlation_id: raw.id,
    causation_id: null,
    payload: { schema: raw.schema, payload: raw.payload },
  });

/** Raw events through JetStream into a durable consumer that feeds normalize, enrich and aggregate. */
async function jetstreamPass(all: readonly RawEvent[], ticks: number): Promise<JetStreamFigures> {
  const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const stream = all.slice(0, ticks);
  const id = randomBytes(4).toString('hex');
  const names = { streamPrefix: `BENCH_${id}_`, subjectPrefix: `bench${id}.` };
  let bus: JetStreamBus;
  try {
    bus = await JetStreamBus.connect({
      servers: url,
      ...names,
      families: ['ingestion', 'deadletter'],
      name: 'bench-md',
    });
  } catch (e) {
    return { jetstreamTicksPerSec: null, jetstreamSkipped: `NATS unreachable at ${url}: ${String(e)}` };
  }
  try {
    return await jetstreamRun(bus, stream);
  } catch (e) {
    return { jetstreamTicksPerSec: null, jetstreamFailed: String(e) };
  } finally {
    await bus.close().catch(() => undefined);
    await deleteStreams(url, names.streamPrefix);
  }
}

async function jetstreamRun(bus: JetStreamBus, stream: readonly RawEvent[]): Promise<JetStreamFigures> {
  const { pipeline, reference } = await pipelineFor();
  const envelopes = stream.map(rawEnvelope);
  let done: () => void = () => undefined;
  const allAcked = new Promise<void>((resolve) => (done = resolve));
  let handled = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const consumer = await bus.consume(
    TOPICS.raw,
    (m) => {
      const p = m.payload as { schema: string; payload: unknown };
      const time = parseIsoTime(m.timestamp);
      if (time === null) return Promise.reject(new Error(`bad timestamp ${m.timestamp}`));
      pipeline.ingest({
        id: m.event_id,
        source: m.source,
        schema: p.schema,
        receivedUs: time.timeUs,
        payload: p.payload,
      });
      if (++handled === stream.length) done();
      return Promise.resolve();
    },
    { durable: 'bench', inFlightMax: 1, ackPendingMax: 4_096 },
  );
  for (let i = 0; i < envelopes.length;) {
    try {
      bus.publish(TOPICS.raw, envelopes[i]);
      i++;
    } catch (e) {
      if (!(e instanceof BusBackpressureError)) throw e;
      await bus.flushed();
    }
  }
  await bus.flushed();
  await allAcked;
  await consumer.stop();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  pipeline.flush();
  reference.close();
  // The same events in process must make the same bars.
  const check = await pipelineFor();
  for (const raw of stream) check.pipeline.ingest(raw);
  check.pipeline.flush();
  check.reference.close();
  const [a, b] = [pipeline.counters().aggregate, check.pipeline.counters().aggregate];
  if (a.out !== b.out || a.barsClosed !== b.barsClosed || a.barsCorrected !== b.barsCorrected)
    throw new Error(`bench: JetStream bars differ: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  return {
    jetstreamTicksPerSec: Math.round(stream.length / seconds),
    jetstreamTicks: stream.length,
    jetstreamRedelivered: consumer.counters().redelivered,
    jetstreamClientCpuUsPerTick: Math.round(((cpu.user + cpu.system) / stream.length) * 10) / 10,
  };
}

async function deleteStreams(url: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: url, timeout: 2_000 });
  const jsm = await nc.jetstreamManager();
  for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) await jsm.streams.delete(name);
  await nc.close();
}

const stream = makeStream();
const warm = await pass(stream);
const runs: Awaited<ReturnType<typeof pass>>[] = [];
for (let k = 0; k < MEASURED_PASSES; k++) runs.push(await pass(stream));
const pg = await postgresPass(stream);
const jetstream: JetStreamFigures = values['no-jetstream']
  ? { jetstreamTicksPerSec: null, jetstreamSkipped: '--no-jetstream' }
  : await jetstreamPass(stream, Math.min(TICKS, Number(values['jetstream-ticks'])));
console.log(
  JSON.stringify({
    bench: 'md',
    ticks: TICKS,
    ratePerSec: RATE,
    instruments: INSTRUMENTS,
    bars: '1s,1m,5m,1h,1d',
    tickTopicsSubscribed: SUBSCRIBE_TICKS,
    inProcessTicksPerSec: Math.round(median(runs.map((r) => TICKS / r.seconds))),
    coldTicksPerSec: Math.round(TICKS / warm.seconds),
    ticksIntoBars: runs[0].delivered,
    barsPerPass: runs[0].bars,
    ...pg,
    ...jetstream,
    peakRssMB: peakRssMB(),
  }),
);
