/**
 * The audit trail's bounds in one place, checked against each other when a writer starts.
 */
export const AUDIT_LIMITS = Object.freeze({
  /** Events accepted (reserved or waiting) and not yet written; past it callers wait, then are refused. */
  queueCapacityDefault: 10_000,
  queueCapacityMax: 1_000_000,
  /** Events appended to the audit file by one write and one fdatasync. */
  batchEventsDefault: 1_000,
  batchEventsMax: 10_000,
  /**
   * How long the writer lets a short batch fill before writing it. Answers never wait for the audit write, so
   * unlike the journal it need not write at once: a write and fdatasync cost ~90 µs of CPU (mostly the
   * kernel's, on a libuv thread), and without a wait a venue at a steady few thousand orders a second wrote a
   * group of a few events each time, tens of µs an order; 10 ms makes them groups of tens to hundreds.
   */
  lingerMsDefault: 10,
  /**
   * Lines of the audit file written to `audit_events` by one INSERT of the projection: many while the venue is
   * idle; few while it is busy, since PGlite runs the INSERT on the venue's thread and every answer due
   * meanwhile waits (500 rows cost it 20-100 ms, which showed as stalls in the answers' p99; 16 cost about 1).
   */
  projectionBatchRowsIdle: 500,
  projectionBatchRowsBusy: 16,
  /**
   * Lines per batch when the store runs its SQL off the venue's thread (PostgreSQL, the venue's PGlite worker):
   * a transaction's own statements cost PGlite about 1.5 ms, so 2,000 rows a batch took its worker 15 µs a row
   * against 18 for 500 (docs/performance.md, bg-pglite). The rows are encoded on the venue's thread
   * `projectionEncodeRowsPerTurn` at a time, one turn of its event loop each.
   */
  projectionBatchRowsOffThread: 2_000,
  projectionEncodeRowsPerTurn: 500,
  /**
   * The COPY text the audit file's worker hands over (file-thread.ts) that the projection holds while the
   * store is behind, at most (about 50,000 WebSocket placements' rows of about 340 bytes): past it, groups
   * are not made into text and the projection reads them from the file when it gets to them.
   */
  projectionHandedBytesMax: 16 * 1024 * 1024,
  /** The projection's pause when the table holds every line of the file (it then also polls the inbox). */
  projectionIdleMs: 200,
  /**
   * The share of the venue's thread the projection may take: after a batch that took T ms it pauses
   * T * (1 - share) / share, so a busy venue gives it a twentieth, an idle one half. "Busy" is the event loop's
   * utilization by other work during the pause before.
   */
  projectionShareBusy: 0.05,
  projectionShareIdle: 0.5,
  projectionBusyUtilization: 0.3,
  projectionPauseMsMin: 5,
  /**
   * The longest pause between two batches: a batch slow for a reason other than the venue's thread (the
   * database slow or just back from an outage) must not park the projection for twenty times as long.
   */
  projectionPauseMsMax: 1_000,
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
  readonly lingerMs: number;
}

/** The limits a writer runs with, from overrides; throws a RangeError for a combination that cannot work. */
export function writerLimits(overrides: Partial<WriterLimits> = {}): WriterLimits {
  const l: WriterLimits = {
    queueCapacity: overrides.queueCapacity ?? AUDIT_LIMITS.queueCapacityDefault,
    batchEventsMax: overrides.batchEventsMax ?? AUDIT_LIMITS.batchEventsDefault,
    admitTimeoutMs: overrides.admitTimeoutMs ?? AUDIT_LIMITS.admitTimeoutMsDefault,
    closeTimeoutMs: overrides.closeTimeoutMs ?? AUDIT_LIMITS.closeTimeoutMsDefault,
    lingerMs: overrides.lingerMs ?? AUDIT_LIMITS.lingerMsDefault,
  };
  const whole = (n: number, min: number, max: number): boolean => Number.isInteger(n) && n >= min && n <= max;
  if (!whole(l.queueCapacity, 1, AUDIT_LIMITS.queueCapacityMax))
    throw new RangeError(`queueCapacity must be 1 to ${AUDIT_LIMITS.queueCapacityMax}`);
  if (!whole(l.batchEventsMax, 1, AUDIT_LIMITS.batchEventsMax))
    throw new RangeError(`batchEventsMax must be 1 to ${AUDIT_LIMITS.batchEventsMax}`);
  if (!whole(l.admitTimeoutMs, 0, 60_000)) throw new RangeError('admitTimeoutMs must be 0 to 60000');
  if (!whole(l.closeTimeoutMs, 0, 600_000)) throw new RangeError('closeTimeoutMs must be 0 to 600000');
  if (!whole(l.lingerMs, 0, 1_000)) throw new RangeError('lingerMs must be 0 to 1000');
  return l;
}
