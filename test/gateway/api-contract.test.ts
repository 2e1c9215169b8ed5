/**
 * Lines of the trading API's issue that no other end-to-end test shows, each against a real server on an
 * ephemeral port: the default rate limits (1,000 requests a minute per IP, 100 WebSocket connections per IP)
 * with their X-RateLimit headers, every order field as a query parameter, `since` on trades, EdDSA JWTs over
 * REST and WebSocket with `alg: none` and algorithm confusion refused, unknown query fields refused, and the
 * security headers on every answer: errors, 404s, WebSocket upgrade refusals and answers while closing.
 */
import { strict as assert } from 'node:assert';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import type { Venue } from '../../src/gateway/index.js';
import { call, openVenue, tempDir, testConfig, traders } from './helpers.js';
import { Refused, WsClient, wsUrl, type Json } from './ws/client.js';

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

function assertSecurityHeaders(headers: Record<string, unknown>, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    assert.equal(headers[name], value, `${what}: ${name}`);
  }
}

const codeOf = (body: Json): string => (body.error as { code: string }).code;

/** A WebSocket upgrade request by hand, to read the refusal's status, headers and body. */
function upgrade(url: string, path: string): Promise<{ status: number; headers: Json; body: Json }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13',
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Json }),
      );
    });
    req.on('upgrade', () => reject(new Error(`${path} was upgraded`)));
    req.on('error', reject);
    req.end();
  });
}

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('the trading API issue’s lines, over a real socket', { timeout: 180_000 }, () => {
  let venue: Venue;
  let admin: string;
  let t1: string;
  let t2: string;
  let privateKey: KeyObject;
  let publicPem: string;

  before(async () => {
    const pair = generateKeyPairSync('ed25519');
    privateKey = pair.privateKey;
    publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    // The defaults of the configuration, except for the EdDSA key.
    venue = await openVenue(testConfig(tempDir(), { RIALTO_JWT_PUBLIC_KEY: publicPem }));
    admin = venue.adminKey as string;
    ({ t1, t2 } = await traders(venue, admin));
  });
  after(async () => {
    await venue.close();
  });

  it('limits each IP to 1,000 requests a minute and 100 WebSocket connections by default', async () => {
    assert.equal(venue.config.rateLimits.requestsPerMinutePerIp, 1000);
    assert.equal(venue.config.rateLimits.wsConnectionsPerIp, 100);
    const r = await fetch(`${venue.url}/api/v1/instruments`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-ratelimit-limit'), '1000');
    const remaining = Number(r.headers.get('x-ratelimit-remaining'));
    assert.ok(remaining > 900 && remaining < 1000, `remaining ${remaining}`);
    assert.ok(Number(r.headers.get('x-ratelimit-reset')) >= 1);
    const clients = await Promise.all(
      Array.from({ length: 100 }, () => WsClient.open(wsUrl(venue.url, '/ws'))),
    );
    try {
      await assert.rejects(WsClient.open(wsUrl(venue.url, '/ws')), (e: unknown) => {
        assert.ok(e instanceof Refused);
        assert.equal(e.status, 429);
        assert.equal(e.code, 'RATE_LIMITED');
        assert.equal(((JSON.parse(e.body) as Json).error as Json).details !== undefined, true);
        return true;
      });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('takes every order field as a query parameter, and refuses unknown ones', async () => {
    const expire = new Date(Date.now() + 3_600_000).toISOString();
    const q = new URLSearchParams({
      symbol: 'BTC-USDT',
      side: 'buy',
      order_type: 'stop_limit',
      quantity: '0.1',
      price: '90.00',
      trigger_price: '95.00',
      time_in_force: 'gtd',
      expire_time: expire,
      client_order_id: 'query-1',
      account_id: '1',
      self_trade_prevention: 'cancel_both',
    });
    const stop = await fetch(`${venue.url}/api/v1/orders?${q.toString()}`, {
      method: 'POST',
      headers: { 'x-api-key': t1 },
    });
    const s = (await stop.json()) as Json;
    assert.equal(stop.status, 201, JSON.stringify(s));
    assert.deepEqual(
      [s.order_type, s.time_in_force, s.price, s.trigger_price, s.client_order_id, s.account_id, s.quantity],
      ['stop_limit', 'gtd', '90.00', '95.00', 'query-1', 1, '0.1000'],
    );
    const iceberg = new URLSearchParams({
      symbol: 'BTC-USDT',
      side: 'sell',
      order_type: 'limit',
      quantity: '1',
      price: '500.00',
      post_only: 'true',
      display_quantity: '0.1',
    });
    const ice = await fetch(`${venue.url}/api/v1/orders?${iceberg.toString()}`, {
      method: 'POST',
      headers: { 'x-api-key': t2 },
    });
    assert.equal(ice.status, 201, await ice.clone().text());
    const book = await call(venue, 'GET', '/api/v1/orderbook/BTC-USDT', null);
    assert.deepEqual(book.body.asks, [['500.00', '0.1000']], 'only the displayed slice shows');
    for (const [path, method] of [
      ['/api/v1/orders?symbol=BTC-USDT&side=buy&order_type=limit&quantity=1&price=1&colour=red', 'POST'],
      ['/api/v1/orderbook/BTC-USDT?depth=5&colour=red', 'GET'],
      ['/api/v1/trades/BTC-USDT?limit=5&colour=red', 'GET'],
      ['/api/v1/orders?status=open&colour=red', 'GET'],
    ] as const) {
      const r = await fetch(`${venue.url}${path}`, { method, headers: { 'x-api-key': t1 } });
      const body = (await r.json()) as Json;
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(body)}`);
      assert.equal(codeOf(body), 'VALIDATION_ERROR', path);
    }
    await call(venue, 'DELETE', '/api/v1/orders', t1);
    await call(venue, 'DELETE', '/api/v1/orders', t2);
  });

  it('answers trades newer than `since`, newest first, at most `limit`', async () => {
    const ids: string[] = [];
    for (let k = 0; k < 3; k++) {
      const price = `${200 + k}.00`;
      const sell = await call(venue, 'POST', '/api/v1/orders', t2, {
        symbol: 'BTC-USDT',
        side: 'sell',
        order_type: 'limit',
        quantity: '0.01',
        price,
      });
      assert.equal(sell.status, 201);
      const buy = await call(venue, 'POST', '/api/v1/orders', t1, {
        symbol: 'BTC-USDT',
        side: 'buy',
        order_type: 'ioc',
        quantity: '0.01',
        price,
      });
      assert.equal(buy.body.status, 'filled');
      const latest = await call(venue, 'GET', '/api/v1/trades/BTC-USDT?limit=1', null);
      ids.push((latest.body.trades as Json[])[0].trade_id as string);
    }
    const since = await call(venue, 'GET', `/api/v1/trades/BTC-USDT?since=${ids[0]}`, null);
    assert.deepEqual(
      (since.body.trades as Json[]).map((t) => t.trade_id),
      [ids[2], ids[1]],
    );
    const none = await call(venue, 'GET', `/api/v1/trades/BTC-USDT?since=${ids[2]}`, null);
    assert.deepEqual(none.body.trades, []);
    const one = await call(venue, 'GET', `/api/v1/trades/BTC-USDT?since=${ids[0]}&limit=1`, null);
    assert.deepEqual(
      (one.body.trades as Json[]).map((t) => t.trade_id),
      [ids[2]],
    );
    for (const bad of ['since=abc', 'since=-1', 'limit=0', 'limit=1001']) {
      const r = await call(venue, 'GET', `/api/v1/trades/BTC-USDT?${bad}`, null);
      assert.equal(r.status, 400, bad);
      assert.equal(codeOf(r.body), 'VALIDATION_ERROR', bad);
    }
  });

  it('takes EdDSA tokens over REST and WebSocket, and refuses alg none and algorithm confusion', async () => {
    const eddsa = (claims: Json, expires = '5m'): Promise<string> =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
        .setSubject('bob')
        .setIssuedAt()
        .setExpirationTime(expires)
        .sign(privateKey);
    const token = await eddsa({ role: 'trader', accounts: [1] });
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    const mine = await fetch(`${venue.url}/api/v1/accounts/1/balances`, { headers: bearer(token) });
    assert.equal(mine.status, 200, await mine.clone().text());
    const theirs = await fetch(`${venue.url}/api/v1/accounts/2/balances`, { headers: bearer(token) });
    assert.equal(theirs.status, 403, 'the token’s accounts only');
    const ws = await WsClient.open(wsUrl(venue.url, '/ws'));
    const authed = await ws.request({ op: 'auth', id: 'a', token });
    assert.deepEqual([authed.type, authed.role, authed.account_ids], ['authenticated', 'trader', [1]]);
    await ws.close();

    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({
      sub: 'eve',
      role: 'admin',
      exp: Math.floor(Date.now() / 1000) + 300,
    })}.`;
    // HS256 with the public key's PEM as the HMAC secret: the classic confusion of a verifier that takes the
    // algorithm from the token.
    const confused = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('eve')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    const expired = await eddsa({ role: 'admin' }, '-1m');
    for (const [what, bad] of [
      ['alg none', none],
      ['algorithm confusion', confused],
      ['an expired token', expired],
    ] as const) {
      const r = await fetch(`${venue.url}/api/v1/admin/instruments`, { headers: bearer(bad) });
      const body = (await r.json()) as Json;
      assert.equal(r.status, 401, `${what}: ${JSON.stringify(body)}`);
      assert.equal(codeOf(body), 'UNAUTHORIZED', what);
      await assert.rejects(
        WsClient.open(wsUrl(venue.url, '/ws'), bearer(bad)),
        (e: unknown) => e instanceof Refused && e.status === 401 && e.code === 'UNAUTHORIZED',
        `${what} over the WebSocket upgrade`,
      );
      const c = await WsClient.open(wsUrl(venue.url, '/ws'));
      const refused = await c.request({ op: 'auth', id: 'x', token: bad });
      assert.equal(codeOf(refused), 'UNAUTHORIZED', `${what} in an auth message`);
      await c.close();
    }
  });

  it('sets the security headers on successes, errors, 404s and WebSocket upgrade refusals', async () => {
    for (const [path, status] of [
      ['/health', 200],
      ['/api/v1/instruments', 200],
      ['/api/v1/nowhere', 404],
      ['/api/v1/accounts/1', 401],
      ['/api/v1/orderbook/BTC-USDT?depth=101', 400],
    ] as const) {
      const r = await fetch(`${venue.url}${path}`);
      assert.equal(r.status, status, path);
      assertSecurityHeaders(Object.fromEntries(r.headers), path);
      assert.ok(r.headers.get('x-request-id') !== null, `${path}: a request id`);
    }
    for (const [path, status, code] of [
      ['/ws/nowhere', 404, 'NOT_FOUND'],
      ['/ws/market-data/NOPE-USDT', 400, 'INVALID_SYMBOL'],
      ['/ws/market-data/BTC-USDT?depth=101', 400, 'VALIDATION_ERROR'],
    ] as const) {
      const r = await upgrade(venue.url, path);
      assert.equal(r.status, status, path);
      assert.equal(codeOf(r.body), code, path);
      assertSecurityHeaders(r.headers, `upgrade ${path}`);
    }
  });
});

describe('answers while the server closes', { timeout: 60_000 }, () => {
  it('refuses a request that arrives during the drain with 503 SERVICE_UNAVAILABLE in the error shape', async () => {
    const venue = await openVenue(testConfig(tempDir()), false);
    // The server stops taking requests first (what the venue's close does after its WebSocket clients).
    const closing = venue.server.close();
    const r = await venue.server.inject({ method: 'GET', url: '/api/v1/instruments' });
    await closing;
    await venue.close();
    assert.equal(r.statusCode, 503, r.body);
    assert.equal(codeOf(r.json<Json>()), 'SERVICE_UNAVAILABLE');
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(r.headers.connection, 'close');
    assertSecurityHeaders(r.headers, 'closing');
    assert.ok(r.headers['x-request-id'] !== undefined);
  });
});
