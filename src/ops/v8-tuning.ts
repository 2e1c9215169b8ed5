/**
 * V8 settings for the process that runs the matching core. The book's hot path is a chain of small methods
 * (validate, allocate, match, rest, emit); V8's default cumulative inlining budget (920 bytes of bytecode)
 * stops inlining them partway, and the remaining calls cost about a fifth of the time per operation
 * (docs/performance.md has the figures with and without). A JVM-based engine would tune its inliner the same
 * way. The setting only changes how code is compiled, never what it computes.
 */
import { setFlagsFromString } from 'node:v8';

export const MATCHING_V8_FLAGS: readonly string[] = ['--max-inlined-bytecode-size-cumulative=4000'];

let tuned = false;

/** Applies MATCHING_V8_FLAGS. Call at process start, before the hot code has been optimized. */
export function tuneV8ForMatching(): readonly string[] {
  if (!tuned) {
    for (const flag of MATCHING_V8_FLAGS) setFlagsFromString(flag);
    tuned = true;
  }
  return MATCHING_V8_FLAGS;
}
