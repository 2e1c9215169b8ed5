/**
 * `rialto start` with NATS_URL and REDIS_URL, against the machine's real NATS JetStream and Redis (a stream
 * and subject prefix and a Redis key prefix of this test's own, deleted after): trades placed over REST reach
 * the venue-events stream as envelopes (every trade once, with the envelope's fields), the market data streams
 * (enriched ticks, bars), the store through the durable consumers (the candles route) and Redis (latest price,
 * best bid and offer and last bar equal to GET /api/v1/bbo and the candles). A restart, one whose saved
 * progress is behind (as after a crash) and a start while NATS is away neither lose nor duplicate an event.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { venueSetupCommands } from '../../src/cli/venue.js';
import { startVenue, type Venue } from '../../src/gateway/index.js';
import type { VenueConfig } from '../../src/ops/index.js';
import { openStore } from '../../src/store/index.js';
import {
  NATS_URL,
  deleteStreams,
  streamMaxBytes,
  streamMessages,
  uniqueNames,
  until,
} from '../bus/services.js';
import { call, tempDir, testConfig, traders } from '../gateway/helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Cents and lots of BTC-USDT (tick 0.01, lot 0.0001) as integers. */
const cents = (p: string): number => Number(p.replace('.', ''));

/** A TCP proxy to NATS that can be closed and opened again on the same port: NATS away, then back. */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async open(): Promise<void> {
    const target = new URL(NATS_URL);
    const server = createServer((client) => {
      const upstream = tcpConnect({ host: target.hostname, port: Number(target.port || 4222) });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server !== null) await new Promise<void>((r) => server.close(() => r()));
  }
}

interface TradePayload {
  symbol: string;
  journalSeq: number;
  tradeId: number;
  price: number;
  qty: number;
  aggressorSide: string;
}

