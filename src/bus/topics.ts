/**
 * The bus's topic families, its backpressure error and the decoding of a message body: what its users need
 * without the NATS client (jetstream.ts), which only a bus that connects loads.
 */
import { envelope, type Envelope } from './envelope.js';

export const TOPIC_FAMILIES = [
  'ingestion',
  'normalized',
  'enriched',
  'aggregated',
  'served',
  'deadletter',
  /** The venue's own events (trades, order status changes, book changes): `venue.events.v1.{instrument}`. */
  'venue',
] as const;
export type TopicFamily = (typeof TOPIC_FAMILIES)[number];
/**
 * The families a bus makes streams for unless told otherwise: the market data pipeline's. Each stream reserves
 * its `streamMaxBytes` of the server's storage, so a bus makes only the streams it needs (the venue adds
 * `venue`).
 */
export const DEFAULT_FAMILIES: readonly TopicFamily[] = TOPIC_FAMILIES.filter((f) => f !== 'venue');

/** `publish` found `publishPendingMax` publishes waiting for the server: wait for `flushed()` and retry. */
export class BusBackpressureError extends Error {
  readonly code = 'BUS_BACKPRESSURE';
  constructor(pending: number) {
    super(`bus: ${pending} publishes are waiting for the server; wait for flushed() before publishing more`);
  }
}

/** Parses a message body into an envelope, or says why it is not one. */
export function decodeEnvelope(data: Uint8Array): Envelope | string {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (typeof v !== 'object' || v === null) return 'not an object';
  const o = v as Record<string, unknown>;
  for (const k of ['event_type', 'event_id', 'timestamp', 'source', 'correlation_id'] as const)
    if (typeof o[k] !== 'string') return `no string ${k}`;
  if (typeof o.version !== 'number') return 'no number version';
  if (o.causation_id !== null && typeof o.causation_id !== 'string') return 'bad causation_id';
  if (!('payload' in o)) return 'no payload';
  return envelope(o as unknown as Envelope);
}
