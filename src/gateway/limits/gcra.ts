/**
 * The rate algorithm both adapters share: GCRA (the generic cell rate algorithm), a token bucket kept as one
 * number per key, the theoretical arrival time (TAT): when the key's budget would be whole again. A unit
 * costs `intervalUs` = window / limit; a request of `cost` units passes if, after it, the TAT is at most one
 * window ahead of now. The state is a single integer, so Redis keeps it in one string with an expiry, and a
 * key whose TAT has passed holds nothing worth keeping (it is the same as an absent key).
 *
 * Times are integer microseconds and the interval is rounded to a whole microsecond, so the arithmetic is
 * exact in JavaScript and in Redis's Lua alike (both use doubles; every value stays far below 2^53). The
 * rounding changes the rate by at most a part in 10^6 / interval: 7 per second is 7.00005 per second.
 */
import type { RatePolicy } from './types.js';

export interface Gcra {
  readonly intervalUs: number;
  /** limit × interval: how far ahead of now the TAT may run. */
  readonly windowUs: number;
}

export function gcraOf(policy: RatePolicy): Gcra {
  const intervalUs = Math.max(1, Math.round((policy.windowMs * 1000) / policy.limit));
  return { intervalUs, windowUs: intervalUs * policy.limit };
}

export interface GcraStep {
  readonly allowed: boolean;
  /** The TAT to store when allowed (unchanged when refused). */
  readonly tatUs: number;
  readonly remaining: number;
  readonly resetUs: number;
  readonly retryAfterUs: number;
}

/** One decision; `storedTatUs` is 0 for a key with no state. */
export function gcraStep(g: Gcra, storedTatUs: number, nowUs: number, cost: number): GcraStep {
  const tat = Math.max(storedTatUs, nowUs);
  const next = tat + cost * g.intervalUs;
  const allowAt = next - g.windowUs;
  if (allowAt > nowUs) {
    return {
      allowed: false,
      tatUs: tat,
      remaining: Math.floor((nowUs + g.windowUs - tat) / g.intervalUs),
      resetUs: tat - nowUs,
      retryAfterUs: allowAt - nowUs,
    };
  }
  return {
    allowed: true,
    tatUs: next,
    remaining: Math.floor((nowUs + g.windowUs - next) / g.intervalUs),
    resetUs: next - nowUs,
    retryAfterUs: 0,
  };
}

/** Whole milliseconds, rounded up (a client told to wait 0 ms after a refusal would retry at once). */
export const usToMsCeil = (us: number): number => Math.ceil(us / 1000);