describe('rialto start with NATS JetStream and Redis', () => {
  const names = uniqueNames();
  const redisPrefix = `rialto-test:${process.pid}-${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
  const dir = tempDir();
  const clock = { offsetUs: 0 };
  let venue: Venue | null = null;
  let keys = { t1: '', t2: '' };

  const config = (natsUrl = NATS_URL): VenueConfig => {
    const c = testConfig(dir, {
      NATS_URL: natsUrl,
      REDIS_URL,
      RIALTO_NATS_STREAM_PREFIX: names.streamPrefix,
      RIALTO_NATS_SUBJECT_PREFIX: names.subjectPrefix,
      RIALTO_MD_REDIS_PREFIX: redisPrefix,
      // 64 MiB a stream, not the default 1 GiB the server reserves: test files share one NATS server.
      RIALTO_NATS_STREAM_MAX_MEGABYTES: '64',
    });
    // Bars close as soon as the clock passes their end.
    return { ...c, marketData: { ...c.marketData, pipeline: { ...c.marketData.pipeline, latenessMs: 0 } } };
  };
  const open = (natsUrl?: string): Promise<Venue> => {
    const c = config(natsUrl);
    return startVenue(c, {
      setup: venueSetupCommands(c, 0),
      marketDataClockUs: () => Date.now() * 1000 + clock.offsetUs,
    });
  };
  const cross = async (v: Venue, price: string, qty: string): Promise<void> => {
    const order = { symbol: 'BTC-USDT', order_type: 'limit', price, quantity: qty };
    const s = await call(v, 'POST', '/api/v1/orders', keys.t1, { ...order, side: 'sell' });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    const b = await call(v, 'POST', '/api/v1/orders', keys.t2, { ...order, side: 'buy' });
    assert.equal(b.status, 201, JSON.stringify(b.body));
  };
  /** A resting bid and ask, so that the best bid and offer has both sides. */
  const quote = async (v: Venue, bid: string, ask: string): Promise<void> => {
    const order = { symbol: 'BTC-USDT', order_type: 'limit', quantity: '0.5' };
    assert.equal(
      (await call(v, 'POST', '/api/v1/orders', keys.t2, { ...order, side: 'buy', price: bid })).status,
      201,
    );
    assert.equal(
      (await call(v, 'POST', '/api/v1/orders', keys.t1, { ...order, side: 'sell', price: ask })).status,
      201,
    );
  };
  const restTradeIds = async (v: Venue): Promise<number[]> =>
    ((await call(v, 'GET', '/api/v1/trades/BTC-USDT?limit=1000', null)).body.trades as { trade_id: string }[])
      .map((t) => Number(t.trade_id))
      .sort((a, b) => a - b);
  const settle = async (v: Venue): Promise<void> => {
    await until('connected to NATS', () => v.transports.jetstream !== null);
    await v.marketData?.settle();
    await v.transports.settle();
  };
  const venueStream = `${names.streamPrefix}VENUE`;
  const trades = async (): Promise<TradePayload[]> =>
    (await streamMessages(venueStream))
      .filter((x) => x.m.event_type === 'TradeExecuted')
      .map((x) => x.m.payload as TradePayload);
  /** No event id twice in a stream. */
  const assertUnique = async (stream: string): Promise<number> => {
    const all = await streamMessages(stream);
    const ids = all.map((x) => x.m.event_id);
    assert.equal(new Set(ids).size, ids.length, `${stream}: an event id twice`);
    return ids.length;
  };

  after(async () => {
    await venue?.close();
    await deleteStreams(names.streamPrefix);
    const stale = await redis.keys(`${redisPrefix}*`);
    if (stale.length > 0) await redis.del(...stale);
    redis.disconnect();
  });

  it('publishes every trade and order event to the venue stream as an envelope, subject per instrument', async () => {
    venue = await open();
    const v = venue;
    keys = await traders(v, v.adminKey ?? '');
    await cross(v, '100.00', '0.5');
    await cross(v, '101.50', '0.25');
    await cross(v, '99.75', '1');
    assert.equal(await streamMaxBytes(venueStream), 64 * 1024 ** 2, 'the configured stream size');
    await settle(v);

    const all = await streamMessages(venueStream);
    assert.ok(all.length > 6, `${all.length} venue events`);
    for (const { subject, m } of all) {
      assert.equal(subject, `${names.subjectPrefix}venue.events.v1.btc-usdt`);
      assert.match(m.event_id, /^venue-event:\d+:\d+$/);
      assert.equal(m.source, 'rialto.venue');
      assert.equal(m.version, 1);
      const seq = Number(m.event_id.split(':')[1]);
      assert.equal(m.correlation_id, `venue-command:${seq}`);
      assert.equal(m.causation_id, `venue-command:${seq}`);
      assert.equal((m.payload as { journalSeq: number }).journalSeq, seq);
      assert.ok(!Number.isNaN(Date.parse(m.timestamp)));
    }
    const types = new Set(all.map((x) => x.m.event_type));
    for (const t of ['OrderAccepted', 'TradeExecuted', 'OrderFilled', 'TopOfBookChanged', 'LevelChanged'])
      assert.ok(types.has(t), `a ${t}`);
    const t = await trades();
    assert.deepEqual(
      t.map((x) => x.tradeId),
      await restTradeIds(v),
    );
    assert.deepEqual(
      t.map((x) => [x.price, x.qty, x.aggressorSide]),
      [
        [10_000, 5_000, 'buy'],
        [10_150, 2_500, 'buy'],
        [9_975, 10_000, 'buy'],
      ],
    );
    await assertUnique(venueStream);
    // The market data topics: a raw event and an enriched tick per trade and per top-of-book change.
    const enriched = await streamMessages(`${names.streamPrefix}ENRICHED`);
    assert.equal(enriched.filter((x) => (x.m.payload as { kind: string }).kind === 'trade').length, 3);
    const raw = await streamMessages(`${names.streamPrefix}INGESTION`);
    assert.equal(raw.length, enriched.length);
  });

  it('keeps Redis equal to GET /api/v1/bbo, the last trade and the last candle; the consumers store the candles', async () => {
    const v = venue as Venue;
    await quote(v, '98.00', '103.00');
    // Bars of the trades so far close once the clock passes them.
    clock.offsetUs = 5_000_000;
    await until('a 1s candle from the store', async () => {
      v.marketData?.followClock();
      const r = await call(v, 'GET', '/api/v1/candles/BTC-USDT?interval=1s', null);
      return r.status === 200 && (r.body.candles as unknown[]).length > 0;
    });
    await settle(v);
    const h = await redis.hgetall(`${redisPrefix}latest:BTC-USDT`);
    const bbo = (await call(v, 'GET', '/api/v1/bbo/BTC-USDT', null)).body;
    assert.equal(Number(h.bid_price), cents(bbo.bid_price as string));
    assert.equal(Number(h.ask_price), cents(bbo.ask_price as string));
    assert.equal(Number(h.bid_size), 5_000);
    assert.equal(Number(h.ask_size), 5_000);
    const all = (await call(v, 'GET', '/api/v1/trades/BTC-USDT?limit=100', null)).body.trades as {
      trade_id: string;
      price: string;
      quantity: string;
    }[];
    const last = all.reduce((a, b) => (Number(b.trade_id) > Number(a.trade_id) ? b : a));
    assert.equal(Number(h.price), cents(last.price));
    assert.equal(Number(h.size), Number(last.quantity.replace('.', '')));
    assert.ok((await redis.smembers(`${redisPrefix}instruments`)).includes('BTC-USDT'));

    const candles = (await call(v, 'GET', '/api/v1/candles/BTC-USDT?interval=1s', null)).body.candles as {
      start: string;
      open: string;
      high: string;
      low: string;
      close: string;
      trades: number;
    }[];
    const newest = candles[candles.length - 1];
    const bar = JSON.parse(h['bar:1s']) as {
      start_us: number;
      open: number;
      high: number;
      low: number;
      close: number;
      count: number;
    };
    assert.equal(bar.start_us, Date.parse(newest.start) * 1000);
    assert.deepEqual(
      [bar.open, bar.high, bar.low, bar.close, bar.count],
      [cents(newest.open), cents(newest.high), cents(newest.low), cents(newest.close), newest.trades],
    );
    // Every trade is in the 1s candles the durable consumer stored.
    assert.equal(
      candles.reduce((n, c) => n + c.trades, 0),
      3,
    );
    const consumed = v.transports.stats().nats?.consumers ?? [];
    assert.ok(consumed.some((c) => c.name === 'md-store-ticks' && c.counters.acked > 0));
    const metrics = await (await fetch(`${v.url}/metrics`)).text();
    assert.match(metrics, /rialto_events_published_total\{outbox="venue_events",result="stored"\} [1-9]/);
    assert.match(metrics, /rialto_events_backlog\{outbox="venue_events"\} 0/);
    assert.match(metrics, /rialto_md_ingested_total [1-9]/);
    assert.match(metrics, /rialto_md_redis_writes_total\{result="applied"\} [1-9]/);
    assert.match(metrics, /rialto_events_connected 1/);
    assert.match(
      metrics,
      /rialto_dependency_circuit_state\{dependency="nats"\} 0/,
      'the NATS circuit, closed',
    );
  });

  it('neither loses nor duplicates across a restart, nor when the saved progress is behind (a crash)', async () => {
    await venue?.close();
    venue = await open();
    let v = venue;
    await cross(v, '100.25', '0.1');
    await cross(v, '100.50', '0.1');
    await settle(v);
    assert.equal((await trades()).length, 5);
    const before = await assertUnique(venueStream);
    await v.close();
    venue = null;

    // As if the process had died before saving its progress: the next start publishes those events again.
    const store = await openStore(config().database, { create: false });
    try {
      const r = await store.query("SELECT feed, seq FROM md_progress WHERE feed LIKE 'jetstream:%'");
      assert.equal(r.length, 2);
      await store.query("UPDATE md_progress SET seq = seq - 6 WHERE feed LIKE 'jetstream:%'");
    } finally {
      await store.close();
    }
    venue = await open();
    v = venue;
    await cross(v, '100.75', '0.1');
    await settle(v);
    // The 6 commands after the saved progress are history now, published again from the journal.
    const box = v.transports.stats().nats?.outboxes.find((b) => b.name === 'venue_events_history');
    assert.ok((box?.duplicates ?? 0) > 0, 'the republished events were duplicates');
    const after = await assertUnique(venueStream);
    assert.ok(after > before);
    assert.deepEqual(
      (await trades()).map((x) => x.tradeId),
      await restTradeIds(v),
    );
    await assertUnique(`${names.streamPrefix}ENRICHED`);
  });

  it('trades while NATS is away (at the start too), shows the backlog, and publishes it all once NATS is back', async () => {
    await venue?.close();
    venue = null;
    const proxy = new CuttableProxy();
    await proxy.open();
    await proxy.cut();
    venue = await open(`nats://127.0.0.1:${proxy.port}`);
    const v = venue;
    await cross(v, '101.00', '0.2');
    await cross(v, '101.25', '0.2');
    // Matching went on; the events wait in the outbox, visible in /metrics.
    await until('the events in the outbox', () => {
      const b = v.transports.stats().nats?.outboxes.find((x) => x.name === 'venue_events');
      return (b?.queued ?? 0) > 0;
    });
    const metrics = await (await fetch(`${v.url}/metrics`)).text();
    assert.match(metrics, /rialto_events_connected 0/);
    assert.match(metrics, /rialto_events_backlog\{outbox="venue_events"\} [1-9]/);
    assert.match(metrics, /rialto_events_lag_commands\{outbox="venue_events"\} [1-9]/);
    await proxy.open();
    await settle(v);
    assert.deepEqual(
      (await trades()).map((x) => x.tradeId),
      await restTradeIds(v),
    );
    await assertUnique(venueStream);
    assert.match(await (await fetch(`${v.url}/metrics`)).text(), /rialto_events_connected 1/);
    // NATS away again after the venue connected: the bus object lives on, reconnecting, and the metrics say
    // so; the venue then closes while NATS is still away, which must not wait for it.
    await proxy.cut();
    await until('rialto_events_connected 0 after NATS went away', async () =>
      /rialto_events_connected 0/.test(await (await fetch(`${v.url}/metrics`)).text()),
    );
    await v.close();
    venue = null;
  });
});

