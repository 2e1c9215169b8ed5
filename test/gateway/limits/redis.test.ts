/**
 * The Redis limiters against a real Redis (127.0.0.1:6379, or REDIS_URL): the shared contract, two limiter
 * instances on two connections sharing one budget, Redis's own clock, key prefixes and expiry, concurrency
 * across processes (and the holdings of a process that died lapsing), and both fail modes against a Redis
 * that is not there. Each run uses its own key prefix and deletes its keys afterwards.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import {
  LimiterUnavailableError,
  RedisConcurrencyLimiter,
  RedisRateLimiter,
  createRedisClient,
  silentLog,
  type LimitsLog,
  type RatePolicy,
} from '../../../src/gateway/limits/index.js';
import { FakeClock, concurrencyContract, freshKey, rateLimiterContract } from './contract.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `rialto-test-${randomBytes(6).toString('hex')}`;

const clients: Redis[] = [];
function client(): Redis {
  const c = createRedisClient(REDIS_URL, silentLog, { commandTimeoutMs: 2000 });
  clients.push(c);
  return c;
}
const ready = (c: Redis): Promise<void> =>
  c.status === 'ready' ? Promise.resolve() : new Promise((resolve) => c.once('ready', () => resolve()));

async function deleteKeys(c: Redis, pattern: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await c.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await c.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

const limiters: RedisConcurrencyLimiter[] = [];

before(async () => {
  await ready(client());
  await ready(client());
});

after(async () => {
  for (const l of limiters) l.close();
  await deleteKeys(clients[0], `${PREFIX}*`);
  const left = await clients[0].keys(`${PREFIX}*`);
  for (const c of clients) c.disconnect();
  assert.deepEqual(left, []);
});

let made = 0;
rateLimiterContract('redis', () => ({
  // Alternate between the two connections: the store is Redis, not the limiter object.
  make: (policy, clock) =>
    new RedisRateLimiter(clients[made++ % 2], policy, {
      prefix: PREFIX,
      nowMs: clock.nowMs,
      failMode: 'closed',
    }),
}));

concurrencyContract('redis', (limit) => {
  const l = new RedisConcurrencyLimiter(clients[0], limit, { prefix: PREFIX, failMode: 'closed' });
  limiters.push(l);
  return l;
});

describe('redis rate limiter', () => {
  const policy: RatePolicy = { name: 'orders', limit: 20, windowMs: 1000 };

  it('two instances on two connections share one budget, also under concurrent requests', async () => {
    const clock = new FakeClock();
    const options = { prefix: PREFIX, nowMs: clock.nowMs, failMode: 'closed' as const };
    const a = new RedisRateLimiter(clients[0], policy, options);
    const b = new RedisRateLimiter(clients[1], policy, options);
    const key = freshKey();
    const decisions = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).consume(key)),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 20);
    const remaining = decisions
      .filter((d) => d.allowed)
      .map((d) => d.remaining)
      .sort((x, y) => x - y);
    assert.deepEqual(
      remaining,
      Array.from({ length: 20 }, (_, i) => i),
      'each unit taken exactly once',
    );
  });

  it("uses Redis's clock by default, and the key expires when the budget is whole again", async () => {
    const limiter = new RedisRateLimiter(
      clients[0],
      { name: 'ip', limit: 3, windowMs: 60_000 },
      { prefix: PREFIX },
    );
    const key = freshKey();
    // Redis's clock moves while the calls run (slowly on a loaded machine): the expectations allow exactly
    // the time that passed here, plus a millisecond of rounding.
    const startedMs = Date.now();
    for (let i = 2; i >= 0; i--) assert.equal((await limiter.consume(key)).remaining, i);
    const refused = await limiter.consume(key);
    const elapsedMs = Date.now() - startedMs + 1;
    assert.equal(refused.allowed, false);
    assert.ok(
      refused.retryAfterMs >= 20_000 - elapsedMs && refused.retryAfterMs <= 20_000,
      `${refused.retryAfterMs} after ${elapsedMs} ms`,
    );
    const ttl = await clients[0].pttl(limiter.keyOf(key));
    const ttlElapsedMs = Date.now() - startedMs + 1;
    assert.ok(ttl >= 60_000 - ttlElapsedMs && ttl <= 60_000, `${ttl} after ${ttlElapsedMs} ms`);
    assert.equal(limiter.keyOf(key), `${PREFIX}:rate:ip:${key}`);
  });

  it('survives a script cache flush (NOSCRIPT: the script is sent again)', async () => {
    const limiter = new RedisRateLimiter(clients[0], policy, { prefix: PREFIX });
    const key = freshKey();
    await limiter.consume(key);
    await clients[0].script('FLUSH');
    assert.equal((await limiter.consume(key)).remaining, 18);
  });

  it('refuses a bad prefix or key', async () => {
    assert.throws(() => new RedisRateLimiter(clients[0], policy, { prefix: 'has space' }), RangeError);
    const limiter = new RedisRateLimiter(clients[0], policy, { prefix: PREFIX });
    await assert.rejects(async () => limiter.consume(''), RangeError);
    await assert.rejects(async () => limiter.consume('x'.repeat(257)), RangeError);
  });
});

describe('redis concurrency limiter across processes', () => {
  it('counts every live process, and a dead process stops counting once its lease lapses', async () => {
    const clock = new FakeClock();
    const options = { prefix: PREFIX, nowMs: clock.nowMs, failMode: 'closed' as const, leaseTtlMs: 30_000 };
    const a = new RedisConcurrencyLimiter(clients[0], 4, options);
    const b = new RedisConcurrencyLimiter(clients[1], 4, options);
    limiters.push(a, b);
    assert.notEqual(a.processId, b.processId);
    const key = freshKey();
    for (let i = 0; i < 3; i++) assert.ok((await a.acquire(key)).ok);
    const fromB = await b.acquire(key);
    assert.ok(fromB.ok);
    assert.equal(fromB.count, 4);
    assert.deepEqual(await a.acquire(key), { ok: false, count: 4, limit: 4 });
    // b renews its lease; a "dies" (stops renewing) and its three lapse after the ttl.
    clock.advance(20_000);
    await b.renew();
    clock.advance(20_000);
    const after = await b.acquire(key);
    assert.ok(after.ok);
    assert.equal(after.count, 2);
  });
});

describe('redis unavailable', () => {
  const policy: RatePolicy = { name: 'ip', limit: 2, windowMs: 60_000 };

  function recordingLog(): LimitsLog & { lines: string[] } {
    const lines: string[] = [];
    return {
      lines,
      warn: (_f, m) => void lines.push(`warn ${m}`),
      info: (_f, m) => void lines.push(`info ${m}`),
    };
  }

  it('fail open: limits in this process, logged once', async () => {
    const down = createRedisClient('redis://127.0.0.1:1', silentLog, { connectTimeoutMs: 200 });
    clients.push(down);
    const log = recordingLog();
    const limiter = new RedisRateLimiter(down, policy, { prefix: PREFIX, failMode: 'open', log });
    const key = freshKey();
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.consume(key));
    assert.deepEqual(
      decisions.map((d) => d.allowed),
      [true, true, false, false],
    );
    assert.equal(log.lines.length, 1);
    assert.match(
      log.lines[0],
      /^warn rate limits: redis failed, limiting in this process only \(fail open\)$/,
    );
    const connections = new RedisConcurrencyLimiter(down, 1, { prefix: PREFIX, failMode: 'open', log });
    limiters.push(connections);
    assert.ok((await connections.acquire(key)).ok);
    assert.equal((await connections.acquire(key)).ok, false);
  });

  it('fail closed: every decision rejects with LimiterUnavailableError', async () => {
    const down = createRedisClient('redis://127.0.0.1:1', silentLog, { connectTimeoutMs: 200 });
    clients.push(down);
    const log = recordingLog();
    const limiter = new RedisRateLimiter(down, policy, { prefix: PREFIX, failMode: 'closed', log });
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        async () => limiter.consume('k'),
        (e: unknown) => e instanceof LimiterUnavailableError && e.code === 'RATE_LIMITER_UNAVAILABLE',
      );
    }
    assert.deepEqual(log.lines, ['warn rate limits: redis failed, refusing requests (fail closed)']);
    const connections = new RedisConcurrencyLimiter(down, 1, { prefix: PREFIX, failMode: 'closed' });
    limiters.push(connections);
    await assert.rejects(async () => connections.acquire('k'), LimiterUnavailableError);
  });
});
