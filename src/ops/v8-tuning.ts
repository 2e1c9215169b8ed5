/**
 * V8 settings for the process that runs the matching core. The book's hot path is a chain of small methods
 * (validate, allocate, match, rest, emit); V8's default cumulative inlining budget (920 bytes of bytecode)
 * stops inlining them partway, and the remaining calls cost about a fifth of the time per operation
 * (docs/performance.md has the figures with and without). A JVM-based engine would tune its inliner the same
 * way. The setting only changes how code is compiled, never what it computes.
 */
import { setFlagsFromString } from 'node:v8';

export const MATCHING_V8_FLAGS: readonly string[] = ['--max-inlined-bytecode-size-cumulative=4000'];

/** The flag sets applied in this process: each once. */
const applied = new Set<readonly string[]>();

function applyOnce(flags: readonly string[]): readonly string[] {
  if (!applied.has(flags)) {
    for (const flag of flags) setFlagsFromString(flag);
    applied.add(flags);
  }
  return flags;
}

/** Applies MATCHING_V8_FLAGS. Call at process start, before the hot code has been optimized. */
export const tuneV8ForMatching = (): readonly string[] => applyOnce(MATCHING_V8_FLAGS);

/**
 * V8 settings for a one-shot command that opens the embedded store (PGlite) for a few statements and exits
 * (`rialto keys`, `rialto audit verify --table`): WebAssembly compiled by the baseline compiler only. PGlite is
 * PostgreSQL compiled to WebAssembly, megabytes of code that V8 otherwise also recompiles with its optimizing
 * compiler in the background; for a few statements that costs more CPU than it could save (about 0.5 of 1.3
 * CPU seconds of opening an existing database, measured 2026-12-01). Not for the venue, whose store works
 * for as long as it runs.
 */
export const ONE_SHOT_V8_FLAGS: readonly string[] = ['--liftoff-only'];

/** Applies ONE_SHOT_V8_FLAGS. Call before the store is opened (its WebAssembly is compiled then). */
export const tuneV8ForOneShot = (): readonly string[] => applyOnce(ONE_SHOT_V8_FLAGS);
