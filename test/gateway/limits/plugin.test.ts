/**
 * The per-IP rate-limit plugin on a tiny app: X-RateLimit headers on every answer, 429 RATE_LIMITED in the
 * error envelope with Retry-After, skipped routes, addresses kept apart, 503 when a limiter fails closed, and
 * two servers sharing one budget through a real Redis.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { errorEnvelope, securityHeaders } from '../../../src/gateway/http/plugins/index.js';
import {
  LimiterUnavailableError,
  MemoryRateLimiter,
  RedisRateLimiter,
  createRedisClient,
  rateLimit,
  silentLog,
  type RateLimiter,
} from '../../../src/gateway/limits/index.js';
import { FakeClock } from './contract.js';

async function makeApp(limiter: RateLimiter): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(securityHeaders);
  await app.register(errorEnvelope);
  await app.register(rateLimit, { limiter, skip: (request) => request.url === '/health' });
  app.get('/api/v1/bbo/:symbol', () => ({ bid: '1', ask: '2' }));
  app.get('/health', () => ({ ok: true }));
  await app.ready();
  return app;
}

describe('rate limit plugin', () => {
  const policy = { name: 'ip', limit: 3, windowMs: 60_000 };

  it('sets X-RateLimit headers, then answers 429 RATE_LIMITED with Retry-After', async () => {
    const clock = new FakeClock();
    const app = await makeApp(new MemoryRateLimiter(policy, { nowMs: clock.nowMs }));
    for (let i = 1; i <= 3; i++) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/bbo/BTC-USDT' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-ratelimit-limit'], '3');
      assert.equal(res.headers['x-ratelimit-remaining'], String(3 - i));
      assert.equal(res.headers['x-ratelimit-reset'], String(20 * i));
    }
    const refused = await app.inject({ method: 'GET', url: '/api/v1/bbo/BTC-USDT' });
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['retry-after'], '20');
    assert.equal(refused.headers['x-ratelimit-remaining'], '0');
    assert.equal(refused.headers['x-ratelimit-reset'], '60');
    assert.equal(refused.headers['x-content-type-options'], 'nosniff');
    const body = refused.json<{
      error: { code: string; details: { retryAfterMs: number } };
      timestamp: string;
    }>();
    assert.equal(body.error.code, 'RATE_LIMITED');
    assert.equal(body.error.details.retryAfterMs, 20_000);
    assert.equal(typeof body.timestamp, 'string');
    // Unknown routes count too (a scan is traffic), and a refused one is still 429.
    assert.equal((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode, 429);
    clock.advance(20_000);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/bbo/BTC-USDT' })).statusCode, 200);
    await app.close();
  });

  it('keeps addresses apart and leaves skipped routes alone', async () => {
    const clock = new FakeClock();
    const app = await makeApp(new MemoryRateLimiter(policy, { nowMs: clock.nowMs }));
    for (let i = 0; i < 3; i++)
      await app.inject({ method: 'GET', url: '/api/v1/bbo/X', remoteAddress: '10.0.0.1' });
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/v1/bbo/X', remoteAddress: '10.0.0.1' })).statusCode,
      429,
    );
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/v1/bbo/X', remoteAddress: '10.0.0.2' })).statusCode,
      200,
    );
    const health = await app.inject({ method: 'GET', url: '/health', remoteAddress: '10.0.0.1' });
    assert.equal(health.statusCode, 200);
    assert.equal(health.headers['x-ratelimit-limit'], undefined);
    await app.close();
  });

  it('answers 503 SERVICE_UNAVAILABLE when the limiter fails closed', async () => {
    const failing: RateLimiter = {
      policy,
      consume: () => Promise.reject(new LimiterUnavailableError('redis unavailable')),
    };
    const app = await makeApp(failing);
    const res = await app.inject({ method: 'GET', url: '/api/v1/bbo/X' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'SERVICE_UNAVAILABLE');
    await app.close();
  });
});

describe('rate limit plugin through Redis', () => {
  const prefix = `rialto-test-${randomBytes(6).toString('hex')}`;
  const clients = [0, 1].map(() =>
    createRedisClient(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', silentLog),
  );
  after(async () => {
    const keys = await clients[0].keys(`${prefix}:*`);
    if (keys.length > 0) await clients[0].del(...keys);
    for (const c of clients) c.disconnect();
  });

  it('two servers share one budget per address', async () => {
    await Promise.all(
      clients.map((c) =>
        c.status === 'ready' ? Promise.resolve() : new Promise<void>((r) => c.once('ready', () => r())),
      ),
    );
    const policy = { name: 'ip', limit: 3, windowMs: 60_000 };
    const apps = await Promise.all(
      clients.map((c) => makeApp(new RedisRateLimiter(c, policy, { prefix, failMode: 'closed' }))),
    );
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (await apps[i % 2].inject({ method: 'GET', url: '/api/v1/bbo/X', remoteAddress: '10.1.1.1' }))
          .statusCode,
      );
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429]);
    for (const app of apps) await app.close();
  });
});
