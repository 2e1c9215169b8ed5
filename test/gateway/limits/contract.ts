/**
 * One contract for every rate and concurrency limiter adapter: the same budget arithmetic, refusals that take
 * nothing, independent keys and policies, refill over time, and acquire/release counting. The clock is
 * fake (adapters take one), so every expectation is exact.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ConcurrencyLimiter, RateLimiter, RatePolicy } from '../../../src/gateway/limits/index.js';

export class FakeClock {
  ms = 1_800_000_000_000;
  readonly nowMs = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface RateAdapter {
  /** A limiter for `policy` on `clock`; limiters made by one adapter for the same policy share state. */
  make(policy: RatePolicy, clock: FakeClock): RateLimiter;
}

let keySeq = 0;
/** A key no other test uses (adapters may share a store across tests). */
export const freshKey = (): string => `k${process.pid}-${++keySeq}`;

export function rateLimiterContract(name: string, adapter: () => RateAdapter): void {
  describe(`rate limiter contract: ${name}`, () => {
    const perMinute: RatePolicy = { name: 'ip', limit: 5, windowMs: 60_000 };
    const perSecond: RatePolicy = { name: 'orders', limit: 10, windowMs: 1000 };

    it('a fresh key has the whole budget, then refusals take nothing and say when to retry', async () => {
      const clock = new FakeClock();
      const limiter = adapter().make(perMinute, clock);
      const key = freshKey();
      for (let i = 1; i <= 5; i++) {
        const d = await limiter.consume(key);
        assert.deepEqual(d, {
          allowed: true,
          limit: 5,
          remaining: 5 - i,
          resetMs: 12_000 * i,
          retryAfterMs: 0,
        });
      }
      for (let i = 0; i < 3; i++) {
        const d = await limiter.consume(key);
        assert.deepEqual(d, {
          allowed: false,
          limit: 5,
          remaining: 0,
          resetMs: 60_000,
          retryAfterMs: 12_000,
        });
      }
      clock.advance(11_999);
      assert.equal((await limiter.consume(key)).allowed, false);
      clock.advance(1);
      const d = await limiter.consume(key);
      assert.deepEqual(d, { allowed: true, limit: 5, remaining: 0, resetMs: 60_000, retryAfterMs: 0 });
    });

    it('refills at the policy rate and never beyond the limit', async () => {
      const clock = new FakeClock();
      const limiter = adapter().make(perMinute, clock);
      const key = freshKey();
      for (let i = 0; i < 5; i++) await limiter.consume(key);
      clock.advance(24_000);
      assert.equal((await limiter.consume(key)).remaining, 1);
      clock.advance(10 * 60_000);
      const d = await limiter.consume(key);
      assert.equal(d.remaining, 4);
      assert.equal(d.resetMs, 12_000);
    });

    it('passes a steady rate at the limit and refuses what exceeds it', async () => {
      const clock = new FakeClock();
      const limiter = adapter().make(perSecond, clock);
      const steady = freshKey();
      for (let i = 0; i < 50; i++) {
        assert.equal((await limiter.consume(steady)).allowed, true, `request ${i}`);
        clock.advance(100);
      }
      const fast = freshKey();
      let allowed = 0;
      for (let i = 0; i < 60; i++) {
        if ((await limiter.consume(fast)).allowed) allowed++;
        clock.advance(50);
      }
      // The burst of 10, then one per 100 ms over the remaining 3 seconds.
      assert.equal(allowed, 10 + 30 - 1);
    });

    it('keeps keys and policies apart', async () => {
      const clock = new FakeClock();
      const a = adapter();
      const ip = a.make(perMinute, clock);
      const orders = a.make(perSecond, clock);
      const key = freshKey();
      const other = freshKey();
      for (let i = 0; i < 5; i++) await ip.consume(key);
      assert.equal((await ip.consume(key)).allowed, false);
      assert.equal((await ip.consume(other)).remaining, 4);
      assert.equal((await orders.consume(key)).remaining, 9);
    });

    it('takes a cost of several units at once, all or nothing', async () => {
      const clock = new FakeClock();
      const limiter = adapter().make(perSecond, clock);
      const key = freshKey();
      assert.equal((await limiter.consume(key, 7)).remaining, 3);
      const refused = await limiter.consume(key, 4);
      assert.equal(refused.allowed, false);
      assert.equal(refused.remaining, 3);
      assert.equal(refused.retryAfterMs, 100);
      assert.equal((await limiter.consume(key, 3)).remaining, 0);
      clock.advance(1000);
      assert.equal((await limiter.consume(key, 10)).allowed, true);
      for (const bad of [0, -1, 1.5, 11, Number.NaN]) {
        await assert.rejects(async () => limiter.consume(key, bad), RangeError, String(bad));
      }
    });

    it('a limiter made again on the same store sees the same budget', async () => {
      const clock = new FakeClock();
      const a = adapter();
      const key = freshKey();
      const first = a.make(perMinute, clock);
      for (let i = 0; i < 3; i++) await first.consume(key);
      const second = a.make(perMinute, clock);
      assert.equal((await second.consume(key)).remaining, 1);
      assert.equal((await first.consume(key)).remaining, 0);
      assert.equal((await second.consume(key)).allowed, false);
    });
  });
}

export function concurrencyContract(name: string, make: (limit: number) => ConcurrencyLimiter): void {
  describe(`concurrency limiter contract: ${name}`, () => {
    it('holds up to the limit per key, refuses beyond, and a release frees one place once', async () => {
      const limiter = make(3);
      const key = freshKey();
      const leases = [];
      for (let i = 1; i <= 3; i++) {
        const a = await limiter.acquire(key);
        assert.ok(a.ok);
        assert.equal(a.count, i);
        leases.push(a);
      }
      const refused = await limiter.acquire(key);
      assert.deepEqual(refused, { ok: false, count: 3, limit: 3 });
      assert.equal((await limiter.acquire(freshKey())).ok, true);
      await leases[0].release();
      await leases[0].release();
      assert.equal(await limiter.count(key), 2);
      const again = await limiter.acquire(key);
      assert.ok(again.ok);
      assert.equal(again.count, 3);
      assert.equal((await limiter.acquire(key)).ok, false);
      for (const l of [...leases.slice(1), again]) await l.release();
      assert.equal(await limiter.count(key), 0);
    });
  });
}
