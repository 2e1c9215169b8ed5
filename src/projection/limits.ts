/** The query tables' projector's bounds and pacing, in one place (docs/architecture.md#query-tables-srcprojection). */
export const PROJECTION_LIMITS: ProjectionLimits = Object.freeze({
  /** Commands per batch (one transaction) while the venue's thread is otherwise idle, and while it is busy. */
  batchCommandsIdle: 4096,
  batchCommandsBusy: 512,
  /** The thread counts as busy above this event loop utilization (measured between the projector's steps). */
  busyUtilization: 0.5,
  /** The share of the thread's time the projector aims to take, idle and busy (it pauses after each batch). */
  shareIdle: 0.5,
  shareBusy: 0.1,
  pauseMsMin: 1,
  /** How often it looks for new durable commands when it has caught up. */
  idleMs: 50,
  /** Retries after a failure (the database down): doubling from min to max. */
  retryDelayMsMin: 100,
  retryDelayMsMax: 5_000,
  /** Commands replayed between yields while the core is rebuilt up to the checkpoint at start. */
  rebuildChunkCommands: 8192,
  /** Durable batches remembered for the lag's age (beyond it the newest entry stretches: the age stays exact). */
  lagEntriesMax: 4096,
});

export interface ProjectionLimits {
  readonly batchCommandsIdle: number;
  readonly batchCommandsBusy: number;
  readonly busyUtilization: number;
  readonly shareIdle: number;
  readonly shareBusy: number;
  readonly pauseMsMin: number;
  readonly idleMs: number;
  readonly retryDelayMsMin: number;
  readonly retryDelayMsMax: number;
  readonly rebuildChunkCommands: number;
  readonly lagEntriesMax: number;
}
