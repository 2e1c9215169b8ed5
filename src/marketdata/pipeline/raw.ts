/**
 * What a source hands the pipeline: one raw event, not yet understood. `id` is deterministic (the venue's
 * journal sequence number and record, a file's name and line), so a replay of the same input gives the same
 * ids and an idempotent writer downstream can tell a redelivery. `schema` names the decoder that maps the
 * payload to the tick schema (schemas.ts).
 */
export interface RawEvent {
  readonly id: string;
  /** Who produced it: `venue`, `file:NAME`, `feed:NAME`. */
  readonly source: string;
  readonly schema: string;
  /** When the source received or stamped it (µs since the epoch); the raw envelope's timestamp. */
  readonly receivedUs: number;
  readonly payload: unknown;
}
