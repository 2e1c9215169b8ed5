/**
 * The Redis adapters: one budget shared by every process that uses the same Redis and key prefix. Each
 * decision is one Lua script, atomic in Redis, so two processes never both take the last unit. The time is
 * Redis's own (`TIME`), so the processes' clocks need not agree; tests pass a clock instead.
 *
 * When Redis does not answer (down, unreachable, slower than the client's command timeout), the fail mode
 * decides: `open` limits in this process's memory with the same policy until Redis answers again, `closed`
 * rejects with LimiterUnavailableError. Either way the change is logged once when it happens and once when
 * Redis is back, and after a failure Redis is left alone for `retryAfterFailureMs` so that an outage does not
 * cost every request a failed round trip.
 *
 * Keys: `PREFIX:rate:POLICY:KEY` (a string, the GCRA time, expiring when the budget is whole again), and for
 * concurrency `PREFIX:conc:KEY` (a hash: process id to count) with `PREFIX:conc-procs` (process id to the
 * time its leases expire unless renewed). A process renews its leases every third of `leaseTtlMs`; the counts
 * of a process that died stop counting once its lease expires. Redis Cluster is not supported (the
 * concurrency script touches two keys).
 */
import { hostname } from 'node:os';
import { DependencyGuard, DependencyUnavailableError, type FailureClassifier } from '../../ops/index.js';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { gcraOf, usToMsCeil, type Gcra } from './gcra.js';
import { MemoryConcurrencyLimiter, MemoryRateLimiter } from './memory.js';
import { RedisScript, integers } from './redis-client.js';
import {
  LimiterUnavailableError,
  checkCost,
  checkPolicy,
  silentLog,
  type Acquired,
  type ConcurrencyLimiter,
  type FailMode,
  type LimitsLog,
  type RateDecision,
  type RateLimiter,
  type RatePolicy,
} from './types.js';

/** Redis's time in microseconds, or the caller's (ARGV) when given. */
const LUA_NOW = `
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end`;

/** ARGV: now (or ''), intervalUs, windowUs, cost. Returns allowed, remaining, resetUs, retryAfterUs. */
const GCRA_SCRIPT = new RedisScript(`${LUA_NOW}
local interval = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + cost * interval
local allowAt = nxt - window
if allowAt > now then
  return {0, math.floor((now + window - tat) / interval), tat - now, allowAt - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.max(1, math.ceil((nxt - now) / 1000)))
return {1, math.floor((now + window - nxt) / interval), nxt - now, 0}
`);

/**
 * KEYS: the key's hash, the process hash. ARGV: now (or ''), process id, limit, lease ttl (us), key ttl (ms).
 * Counts only live processes' holdings (dropping dead ones); returns allowed, count.
 */
const ACQUIRE_SCRIPT = new RedisScript(`${LUA_NOW}
local me = ARGV[2]
local limit = tonumber(ARGV[3])
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local owner = fields[i]
  local alive = owner == me or tonumber(redis.call('HGET', KEYS[2], owner) or '0') > now
  if alive then total = total + tonumber(fields[i + 1]) else redis.call('HDEL', KEYS[1], owner) end
end
if total >= limit then return {0, total} end
redis.call('HINCRBY', KEYS[1], me, 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('HSET', KEYS[2], me, string.format('%.0f', now + tonumber(ARGV[4])))
return {1, total + 1}
`);

/** KEYS: the key's hash. ARGV: process id. */
const RELEASE_SCRIPT = new RedisScript(`
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
`);

/** KEYS: the process hash, then the keys this process holds. ARGV: now (or ''), process id, lease ttl (us),
 * key ttl (ms). Renews this process's lease and its keys, and forgets processes dead for a whole ttl. */
const RENEW_SCRIPT = new RedisScript(`${LUA_NOW}
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[2], string.format('%.0f', now + ttl))
local procs = redis.call('HGETALL', KEYS[1])
for i = 1, #procs, 2 do
  if tonumber(procs[i + 1]) < now - ttl then redis.call('HDEL', KEYS[1], procs[i]) end
end
for i = 2, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return 1
`);

export interface RedisLimiterOptions {
  /** Every key starts with this (and a colon): one prefix per venue sharing a Redis. */
  readonly prefix: string;
  readonly failMode: FailMode;
  /** Null: Redis's clock. A function: milliseconds from it (tests). */
  readonly nowMs: (() => number) | null;
  /** After a failed call, decisions skip Redis (fail mode) for this long before trying it again. */
  readonly retryAfterFailureMs: number;
  /**
   * The circuit breaker the limiter's calls go through; one shared by all of a venue's limiters (their Redis is
   * one dependency), whose stats /metrics exports. Default: one of the limiter's own (redisLimiterGuard).
   */
  readonly guard?: DependencyGuard;
  readonly log: LimitsLog;
}

