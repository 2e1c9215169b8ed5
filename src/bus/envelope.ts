/**
 * The envelope every message on the bus carries, whatever the transport: what happened (`event_type`), a
 * deterministic id (`event_id`, the key of idempotent writes: a redelivery or a replay carries the same one),
 * the event's time as an ISO 8601 UTC timestamp exact to the nanosecond, who made it, the payload's schema
 * version, and the chain of causes (`correlation_id` names the first raw event of a chain, `causation_id` the
 * message this one was made from). Envelopes are frozen once made: a message is never changed after it is sent.
 */
export interface Envelope<P = unknown> {
  readonly event_type: string;
  readonly event_id: string;
  readonly timestamp: string;
  readonly source: string;
  readonly version: number;
  readonly correlation_id: string;
  readonly causation_id: string | null;
  readonly payload: P;
}

/**
 * `fields` itself, frozen: callers pass a fresh object (a literal, a parsed message), which nothing else holds.
 * Copying it first cost more than the rest of making a tick's message (about 1.3 µs of 5, per message).
 */
export function envelope<P>(fields: Envelope<P>): Envelope<P> {
  return Object.freeze(fields);
}
