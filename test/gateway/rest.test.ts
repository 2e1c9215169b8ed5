/**
 * The REST API end to end on a venue in this process: place, fill between two accounts, cancel, amend,
 * idempotent retries, authorization, validation errors, a request through a real socket, and a stop and
 * restart that keeps every acknowledged order and the same views (PGlite, then PostgreSQL).
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createKey, type Venue } from '../../src/gateway/index.js';
import { openPostgresStore } from '../../src/store/index.js';
import { TEST_DATABASE_URL } from '../store/helpers.js';
import { call, openVenue, order, tempDir, testConfig, traders } from './helpers.js';

const idOf = (a: { body: Record<string, unknown> }): string => String(a.body.order_id);

describe('REST API on PGlite', () => {
  const dir = tempDir();
  const config = testConfig(dir);
  let venue: Venue;
  let admin: string;
  let t1: string;
  let t2: string;
  const acknowledged: string[] = [];

  before(async () => {
    venue = await openVenue(config);
    assert.ok(venue.adminKey !== null, 'a first run makes an admin key');
    admin = venue.adminKey;
    ({ t1, t2 } = await traders(venue, admin));
  });
  after(async () => {
    await venue.close();
  });

  it('places, fills between two accounts, and shows the trade, the book and the statistics', async () => {
    const sell = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t2,
      order({ side: 'sell', quantity: '0.5', price: '60000.10' }),
    );
    assert.equal(sell.status, 201, JSON.stringify(sell.body));
    assert.equal(sell.body.status, 'pending');
    assert.equal(sell.body.account_id, 2);
    acknowledged.push(idOf(sell));
    const bbo = await call(venue, 'GET', '/api/v1/bbo/BTC-USDT', null);
    assert.equal(bbo.body.ask_price, '60000.10');
    assert.equal(bbo.body.bid_price, null);
    const buy = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', quantity: '0.2', price: '60001' }),
    );
    assert.equal(buy.status, 201, JSON.stringify(buy.body));
    assert.equal(buy.body.status, 'filled');
    assert.equal(buy.body.average_price, '60000.10');
    assert.equal(buy.body.filled_quantity, '0.2000');
    acknowledged.push(idOf(buy));
    const maker = await call(venue, 'GET', `/api/v1/orders/${idOf(sell)}`, t2);
    assert.equal(maker.body.status, 'partially_filled');
    assert.equal(maker.body.remaining_quantity, '0.3000');
    const trades = await call(venue, 'GET', '/api/v1/trades/BTC-USDT?limit=10', null);
    const [trade] = trades.body.trades as Record<string, unknown>[];
    assert.deepEqual(
      [trade.price, trade.quantity, trade.aggressor_side, trade.maker_order_id, trade.taker_order_id],
      ['60000.10', '0.2000', 'buy', idOf(sell), idOf(buy)],
    );
    const book = await call(venue, 'GET', '/api/v1/orderbook/BTC-USDT?depth=5', null);
    assert.deepEqual(book.body.asks, [['60000.10', '0.3000']]);
    const stats = await call(venue, 'GET', '/api/v1/statistics', null);
    assert.equal(stats.body.trades, 1);
  });

  it('cancels and amends, and refuses to cancel an ended order', async () => {
    const placed = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', quantity: '1', price: '50000' }),
    );
    acknowledged.push(idOf(placed));
    const amended = await call(venue, 'PATCH', `/api/v1/orders/${idOf(placed)}`, t1, {
      price: '50001.5',
      quantity: '2',
    });
    assert.equal(amended.status, 200, JSON.stringify(amended.body));
    assert.deepEqual([amended.body.price, amended.body.quantity], ['50001.50', '2.0000']);
    const cancelled = await call(venue, 'DELETE', `/api/v1/orders/${idOf(placed)}`, t1);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    const again = await call(venue, 'DELETE', `/api/v1/orders/${idOf(placed)}`, t1);
    assert.equal(again.status, 409);
    assert.equal((again.body.error as { code: string }).code, 'ORDER_CANNOT_BE_CANCELLED');
  });

  it('answers a retried client_order_id with the same order, body or query', async () => {
    const fields = order({ side: 'buy', quantity: '0.1', price: '40000', client_order_id: 'retry-1' });
    const first = await call(venue, 'POST', '/api/v1/orders', t1, fields);
    assert.equal(first.status, 201);
    acknowledged.push(idOf(first));
    const second = await call(venue, 'POST', '/api/v1/orders', t1, fields);
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, first.body);
    const query = new URLSearchParams(fields as Record<string, string>).toString();
    const third = await call(venue, 'POST', `/api/v1/orders?${query}`, t1);
    assert.equal(third.status, 200, JSON.stringify(third.body));
    assert.equal(idOf(third), idOf(first));
    const concurrent = await Promise.all(
      [1, 2, 3].map(() =>
        call(
          venue,
          'POST',
          '/api/v1/orders',
          t2,
          order({ side: 'sell', quantity: '0.1', price: '70000', client_order_id: 'race' }),
        ),
      ),
    );
    assert.equal(new Set(concurrent.map(idOf)).size, 1);
    assert.deepEqual(concurrent.map((a) => a.status).sort(), [200, 200, 201]);
    acknowledged.push(idOf(concurrent[0]));
    // The same client order id for a different order (side, instrument, type or time in force) is a conflict,
    // not a retry: answered 409 with the order it names, and nothing placed.
    for (const other of [
      { side: 'sell' },
      { symbol: 'ETH-USDT', price: '2000' },
      { order_type: 'market', price: undefined },
      { time_in_force: 'ioc' },
    ]) {
      const conflict = await call(venue, 'POST', '/api/v1/orders', t1, { ...fields, ...other });
      assert.equal(conflict.status, 409, JSON.stringify([other, conflict.body]));
      const error = conflict.body.error as { code: string; details: { order_id: string } };
      assert.equal(error.code, 'CLIENT_ORDER_ID_CONFLICT');
      assert.equal(error.details.order_id, idOf(first));
    }
  });

  it("lets a trader act only for its own accounts: another's order is not found", async () => {
    const theirs = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t2,
      order({ side: 'sell', quantity: '0.1', price: '80000' }),
    );
    acknowledged.push(idOf(theirs));
    const cancel = await call(venue, 'DELETE', `/api/v1/orders/${idOf(theirs)}`, t1);
    assert.equal(cancel.status, 404);
    assert.equal((cancel.body.error as { code: string }).code, 'ORDER_NOT_FOUND');
    assert.equal((await call(venue, 'GET', `/api/v1/orders/${idOf(theirs)}`, t2)).body.status, 'pending');
    const forOther = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', quantity: '0.1', price: '1', account_id: 2 }),
    );
    assert.equal(forOther.status, 403);
    const viewer = (await createKey(venue.store, { role: 'viewer' })).token;
    const byViewer = await call(
      venue,
      'POST',
      '/api/v1/orders',
      viewer,
      order({ side: 'buy', quantity: '0.1', price: '1' }),
    );
    assert.equal((byViewer.body.error as { code: string }).code, 'FORBIDDEN');
    const anonymous = await call(
      venue,
      'POST',
      '/api/v1/orders',
      null,
      order({ side: 'buy', quantity: '0.1', price: '1' }),
    );
    assert.equal(anonymous.status, 401);
    const wrong = await call(venue, 'GET', '/api/v1/orders', 'rk_AAAAAAAAAAAAAAAA.' + 'A'.repeat(43));
    assert.equal((wrong.body.error as { code: string }).code, 'UNAUTHORIZED');
    const mine = await call(venue, 'GET', '/api/v1/orders', t1);
    assert.ok((mine.body.orders as { account_id: number }[]).every((o) => o.account_id === 1));
  });

  it('answers bad input with 4xx and a stable code', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [order({ side: 'buy', quantity: '0.1', price: '60000.001' }), 400, 'VALIDATION_ERROR'],
      [order({ side: 'buy', quantity: '0.00001', price: '60000' }), 400, 'VALIDATION_ERROR'],
      [order({ side: 'buy', quantity: '0.1', price: '1.123456789' }), 400, 'VALIDATION_ERROR'],
      [order({ side: 'buy', quantity: '0.1' }), 400, 'VALIDATION_ERROR'],
      [order({ side: 'buy', quantity: 0.1, price: '1' }), 400, 'VALIDATION_ERROR'],
      [order({ side: 'buy', quantity: '0.1', price: '1', colour: 'red' }), 400, 'VALIDATION_ERROR'],
      [order({ symbol: 'DOGE-USDT', side: 'buy', quantity: '0.1', price: '1' }), 400, 'INVALID_SYMBOL'],
      [order({ side: 'buy', quantity: '5000', price: '60000' }), 422, 'INSUFFICIENT_FUNDS'],
    ];
    for (const [body, status, code] of cases) {
      const a = await call(venue, 'POST', '/api/v1/orders', t1, body);
      assert.equal(a.status, status, JSON.stringify([body, a.body]));
      assert.equal((a.body.error as { code: string }).code, code);
      assert.equal(typeof a.body.timestamp, 'string');
      if (code === 'INSUFFICIENT_FUNDS') {
        // The refused order as the venue keeps it shows the type and time in force it was placed with.
        const refused = (a.body.error as { details: { order: Record<string, unknown> } }).details.order;
        assert.deepEqual(
          [refused.status, refused.order_type, refused.time_in_force],
          ['rejected', 'limit', 'gtc'],
        );
        const again = await call(venue, 'GET', `/api/v1/orders/${String(refused.order_id)}`, t1);
        assert.deepEqual([again.body.order_type, again.body.time_in_force], ['limit', 'gtc']);
      }
    }
    assert.equal((await call(venue, 'GET', '/api/v1/orders/999999', t1)).status, 404);
    assert.equal((await call(venue, 'GET', '/api/v1/orderbook/BTC-USDT?depth=101', null)).status, 400);
  });

  it('serves through a real socket, with the OpenAPI document at /docs', async () => {
    const health = await fetch(`${venue.url}/health`);
    assert.equal(health.status, 200);
    const docs = (await (await fetch(`${venue.url}/docs`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.match(docs.openapi, /^3\./);
    assert.ok('/api/v1/orders' in docs.paths);
    const placed = await fetch(`${venue.url}/api/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t1}` },
      body: JSON.stringify(order({ side: 'buy', quantity: '0.3', price: '30000' })),
    });
    assert.equal(placed.status, 201);
    acknowledged.push(String(((await placed.json()) as { order_id: string }).order_id));
    const ready = await fetch(`${venue.url}/ready`);
    assert.deepEqual(await ready.json(), {
      status: 'ready',
      checks: { engine: 'ok', store: 'ok', audit: 'ok', marketData: 'ok' },
    });
  });

  it('takes a JSON content type over an empty body as no body, and still refuses a body that is missing or bad', async () => {
    const send = (method: string, path: string, body?: string): Promise<Response> =>
      fetch(`${venue.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t1}` },
        ...(body === undefined ? {} : { body }),
      });
    const placed = await send(
      'POST',
      '/api/v1/orders',
      JSON.stringify(order({ side: 'buy', quantity: '0.1', price: '20000' })),
    );
    assert.equal(placed.status, 201);
    const id = String(((await placed.json()) as { order_id: string }).order_id);
    const cancelled = await send('DELETE', `/api/v1/orders/${id}`);
    assert.equal(cancelled.status, 200);
    assert.equal(((await cancelled.json()) as { status: string }).status, 'cancelled');
    for (const [body, code] of [
      [undefined, 'VALIDATION_ERROR'],
      ['', 'VALIDATION_ERROR'],
      ['{', 'BAD_JSON'],
      ['{"symbol":', 'BAD_JSON'],
    ] as const) {
      const refused = await send('POST', '/api/v1/orders', body);
      assert.equal(refused.status, 400, String(body));
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, code, String(body));
    }
  });

  it('answers malformed requests with the codes docs/operations.md lists', async () => {
    const ask = async (
      method: string,
      path: string,
      headers: Record<string, string> = {},
      body?: string,
    ): Promise<[number, string, Headers]> => {
      const r = await fetch(`${venue.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${t1}`, ...headers },
        ...(body === undefined ? {} : { body }),
      });
      const answer = (await r.json()) as { error: { code: string } };
      return [r.status, answer.error.code, r.headers];
    };
    const json = { 'content-type': 'application/json' };
    const [status405, code405, headers405] = await ask('PUT', '/api/v1/orders');
    assert.deepEqual([status405, code405], [405, 'METHOD_NOT_ALLOWED']);
    assert.equal(headers405.get('allow'), 'DELETE, GET, HEAD, POST');
    assert.deepEqual((await ask('GET', '/api/v1/nothing-here')).slice(0, 2), [404, 'NOT_FOUND']);
    assert.deepEqual((await ask('POST', '/api/v1/orders', json, '{"a":')).slice(0, 2), [400, 'BAD_JSON']);
    assert.deepEqual((await ask('POST', '/api/v1/orders', json, '{"__proto__":{"x":1}}')).slice(0, 2), [
      400,
      'BAD_JSON',
    ]);
    assert.deepEqual(
      (await ask('POST', '/api/v1/orders', { 'content-type': 'text/plain' }, 'x')).slice(0, 2),
      [415, 'UNSUPPORTED_MEDIA_TYPE'],
    );
    assert.deepEqual(
      (await ask('POST', '/api/v1/orders', json, JSON.stringify({ pad: 'x'.repeat(64 * 1024) }))).slice(0, 2),
      [413, 'PAYLOAD_TOO_LARGE'],
    );
    assert.deepEqual((await ask('GET', `/api/v1/orders/${'9'.repeat(200)}`)).slice(0, 2), [
      414,
      'URI_TOO_LONG',
    ]);
    assert.deepEqual((await ask('GET', '/api/v1/orders/%zz')).slice(0, 2), [400, 'BAD_REQUEST']);
    // An unknown field is named.
    const r = await fetch(`${venue.url}/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t1}`, ...json },
      body: JSON.stringify({ ...order({ side: 'buy', quantity: '0.1', price: '1' }), colour: 'red' }),
    });
    const refused = (await r.json()) as { error: { code: string; message: string } };
    assert.deepEqual([r.status, refused.error.code], [400, 'VALIDATION_ERROR']);
    assert.match(refused.error.message, /colour/);
  });

  it('keeps every acknowledged order and the same views across a stop and restart', async () => {
    const snapshot = async (v: Venue): Promise<unknown[]> => [
      ...(await Promise.all(
        acknowledged.map(async (id) => (await call(v, 'GET', `/api/v1/orders/${id}`, admin)).body),
      )),
      (await call(v, 'GET', '/api/v1/orderbook/BTC-USDT?depth=100', null)).body.bids,
      (await call(v, 'GET', '/api/v1/orderbook/BTC-USDT?depth=100', null)).body.asks,
      (await call(v, 'GET', '/api/v1/trades/BTC-USDT', null)).body.trades,
      { ...(await call(v, 'GET', '/api/v1/statistics', null)).body, timestamp: 0 },
    ];
    const before = await snapshot(venue);
    const hash = await venue.engine.stateHash();
    await venue.close();
    venue = await openVenue(config);
    assert.equal(venue.adminKey, null, 'the admin key is made once');
    assert.equal(venue.setupSubmitted, 0, 'a restart submits no setup');
    assert.equal(await venue.engine.stateHash(), hash);
    assert.deepEqual(await snapshot(venue), before);
    const retry = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', quantity: '0.1', price: '40000', client_order_id: 'retry-1' }),
    );
    assert.equal(retry.status, 200);
    assert.equal(retry.body.client_order_id, 'retry-1');
    // Found through the journal: the venue keeps no other record of client order ids.
    assert.equal(existsSync(join(config.dataDir, 'client-orders.log')), false);
    const next = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', quantity: '0.1', price: '40000' }),
    );
    assert.ok(Number(idOf(next)) > Math.max(...acknowledged.map(Number)), 'order ids are not reused');
  });
});

describe('REST API on PostgreSQL', () => {
  const schema = `rialto_gw_${process.pid}`;
  const url = `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

  before(async () => {
    const db = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await db.close();
  });
  after(async () => {
    const db = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });

  it('keeps client order ids across a restart on PostgreSQL', async () => {
    const config = testConfig(tempDir(), { DATABASE_URL: url });
    assert.equal(config.database.kind, 'postgres');
    let venue = await openVenue(config, false);
    const admin = venue.adminKey;
    assert.ok(admin !== null);
    const { t1 } = await traders(venue, admin);
    const fields = order({ side: 'buy', quantity: '0.1', price: '40000', client_order_id: 'pg-1' });
    const first = await call(venue, 'POST', '/api/v1/orders', t1, fields);
    assert.equal(first.status, 201);
    await venue.close();
    venue = await openVenue(config, false);
    try {
      const again = await call(venue, 'POST', '/api/v1/orders', t1, fields);
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body);
    } finally {
      await venue.close();
    }
  });
});
