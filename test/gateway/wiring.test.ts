/**
 * The gateway's cross-cutting plugins as `rialto start` wires them: security headers and the request id on
 * every answer (errors included), the per-IP rate limit from the configuration, and `/metrics`.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { venueSetupCommands } from '../../src/cli/venue.js';
import { startVenue, type Venue } from '../../src/gateway/index.js';
import { createRedisClient } from '../../src/gateway/limits/index.js';
import { call, openVenue, order, tempDir, testConfig, traders } from './helpers.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const errorCode = (body: unknown): string => (body as { error: { code: string } }).error.code;

function assertSecurityHeaders(headers: Record<string, unknown>): void {
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['x-frame-options'], 'DENY');
  assert.equal(headers['referrer-policy'], 'no-referrer');
  assert.equal(headers['cache-control'], 'no-store');
  assert.ok(typeof headers['content-security-policy'] === 'string');
  assert.match(String(headers['x-request-id']), /^[A-Za-z0-9\-_.:+=@]{1,128}$/);
}

describe('gateway wiring: headers, request id, metrics', () => {
  let venue: Venue;
  before(async () => {
    venue = await openVenue(testConfig(tempDir()), false);
  });
  after(async () => {
    await venue.close();
  });

  it('sets the security headers and the request id on a REST answer', async () => {
    const r = await venue.server.inject({ method: 'GET', url: '/api/v1/instruments' });
    assert.equal(r.statusCode, 200);
    assertSecurityHeaders(r.headers);
    assert.ok(r.headers['x-ratelimit-limit'] !== undefined, 'the per-IP budget is on every answer');
  });

  it('sets them on errors too: 401, 404 and a router refusal', async () => {
    const unauthorized = await venue.server.inject({ method: 'GET', url: '/api/v1/orders' });
    assert.equal(unauthorized.statusCode, 401);
    assert.equal(errorCode(unauthorized.json()), 'UNAUTHORIZED');
    assertSecurityHeaders(unauthorized.headers);
    const missing = await venue.server.inject({ method: 'GET', url: '/nowhere' });
    assert.equal(missing.statusCode, 404);
    assert.equal(errorCode(missing.json()), 'NOT_FOUND');
    assertSecurityHeaders(missing.headers);
    const longParam = await venue.server.inject({ method: 'GET', url: `/api/v1/orders/${'9'.repeat(5000)}` });
    assert.ok(longParam.statusCode >= 400 && longParam.statusCode < 500);
    assertSecurityHeaders(longParam.headers);
  });

  it("keeps a client's sane request id and replaces a bad one", async () => {
    const kept = await venue.server.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'abc-123' },
    });
    assert.equal(kept.headers['x-request-id'], 'abc-123');
    const replaced = await venue.server.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'bad id\nforged' },
    });
    assert.notEqual(replaced.headers['x-request-id'], 'bad id\nforged');
  });

  it('serves /metrics in Prometheus text with the HTTP request histogram', async () => {
    await venue.server.inject({ method: 'GET', url: '/api/v1/instruments' });
    const r = await venue.server.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.match(r.body, /# TYPE rialto_http_request_duration_seconds histogram/);
    assert.match(
      r.body,
      /rialto_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/instruments",status_class="2xx"\} [1-9]/,
    );
    // The venue's setup commands were journaled with at least one fdatasync, which took some time.
    assert.match(r.body, /rialto_journal_records_total [1-9]/);
    assert.match(r.body, /rialto_journal_syncs_total [1-9]/);
    assert.match(r.body, /rialto_engine_submits_total [1-9]/);
    assert.match(r.body, /rialto_journal_sync_seconds_total (0\.0*[1-9]|[1-9])/);
  });
});

describe('gateway wiring: the per-IP rate limit', () => {
  let venue: Venue;
  before(async () => {
    venue = await openVenue(testConfig(tempDir(), { RIALTO_REQUESTS_PER_MINUTE_PER_IP: '3' }), false);
  });
  after(async () => {
    await venue.close();
  });

  it('answers 429 RATE_LIMITED with X-RateLimit headers past the budget, and counts it', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await venue.server.inject({ method: 'GET', url: '/api/v1/instruments' }));
    assert.deepEqual(
      answers.map((a) => a.statusCode),
      [200, 200, 200, 429],
    );
    assert.deepEqual(
      answers.map((a) => a.headers['x-ratelimit-remaining']),
      ['2', '1', '0', '0'],
    );
    const refused = answers[3];
    assert.equal(errorCode(refused.json()), 'RATE_LIMITED');
    assert.equal(refused.headers['x-ratelimit-limit'], '3');
    assert.ok(Number(refused.headers['x-ratelimit-reset']) > 0);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assertSecurityHeaders(refused.headers);
    // Probes and scrapes take nothing from the budget.
    assert.equal((await venue.server.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    const metrics = await venue.server.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /rialto_rate_limited_total\{policy="ip"\} 1/);
  });
});

describe('gateway wiring: the per-account order limit', () => {
  let venue: Venue;
  before(async () => {
    venue = await openVenue(testConfig(tempDir(), { MAX_ORDERS_PER_SECOND: '1' }), false);
  });
  after(async () => {
    await venue.close();
  });

  it("answers 429 RATE_LIMITED past an account's orders per second, other accounts unaffected", async () => {
    assert.ok(venue.adminKey !== null);
    const { t1, t2 } = await traders(venue, venue.adminKey);
    const buy = order({ side: 'buy', quantity: '0.1', price: '100' });
    const first = await call(venue, 'POST', '/api/v1/orders', t1, buy);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await call(venue, 'POST', '/api/v1/orders', t1, buy);
    assert.equal(second.status, 429, JSON.stringify(second.body));
    assert.equal(errorCode(second.body), 'RATE_LIMITED');
    assert.equal((second.body.error as { details: { limit: number } }).details.limit, 1);
    const other = await call(venue, 'POST', '/api/v1/orders', t2, buy);
    assert.equal(other.status, 201, 'the limit is per account');
    const metrics = await venue.server.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /rialto_rate_limited_total\{policy="orders"\} 1/);
  });
});

describe('gateway wiring: JWTs besides API keys', () => {
  const secret = 'a-test-secret-of-at-least-thirty-two-characters';
  let venue: Venue;
  const hs256 = (claims: Record<string, unknown>, key = secret): Promise<string> =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(key));
  const bearer = (url: string, token: string, method: 'GET' | 'POST' = 'GET', payload?: object) =>
    venue.server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload }),
    });

  before(async () => {
    venue = await openVenue(testConfig(tempDir(), { RIALTO_JWT_SECRET: secret }), false);
    assert.ok(venue.adminKey !== null);
    await traders(venue, venue.adminKey);
  });
  after(async () => {
    await venue.close();
  });

  it("accepts an HS256 token as the trader it names, within the token's accounts", async () => {
    const token = await hs256({ role: 'trader', accounts: [1] });
    const placed = await bearer(
      '/api/v1/orders',
      token,
      'POST',
      order({ side: 'buy', quantity: '0.1', price: '100' }),
    );
    assert.equal(placed.statusCode, 201, placed.body);
    assert.equal(placed.json<{ account_id: number }>().account_id, 1);
    const elsewhere = await bearer(
      '/api/v1/orders',
      token,
      'POST',
      order({ side: 'buy', quantity: '0.1', price: '100', account_id: 2 }),
    );
    assert.equal(elsewhere.statusCode, 403);
    assert.equal(errorCode(elsewhere.json()), 'FORBIDDEN');
  });

  it('refuses a token signed with another secret, or in X-API-Key, and still takes API keys as bearer', async () => {
    const forged = await hs256({ role: 'admin' }, 'another-secret-of-at-least-thirty-two-chars!');
    const refused = await bearer('/api/v1/orders', forged);
    assert.equal(refused.statusCode, 401);
    assert.equal(errorCode(refused.json()), 'UNAUTHORIZED');
    const good = await hs256({ role: 'trader', accounts: [1] });
    const asKey = await venue.server.inject({
      method: 'GET',
      url: '/api/v1/orders',
      headers: { 'x-api-key': good },
    });
    assert.equal(asKey.statusCode, 401, 'a JWT is a bearer credential only');
    assert.ok(venue.adminKey !== null);
    const apiKey = await bearer('/api/v1/orders?account_id=1', venue.adminKey);
    assert.equal(apiKey.statusCode, 200, apiKey.body);
  });
});

describe('gateway wiring: trading metrics', () => {
  let venue: Venue;
  before(async () => {
    venue = await openVenue(testConfig(tempDir()), false);
  });
  after(async () => {
    await venue.close();
  });

  it('counts orders by type and result, trades by symbol and risk rejects by code', async () => {
    assert.ok(venue.adminKey !== null);
    const { t1, t2 } = await traders(venue, venue.adminKey);
    const sell = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t2,
      order({ side: 'sell', quantity: '0.5', price: '60000' }),
    );
    assert.equal(sell.status, 201, JSON.stringify(sell.body));
    const buy = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', quantity: '0.5', price: '60000' }),
    );
    assert.equal(buy.status, 201, JSON.stringify(buy.body));
    const tooBig = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', quantity: '100', price: '60000' }),
    );
    assert.ok(tooBig.status >= 400, JSON.stringify(tooBig.body));
    const details = (tooBig.body.error as { details: { reject_code?: number; reason?: string } }).details;
    const refused = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', quantity: '1', price: '1', account_id: 2 }),
    );
    assert.equal(refused.status, 403);

    const text = (await venue.server.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(text, /rialto_orders_total\{type="limit",result="accepted"\} 2/);
    assert.match(text, /rialto_orders_total\{type="limit",result="refused"\} 1/);
    assert.match(text, /rialto_trades_total\{symbol="BTC-USDT"\} 1/);
    assert.ok(details.reject_code !== undefined && details.reason !== undefined, JSON.stringify(tooBig.body));
    assert.match(text, /rialto_orders_total\{type="limit",result="rejected"\} 1/);
    // 100 BTC at 60,000 is more than the account's 1,000,000 USDT: the risk gate refuses it.
    assert.equal(details.reason, 'InsufficientFunds');
    assert.match(text, /rialto_risk_rejects_total\{code="InsufficientFunds"\} 1/);
    // Acknowledgements: the two accepted and the one rejected by the core; the refused one never reached it.
    assert.match(text, /rialto_order_ack_latency_seconds_count\{transport="rest"\} 3\n/);
    assert.match(text, /rialto_order_ack_latency_seconds_bucket\{le="\+Inf",transport="rest"\} 3\n/);
  });
});

describe('gateway wiring: amends, /metrics token, HSTS', () => {
  const METRICS_TOKEN = 'scrape-token-0123456789';
  let venue: Venue;
  before(async () => {
    const env = {
      MAX_ORDERS_PER_SECOND: '1',
      RIALTO_METRICS_TOKEN: METRICS_TOKEN,
      RIALTO_HSTS_ENABLED: 'true',
    };
    venue = await openVenue(testConfig(tempDir(), env), false);
  });
  after(async () => {
    await venue.close();
  });

  it("counts an amend against the account's order budget like a placement", async () => {
    assert.ok(venue.adminKey !== null);
    const { t1 } = await traders(venue, venue.adminKey);
    const placed = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', quantity: '0.1', price: '100' }),
    );
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const id = String(placed.body.order_id);
    const amended = await call(venue, 'PATCH', `/api/v1/orders/${id}`, t1, { price: '101' });
    assert.equal(amended.status, 429, JSON.stringify(amended.body));
    assert.equal(errorCode(amended.body), 'RATE_LIMITED');
    const seen = await call(venue, 'GET', `/api/v1/orders/${id}`, t1);
    assert.equal(seen.body.price, '100.00', 'the refused amend changed nothing');
    // An order that is not the caller's is not found before any budget is asked for.
    const unknown = await call(venue, 'PATCH', '/api/v1/orders/999999', t1, { price: '101' });
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
  });

  it('serves /metrics only with the bearer token', async () => {
    const scrape = (authorization?: string) =>
      venue.server.inject({
        method: 'GET',
        url: '/metrics',
        headers: authorization === undefined ? {} : { authorization },
      });
    const none = await scrape();
    assert.equal(none.statusCode, 403);
    assert.equal(errorCode(none.json()), 'FORBIDDEN');
    assert.equal((await scrape(`Bearer ${METRICS_TOKEN}x`)).statusCode, 403);
    assert.equal((await scrape(METRICS_TOKEN)).statusCode, 403, 'the Bearer scheme is required');
    const ok = await scrape(`Bearer ${METRICS_TOKEN}`);
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /rialto_orders_total/);
  });

  it('sends Strict-Transport-Security when configured, on errors too', async () => {
    const r = await venue.server.inject({ method: 'GET', url: '/api/v1/instruments' });
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000');
    const missing = await venue.server.inject({ method: 'GET', url: '/nowhere' });
    assert.equal(missing.headers['strict-transport-security'], 'max-age=31536000');
    const longParam = await venue.server.inject({ method: 'GET', url: `/api/v1/orders/${'9'.repeat(5000)}` });
    assert.equal(longParam.headers['strict-transport-security'], 'max-age=31536000');
  });
});

describe('gateway wiring: a failed start', () => {
  it(
    'releases the Redis client it made when a later step throws (the port is taken)',
    { timeout: 60_000 },
    async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as AddressInfo).port;
      const made: Redis[] = [];
      const config = testConfig(tempDir(), { PORT: String(port), REDIS_URL: REDIS_URL });
      try {
        await assert.rejects(
          startVenue(config, {
            setup: venueSetupCommands(config, 0),
            processMetrics: false,
            redisClient: (url, log) => {
              const client = createRedisClient(url, log);
              made.push(client);
              return client;
            },
          }),
          /EADDRINUSE/,
        );
      } finally {
        taken.close();
      }
      assert.equal(made.length, 1, 'the start made its Redis client before it failed');
      const client = made[0];
      // disconnect() ends the client ('end'); a client left open would stay 'ready' (or reconnect) for ever.
      if (client.status !== 'end') await once(client, 'end');
      assert.equal(client.status, 'end');
      // The data directory is free again: the engine and the store were closed too.
      const again = await openVenue(testConfig(config.dataDir), false);
      await again.close();
    },
  );
});

describe('gateway wiring: the venue state and projection gauges', () => {
  let venue: Venue;
  before(async () => {
    venue = await openVenue(testConfig(tempDir()), false);
  });
  after(async () => {
    await venue.close();
  });

  const scrape = async (): Promise<string> =>
    (await venue.server.inject({ method: 'GET', url: '/metrics' })).body;

  it('shows the kill switches and halts the admin API sets, from the engine state', async () => {
    const admin = venue.adminKey;
    assert.ok(admin !== null);
    await traders(venue, admin);
    let text = await scrape();
    assert.match(text, /^rialto_venue_kill_switch_engaged 0$/m);
    assert.match(text, /^rialto_account_kill_switches_engaged 0$/m);
    assert.match(text, /^rialto_instrument_halted\{symbol="BTC-USDT"\} 0$/m);
    assert.match(text, /^rialto_instrument_halted\{symbol="ETH-USDT"\} 0$/m);

    const halted = await call(venue, 'POST', '/api/v1/admin/instruments/BTC-USDT/halt', admin, {});
    assert.equal(halted.status, 200, JSON.stringify(halted.body));
    const account = await call(venue, 'POST', '/api/v1/admin/kill-switch', admin, { account_id: 2 });
    assert.equal(account.status, 200, JSON.stringify(account.body));
    text = await scrape();
    assert.match(text, /^rialto_instrument_halted\{symbol="BTC-USDT"\} 1$/m);
    assert.match(text, /^rialto_instrument_halted\{symbol="ETH-USDT"\} 0$/m);
    assert.match(text, /^rialto_account_kill_switches_engaged 1$/m);
    assert.match(text, /^rialto_venue_kill_switch_engaged 0$/m);

    const all = await call(venue, 'POST', '/api/v1/admin/kill-switch', admin, {});
    assert.equal(all.status, 200, JSON.stringify(all.body));
    text = await scrape();
    assert.match(text, /^rialto_venue_kill_switch_engaged 1$/m);
  });

  it("shows the audit trail's projection into the store, caught up once the writer flushed", async () => {
    await venue.audit.flush();
    const text = await scrape();
    assert.match(text, /^rialto_projection_backlog\{projection="audit"\} 0$/m);
    assert.match(text, /^rialto_projection_lag_seconds\{projection="audit"\} 0$/m);
  });
});
