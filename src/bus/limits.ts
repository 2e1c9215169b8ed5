/**
 * The JetStream transport's defaults and bounds, in one place. Every option that matters is passed to the
 * client and the server explicitly rather than left to their defaults (timeouts, windows, in-flight bounds).
 */
export const JETSTREAM_DEFAULTS = Object.freeze({
  /** Stream names are this prefix plus the topic family in capitals (`RIALTO_MD_INGESTION`). */
  streamPrefix: 'RIALTO_MD_',
  /** Put before every topic to make its subject (tests use a unique one); empty in production. */
  subjectPrefix: '',
  /** A republished message with an `event_id` seen within this window is stored once. */
  duplicateWindowMs: 120_000,
  /** Messages older than this leave the streams. */
  streamMaxAgeMs: 24 * 3_600_000,
  /** Each stream keeps at most this many bytes (the oldest messages go first). */
  streamMaxBytes: 1024 ** 3,
  /** Publishes sent and not yet acknowledged by the server; `publish` refuses beyond it. */
  publishPendingMax: 1_000,
  publishTimeoutMs: 5_000,
  connectTimeoutMs: 2_000,
  reconnectWaitMs: 1_000,
  pingIntervalMs: 10_000,
  /** Messages a durable consumer has been given and not yet acknowledged (the server's `max_ack_pending`). */
  ackPendingMax: 1_000,
  /** Handlers running at once per consumer; 1 handles messages in stream order. */
  inFlightMax: 1,
  /** How long the server waits for an ack before it redelivers (a handler must finish well within it). */
  ackWaitMs: 30_000,
  /** Delays before redelivering a message whose handler failed: the n-th failure waits the n-th (or last). */
  backoffMs: Object.freeze<number[]>([100, 1_000, 5_000, 15_000]),
  /** Deliveries of one message before it goes to the dead-letter topic instead. */
  deliveriesMax: 5,
  /** Where a consumer puts a message it gave up on (or could not decode). */
  deadLetterTopic: 'deadletter.bus.v1',
});

export const JETSTREAM_LIMITS = Object.freeze({
  publishPendingMax: 1_000_000,
  ackPendingMax: 100_000,
  inFlightMax: 10_000,
  backoffSteps: 16,
  deliveriesMax: 1_000,
  /** A durable consumer's name: letters, digits, `_` and `-`. */
  durableNameLengthMax: 64,
  streamPrefixLengthMax: 32,
});
