/**
 * The market data pipeline in one process: raw venue trades through normalize (schema, quality flags,
 * duplicates), enrich (reference data through the cache) and aggregate (the 1s, 1m, 5m, 1h and 1d bars), the
 * latest-price projection included, and prints one JSON line with `inProcessTicksPerSec`.
 *
 *   npm run bench:md -- [--ticks N] [--instruments N] [--rate PER_SEC] [--subscribe-ticks]
 *                       [--jetstream-ticks N] [--no-jetstream]
 *
 * The raw events are made before the clock starts (a source's decoding of its wire format is not measured).
 * Nobody subscribes to the tick topics unless --subscribe-ticks, so no per-tick envelope is built; the bars
 * topics have a subscriber (counting bars). One warm-up pass, then three measured passes on fresh pipelines;
 * the figure is their median.
 *
 * `jetstreamTicksPerSec`: the first `--jetstream-ticks` raw events published as envelopes to the raw topic of
 * a NATS JetStream (NATS_URL, default nats://127.0.0.1:4222; streams of a unique prefix, deleted afterwards)
 * while a durable consumer (explicit acks, in stream order) feeds them to a pipeline that normalizes, enriches
 * and aggregates; from the first publish to the last ack. The bars it makes are checked against an in-process
 * pass over the same events. Without a reachable NATS the field is null and `jetstreamSkipped` says why.
 * The PostgreSQL figure of issue 6 is not measured here yet.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { BusBackpressureError, InProcessBus, JetStreamBus, envelope } from '../src/bus/index.js';
import {
  DEFAULT_BAR_SPECS,
  InMemoryLatest,
  InMemoryReferenceData,
  MarketDataPipeline,
  ReferenceCache,
  TOPICS,
  barsTopic,
  defaultSchemas,
  formatTime,
  intervalName,
  parseIsoTime,
  type RawEvent,
} from '../src/marketdata/index.js';
import { median, peakRssMB, xorshift32 } from './common.js';

const { values } = parseArgs({
  options: {
    ticks: { type: 'string', default: '1000000' },
    instruments: { type: 'string', default: '4' },
    rate: { type: 'string', default: '20000' },
    'subscribe-ticks': { type: 'boolean', default: false },
    'jetstream-ticks': { type: 'string', default: '50000' },
    'no-jetstream': { type: 'boolean', default: false },
  },
});
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

async function pipelineFor(): Promise<{
  pipeline: MarketDataPipeline;
  bus: InProcessBus;
  reference: ReferenceCache;
}> {
  const bus = new InProcessBus();
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
    ...jetstream,
    peakRssMB: peakRssMB(),
  }),
);
