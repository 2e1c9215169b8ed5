/**
 * The internal transport between `rialto engine` and its gateways (docs/internal-transport.md): WebSocket
 * binary messages on the engine's internal port, each a frame of
 *
 *   u32 LE header length | header (JSON, UTF-8) | body (bytes, per message type)
 *
 * Headers are checked against the schemas below; a message that does not parse or check is a protocol error
 * (the receiver closes the connection, it never throws out of its handler). Commands travel as the journal's
 * framed records (journal/record.ts: the same bytes the engine journals, before sequencing), events as the
 * core's Float64 records.
 */
import * as z from 'zod';
import { EVENT_STRIDE } from '../../book/index.js';
import type { Command } from '../../core/index.js';
import { RECORD_BYTES_MAX, frameCommand } from '../../journal/index.js';

export const WIRE_LIMITS = Object.freeze({
  /** A header's JSON at most (the largest is a report's answer). */
  headerBytesMax: 4 * 1024 * 1024,
  /** A message from a gateway at most (a submit of up to the engine's submit limit). */
  gatewayMessageBytesMax: 2 * 1024 * 1024,
  /** A message from the engine at most (a catch-up chunk or a batch). */
  engineMessageBytesMax: 64 * 1024 * 1024,
  /** A catch-up chunk's records, about (bytes). */
  catchUpChunkBytes: 1024 * 1024,
  /** Bytes a follower may leave unread before the engine cuts it off (it reconnects and catches up). */
  followerBufferedBytesMax: 256 * 1024 * 1024,
  /** Connections the engine's internal port takes at once. */
  connectionsMax: 256,
});

/** The path of the internal port's WebSocket endpoint. */
export const ENGINE_WS_PATH = '/engine/v1';

const id = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const count = z.number().int().min(1).max(1_000_000);
const time = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const ASKS = ['stateHash', 'highestOrderId', 'stats', 'checkpoint'] as const;
export type Ask = (typeof ASKS)[number];

const reportQuery = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('account'), accountId: z.number().int() }),
  z.strictObject({ kind: z.literal('accounts'), afterId: z.number().int(), limit: z.number().int() }),
  z.strictObject({ kind: z.literal('venue') }),
  z.strictObject({ kind: z.literal('statements') }),
]);

/** Gateway → engine. */
export const toEngineHeader = z.discriminatedUnion('t', [
  /** Stream every durable batch from sequence number `from` on: the journal's, then the live ones. */
  z.strictObject({ t: z.literal('follow'), from: seq.min(1) }),
  /** Body: `count` framed records. Answered `receipt` once durable. */
  z.strictObject({ t: z.literal('submit'), id, count }),
  /** Body: one framed placeOrder with order id 0 and no client order id (it comes here). Answered `placed`. */
  z.strictObject({
    t: z.literal('place'),
    id,
    clientOrderId: z
      .string()
      .regex(/^[\x21-\x7e]{1,64}$/)
      .optional(),
  }),
  z.strictObject({ t: z.literal('ask'), id, q: z.enum(ASKS) }),
  z.strictObject({ t: z.literal('report'), id, report: reportQuery }),
]);
export type ToEngineHeader = z.infer<typeof toEngineHeader>;

const receiptHead = z.strictObject({
  firstSeq: seq.min(1),
  count,
  timeUs: time,
  /** The record count after each command (the body holds the events, EVENT_STRIDE numbers each). */
  ends: z.array(z.number().int().min(0)),
});
export type ReceiptHead = z.infer<typeof receiptHead>;

const errorBody = z.strictObject({
  kind: z.enum(['engine', 'api']),
  code: z.string().max(100),
  message: z.string().max(10_000),
  status: z.number().int().min(400).max(599).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type WireError = z.infer<typeof errorBody>;

/** Engine → gateway. */
export const toGatewayHeader = z.discriminatedUnion('t', [
  /** The engine's state hash after `seq` (the first message after `follow`). */
  z.strictObject({ t: z.literal('hello'), seq, stateHash: z.string().max(200) }),
  /**
   * Body: `count` framed records, sequence numbers firstSeq.., all stamped timeUs. A placement's client order
   * id is in its record, as in the journal.
   */
  z.strictObject({ t: z.literal('batch'), firstSeq: seq.min(1), timeUs: time, count }),
  /** The journal has been sent; live batches follow. */
  z.strictObject({ t: z.literal('live') }),
  z.strictObject({ t: z.literal('receipt'), id, receipt: receiptHead }),
  z.strictObject({
    t: z.literal('placed'),
    id,
    orderId: id,
    /** The sequence number the gateway must have applied before it answers (its order is there). */
    seq,
    receipt: receiptHead.nullable(),
  }),
  z.strictObject({ t: z.literal('answer'), id, value: z.unknown() }),
  z.strictObject({ t: z.literal('error'), id, error: errorBody }),
  /** The engine will not serve this gateway (say why), and closes. */
  z.strictObject({ t: z.literal('fatal'), code: z.string().max(100), message: z.string().max(10_000) }),
]);
export type ToGatewayHeader = z.infer<typeof toGatewayHeader>;

/** One frame: the header, then the body. */
export function encodeFrame(header: ToEngineHeader | ToGatewayHeader, body?: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length + (body?.length ?? 0));
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  if (body !== undefined) out.set(body, 4 + json.length);
  return out;
}

export interface Frame<H> {
  readonly header: H;
  readonly body: Uint8Array;
}

/** Splits and checks a frame; a string says what is wrong with it. */
export function decodeFrame<H>(data: Uint8Array, schema: z.ZodType<H>): Frame<H> | string {
  if (data.length < 4) return 'a frame shorter than its header length';
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = view.getUint32(0, true);
  if (length > WIRE_LIMITS.headerBytesMax || 4 + length > data.length)
    return 'a header longer than its frame';
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data.buffer, data.byteOffset + 4, length).toString('utf8'));
  } catch {
    return 'a header that is not JSON';
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return `a header that does not check: ${parsed.error.issues[0]?.message ?? ''}`;
  return { header: parsed.data, body: data.subarray(4 + length) };
}

/** The commands as framed records, back to back (what decodeFramedCommands reads). */
export function frameCommands(commands: readonly Command[]): Uint8Array {
  let out = new Uint8Array(Math.max(256, commands.length * 128));
  let at = 0;
  for (const c of commands) {
    if (at + RECORD_BYTES_MAX > out.length) {
      const bigger = new Uint8Array(Math.max(out.length * 2, at + RECORD_BYTES_MAX));
      bigger.set(out.subarray(0, at));
      out = bigger;
    }
    at = frameCommand(c, out, at);
  }
  return out.subarray(0, at);
}

/** A receipt's events as a body (a copy of the Float64 records' bytes). */
export function eventsBody(events: Float64Array): Uint8Array {
  return new Uint8Array(events.buffer.slice(events.byteOffset, events.byteOffset + events.byteLength));
}

/** A body's events, checked against the records the ends announce. */
export function eventsOfBody(body: Uint8Array, ends: readonly number[]): Float64Array | string {
  const records = ends.length === 0 ? 0 : ends[ends.length - 1];
  if (body.length !== records * EVENT_STRIDE * 8) return 'a receipt whose events do not match its ends';
  for (let i = 1; i < ends.length; i++) if (ends[i] < ends[i - 1]) return 'a receipt with decreasing ends';
  const copy = new Uint8Array(body.length);
  copy.set(body);
  return new Float64Array(copy.buffer);
}
