/**
 * The Redis latest-price projection against a real Redis (127.0.0.1:6379, or REDIS_URL), each run under a
 * key prefix of its own (deleted afterwards): what it writes and reads back, monotonicity by event time
 * across redeliveries, reorders and a second writer, a random reordered stream against the newest-wins
 * answer, and a Redis that is not there.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { Bar } from '../../../src/marketdata/index.js';
import { RedisLatest, createLatestRedisClient, openLatestProjection } from '../../../src/marketdata/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `rialto-test-md-${process.pid}-${randomBytes(4).toString('hex')}:`;
const clients: Redis[] = [];

async function client(): Promise<Redis> {
  const c = createLatestRedisClient(REDIS_URL);
  clients.push(c);
  if (c.status !== 'ready') await new Promise<void>((resolve) => c.once('ready', () => resolve()));
  return c;
}

after(async () => {
  const c = clients[0];
  const keys = await c.keys(`${PREFIX}*`);
  if (keys.length > 0) await c.del(...keys);
  assert.deepEqual(await c.keys(`${PREFIX}*`), []);
  for (const x of clients) x.disconnect();
});

/** A seeded generator of 32-bit unsigned integers (xorshift32), so that a failure replays. */
function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

let n = 0;
const prefix = (): string => `${PREFIX}${n++}:`;

const bar = (startUs: number, endUs: number, revision: number, close: number): Bar => ({
  spec: 0,
  startUs,
  startNs: 0,
  endUs,
  endNs: 0,
  open: 100,
  high: 120,
  low: 90,
  close,
  volume: 30,
  notional: 123_456_789_012_345_678_901n,
  count: 3,
  revision,
});

