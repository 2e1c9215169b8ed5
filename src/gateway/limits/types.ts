/**
 * The rate-limit port: what the gateway asks, whatever keeps the counts (memory in one process, Redis for
 * several). Two kinds of limit:
 *
 * - a rate (`RateLimiter`): at most `limit` units per `windowMs` per key, as a burst or spread out (requests
 *   per IP per minute, orders per account per second);
 * - a concurrency (`ConcurrencyLimiter`): at most `limit` things held at once per key, acquired and released
 *   (WebSocket connections per IP).
 *
 * Every adapter runs the same contract suite (test/gateway/limits/contract.ts).
 */

export interface RatePolicy {
  /** Part of the storage key: `ip`, `orders`. Lower case letters, digits, `-` and `_`. */
  readonly name: string;
  /** Units per window, which is also the largest burst. */
  readonly limit: number;
  readonly windowMs: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  /** Units that could be taken right after this decision. */
  readonly remaining: number;
  /** Milliseconds until the key's whole budget is back (0: it is). */
  readonly resetMs: number;
  /** When refused: milliseconds until the same request would pass. 0 when allowed. */
  readonly retryAfterMs: number;
}

export interface RateLimiter {
  readonly policy: RatePolicy;
  /**
   * Takes `cost` units (1 by default, at most the policy's limit) from `key`'s budget if it has them; a refusal
   * takes nothing. Rejects with `LimiterUnavailableError` only when the store is down and the adapter fails
   * closed.
   */
  consume(key: string, cost?: number): Promise<RateDecision>;
  /**
   * The same decision at once, for a limiter whose state is in this process (the memory limiter); absent for
   * one that must ask a store. The order path takes it when it can: a promise per order cost more than the
   * decision.
   */
  consumeNow?(key: string, cost?: number): RateDecision;
}

export type Acquired =
  | {
      readonly ok: true;
      readonly count: number;
      readonly limit: number;
      readonly release: () => Promise<void>;
    }
  | { readonly ok: false; readonly count: number; readonly limit: number };

export interface ConcurrencyLimiter {
  readonly limit: number;
  /** One more for `key` if it has fewer than `limit`; `release` (idempotent) gives it back. */
  acquire(key: string): Promise<Acquired>;
  /** What `key` holds now. */
  count(key: string): Promise<number>;
}

/** What to do when the shared store (Redis) does not answer. */
export type FailMode =
  /** Keep limiting in this process's memory (each process then allows the whole limit). */
  | 'open'
  /** Refuse: `consume` and `acquire` reject with LimiterUnavailableError (the plugin answers 503). */
  | 'closed';

export const LimitsErrorCode = { Unavailable: 'RATE_LIMITER_UNAVAILABLE' } as const;

export class LimiterUnavailableError extends Error {
  override readonly name = 'LimiterUnavailableError';
  readonly code = LimitsErrorCode.Unavailable;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The part of pino's (and fastify's) logger the limiters use. */
export interface LimitsLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export const silentLog: LimitsLog = { warn: () => undefined, info: () => undefined };

export const POLICY_NAME_PATTERN = /^[a-z0-9_-]{1,32}$/;

/** Throws on a policy no limiter can honour: a bug in the caller, found at construction. */
export function checkPolicy(policy: RatePolicy): void {
  if (!POLICY_NAME_PATTERN.test(policy.name))
    throw new RangeError(`bad policy name ${JSON.stringify(policy.name)}`);
  if (!(Number.isSafeInteger(policy.limit) && policy.limit >= 1))
    throw new RangeError(`bad limit ${policy.limit}`);
  if (!(Number.isSafeInteger(policy.windowMs) && policy.windowMs >= 1)) {
    throw new RangeError(`bad window ${policy.windowMs} ms`);
  }
}

export function checkCost(policy: RatePolicy, cost: number): void {
  if (!(Number.isSafeInteger(cost) && cost >= 1 && cost <= policy.limit)) {
    throw new RangeError(`cost ${cost} is not 1 to ${policy.limit} (the ${policy.name} limit)`);
  }
}