export const REDIS_LIMITER_DEFAULTS: Readonly<RedisLimiterOptions> = Object.freeze({
  prefix: 'rialto',
  failMode: 'open',
  nowMs: null,
  retryAfterFailureMs: 1000,
  log: silentLog,
});

const KEY_LENGTH_MAX = 256;
const PREFIX_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Every error of a limiter's Redis call counts against Redis: the scripts are ours, their replies checked. */
export const REDIS_FAILURES: FailureClassifier = { isFailure: () => true, isRetryable: () => false };

/** The guard a limiter uses without one given: opens at the first failure, tries again after the wait. */
export function redisLimiterGuard(retryAfterFailureMs: number): DependencyGuard {
  return new DependencyGuard('redis', REDIS_FAILURES, {
    consecutiveFailures: 1,
    halfOpenAfterMs: retryAfterFailureMs,
    retries: 0,
  });
}

/**
 * Runs a limiter's Redis calls through the circuit breaker of src/ops/resilience.ts (cockatiel): after a
 * failure the circuit is open and decisions skip Redis (the fail mode) without a round trip, until a trial
 * call after `retryAfterFailureMs`. Logs the change once per outage, and once when Redis answers again.
 */
class Health {
  private down = false;
  private readonly guard: DependencyGuard;

  constructor(
    private readonly what: string,
    private readonly options: RedisLimiterOptions,
  ) {
    this.guard = options.guard ?? redisLimiterGuard(options.retryAfterFailureMs);
  }

  /** The call's result, or a LimiterUnavailableError when Redis failed or the circuit is open. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await this.guard.execute(call);
    } catch (error) {
      throw this.failed(error);
    }
    this.ok();
    return result;
  }

  private ok(): void {
    if (!this.down) return;
    this.down = false;
    this.options.log.info(
      { limiter: this.what },
      'rate limits: redis answers again, limits are shared again',
    );
  }

  failed(error: unknown): LimiterUnavailableError {
    const cause = error instanceof DependencyUnavailableError && error.cause !== null ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    if (!this.down) {
      this.down = true;
      const consequence =
        this.options.failMode === 'open'
          ? 'limiting in this process only (fail open)'
          : 'refusing requests (fail closed)';
      this.options.log.warn(
        { limiter: this.what, err: { message } },
        `rate limits: redis failed, ${consequence}`,
      );
    }
    return new LimiterUnavailableError(`rate limiter ${this.what}: redis unavailable (${message})`, {
      cause: error,
    });
  }
}

function checkKey(key: string): void {
  if (key.length === 0 || key.length > KEY_LENGTH_MAX)
    throw new RangeError(`bad limiter key length ${key.length}`);
}

function resolveOptions(options: Partial<RedisLimiterOptions>): RedisLimiterOptions {
  const o = { ...REDIS_LIMITER_DEFAULTS, ...options };
  if (!PREFIX_PATTERN.test(o.prefix)) throw new RangeError(`bad key prefix ${JSON.stringify(o.prefix)}`);
  return o;
}

export class RedisRateLimiter implements RateLimiter {
  readonly policy: RatePolicy;
  private readonly gcra: Gcra;
  private readonly options: RedisLimiterOptions;
  private readonly health: Health;
  private readonly local: MemoryRateLimiter;

  constructor(
    private readonly client: Redis,
    policy: RatePolicy,
    options: Partial<RedisLimiterOptions> = {},
  ) {
    checkPolicy(policy);
    this.policy = policy;
    this.gcra = gcraOf(policy);
    this.options = resolveOptions(options);
    this.health = new Health(policy.name, this.options);
    this.local = new MemoryRateLimiter(
      policy,
      this.options.nowMs === null ? {} : { nowMs: this.options.nowMs },
    );
  }

  /** The Redis key for `key`. */
  keyOf(key: string): string {
    return `${this.options.prefix}:rate:${this.policy.name}:${key}`;
  }

  async consume(key: string, cost = 1): Promise<RateDecision> {
    checkCost(this.policy, cost);
    checkKey(key);
    try {
      return await this.health.run(() => this.shared(key, cost));
    } catch (unavailable) {
      if (this.options.failMode === 'closed') throw unavailable;
    }
    return this.local.consumeNow(key, cost);
  }