describe('Redis latest projection', () => {
  it('writes the latest trade, best bid and offer and last bar per interval, and reads them back', async () => {
    const p = new RedisLatest(await client(), { keyPrefix: prefix() });
    p.trade('BTC-USDT', 6_000_050, 5, 1_000, 7);
    p.quote('BTC-USDT', 6_000_000, 3, 6_000_100, NaN, 1_000);
    p.bar('BTC-USDT', '1m', bar(0, 60_000_000, 0, 110));
    p.trade('ETH-USDT', 300_000, 1, 2_000, 0);
    await p.flush();
    const s = await p.get('BTC-USDT');
    assert.deepEqual(s, {
      instrument: 'BTC-USDT',
      lastPrice: 6_000_050,
      lastSize: 5,
      lastTimeUs: 1_000,
      lastTimeNs: 7,
      bidPrice: 6_000_000,
      bidSize: 3,
      askPrice: 6_000_100,
      askSize: null,
      quoteTimeUs: 1_000,
      bars: { '1m': bar(0, 60_000_000, 0, 110) },
    });
    assert.equal(await p.get('NOPE'), undefined);
    const c = clients[0];
    assert.deepEqual((await c.smembers(p.instrumentsKey)).sort(), ['BTC-USDT', 'ETH-USDT']);
    assert.equal(await c.hget(p.keyOf('ETH-USDT'), 'price'), '300000');
    assert.deepEqual(p.counters(), { applied: 4, stale: 0, flushes: 1, failures: 0 });
  });

  it('never moves back: a redelivered or older trade, quote or bar, from this writer or another', async () => {
    const keyPrefix = prefix();
    const a = new RedisLatest(await client(), { keyPrefix });
    const b = new RedisLatest(await client(), { keyPrefix });
    a.trade('X', 105, 1, 5_000, 500);
    a.quote('X', 100, 1, 110, 1, 5_000);
    a.bar('X', '1m', bar(60_000_000, 120_000_000, 1, 111));
    a.bar('X', 'tick-3', bar(4_000, 4_900, 0, 7));
    await a.flush();
    // Another process with older data, and a redelivery of an older revision.
    b.trade('X', 99, 1, 5_000, 499);
    b.trade('X', 98, 1, 4_999, 999);
    b.quote('X', 90, 1, 95, 1, 4_999);
    b.bar('X', '1m', bar(60_000_000, 120_000_000, 0, 100));
    b.bar('X', '1m', bar(0, 60_000_000, 3, 100));
    b.bar('X', 'tick-3', bar(4_000, 4_800, 0, 6)); // the tick bar before, with the same first trade time
    await b.flush();
    const s = await a.get('X');
    assert.equal(s?.lastPrice, 105);
    assert.equal(s?.lastTimeNs, 500);
    assert.equal(s?.bidPrice, 100);
    assert.equal(s?.bars['1m'].revision, 1);
    assert.equal(s?.bars['1m'].close, 111);
    assert.equal(s?.bars['tick-3'].close, 7);
    assert.equal(b.counters().stale, 4);
    // Equal time: the same trade again is written again (idempotent); a later one wins.
    b.trade('X', 105, 1, 5_000, 500);
    b.bar('X', '1m', bar(60_000_000, 120_000_000, 2, 112));
    await b.flush();
    assert.equal(b.counters().applied, 2);
    assert.equal((await a.get('X'))?.bars['1m'].close, 112);
  });

  it('ends with the newest trade and quote per instrument whatever the order and duplicates', async () => {
    const keyPrefix = prefix();
    const writers = [
      new RedisLatest(await client(), { keyPrefix }),
      new RedisLatest(await client(), { keyPrefix }),
    ];
    const next = xorshift32(0x1234567);
    type Ev = { i: string; t: number; ns: number; price: number };
    const events: Ev[] = [];
    for (let k = 0; k < 2_000; k++) {
      events.push({
        i: `S${next() % 5}`,
        t: next() % 1_000,
        ns: next() % 3,
        price: 1 + (next() % 1_000_000),
      });
    }
    // Deliver in a random order, a tenth twice, through two writers, flushing now and then.
    const order = events.concat(events.filter((_, k) => k % 10 === 0));
    for (let k = order.length - 1; k > 0; k--) {
      const j = next() % (k + 1);
      [order[k], order[j]] = [order[j], order[k]];
    }
    for (let k = 0; k < order.length; k++) {
      const e = order[k];
      const w = writers[k % 2];
      w.trade(e.i, e.price, 1, e.t, e.ns);
      w.quote(e.i, e.price, 1, e.price + 1, 1, e.t);
      if (k % 97 === 0) await w.flush();
    }
    await Promise.all(writers.map((w) => w.flush()));
    for (const i of ['S0', 'S1', 'S2', 'S3', 'S4']) {
      const mine = events.filter((e) => e.i === i);
      const newest = Math.max(...mine.map((e) => e.t * 10 + e.ns));
      const s = await writers[0].get(i);
      assert.equal((s?.lastTimeUs ?? 0) * 10 + (s?.lastTimeNs ?? 0), newest);
      // Several trades may share the newest time; the one shown is one of them.
      const atNewest = mine.filter((e) => e.t * 10 + e.ns === newest).map((e) => e.price);
      assert.ok(atNewest.includes(s?.lastPrice ?? -1));
      assert.equal(s?.quoteTimeUs, Math.max(...mine.map((e) => e.t)));
    }
  });

  it('keeps what it could not write while Redis is away, and says so', async () => {
    const opened = openLatestProjection('redis://127.0.0.1:1', { keyPrefix: prefix() });
    assert.equal(opened.kind, 'redis');
    const p = opened.projection as RedisLatest;
    p.trade('X', 1, 1, 1, 0);
    await assert.rejects(p.flush(), /Stream isn't writeable|connect|ECONNREFUSED|closed/i);
    assert.equal(p.counters().failures, 1);
    assert.ok(p.lastError !== null);
    await assert.rejects(opened.close());
    assert.equal(openLatestProjection(null).kind, 'memory');
  });
});
