/**
 * The in-memory adapters, for one process (and the fallback of the Redis ones). Memory is bounded: a rate
 * key whose budget is whole again is dropped (its state equals no state), a few of the least recently used
 * keys are checked on every call, and past `keysMax` the least recently used key is evicted, which at worst
 * gives that key a fresh budget early. A concurrency key exists only while something is held, so its map is
 * bounded by what is held (open connections, which the server bounds).
 */
import { gcraOf, gcraStep, usToMsCeil, type Gcra } from './gcra.js';
import {
  checkCost,
  checkPolicy,
  type Acquired,
  type ConcurrencyLimiter,
  type RateDecision,
  type RateLimiter,
  type RatePolicy,
} from './types.js';

export interface MemoryLimiterOptions {
  /** The clock, in milliseconds (tests pass a fake one). */
  readonly nowMs: () => number;
  /** Keys kept at most. */
  readonly keysMax: number;
  /** Least recently used keys checked for expiry on each call. */
  readonly sweepPerCall: number;
}

export const MEMORY_LIMITER_DEFAULTS: Readonly<MemoryLimiterOptions> = Object.freeze({
  nowMs: () => Date.now(),
  keysMax: 100_000,
  sweepPerCall: 2,
});

export class MemoryRateLimiter implements RateLimiter {
  readonly policy: RatePolicy;
  private readonly gcra: Gcra;
  private readonly options: MemoryLimiterOptions;
  /** Key to TAT in microseconds, least recently used first (a touched key is moved to the end). */
  private readonly tats = new Map<string, number>();
  private evicted = 0;

  constructor(policy: RatePolicy, options: Partial<MemoryLimiterOptions> = {}) {
    checkPolicy(policy);
    this.policy = policy;
    this.gcra = gcraOf(policy);
    this.options = { ...MEMORY_LIMITER_DEFAULTS, ...options };
    if (!(this.options.keysMax >= 1 && this.options.sweepPerCall >= 0))
      throw new RangeError('bad memory bounds');
  }

  /** Keys held now, and keys evicted early (past keysMax) so far. */
  get size(): number {
    return this.tats.size;
  }
  get evictions(): number {
    return this.evicted;
  }

  consume(key: string, cost = 1): Promise<RateDecision> {
    return Promise.resolve(this.consumeNow(key, cost));
  }

  /** The same decision without a promise, for callers in this process. */
  consumeNow(key: string, cost = 1): RateDecision {
    checkCost(this.policy, cost);
    const nowUs = this.options.nowMs() * 1000;
    this.sweep(nowUs, this.options.sweepPerCall);
    const stored = this.tats.get(key);
    const step = gcraStep(this.gcra, stored ?? 0, nowUs, cost);
    // Refused keys move to the recent end too: a key being hammered is the last one to evict.
    if (stored !== undefined) this.tats.delete(key);
    if (step.allowed || stored !== undefined) {
      if (stored === undefined && this.tats.size >= this.options.keysMax) this.evictOldest();
      this.tats.set(key, step.tatUs);
    }
    return {
      allowed: step.allowed,
      limit: this.policy.limit,
      remaining: step.remaining,
      resetMs: usToMsCeil(step.resetUs),
      retryAfterMs: usToMsCeil(step.retryAfterUs),
    };
  }

  /** Drops up to `max` least recently used keys whose budget is whole again (all of them: Infinity). */
  sweep(nowUs = this.options.nowMs() * 1000, max = Infinity): void {
    let checked = 0;
    for (const [key, tat] of this.tats) {
      if (checked++ >= max) break;
      if (tat <= nowUs) this.tats.delete(key);
    }
  }

  private evictOldest(): void {
    const oldest = this.tats.keys().next();
    if (oldest.done !== true) {
      this.tats.delete(oldest.value);
      this.evicted++;
    }
  }
}

export class MemoryConcurrencyLimiter implements ConcurrencyLimiter {
  private readonly held = new Map<string, number>();

  constructor(readonly limit: number) {
    if (!(Number.isSafeInteger(limit) && limit >= 1)) throw new RangeError(`bad limit ${limit}`);
  }

  /** Keys holding something now. */
  get size(): number {
    return this.held.size;
  }

  acquire(key: string): Promise<Acquired> {
    return Promise.resolve(this.acquireNow(key));
  }

  acquireNow(key: string): Acquired {
    const count = this.held.get(key) ?? 0;
    if (count >= this.limit) return { ok: false, count, limit: this.limit };
    this.held.set(key, count + 1);
    let released = false;
    const release = (): Promise<void> => {
      if (!released) {
        released = true;
        this.releaseOne(key);
      }
      return Promise.resolve();
    };
    return { ok: true, count: count + 1, limit: this.limit, release };
  }

  count(key: string): Promise<number> {
    return Promise.resolve(this.held.get(key) ?? 0);
  }

  private releaseOne(key: string): void {
    const count = this.held.get(key) ?? 0;
    // A release without its acquire would be a bug in this class: leases release once.
    if (count < 1) throw new Error(`release of ${key} with nothing held`);
    if (count === 1) this.held.delete(key);
    else this.held.set(key, count - 1);
  }
}
