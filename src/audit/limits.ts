/**
 * The audit trail's bounds in one place, checked against each other when a writer starts.
 */
export const AUDIT_LIMITS = Object.freeze({
  /** Events accepted (reserved or waiting) and not yet written; past it callers wait, then are refused. */
  queueCapacityDefault: 10_000,
  queueCapacityMax: 1_000_000,
  /** Events written by one INSERT (one JSON parameter for the batch). */
  batchEventsMax: 500,
  /**
   * How long the writer lets a short batch fill before writing it. A batch costs the store a fixed transaction
   * (lock, head, insert: about 0.5 ms on PGlite) besides its rows, which batches of a few events paid per event
   * (146 µs at 5 a batch against 42 at 500); answers never wait for the audit write, so lingering costs them
   * nothing, and a close or a full batch does not linger.
   */
  lingerMs: 10,
  /** How long a caller waits for room in a full queue before AUDIT_UNAVAILABLE (503). */
  admitTimeoutMsDefault: 1_000,
  /** A failed batch is retried after this, doubling up to the maximum, for as long as the writer runs. */
  retryDelayMsMin: 50,
  retryDelayMsMax: 5_000,
  /** On close, how long the writer keeps trying to write what it holds before it gives up and says so. */
  closeTimeoutMsDefault: 10_000,
  /** Characters of an event's details in canonical JSON; larger details are replaced by their size. */
  detailsCharsMax: 4_096,
  /** Nesting of details objects and arrays. */
  detailsDepthMax: 4,
  /** Characters of each string field (actor, action, target, codes, request id). */
  fieldCharsMax: 256,
  /** Rows `rialto audit verify` reads per page. */
  verifyPageRows: 1_000,
  /** Rows `rialto audit tail` prints at most. */
  tailRowsMax: 10_000,
});

export interface WriterLimits {
  readonly queueCapacity: number;
  readonly batchEventsMax: number;
  readonly admitTimeoutMs: number;
  readonly closeTimeoutMs: number;
}

/** The limits a writer runs with, from overrides; throws a RangeError for a combination that cannot work. */
export function writerLimits(overrides: Partial<WriterLimits> = {}): WriterLimits {
  const l: WriterLimits = {
    queueCapacity: overrides.queueCapacity ?? AUDIT_LIMITS.queueCapacityDefault,
    batchEventsMax: overrides.batchEventsMax ?? AUDIT_LIMITS.batchEventsMax,
    admitTimeoutMs: overrides.admitTimeoutMs ?? AUDIT_LIMITS.admitTimeoutMsDefault,
    closeTimeoutMs: overrides.closeTimeoutMs ?? AUDIT_LIMITS.closeTimeoutMsDefault,
  };
  const whole = (n: number, min: number, max: number): boolean => Number.isInteger(n) && n >= min && n <= max;
  if (!whole(l.queueCapacity, 1, AUDIT_LIMITS.queueCapacityMax))
    throw new RangeError(`queueCapacity must be 1 to ${AUDIT_LIMITS.queueCapacityMax}`);
  if (!whole(l.batchEventsMax, 1, AUDIT_LIMITS.batchEventsMax))
    throw new RangeError(`batchEventsMax must be 1 to ${AUDIT_LIMITS.batchEventsMax}`);
  if (!whole(l.admitTimeoutMs, 0, 60_000)) throw new RangeError('admitTimeoutMs must be 0 to 60000');
  if (!whole(l.closeTimeoutMs, 0, 600_000)) throw new RangeError('closeTimeoutMs must be 0 to 600000');
  return l;
}