describe('the first start with NATS on a journal that has history', () => {
  const names = uniqueNames();
  const dir = tempDir();
  const clock = { offsetUs: 0 };
  let venue: Venue | null = null;
  let keys = { t1: '', t2: '' };
  /** The history is read a command at a time, and only while its outbox holds fewer than 8 messages. */
  const pace = { commandsPerTurn: 1, roomBelow: 8, waitMs: 5 };

  const open = (natsUrl: string | null): Promise<Venue> => {
    const env: Record<string, string> =
      natsUrl === null
        ? {}
        : {
            NATS_URL: natsUrl,
            RIALTO_NATS_STREAM_PREFIX: names.streamPrefix,
            RIALTO_NATS_STREAM_MAX_MEGABYTES: '64',
            RIALTO_NATS_SUBJECT_PREFIX: names.subjectPrefix,
          };
    const c = testConfig(dir, env);
    const config = {
      ...c,
      marketData: { ...c.marketData, pipeline: { ...c.marketData.pipeline, latenessMs: 0 } },
    };
    return startVenue(config, {
      setup: venueSetupCommands(config, 0),
      marketDataClockUs: () => Date.now() * 1000 + clock.offsetUs,
      marketDataBackfill: pace,
    });
  };
  const cross = async (v: Venue, price: string): Promise<void> => {
    const order = { symbol: 'BTC-USDT', order_type: 'limit', price, quantity: '0.1' };
    assert.equal((await call(v, 'POST', '/api/v1/orders', keys.t1, { ...order, side: 'sell' })).status, 201);
    assert.equal((await call(v, 'POST', '/api/v1/orders', keys.t2, { ...order, side: 'buy' })).status, 201);
  };
  const restTradeIds = async (v: Venue): Promise<number[]> =>
    ((await call(v, 'GET', '/api/v1/trades/BTC-USDT?limit=1000', null)).body.trades as { trade_id: string }[])
      .map((t) => Number(t.trade_id))
      .sort((a, b) => a - b);
  const history = (v: Venue, name: string) =>
    v.transports.stats().nats?.outboxes.find((b) => b.name === name);

  after(async () => {
    await venue?.close();
    await deleteStreams(names.streamPrefix);
  });

  it('publishes the whole journal, paced by its outbox, while orders go on; nothing twice', async () => {
    // A venue that ran without NATS: 12 trades in its journal, none of them ever published.
    venue = await open(null);
    let v = venue;
    keys = await traders(v, v.adminKey ?? '');
    for (let i = 0; i < 12; i++) await cross(v, (100 + i / 4).toFixed(2));
    await v.marketData?.settle();
    const historyTrades = (await restTradeIds(v)).length;
    assert.equal(historyTrades, 12);
    await v.close();
    venue = null;

    // The first start with NATS, NATS away: the history waits in its outbox, filled up to the bound only.
    const proxy = new CuttableProxy();
    await proxy.open();
    await proxy.cut();
    venue = await open(`nats://127.0.0.1:${proxy.port}`);
    v = venue;
    await until(
      'the history outbox full to its bound',
      () => (history(v, 'venue_events_history')?.queued ?? 0) >= 8,
    );
    const h = v.transports.stats().nats?.history;
    assert.ok(h !== null && h !== undefined && !h.done && h.nextSeq <= h.throughSeq, 'the history waits');
    // Orders are not held up by it: they match, and their events wait in the live outbox.
    await cross(v, '104.00');
    await until('the live events queued', () => (history(v, 'venue_events')?.queued ?? 0) > 0);
    const peak = history(v, 'venue_events_history')?.queuedPeak ?? 0;
    // Below the bound a command is read, and one command makes at most 8 venue events here.
    assert.ok(peak >= 8 && peak < 8 + 8, `the history outbox held ${peak} at most`);
    assert.equal(history(v, 'venue_events_history')?.dropped, 0);

    await proxy.open();
    await until('connected to NATS', () => v.transports.jetstream !== null);
    await cross(v, '104.25');
    await v.marketData?.settle();
    await v.transports.settle(30_000);
    assert.equal(v.transports.stats().nats?.history?.done, true);

    // Every trade, history and live, is in the venue stream once.
    const venueEvents = await streamMessages(`${names.streamPrefix}VENUE`);
    const ids = venueEvents.map((x) => x.m.event_id);
    assert.equal(new Set(ids).size, ids.length, 'an event id twice');
    const streamed = venueEvents
      .filter((x) => x.m.event_type === 'TradeExecuted')
      .map((x) => (x.m.payload as TradePayload).tradeId)
      .sort((a, b) => a - b);
    assert.deepEqual(streamed, await restTradeIds(v));
    assert.equal(streamed.length, historyTrades + 2);
    // So is every tick of the market data: the history's pipeline made the same ids as the venue's.
    const enriched = await streamMessages(`${names.streamPrefix}ENRICHED`);
    const tickIds = enriched.map((x) => x.m.event_id);
    assert.equal(new Set(tickIds).size, tickIds.length, 'a tick id twice');
    assert.equal(enriched.filter((x) => (x.m.payload as { kind: string }).kind === 'trade').length, 14);
    // The 1s bars, once the clock closed the last ones: each trade counted once in the newest revisions.
    clock.offsetUs = 5_000_000;
    v.marketData?.followClock();
    await v.marketData?.settle();
    await v.transports.settle(30_000);
    const newest = new Map<number, { revision: number; count: number }>();
    for (const { m } of await streamMessages(`${names.streamPrefix}AGGREGATED`)) {
      const b = m.payload as { interval: string; start_us: number; revision: number; count: number };
      if (b.interval !== '1s') continue;
      const known = newest.get(b.start_us);
      if (known === undefined || known.revision < b.revision) newest.set(b.start_us, b);
    }
    assert.equal(
      [...newest.values()].reduce((n, b) => n + b.count, 0),
      14,
    );
    // The progress saved is the live one now: a restart publishes nothing again.
    await v.close();
    venue = null;
    venue = await open(NATS_URL);
    assert.equal(venue.transports.stats().nats?.history, null);
    assert.equal(venue.transports.stats().nats?.outboxes.length, 2);
    await proxy.cut();
  });
});
