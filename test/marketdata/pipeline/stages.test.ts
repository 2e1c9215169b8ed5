/**
 * The pipeline's stages one at a time: normalize (schemas, quality flags, dead letters), enrich (reference
 * data, missing_metadata), aggregate (bars on their topics), project (latest price, BBO, last bar), and the
 * envelopes and counters they leave.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  TOPICS,
  barsTopic,
  quoteSchema,
  tradeSchema,
  TickSlot,
  type NormalizedTick,
  type RawEvent,
} from '../../../src/marketdata/index.js';
import { T0_US, harness, topic, venueTrade } from './helpers.js';

const SEC = 1_000_000;
const fileTrade = (line: number, payload: unknown): RawEvent => ({
  id: `file:t.csv:${line}`,
  source: 'file:t.csv',
  schema: 'trade.v1',
  receivedUs: 0,
  payload,
});
const flagsOf = (h: Awaited<ReturnType<typeof harness>>): string[][] =>
  topic(h, TOPICS.normalized).map((m) => [...(m.payload as NormalizedTick).flags]);

describe('normalize: schemas', () => {
  it('reads file trades at the schema’s decimals, exact to the nanosecond, and refuses what it cannot read', () => {
    const s = tradeSchema({ priceDecimals: 2, sizeDecimals: 4 });
    const t = new TickSlot();
    assert.equal(
      s.decode(
        { symbol: 'X', time: '2024-01-02T09:00:00.123456789Z', price: '101.25', size: '0.5', id: '7' },
        t,
      ),
      null,
    );
    assert.deepEqual(
      [t.timeUs, t.timeNs, t.price, t.size, t.tradeId],
      [T0_US + 123_456, 789, 10_125, 5_000, 7],
    );
    assert.equal(s.decode({ symbol: 'X', time: '2024-01-02T09:00:00Z', price: '-3', size: '1' }, t), null);
    assert.equal(t.price, -300, 'a negative price parses (normalize flags it)');
    assert.match(String(s.decode({ symbol: 'X', time: 'yesterday', price: '1', size: '1' }, t)), /ISO 8601/);
    assert.match(
      String(s.decode({ symbol: 'X', time: '2024-01-02T09:00:00Z', price: '1.001', size: '1' }, t)),
      /more than 2 decimals/,
    );
    assert.match(String(s.decode({ time: '2024-01-02T09:00:00Z', price: '1', size: '1' }, t)), /symbol/);
    assert.match(
      String(s.decode({ symbol: 'X', time: '2024-01-02T09:00:00Z', price: '1', size: '1', side: 'up' }, t)),
      /side/,
    );
    assert.match(String(s.decode('text', t)), /not an object/);
  });

  it('reads quotes with an empty side as no price', () => {
    const s = quoteSchema({ priceDecimals: 2, sizeDecimals: 0 });
    const t = new TickSlot();
    assert.equal(
      s.decode(
        { symbol: 'X', time: '2024-01-02T09:00:00Z', bid: '', bid_size: '', ask: '10.5', ask_size: '3' },
        t,
      ),
      null,
    );
    assert.ok(Number.isNaN(t.bidPrice));
    assert.equal(t.askPrice, 1_050);
    assert.equal(t.askSize, 3);
  });
});

describe('normalize: quality flags and dead letters', () => {
  it('flags price_negative, out_of_range, volume_spike, late_arrival and duplicate, and keeps the bad ones out of the bars', async () => {
    const h = await harness({
      known: ['X'],
      bars: [{ kind: 'time', periodSec: 60 }],
      latenessUs: 10 * SEC,
      quality: { priceBandBps: 1_000, volumeSpikeFactor: 5, volumeSpikeWarmup: 3 },
    });
    const p = h.pipeline;
    p.ingest(venueTrade('X', T0_US + 1 * SEC, 100, 10, 1)); // valid
    p.ingest(venueTrade('X', T0_US + 2 * SEC, 101, 10, 2)); // valid
    p.ingest(venueTrade('X', T0_US + 3 * SEC, 99, 10, 3)); // valid
    p.ingest(venueTrade('X', T0_US + 4 * SEC, -5, 10, 4)); // price_negative
    p.ingest(venueTrade('X', T0_US + 5 * SEC, 200, 10, 5)); // out_of_range (a 100 % move)
    p.ingest(venueTrade('X', T0_US + 6 * SEC, 100, 0, 6)); // out_of_range (no size)
    p.ingest(venueTrade('X', T0_US + 7 * SEC, 100, 500, 7)); // volume_spike
    p.ingest(venueTrade('X', T0_US + 2 * SEC, 100, 10, 8)); // late_arrival (behind 7 s), still in the bars
    p.ingest(venueTrade('X', T0_US + 2 * SEC, 101, 10, 2)); // duplicate of trade 2 (and late)
    assert.deepEqual(flagsOf(h), [
      ['valid'],
      ['valid'],
      ['valid'],
      ['price_negative'],
      ['out_of_range'],
      ['out_of_range'],
      ['volume_spike'],
      ['late_arrival'],
      ['late_arrival', 'duplicate'],
    ]);
    const c = p.counters();
    assert.deepEqual(c.flags, {
      valid: 3,
      price_negative: 1,
      out_of_range: 2,
      volume_spike: 1,
      late_arrival: 2,
      missing_metadata: 0,
      duplicate: 1,
    });
    assert.equal(c.aggregate.skipped, 4);
    assert.equal(c.aggregate.out, 5);
    p.flush();
    const bars = topic(h, barsTopic('1m'));
    assert.equal(bars.length, 1);
    const bar = bars[0].payload as { volume: number; count: number; high: number; low: number };
    assert.deepEqual([bar.count, bar.volume, bar.high, bar.low], [5, 540, 101, 99]);
  });

  it('dead-letters what no schema understands, with the reason, counts it, and keeps running', async () => {
    const h = await harness({ known: ['X'] });
    const p = h.pipeline;
    p.ingest(fileTrade(2, { symbol: 'X', time: 'noon', price: '1', size: '1' }));
    p.ingest({ id: 'q:1', source: 'feed:q', schema: 'nobody.v9', receivedUs: 0, payload: {} });
    p.ingest(fileTrade(3, { symbol: 'X', time: '2024-01-02T09:00:01Z', price: '1.5', size: '2' }));
    const letters = topic(h, TOPICS.deadLetter);
    assert.equal(letters.length, 2);
    assert.equal(letters[0].event_id, 'file:t.csv:2/dl');
    assert.match(String((letters[0].payload as { reason: string }).reason), /time "noon"/);
    assert.match(String((letters[1].payload as { reason: string }).reason), /no schema named nobody.v9/);
    assert.equal(p.recentDeadLetters().length, 2);
    const c = p.counters();
    assert.deepEqual([c.raw.in, c.normalize.deadLettered, c.normalize.out, c.enrich.out], [3, 2, 1, 1]);
    assert.equal(topic(h, TOPICS.enriched).length, 1);
  });
});

describe('enrich', () => {
  it('attaches the reference data, or flags missing_metadata while it loads', async () => {
    const h = await harness({ known: ['X'] });
    h.pipeline.ingest(venueTrade('X', T0_US, 100, 1, 1));
    h.pipeline.ingest(venueTrade('Y', T0_US, 100, 1, 1));
    const [x, y] = topic(h, TOPICS.enriched).map((m) => m.payload as NormalizedTick);
    assert.equal(x.reference?.assetClass, 'crypto');
    assert.equal(x.reference?.taxonomy.method, 'rule');
    assert.deepEqual(x.flags, ['valid']);
    assert.equal(y.reference, null);
    assert.deepEqual(y.flags, ['missing_metadata']);
  });
});

describe('aggregate and project', () => {
  it('emits closed and corrected bars on their topics and keeps the latest price, BBO and bar per instrument', async () => {
    const h = await harness({ known: ['X'], bars: [{ kind: 'time', periodSec: 1 }], latenessUs: 5 * SEC });
    const p = h.pipeline;
    p.ingest(venueTrade('X', T0_US + 100, 100, 1, 1));
    p.ingest(venueTrade('X', T0_US + SEC + 100, 101, 2, 2)); // closes [T0, T0+1s)
    p.ingest(venueTrade('X', T0_US + 200, 102, 3, 3)); // late, within the lateness: a correction
    p.ingest({
      id: 'bbo:1',
      source: 'venue',
      schema: 'venue.bbo.v1',
      receivedUs: 0,
      payload: {
        instrument: 'X',
        timeUs: T0_US + SEC,
        bidTicks: 100,
        bidLots: 4,
        askTicks: null,
        askLots: null,
      },
    });
    const bars = topic(h, barsTopic('1s'));
    assert.deepEqual(
      bars.map((m) => [m.event_type, m.event_id, (m.payload as { revision: number; volume: number }).volume]),
      [
        ['BarClosed', `X:1s:${T0_US}:r0`, 1],
        ['BarCorrected', `X:1s:${T0_US}:r1`, 4],
      ],
    );
    assert.equal(bars[1].correlation_id, (bars[1].causation_id ?? '').replace('/e', ''));
    const s = h.latest.get('X');
    assert.equal(s?.lastPrice, 101, 'the latest trade by event time, not the late one');
    assert.deepEqual([s?.bidPrice, s?.bidSize, s?.askPrice, s?.askSize], [100, 4, null, null]);
    assert.equal(s?.bars['1s'].volume, 4);
    const served = topic(h, TOPICS.latestPrices);
    assert.deepEqual(
      served.map((m) => m.event_type),
      ['LastPriceChanged', 'LastPriceChanged', 'LastPriceChanged', 'QuoteChanged'],
    );
  });

  it('gives every envelope its fields, with ids derived from the raw event’s', async () => {
    const h = await harness({ known: ['X'] });
    const raw = venueTrade('X', T0_US + 5, 100, 1, 1);
    h.pipeline.ingest(raw);
    const [r] = topic(h, TOPICS.raw);
    const [n] = topic(h, TOPICS.normalized);
    const [e] = topic(h, TOPICS.enriched);
    assert.deepEqual(
      [r, n, e].map((m) => [m.event_id, m.correlation_id, m.causation_id, m.version, m.source]),
      [
        [raw.id, raw.id, null, 1, 'venue'],
        [`${raw.id}/n`, raw.id, raw.id, 1, 'venue'],
        [`${raw.id}/e`, raw.id, `${raw.id}/n`, 1, 'venue'],
      ],
    );
    assert.equal(n.timestamp, '2024-01-02T09:00:00.000005Z');
    assert.equal(n.event_type, 'TickNormalized');
    assert.ok(Object.isFrozen(e));
  });

  it('builds no tick envelope when nobody subscribes, and counts all the same', async () => {
    const h = await harness({ known: ['X'], subscribe: false });
    for (let i = 1; i <= 10; i++) h.pipeline.ingest(venueTrade('X', T0_US + i, 100, 1, i));
    assert.equal(h.bus.stats.published, 0);
    assert.equal(h.pipeline.counters().enrich.out, 10);
  });
});

describe('normalize: quotes', () => {
  it('refuses a one-sided level and flags a crossed quote out_of_range, which the projection ignores', async () => {
    const h = await harness({ known: ['X'] });
    const bbo = (
      id: string,
      bid: number | null,
      bidLots: number | null,
      ask: number | null,
      askLots: number | null,
    ): RawEvent => ({
      id,
      source: 'venue',
      schema: 'venue.bbo.v1',
      receivedUs: 0,
      payload: { instrument: 'X', timeUs: T0_US, bidTicks: bid, bidLots, askTicks: ask, askLots },
    });
    h.pipeline.ingest(bbo('b1', 100, null, 101, 1));
    h.pipeline.ingest(bbo('b2', 102, 1, 101, 1));
    h.pipeline.ingest(bbo('b3', 99, 1, 101, 1));
    assert.match(
      String((topic(h, TOPICS.deadLetter)[0].payload as { reason: string }).reason),
      /a bid needs both/,
    );
    assert.deepEqual(flagsOf(h), [['out_of_range'], ['valid']]);
    assert.deepEqual([h.latest.get('X')?.bidPrice, h.latest.get('X')?.askPrice], [99, 101]);
  });
});

describe('aggregate: watermarks and failures', () => {
  it('closes a quiet instrument’s bars when its watermark is advanced', async () => {
    const h = await harness({ known: ['X'], bars: [{ kind: 'time', periodSec: 60 }] });
    h.pipeline.ingest(venueTrade('X', T0_US + SEC, 100, 1, 1));
    assert.equal(topic(h, barsTopic('1m')).length, 0);
    h.pipeline.advanceWatermark('X', T0_US + 60 * SEC);
    assert.equal(topic(h, barsTopic('1m')).length, 1);
    h.pipeline.advanceWatermark('unknown', T0_US);
    assert.equal(h.pipeline.counters().aggregate.barsClosed, 1);
  });

  it('dead-letters the trades of an instrument whose bars failed, and goes on with the others', async () => {
    const h = await harness({ known: ['X', 'Y'], bars: [{ kind: 'time', periodSec: 60 }] });
    const big = 2 ** 52;
    h.pipeline.ingest(venueTrade('X', T0_US + 1, 100, big, 1));
    h.pipeline.ingest(venueTrade('X', T0_US + 2, 100, big, 2)); // the bar's volume would pass 2^53 − 1
    h.pipeline.ingest(venueTrade('X', T0_US + 3, 100, 1, 3));
    h.pipeline.ingest(venueTrade('Y', T0_US + 3, 100, 1, 1));
    const reasons = topic(h, TOPICS.deadLetter).map(
      (m) => (m.payload as { stage: string; reason: string }).reason,
    );
    assert.equal(reasons.length, 2);
    assert.match(reasons[0], /^VOLUME_OVERFLOW/);
    assert.equal(reasons[1], reasons[0]);
    const c = h.pipeline.counters();
    assert.deepEqual([c.aggregate.in, c.aggregate.out, c.aggregate.deadLettered], [4, 2, 2]);
    h.pipeline.flush();
    assert.deepEqual(
      topic(h, barsTopic('1m')).map((m) => (m.payload as { instrument: string }).instrument),
      ['Y'],
    );
  });
});
