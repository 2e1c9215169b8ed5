/**
 * The engine's bounds and batching settings in one place.
 */
const MiB = 1024 * 1024;

export const ENGINE_LIMITS = Object.freeze({
  /**
   * Encoded bytes one submit may take (about 300,000 orders): a larger one is refused with
   * ENGINE_SUBMIT_TOO_LARGE, so that no single caller can fill the journal's pending bound by itself.
   */
  submitBytesMax: 16 * MiB,
  /**
   * Commands gathered on the main thread before a batch goes to the worker without waiting for the end of the
   * turn. Under load this keeps a pipeline: the worker executes one batch while the journal syncs the one
   * before and the main thread gathers the next, instead of one batch of every client's command per sync.
   */
  flushCommandsDefault: 256,
  flushCommandsMax: 1_000_000,
  /**
   * The worker's young generation. A batch's commands, decoded, live until it is executed and its events sent:
   * with V8's default (16 MiB semi-spaces at most, fewer at first) scavenges come often enough to copy them.
   */
  workerYoungGenerationMb: 96,
  /** Accounts one page of the accounts report holds: an answer crosses threads as one structured clone. */
  reportAccountsMax: 1000,
  /**
   * The shortest wait before the engine advances time of its own accord (an expiry, the emergency checks): a
   * clock that reads a little behind the timer's is asked again this much later, not in a busy loop.
   */
  clockWaitMinMs: 10,
  /**
   * While some account has an emergency loss threshold and commands run, the engine advances time at most
   * this often, so that the core looks at every such account whose marks moved without it trading.
   */
  riskSweepIntervalMs: 1_000,
});

/** The stable codes of the engine's own refusals (the journal's codes pass through as they are). */
export const EngineErrorCode = {
  /** A submit with no commands. */
  SubmitEmpty: 'ENGINE_SUBMIT_EMPTY',
  /** A submit whose commands encode to more than ENGINE_LIMITS.submitBytesMax bytes. */
  SubmitTooLarge: 'ENGINE_SUBMIT_TOO_LARGE',
  /** The engine is closing or closed. */
  Closed: 'ENGINE_CLOSED',
  /** An option out of range. */
  InvalidArgument: 'ENGINE_INVALID_ARGUMENT',
} as const;
export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];
