/**
 * Timers for a moment in wall-clock time (a token's expiry, an order's): Node's timers take a delay of at most
 * 2^31 - 1 ms and fire at once past it, so a later moment is waited for in steps, looked at again each time.
 */

/** The longest delay a Node timer takes (about 24.8 days); a longer one fires at once. */
export const TIMER_MS_MAX = 2_147_483_647;

/**
 * The delay to give a timer for `atMs` (ms since 1970): the time left, at least `minMs` and at most
 * TIMER_MS_MAX, so that its callback must check whether `atMs` has come.
 */
export function delayUntil(atMs: number, minMs = 0): number {
  return Math.min(Math.max(Math.ceil(atMs - Date.now()), minMs), TIMER_MS_MAX);
}
