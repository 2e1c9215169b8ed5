/** The pipeline's bounds, in one place. */
export const PIPELINE_LIMITS = {
  /** Instruments with bars and quality state; a tick of one more is dead-lettered. */
  instrumentsMax: 100_000,
  /** Dead letters kept for inspection (`recentDeadLetters`), whether or not the topic has subscribers. */
  deadLettersKept: 100,
} as const;
