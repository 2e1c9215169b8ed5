/**
 * `rialto engine` and two `rialto gateway` processes, spawned from dist as a user runs them, on ephemeral
 * ports and a schema of their own on the test PostgreSQL: what goes in through one gateway is seen through the
 * other (REST and WebSocket feeds), a client order id retried through the other gateway finds the same order,
 * a gateway killed and restarted catches up, an engine killed and restarted leaves the gateways not ready
 * until they reconnect and loses no acknowledged order, and the internal port refuses a wrong secret and bad
 * frames without harm. The engine's process runs the market data pipeline and the NATS and Redis transports
 * (a stream and key prefix of its own on the machine's services) and serves /metrics; every gateway serves
 * the candles and ticks it stores, and the same live candles.
 */
import { strict as assert } from 'node:assert';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { ENGINE_WS_PATH, encodeFrame } from '../../../src/gateway/remote/index.js';
import { openPostgresStore } from '../../../src/store/index.js';
import { CHILD_TIMEOUT_MS, startRialto } from '../../cli/helpers.js';
import { NATS_URL, deleteStreams, streamMessages, uniqueNames } from '../../bus/services.js';
import { TEST_DATABASE_URL } from '../../store/helpers.js';
import { WsClient, wsUrl, type Json } from '../ws/client.js';

