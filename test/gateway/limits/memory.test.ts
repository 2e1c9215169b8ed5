/**
 * The in-memory limiters: the shared contract, then what only memory has: bounded keys (idle keys dropped,
 * the least recently used evicted past the bound, a hammered key kept) and the GCRA arithmetic itself.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  MemoryConcurrencyLimiter,
  MemoryRateLimiter,
  gcraOf,
  gcraStep,
  type RatePolicy,
} from '../../../src/gateway/limits/index.js';
import { FakeClock, concurrencyContract, rateLimiterContract } from './contract.js';

rateLimiterContract('memory', () => {
  // Limiters of one adapter share a store: here, one limiter per policy name, kept across make() calls.
  const byPolicy = new Map<string, MemoryRateLimiter>();
  return {
    make: (policy, clock) => {
      const existing = byPolicy.get(policy.name);
      if (existing !== undefined) return existing;
      const made = new MemoryRateLimiter(policy, { nowMs: clock.nowMs });
      byPolicy.set(policy.name, made);
      return made;
    },
  };
});

concurrencyContract('memory', (limit) => new MemoryConcurrencyLimiter(limit));

describe('memory rate limiter bounds', () => {
  const policy: RatePolicy = { name: 'ip', limit: 10, windowMs: 1000 };

  it('drops keys whose budget is whole again', () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter(policy, { nowMs: clock.nowMs });
    for (let i = 0; i < 1000; i++) limiter.consumeNow(`ip-${i}`);
    assert.equal(limiter.size, 1000);
    clock.advance(100);
    limiter.sweep();
    assert.equal(limiter.size, 0, 'one unit each, refilled after one interval');
    for (let i = 0; i < 100; i++) limiter.consumeNow(`ip-${i}`, 10);
    clock.advance(1000);
    // Each call checks two of the least recently used keys: 60 calls reach all 100 idle ones.
    for (let i = 0; i < 60; i++) limiter.consumeNow('busy');
    assert.equal(limiter.size, 1);
    assert.equal(limiter.evictions, 0);
  });

  it('evicts the least recently used key past keysMax, never the one being hammered', () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter(policy, { nowMs: clock.nowMs, keysMax: 100, sweepPerCall: 0 });
    for (let i = 0; i < 10; i++) limiter.consumeNow('abuser');
    assert.equal(limiter.consumeNow('abuser').allowed, false);
    for (let i = 0; i < 500; i++) {
      limiter.consumeNow(`ip-${i}`);
      assert.equal(limiter.consumeNow('abuser').allowed, false, `after ${i} other keys`);
      assert.ok(limiter.size <= 100);
    }
    assert.equal(limiter.evictions, 401);
  });

  it('refuses bad policies and limits', () => {
    assert.throws(() => new MemoryRateLimiter({ name: 'IP', limit: 1, windowMs: 1 }), RangeError);
    assert.throws(() => new MemoryRateLimiter({ name: 'ip', limit: 0, windowMs: 1 }), RangeError);
    assert.throws(() => new MemoryRateLimiter({ name: 'ip', limit: 1, windowMs: 0.5 }), RangeError);
    assert.throws(() => new MemoryConcurrencyLimiter(0), RangeError);
  });
});

describe('GCRA', () => {
  it('uses whole microseconds: 1,000 a minute is one per 60 ms, 10,000 a second one per 100 us', () => {
    assert.deepEqual(gcraOf({ name: 'ip', limit: 1000, windowMs: 60_000 }), {
      intervalUs: 60_000,
      windowUs: 60_000_000,
    });
    assert.deepEqual(gcraOf({ name: 'orders', limit: 10_000, windowMs: 1000 }), {
      intervalUs: 100,
      windowUs: 1_000_000,
    });
    assert.deepEqual(gcraOf({ name: 'x', limit: 7, windowMs: 1000 }), {
      intervalUs: 142_857,
      windowUs: 999_999,
    });
  });

  it('a burst of exactly the limit from an empty state, at any time', () => {
    const g = gcraOf({ name: 'x', limit: 7, windowMs: 1000 });
    for (const now of [0, 1, 1_800_000_000_000_000, 2 ** 52]) {
      let tat = 0;
      let allowed = 0;
      for (let i = 0; i < 10; i++) {
        const s = gcraStep(g, tat, now, 1);
        if (s.allowed) {
          allowed++;
          tat = s.tatUs;
        }
      }
      assert.equal(allowed, 7, String(now));
    }
  });
});