  private async shared(key: string, cost: number): Promise<RateDecision> {
    const now = this.options.nowMs === null ? '' : this.options.nowMs() * 1000;
    const reply = await GCRA_SCRIPT.run(
      this.client,
      [this.keyOf(key)],
      [now, this.gcra.intervalUs, this.gcra.windowUs, cost],
    );
    const [allowed, remaining, resetUs, retryAfterUs] = integers(reply, 4);
    return {
      allowed: allowed === 1,
      limit: this.policy.limit,
      remaining,
      resetMs: usToMsCeil(resetUs),
      retryAfterMs: usToMsCeil(retryAfterUs),
    };
  }
}

export interface RedisConcurrencyOptions extends RedisLimiterOptions {
  /** How long a process's holdings count after its last renewal (it renews every third of this). */
  readonly leaseTtlMs: number;
}

export const LEASE_TTL_DEFAULT_MS = 30_000;

export class RedisConcurrencyLimiter implements ConcurrencyLimiter {
  /** Identifies this process's holdings in Redis. */
  readonly processId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly options: RedisConcurrencyOptions;
  private readonly health: Health;
  private readonly local: MemoryConcurrencyLimiter;
  /** Keys this process holds in Redis, with their counts, to renew them. */
  private readonly held = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly client: Redis,
    readonly limit: number,
    options: Partial<RedisConcurrencyOptions> = {},
  ) {
    if (!(Number.isSafeInteger(limit) && limit >= 1)) throw new RangeError(`bad limit ${limit}`);
    this.options = { ...resolveOptions(options), leaseTtlMs: options.leaseTtlMs ?? LEASE_TTL_DEFAULT_MS };
    if (!(this.options.leaseTtlMs >= 3)) throw new RangeError('bad lease ttl');
    this.health = new Health('connections', this.options);
    this.local = new MemoryConcurrencyLimiter(limit);
    this.timer = setInterval(() => void this.renew().catch(() => undefined), this.options.leaseTtlMs / 3);
    this.timer.unref();
  }

  private get procsKey(): string {
    return `${this.options.prefix}:conc-procs`;
  }

  keyOf(key: string): string {
    return `${this.options.prefix}:conc:${key}`;
  }

  async acquire(key: string): Promise<Acquired> {
    checkKey(key);
    try {
      return await this.health.run(() => this.acquireShared(key));
    } catch (unavailable) {
      if (this.options.failMode === 'closed') throw unavailable;
    }
    return this.local.acquireNow(key);
  }

  async count(key: string): Promise<number> {
    const reply = await this.client.hvals(this.keyOf(key));
    return reply.reduce((sum, n) => sum + Number(n), 0);
  }

  /** Renews this process's lease and keys now (the timer does it every third of the ttl). */
  async renew(): Promise<void> {
    const now = this.options.nowMs === null ? '' : this.options.nowMs() * 1000;
    const keys = [this.procsKey, ...[...this.held.keys()].map((k) => this.keyOf(k))];
    await RENEW_SCRIPT.run(this.client, keys, [
      now,
      this.processId,
      this.options.leaseTtlMs * 1000,
      this.keyTtlMs,
    ]);
  }

  /** Stops renewing (holdings then expire with the lease). */
  close(): void {
    clearInterval(this.timer);
  }

  private get keyTtlMs(): number {
    return this.options.leaseTtlMs * 3;
  }

  private async acquireShared(key: string): Promise<Acquired> {
    const now = this.options.nowMs === null ? '' : this.options.nowMs() * 1000;
    const reply = await ACQUIRE_SCRIPT.run(
      this.client,
      [this.keyOf(key), this.procsKey],
      [now, this.processId, this.limit, this.options.leaseTtlMs * 1000, this.keyTtlMs],
    );
    const [allowed, count] = integers(reply, 2);
    if (allowed !== 1) return { ok: false, count, limit: this.limit };
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      this.forget(key);
      // A release that fails (Redis away) leaves one count behind, until the key expires: three lease ttls
      // after this process last renewed it, which it stops doing once it holds nothing more under the key.
      try {
        await RELEASE_SCRIPT.run(this.client, [this.keyOf(key)], [this.processId]);
      } catch (error) {
        this.health.failed(error);
      }
    };
    return { ok: true, count, limit: this.limit, release };
  }

  private forget(key: string): void {
    const n = (this.held.get(key) ?? 0) - 1;
    if (n <= 0) this.held.delete(key);
    else this.held.set(key, n);
  }
}
