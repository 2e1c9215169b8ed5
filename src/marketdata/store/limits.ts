/** The market data writer's bounds, in one place (docs/marketdata.md#storage). */
export interface MdWriterLimits {
  /** Rows (ticks and bars) waiting to be written; an offer past it is refused and counted as dropped. */
  readonly queueRowsMax: number;
  /** Rows one transaction writes at most. */
  readonly batchRowsMax: number;
  /**
   * Batches written at once on PostgreSQL, each on its connection (the next one's COPY runs while the one
   * before commits; they commit in order). PGlite has one connection: one at a time there.
   */
  readonly writesInFlight: number;
  /** How long a batch smaller than `batchRowsMax` waits for more rows before it is written. */
  readonly lingerMs: number;
  /**
   * `lingerMs` on PGlite. A batch's transaction there costs PGlite's worker about 3.4 ms of CPU besides its
   * rows (BEGIN, the feed's progress, COMMIT) on the venue's own cores: at 10,000 ticks a second 50 ms made
   * batches of about 500 ticks, 250 ms about 2,500 (docs/performance.md, md-linger). Stored rows are then up
   * to a quarter of a second behind the feed (the WebSocket feeds and recent bars do not wait for them); a
   * `flush`, a `close` or a full batch ends the wait at once.
   */
  readonly pgliteLingerMs: number;
  /** A failed batch is retried after a delay doubling from the first to the second. */
  readonly retryDelayMsMin: number;
  readonly retryDelayMsMax: number;
  /** `close` writes what is queued within this, else rejects naming what is left. */
  readonly closeTimeoutMs: number;
}

export const MD_WRITER_DEFAULTS: MdWriterLimits = Object.freeze({
  queueRowsMax: 200_000,
  batchRowsMax: 5_000,
  writesInFlight: 2,
  lingerMs: 50,
  pgliteLingerMs: 250,
  retryDelayMsMin: 10,
  retryDelayMsMax: 5_000,
  closeTimeoutMs: 10_000,
});

export function mdWriterLimits(given: Partial<MdWriterLimits> = {}): MdWriterLimits {
  const l = { ...MD_WRITER_DEFAULTS, ...given };
  const whole = (n: number, min: number): boolean => Number.isSafeInteger(n) && n >= min;
  if (!whole(l.batchRowsMax, 1)) throw new Error('md writer: batchRowsMax must be a whole number ≥ 1');
  if (!whole(l.writesInFlight, 1)) throw new Error('md writer: writesInFlight must be a whole number ≥ 1');
  if (!whole(l.queueRowsMax, l.batchRowsMax)) {
    throw new Error('md writer: queueRowsMax must be a whole number ≥ batchRowsMax');
  }
  if (!whole(l.lingerMs, 0) || !whole(l.pgliteLingerMs, 0) || !whole(l.closeTimeoutMs, 0)) {
    throw new Error('md writer: lingerMs, pgliteLingerMs and closeTimeoutMs must be whole numbers ≥ 0');
  }
  if (!whole(l.retryDelayMsMin, 1) || !whole(l.retryDelayMsMax, l.retryDelayMsMin)) {
    throw new Error('md writer: retry delays must be whole numbers, 1 ≤ min ≤ max');
  }
  return Object.freeze(l);
}
