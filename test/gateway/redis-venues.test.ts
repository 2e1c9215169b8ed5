/**
 * Rate limits shared through a real Redis, venue to venue: two venues on their own data directories and the
 * same REDIS_URL (and key prefix) take from one per-IP request budget and one per-account order budget, as
 * two replicas behind a load balancer would; their answers carry the shared X-RateLimit headers. The prefix
 * is this run's own and its keys are deleted afterwards, since other tests share the Redis.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { venueSetupCommands } from '../../src/cli/venue.js';
import { createKey, startVenue, type Venue } from '../../src/gateway/index.js';
import { createRedisClient, silentLog } from '../../src/gateway/limits/index.js';
import { tempDir, testConfig } from './helpers.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('rate limits shared through Redis by two venues', { timeout: 120_000 }, () => {
  const prefix = `rialto-test-${randomBytes(6).toString('hex')}`;
  const venues: Venue[] = [];

  before(async () => {
    for (let k = 0; k < 2; k++) {
      const config = testConfig(tempDir(), {
        REDIS_URL,
        RIALTO_REQUESTS_PER_MINUTE_PER_IP: '6',
        MAX_ORDERS_PER_SECOND: '3',
      });
      venues.push(
        await startVenue(config, {
          setup: venueSetupCommands(config, 0),
          processMetrics: false,
          redisKeyPrefix: prefix,
        }),
      );
    }
  });
  after(async () => {
    await Promise.all(venues.map((v) => v.close()));
    const redis = createRedisClient(REDIS_URL, silentLog);
    try {
      // The client queues nothing while it connects (enableOfflineQueue is off).
      if (redis.status !== 'ready') await once(redis, 'ready');
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  it('take from one per-IP budget: the answers count down across both, and the next is refused', async () => {
    const [a, b] = venues;
    const answers: Response[] = [];
    for (let k = 0; k < 7; k++) answers.push(await fetch(`${(k % 2 === 0 ? a : b).url}/api/v1/instruments`));
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 200, 200, 200, 200, 200, 429],
    );
    assert.deepEqual(
      answers.map((r) => r.headers.get('x-ratelimit-remaining')),
      ['5', '4', '3', '2', '1', '0', '0'],
    );
    assert.ok(answers.every((r) => r.headers.get('x-ratelimit-limit') === '6'));
    const refused = (await answers[6].json()) as { error: { code: string } };
    assert.equal(refused.error.code, 'RATE_LIMITED');
    assert.ok(Number(answers[6].headers.get('retry-after')) >= 1);
  });

  it('take from one order budget per account', async () => {
    // The order budget is per account id: account 1 on both venues is one account to the limiter.
    // The per-IP budget of 127.0.0.1 is spent above: each request here comes from an address of its own.
    let address = 0;
    const post = (v: Venue, url: string, key: string, payload: Record<string, unknown>) =>
      v.server.inject({
        method: 'POST',
        url,
        headers: { 'x-api-key': key },
        payload,
        remoteAddress: `10.9.0.${++address}`,
      });
    const keys: string[] = [];
    for (const v of venues) {
      const admin = v.adminKey as string;
      assert.equal((await post(v, '/api/v1/admin/accounts', admin, { account_id: 1 })).statusCode, 201);
      const d = await post(v, '/api/v1/admin/accounts/1/deposits', admin, {
        asset: 'USDT',
        amount: '100000',
      });
      assert.equal(d.statusCode, 201, d.body);
      keys.push((await createKey(v.store, { role: 'trader', accountIds: [1] })).token);
    }
    // All at once, half through each venue, so that the budget has no time to refill in between.
    const order = { symbol: 'BTC-USDT', side: 'buy', order_type: 'limit', quantity: '0.01', price: '10' };
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, k) => post(venues[k % 2], '/api/v1/orders', keys[k % 2], order)),
    );
    const statuses = answers.map((r) => r.statusCode);
    const placed = statuses.filter((s) => s === 201).length;
    assert.ok(
      placed >= 3 && placed < 6,
      `a budget of 3 a second, shared, admits 3 or a few more: ${statuses.join()}`,
    );
    assert.equal(statuses.filter((s) => s === 429).length, 6 - placed);
  });
});