const SECRET = 'split-test-secret-0123456789abcdef';
const schema = `rialto_split_${process.pid}`;
const nats = uniqueNames();
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisPrefix = `rialto-split-${process.pid}:`;
const databaseUrl = `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

interface Proc {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  /** The first match of `re` in stdout, once it appears. */
  line: RegExp;
  match: RegExpExecArray;
}

const children = new Set<ChildProcessWithoutNullStreams>();

async function spawnUntil(args: string[], env: Record<string, string>, line: RegExp): Promise<Proc> {
  const child = startRialto(args, { DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', ...env });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not started: ${out} ${err}`)), CHILD_TIMEOUT_MS);
    const look = (): void => {
      const m = line.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${String(code)}: ${out} ${err}`));
    });
  });
  return { child, out: () => out, err: () => err, line, match };
}

/** The engine, the venue's one writer of market data: to the store, to NATS JetStream and to Redis. */
const startEngine = (dataDir: string, listen: string): Promise<Proc> =>
  spawnUntil(
    ['engine', '--listen', listen],
    {
      RIALTO_DATA_DIR: dataDir,
      RIALTO_ENGINE_SECRET: SECRET,
      NATS_URL,
      RIALTO_NATS_STREAM_PREFIX: nats.streamPrefix,
      RIALTO_NATS_STREAM_MAX_MEGABYTES: '64',
      RIALTO_NATS_SUBJECT_PREFIX: nats.subjectPrefix,
      REDIS_URL,
      RIALTO_MD_REDIS_PREFIX: redisPrefix,
    },
    /engine listening on (\S+) /,
  );

const startGateway = (dataDir: string, engine: string): Promise<Proc> =>
  spawnUntil(
    ['gateway', '--engine', engine, '--port', '0', '--host', '127.0.0.1'],
    // A gateway writes no file; its data directory is never touched (a fresh one shows that it needs none).
    { RIALTO_DATA_DIR: dataDir, RIALTO_ENGINE_SECRET: SECRET },
    /gateway listening on (http:\/\/\S+) /,
  );

async function stop(p: Proc, signal: NodeJS.Signals): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.child.exitCode;
  const exited = new Promise<number | null>((resolve) => p.child.once('exit', (code) => resolve(code)));
  p.child.kill(signal);
  return exited;
}

async function call(
  base: string,
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(base + path, {
    method,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** Polls `/ready` until it answers `status` (each poll a round trip; bounded by the count, not a clock). */
async function readyBecomes(base: string, status: number, polls = 600): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  for (let i = 0; i < polls; i++) {
    const r = await fetch(`${base}/ready`).catch(() => null);
    if (r !== null) {
      last = (await r.json()) as Record<string, unknown>;
      if (r.status === status) return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`/ready never answered ${status}: ${JSON.stringify(last)}`);
}

const limit = (fields: Record<string, unknown>): Record<string, unknown> => ({
  symbol: 'BTC-USDT',
  order_type: 'limit',
  ...fields,
});

/** A BTC-USDT limit order through the gateway at `base`. */
const place = (
  base: string,
  key: string,
  fields: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> =>
  call(base, 'POST', '/api/v1/orders', key, limit(fields));

/** Polls `read` until `done` holds of its value (a bounded count of polls, not a clock); the last value. */
async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (v: T) => boolean,
  polls = 600,
): Promise<T> {
  let v = await read();
  for (let i = 0; i < polls && !done(v); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    v = await read();
  }
  assert.ok(
    done(v),
    `${what}: ${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x))}`,
  );
  return v;
}

/** A price of BTC-USDT (two decimals) in ticks, as the store keeps it. */
const ticksOf = (price: unknown): number => Math.round(Number(price) * 100);

describe('rialto engine with two rialto gateways', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rialto-split-'));
  const dataDir = join(dir, 'engine');
  let engine: Proc;
  let engineAddress = '';
  let admin = '';
  let a: Proc;
  let b: Proc;
  let urlA = '';
  let urlB = '';
  /** The start of the session, µs: the market data's ranges begin here. */
  const startedUs = Date.now() * 1000 - 1_000_000;
  /** Every order a gateway acknowledged, by id: what must survive an engine restart. */
  const acknowledged = new Map<string, Record<string, unknown>>();

  before(async () => {
    const db = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await db.close();
    engine = await startEngine(dataDir, '127.0.0.1:0');
    engineAddress = engine.match[1];
    const key = /\n {2}(rk_\S+)\n/.exec(engine.out());
    assert.ok(key !== null, `the first admin key is printed: ${engine.out()}`);
    admin = key[1];
    a = await startGateway(join(dir, 'a'), engineAddress);
    b = await startGateway(join(dir, 'b'), engineAddress);
    urlA = a.match[1];
    urlB = b.match[1];
    for (const id of [1, 2]) {
      assert.equal(
        (await call(urlA, 'POST', '/api/v1/admin/accounts', admin, { account_id: id })).status,
        201,
      );
      for (const [asset, amount] of [
        ['USDT', '1000000'],
        ['BTC', '100'],
      ]) {
        const d = await call(urlB, 'POST', `/api/v1/admin/accounts/${id}/deposits`, admin, { asset, amount });
        assert.equal(d.status, 201, JSON.stringify(d.body));
      }
    }
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await deleteStreams(nats.streamPrefix);
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    await redis.connect();
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    const db = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows what one gateway placed through the other: orders, the book, the WebSocket feeds', async () => {
    const trades = await WsClient.open(wsUrl(urlB, '/ws/trades/BTC-USDT'), { 'x-api-key': admin });
    const book = await WsClient.open(wsUrl(urlB, '/ws/market-data/BTC-USDT?depth=5'), { 'x-api-key': admin });
    try {
      const sell = await place(urlA, admin, { account_id: 2, side: 'sell', quantity: '0.5', price: '41000' });
      assert.equal(sell.status, 201, JSON.stringify(sell.body));
      const id = String(sell.body.order_id);
      acknowledged.set(id, sell.body);
      // Through B: the same order, and the book with its level.
      const seen = await call(urlB, 'GET', `/api/v1/orders/${id}`, admin);
      assert.equal(seen.status, 200);
      assert.deepEqual(seen.body, sell.body);
      const depth = await call(urlB, 'GET', '/api/v1/orderbook/BTC-USDT', admin);
      assert.deepEqual(depth.body.asks, [['41000.00', '0.5000']]);
      const update = await book.next(
        (m) => m.type === 'orderbook_update' && JSON.stringify(m.asks).includes('41000'),
      );
      assert.deepEqual(update.asks, [['41000.00', '0.5000']]);
      // A crossing buy through B trades against A's order; A's trade feed... B's own feed shows the trade.
      const buy = await place(urlB, admin, { account_id: 1, side: 'buy', quantity: '0.2', price: '41000' });
      assert.equal(buy.status, 201, JSON.stringify(buy.body));
      assert.equal(buy.body.status, 'filled');
      acknowledged.set(String(buy.body.order_id), buy.body);
      const trade = await trades.next((m) => m.type === 'trade_execution');
      assert.equal(trade.maker_order_id, id);
      assert.equal(trade.taker_order_id, String(buy.body.order_id));
      assert.equal(trade.quantity, '0.2000');
      // Through A: the maker partly filled, and the trade in the market's trades.
      const maker = await call(urlA, 'GET', `/api/v1/orders/${id}`, admin);
      assert.equal(maker.body.status, 'partially_filled');
      const recent = await call(urlA, 'GET', '/api/v1/trades/BTC-USDT', admin);
      assert.ok(JSON.stringify(recent.body).includes(String(buy.body.order_id)));
      // Balances are the engine's: the same through either gateway.
      const balancesA = await call(urlA, 'GET', '/api/v1/accounts/1/balances', admin);
      const balancesB = await call(urlB, 'GET', '/api/v1/accounts/1/balances', admin);
      assert.equal(balancesA.status, 200);
      assert.deepEqual(balancesA.body, balancesB.body);
    } finally {
      await trades.close();
      await book.close();
    }
  });

  it('trades through one gateway an instrument added through the other, without a restart', async () => {
    const added = await call(urlA, 'POST', '/api/v1/instruments', admin, {
      symbol: 'ETH-BTC',
      base: 'ETH',
      quote: 'BTC',
      tick_size: '0.00001',
      lot_size: '0.001',
      max_quantity: '1000',
      maker_fee: '0',
      taker_fee: '0.0005',
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    // B learns it from the engine's stream (the batch that defined it), not from a restart.
    await until(
      'ETH-BTC listed by gateway B',
      () => call(urlB, 'GET', '/api/v1/instruments', admin),
      (r) => JSON.stringify(r.body).includes('"ETH-BTC"'),
    );
    const deposit = await call(urlB, 'POST', '/api/v1/admin/accounts/2/deposits', admin, {
      asset: 'ETH',
      amount: '10',
    });
    assert.equal(deposit.status, 201, JSON.stringify(deposit.body));
    const sell = await place(urlB, admin, {
      symbol: 'ETH-BTC',
      account_id: 2,
      side: 'sell',
      quantity: '1',
      price: '0.05',
    });
    assert.equal(sell.status, 201, JSON.stringify(sell.body));
    const buy = await place(urlB, admin, {
      symbol: 'ETH-BTC',
      account_id: 1,
      side: 'buy',
      quantity: '0.5',
      price: '0.05',
    });
    assert.equal(buy.status, 201, JSON.stringify(buy.body));
    assert.equal(buy.body.status, 'filled');
    acknowledged.set(String(sell.body.order_id), sell.body);
    acknowledged.set(String(buy.body.order_id), buy.body);
    const seenOnA = await until(
      'the ETH-BTC sell through A',
      () => call(urlA, 'GET', `/api/v1/orders/${String(sell.body.order_id)}`, admin),
      (r) => r.body.status === 'partially_filled',
    );
    assert.equal(seenOnA.status, 200);
    const bookB = await call(urlB, 'GET', '/api/v1/orderbook/ETH-BTC', admin);
    assert.equal(bookB.status, 200, JSON.stringify(bookB.body));
    assert.deepEqual(
      bookB.body.asks,
      (await call(urlA, 'GET', '/api/v1/orderbook/ETH-BTC', admin)).body.asks,
    );
  });

  it('amends and cancels through one gateway what the other placed', async () => {
    const placed = await place(urlA, admin, { account_id: 1, side: 'buy', quantity: '0.3', price: '39000' });
    assert.equal(placed.status, 201);
    const id = String(placed.body.order_id);
    const amended = await call(urlB, 'PATCH', `/api/v1/orders/${id}`, admin, { quantity: '0.2' });
    assert.equal(amended.status, 200, JSON.stringify(amended.body));
    assert.equal(amended.body.quantity, '0.2000');
    const cancelled = await call(urlB, 'DELETE', `/api/v1/orders/${id}`, admin);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.status, 'cancelled');
    const seen = await call(urlA, 'GET', `/api/v1/orders/${id}`, admin);
    assert.deepEqual(seen.body, cancelled.body);
    acknowledged.set(id, cancelled.body);
  });

  it('expires a GTD order when it is due, with nothing else trading, as both gateways show', async () => {
    const placed = await place(urlA, admin, {
      account_id: 1,
      side: 'buy',
      quantity: '0.1',
      price: '38000',
      time_in_force: 'gtd',
      expire_time: new Date(Date.now() + 1_000).toISOString(),
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const id = String(placed.body.order_id);
    const expired = await until(
      'the order expired, through the other gateway',
      async () => (await call(urlB, 'GET', `/api/v1/orders/${id}`, admin)).body,
      (b) => b.status === 'expired',
    );
    assert.deepEqual((await call(urlA, 'GET', `/api/v1/orders/${id}`, admin)).body, expired);
    acknowledged.set(id, expired);
  });

  it('answers a client order id retried through the other gateway with the first order', async () => {
    const fields = limit({
      account_id: 1,
      side: 'buy',
      quantity: '0.1',
      price: '38000',
      client_order_id: 'x-1',
    });
    const first = await call(urlA, 'POST', '/api/v1/orders', admin, fields);
    assert.equal(first.status, 201);
    assert.equal(first.body.client_order_id, 'x-1');
    const retry = await call(urlB, 'POST', '/api/v1/orders', admin, fields);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, first.body);
    // Order ids come from the engine: the next order through B gets a new one.
    const next = await place(urlB, admin, { account_id: 1, side: 'buy', quantity: '0.1', price: '38000' });
    assert.equal(next.status, 201);
    assert.ok(Number(next.body.order_id) > Number(first.body.order_id));
    acknowledged.set(String(first.body.order_id), first.body);
    acknowledged.set(String(next.body.order_id), next.body);
  });

  it('catches up a gateway killed and restarted', async () => {
    assert.equal(await stop(b, 'SIGKILL'), null);
    const placed = await place(urlA, admin, {
      account_id: 2,
      side: 'sell',
      quantity: '0.1',
      price: '45000',
      client_order_id: 'while-b-down',
    });
    assert.equal(placed.status, 201);
    acknowledged.set(String(placed.body.order_id), placed.body);
    b = await startGateway(join(dir, 'b'), engineAddress);
    urlB = b.match[1];
    const seen = await call(urlB, 'GET', `/api/v1/orders/${String(placed.body.order_id)}`, admin);
    assert.deepEqual(seen.body, placed.body);
    for (const [id, body] of acknowledged) {
      const o = await call(urlB, 'GET', `/api/v1/orders/${id}`, admin);
      assert.equal(o.body.order_id, body.order_id);
    }
  });

  it('survives an engine killed and restarted: not ready meanwhile, then reconnected, no order lost', async () => {
    await readyBecomes(urlA, 200);
    assert.equal(await stop(engine, 'SIGKILL'), null);
    const down = await readyBecomes(urlA, 503);
    assert.match(String((down.checks as Record<string, string>).engine), /disconnected/);
    await readyBecomes(urlB, 503);
    // Refused while the engine is away, with the API's 503.
    const refused = await place(urlA, admin, { account_id: 1, side: 'buy', quantity: '0.1', price: '30000' });
    assert.equal(refused.status, 503);
    engine = await startEngine(dataDir, engineAddress);
    await readyBecomes(urlA, 200);
    await readyBecomes(urlB, 200);
    for (const url of [urlA, urlB]) {
      for (const [id, body] of acknowledged) {
        const o = await call(url, 'GET', `/api/v1/orders/${id}`, admin);
        assert.equal(o.status, 200);
        assert.equal(o.body.order_id, body.order_id);
        assert.equal(o.body.client_order_id, body.client_order_id);
      }
    }
    const retry = await place(urlB, admin, {
      account_id: 2,
      side: 'sell',
      quantity: '0.1',
      price: '45000',
      client_order_id: 'while-b-down',
    });
    assert.equal(retry.status, 200);
    const after = await place(urlA, admin, { account_id: 1, side: 'buy', quantity: '0.1', price: '30000' });
    assert.equal(after.status, 201);
    assert.ok(
      Math.max(...[...acknowledged.keys()].map(Number)) < Number(after.body.order_id),
      'no order id reused',
    );
  });

  it('projects the query tables in the engine process: every acknowledged order is a row, once', async () => {
    const db = await openPostgresStore({ url: TEST_DATABASE_URL, schema });
    try {
      const wanted = [...acknowledged.keys()].map(Number).sort((a, b) => a - b);
      const deadline = Date.now() + 30_000;
      let ids: number[] = [];
      while (Date.now() < deadline) {
        const rows = await db.query('SELECT order_id FROM orders ORDER BY order_id');
        ids = rows.map((r) => Number(r.order_id));
        if (wanted.every((id) => ids.includes(id))) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (const id of wanted)
        assert.equal(ids.filter((x) => x === id).length, 1, `order ${id} in the table once`);
    } finally {
      await db.close();
    }
  });

  it('serves through every gateway the candles and ticks the engine stored, and the same live candles', async () => {
    const channel = 'candles:BTC-USDT:1s';
    const from = new Date(startedUs / 1000).toISOString();
    const candles = async (url: string): Promise<Json[]> => {
      const r = await call(url, 'GET', `/api/v1/candles/BTC-USDT?interval=1s&from=${from}`, admin);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      // Closed bars only (no forming=true): shown as the candles channel shows them, without the flag.
      return (r.body.candles as Json[]).map(({ forming, ...c }) => {
        assert.equal(forming, false);
        return c;
      });
    };
    const subscribe = async (url: string): Promise<{ ws: WsClient; snapshot: Json[] }> => {
      const ws = await WsClient.open(wsUrl(url, '/ws'), { 'x-api-key': admin });
      await ws.request({ op: 'subscribe', id: 'c', channel });
      const snap = await ws.next((m) => m.type === 'candles_snapshot');
      return { ws, snapshot: snap.candles as Json[] };
    };
    const trades = async (): Promise<Json[]> =>
      (await call(urlA, 'GET', '/api/v1/trades/BTC-USDT?limit=100', admin)).body.trades as Json[];
    const before = await trades();
    assert.ok(before.length > 0, 'the session so far has traded');
    // A gateway closes a 1 s bar on its own clock's tick once the clock is past the bar's end and the
    // lateness allowed (marketData.pipeline.latenessMs): until then the session's last trade's bar is in
    // neither snapshot, or in one and not yet the other. Subscribed again until both hold closed bars and
    // agree, for at most about 10 s.
    const settled = (x: Json[], y: Json[]): boolean => x.length > 0 && isDeepStrictEqual(x, y);
    let subA = await subscribe(urlA);
    let subB = await subscribe(urlB);
    for (let attempt = 1; attempt < 30 && !settled(subA.snapshot, subB.snapshot); attempt++) {
      await subA.ws.close();
      await subB.ws.close();
      await new Promise((r) => setTimeout(r, 300));
      subA = await subscribe(urlA);
      subB = await subscribe(urlB);
    }
    try {
      // B was restarted and A reconnected after an engine restart: both rebuilt the same closed bars.
      assert.deepEqual(subA.snapshot, subB.snapshot);
      assert.ok(subA.snapshot.length > 0, 'the earlier trades made 1s bars');
      // A trade now (against the rest of the first sell at 41000): each gateway closes its bar, the same.
      const buy = await place(urlB, admin, { account_id: 1, side: 'buy', quantity: '0.1', price: '41000' });
      assert.equal(buy.status, 201, JSON.stringify(buy.body));
      assert.equal(buy.body.status, 'filled');
      acknowledged.set(String(buy.body.order_id), buy.body);
      const last = await trades();
      const newest = last.find((t) => t.taker_order_id === String(buy.body.order_id));
      assert.ok(newest !== undefined, 'the trade is in the trades');
      const tradeMs = Date.parse(String(newest.timestamp));
      const barOf = (m: Json): boolean =>
        m.type === 'candle' &&
        Date.parse(String((m.candle as Json).start)) <= tradeMs &&
        Date.parse(String((m.candle as Json).end)) > tradeMs;
      const liveA = await subA.ws.next(barOf);
      const liveB = await subB.ws.next(barOf);
      assert.deepEqual(liveA.candle, liveB.candle);
      assert.equal((liveA.candle as Json).close, '41000.00');
      // REST reads what the engine's process stored: once it is written, the same through both gateways,
      // and the same as the bars the live channel showed.
      const stored = await until(
        'the new bar in the store, through A',
        () => candles(urlA),
        (c) => c.some((x) => x.start === (liveA.candle as Json).start),
      );
      assert.deepEqual(await candles(urlB), stored);
      const again = await subscribe(urlA);
      await again.ws.close();
      assert.deepEqual(again.snapshot, stored);
      // The stored rows themselves, and one trade tick per trade.
      const db = await openPostgresStore({ url: TEST_DATABASE_URL, schema });
      try {
        const rows = await db.query(
          `SELECT close, trades FROM md_bars WHERE instrument = 'BTC-USDT' AND interval = '1s' ORDER BY start_ts`,
        );
        assert.deepEqual(
          rows.map((r) => [Number(r.close), Number(r.trades)]),
          stored.map((c) => [ticksOf(c.close), c.trades]),
        );
        const ticks = await db.query(
          `SELECT count(*) AS n FROM md_ticks WHERE instrument = 'BTC-USDT' AND kind = 't'`,
        );
        assert.equal(Number(ticks[0].n), last.length);
      } finally {
        await db.close();
      }
      const ticks = async (url: string): Promise<Json[]> => {
        const r = await call(url, 'GET', `/api/v1/ticks/BTC-USDT?from=${from}&limit=10000`, admin);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body.ticks as Json[];
      };
      const ticksA = await ticks(urlA);
      assert.deepEqual(
        ticksA
          .filter((t) => t.kind === 'trade')
          .map((t) => t.trade_id)
          .sort(),
        last.map((t) => t.trade_id).sort(),
      );
      assert.deepEqual(await ticks(urlB), ticksA);
    } finally {
      await subA.ws.close();
      await subB.ws.close();
    }
  });

  it('publishes from the engine process to NATS JetStream and Redis', async () => {
    const tradesOf = async (symbol: string): Promise<Json[]> =>
      (await call(urlA, 'GET', `/api/v1/trades/${symbol}?limit=100`, admin)).body.trades as Json[];
    // The instrument added at runtime is published too: the engine's process knows it from its batch.
    const btc = await tradesOf('BTC-USDT');
    const trades = [...btc, ...(await tradesOf('ETH-BTC'))];
    // Every trade once on the venue's stream (the restarted engine offered again only what was not on it).
    const venue = await until(
      'the trades on the venue stream',
      async () =>
        (await streamMessages(`${nats.streamPrefix}VENUE`)).filter((x) => x.m.event_type === 'TradeExecuted'),
      (v) => v.length >= trades.length,
    );
    assert.equal(venue.length, trades.length);
    const enriched = await until(
      'the trade ticks on the enriched stream',
      async () =>
        (await streamMessages(`${nats.streamPrefix}ENRICHED`)).filter(
          (x) => (x.m.payload as { kind: string }).kind === 'trade',
        ),
      (v) => v.length >= trades.length,
    );
    assert.equal(enriched.length, trades.length);
    const redis = new Redis(REDIS_URL);
    try {
      const latest = await until(
        'the last trade in Redis',
        () => redis.hgetall(`${redisPrefix}latest:BTC-USDT`),
        (h) => h.price !== undefined,
      );
      const newest = btc.reduce((x, y) => (Number(y.trade_id) > Number(x.trade_id) ? y : x));
      assert.equal(Number(latest.price), ticksOf(newest.price));
    } finally {
      redis.disconnect();
    }
  });

  it("serves the engine process's metrics on its internal port", async () => {
    const r = await fetch(`http://${engineAddress}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await r.text();
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(series + ' '));
      assert.ok(line !== undefined, `${series} in /metrics`);
      return Number(line.slice(series.length + 1));
    };
    assert.ok(value('rialto_journal_records_total') > 0);
    assert.ok(value('rialto_md_ingested_total') > 0);
    assert.ok(value('rialto_events_published_total{outbox="venue_events",result="stored"}') > 0);
    assert.equal(value('rialto_dependency_circuit_state{dependency="postgres"}'), 0);
    assert.equal(value('rialto_readiness_check{check="store"}'), 1);
    for (const name of [
      'process_cpu_seconds_total',
      'rialto_projection_backlog',
      'rialto_md_redis_writes_total',
    ])
      assert.ok(text.includes(`\n${name}`), `${name} in /metrics`);
  });

  it('refuses a wrong secret and bad frames on the internal port, and goes on serving', async () => {
    const url = `ws://${engineAddress}${ENGINE_WS_PATH}`;
    const refusedStatus = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { authorization: 'Bearer wrong' } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('a wrong secret was let in')));
      ws.on('error', () => undefined);
    });
    assert.equal(refusedStatus, 401);
    const noSecret = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    assert.equal(noSecret, 401);
    const bad: (Buffer | string)[] = [
      'text is not a frame',
      Buffer.from([1, 2]),
      Buffer.from([255, 255, 255, 255, 0]),
      encodeFrame({ t: 'follow', from: 1 }).subarray(0, 10),
      Buffer.concat([Buffer.from([5, 0, 0, 0]), Buffer.from('{"t":')]),
      encodeFrame({ t: 'submit', id: 1, count: 1 }, Buffer.from([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9])),
      encodeFrame({ t: 'place', id: 1 }, new Uint8Array(0)),
    ];
    for (const data of bad) {
      const closed = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url, { headers: { authorization: `Bearer ${SECRET}` } });
        ws.once('open', () => ws.send(data, { binary: typeof data !== 'string' }));
        ws.once('close', (code) => resolve(code));
        ws.once('error', reject);
      });
      assert.equal(closed, 1002, `a bad frame closes its connection: ${String(data.length)} bytes`);
    }
    const health = await fetch(`http://${engineAddress}/ready`);
    assert.equal(health.status, 200);
    await readyBecomes(urlA, 200);
    const placed = await place(urlB, admin, { account_id: 1, side: 'buy', quantity: '0.1', price: '30000' });
    assert.equal(placed.status, 201);
    const seen = await call(urlA, 'GET', `/api/v1/orders/${String(placed.body.order_id)}`, admin);
    assert.equal(seen.status, 200);
  });

  it('stops every process cleanly on SIGTERM', async () => {
    assert.equal(await stop(a, 'SIGTERM'), 0, a.err());
    assert.equal(await stop(b, 'SIGTERM'), 0, b.err());
    assert.equal(await stop(engine, 'SIGTERM'), 0, engine.err());
  });
});
