/** Operations: process settings and the venue's configuration (later logs, metrics and health). */
export { MATCHING_V8_FLAGS, ONE_SHOT_V8_FLAGS, tuneV8ForMatching, tuneV8ForOneShot } from './v8-tuning.js';
export { firstMessageOf } from './worker-start.js';
export { TIMER_MS_MAX, delayUntil } from './timers.js';
export { PacedLoop, type PacedLoopOptions, type PacedWork } from './paced-loop.js';
export * from './config/index.js';
export {
  DEPENDENCY_GUARD_DEFAULTS,
  DependencyGuard,
  DependencyUnavailableError,
  NATS_FAILURES,
  POSTGRES_FAILURES,
  networkErrorCode,
  type CircuitStateName,
  type DependencyGuardOptions,
  type DependencyStats,
  type FailureClassifier,
} from './resilience.js';
