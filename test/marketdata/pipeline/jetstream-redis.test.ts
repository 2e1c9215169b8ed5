/**
 * The pipeline across processes, end to end through the real services: raw venue events published to NATS
 * JetStream (some twice), a durable consumer feeding a pipeline whose bus is JetStream too (each raw event
 * acknowledged only once its ticks and bars are stored) and whose projection is Redis; then the bars read
 * back from their stream and the latest prices from Redis equal what an in-process pipeline makes of the
 * same events.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { InProcessBus, envelope, type Envelope } from '../../../src/bus/index.js';
import { JetStreamBus } from '../../../src/bus/jetstream.js';
import {
  DEFAULT_BAR_SPECS,
  InMemoryLatest,
  InMemoryReferenceData,
  MarketDataPipeline,
  RedisLatest,
  ReferenceCache,
  TOPICS,
  barsTopic,
  createLatestRedisClient,
  defaultSchemas,
  formatTime,
  parseIsoTime,
  type LatestProjection,
  type RawEvent,
} from '../../../src/marketdata/index.js';
import { NATS_URL, deleteStreams, uniqueNames, until } from '../../bus/services.js';
import { T0_US, refData } from './helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const names = uniqueNames();
const keyPrefix = `rialto-test-md-e2e-${randomBytes(4).toString('hex')}:`;
const redis = createLatestRedisClient(REDIS_URL);
const buses: JetStreamBus[] = [];

after(async () => {
  for (const b of buses) await b.close();
  assert.ok((await deleteStreams(names.streamPrefix)) > 0);
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** 400 venue events on two instruments: trades a few ms apart (a few out of order), a quote every fifth. */
function events(): RawEvent[] {
  const out: RawEvent[] = [];
  for (let i = 0; i < 400; i++) {
    const instrument = i % 2 === 0 ? 'BTC-USDT' : 'ETH-USDT';
    const timeUs = T0_US + i * 250_000 - (i % 17 === 0 ? 300_000 : 0);
    const base = instrument === 'BTC-USDT' ? 6_000_000 : 300_000;
    if (i % 5 === 4) {
      const payload = {
        instrument,
        timeUs,
        bidTicks: base + i - 5,
        bidLots: 3,
        askTicks: base + i + 5,
        askLots: 4,
      };
      out.push({ id: `venue:${i}:0`, source: 'venue', schema: 'venue.bbo.v1', receivedUs: timeUs, payload });
    } else {
      const payload = {
        instrument,
        timeUs,
        priceTicks: base + i,
        qtyLots: 1 + (i % 7),
        side: 'buy',
        tradeId: i,
      };
      out.push({
        id: `venue:${i}:0`,
        source: 'venue',
        schema: 'venue.trade.v1',
        receivedUs: timeUs,
        payload,
      });
    }
  }
  return out;
}

async function pipelineOver(
  bus: InProcessBus | JetStreamBus,
  projection: LatestProjection,
): Promise<MarketDataPipeline> {
  const refs = new InMemoryReferenceData();
  const cache = new ReferenceCache(refs, { ttlUs: 60_000_000, entriesMax: 100, clockUs: () => 0 });
  for (const name of ['BTC-USDT', 'ETH-USDT']) {
    refs.set(refData(name));
    await cache.load(name);
  }
  return new MarketDataPipeline({
    bus,
    schemas: defaultSchemas({ priceDecimals: 2, sizeDecimals: 4 }),
    reference: cache,
    projection,
    bars: DEFAULT_BAR_SPECS,
    latenessUs: 500_000,
  });
}

const rawEnvelope = (raw: RawEvent): Envelope =>
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

describe('market data pipeline over JetStream and Redis', () => {
  it('makes the same bars and latest prices as in process, with republished raw events stored once', async () => {
    const raw = events();
    // The reference: everything in one process.
    const localBus = new InProcessBus();
    const expectedBars: Envelope[] = [];
    localBus.subscribe(barsTopic('1s'), (m) => expectedBars.push(m));
    const expectedLatest = new InMemoryLatest();
    const local = await pipelineOver(localBus, expectedLatest);
    for (const r of raw) local.ingest(r);

    const producer = await JetStreamBus.connect({ servers: NATS_URL, ...names, name: 'md-producer' });
    buses.push(producer);
    for (const r of raw) producer.publish(TOPICS.raw, rawEnvelope(r));
    for (const r of raw.slice(100, 150)) producer.publish(TOPICS.raw, rawEnvelope(r)); // a producer's replay
    await producer.flushed();
    assert.equal(producer.counters().duplicates, 50);

    const stage = await JetStreamBus.connect({ servers: NATS_URL, ...names, name: 'md-stage' });
    buses.push(stage);
    const latest = new RedisLatest(redis, { keyPrefix });
    const pipeline = await pipelineOver(stage, latest);
    const consumer = await stage.consume(
      TOPICS.raw,
      async (m) => {
        const p = m.payload as { schema: string; payload: unknown };
        const time = parseIsoTime(m.timestamp);
        assert.ok(time !== null);
        pipeline.ingest({
          id: m.event_id,
          source: m.source,
          schema: p.schema,
          receivedUs: time.timeUs,
          payload: p.payload,
        });
        // Acknowledged only once what it produced is stored downstream.
        await stage.flushed();
      },
      { durable: 'md-stage' },
    );
    await until('every raw event', () => consumer.counters().acked === raw.length);
    await latest.flush();
    assert.deepEqual(pipeline.counters(), local.counters());

    const bars: Envelope[] = [];
    await producer.consume(barsTopic('1s'), (m) => Promise.resolve(void bars.push(m)), {
      durable: 'bars-reader',
    });
    await until('the 1s bars', () => bars.length === expectedBars.length);
    assert.ok(bars.length > 50);
    assert.deepEqual(
      bars,
      expectedBars.map((m) => JSON.parse(JSON.stringify(m)) as Envelope),
    );

    for (const instrument of ['BTC-USDT', 'ETH-USDT']) {
      const want = expectedLatest.get(instrument);
      const got = await latest.get(instrument);
      assert.ok(want !== undefined && got !== undefined);
      assert.deepEqual({ ...got, bars: {} }, { ...want, bars: {} });
      assert.deepEqual(Object.keys(got.bars).sort(), Object.keys(want.bars).sort());
      for (const k of Object.keys(want.bars)) assert.deepEqual(got.bars[k], want.bars[k]);
    }
  });
});
