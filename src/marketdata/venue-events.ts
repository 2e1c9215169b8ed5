/**
 * The venue's own events on the bus: every book event of the engine's durable batches (orders accepted,
 * rejected, filled, cancelled, reduced, expired, triggered and amended, trades, level and top-of-book
 * changes: what the WebSocket feeds are made of) as an envelope on `venue.events.v1.{instrument}`, through an
 * outbox (`src/bus/outbox.ts`) that never makes the engine's listener wait.
 *
 * Ids come from the journal: `venue-event:SEQ:RECORD` (the command's sequence number and the record's index
 * within the command), so that the replay of a restart makes the same ids and a republished event is stored
 * once (the transport's duplicate window, then the consumers' idempotent writes). The replay offers only the
 * commands after the outbox's saved progress.
 *
 * Off the order path: the listener copies the batch's records (the batch's buffer is not ours to keep) and
 * the envelopes are made on a later turn of the event loop.
 */
import {
  CancelReason,
  CommandKind,
  EVENT_STRIDE,
  EventBuffer,
  OrderType,
  SelfTradePrevention,
  TimeInForce,
  decodeEvent,
  type BookEvent,
} from '../book/index.js';
import { envelope, type Envelope, type Outbox } from '../bus/index.js';
import { F_INSTRUMENT, rejectCodeName } from '../core/index.js';
import type { BatchRecords } from './pipeline/index.js';
import { formatTime } from './time-text.js';

export const VENUE_EVENTS_SOURCE = 'rialto.venue';
export const VENUE_EVENTS_VERSION = 1;
/** Book event record types (the core's records of other types are not venue events). */
const BOOK_TYPE_MAX = 12;

/**
 * A symbol as a subject token: lowercase, `/` as `--` and `.` as `__` (a symbol never has two separators in a
 * row, so two symbols never share a token; NATS reads `.` as a token separator).
 */
export function symbolToken(symbol: string): string {
  return symbol.toLowerCase().replaceAll('/', '--').replaceAll('.', '__');
}

/** The topic of an instrument's venue events. */
export const venueEventsTopic = (symbol: string): string => `venue.events.v1.${symbolToken(symbol)}`;

const namesOf = (o: Record<string, number>): Map<number, string> =>
  new Map(Object.entries(o).map(([name, v]) => [v, name]));
const ORDER_TYPES = namesOf(OrderType);
const TIFS = namesOf(TimeInForce);
const STPS = namesOf(SelfTradePrevention);
const REASONS = namesOf(CancelReason);
const sideName = (s: number): string => (s === 0 ? 'buy' : 'sell');

/**
 * A book event as the payload carries it: the core's fields (prices in ticks, quantities in lots, times in
 * µs), sides and enumerations by name, the book's own sequence number as `bookSeq`.
 */
export function venueEventPayload(
  e: BookEvent,
  symbol: string,
  instrument: number,
  journalSeq: number,
): Record<string, unknown> {
  const { seq, type, ...fields } = e;
  const out: Record<string, unknown> = { symbol, instrument, journalSeq, bookSeq: seq, ...fields };
  if ('side' in e) out.side = sideName(e.side);
  if (e.type === 'TradeExecuted') out.aggressorSide = sideName(e.aggressorSide);
  if (e.type === 'OrderAccepted') {
    out.orderType = ORDER_TYPES.get(e.orderType) ?? e.orderType;
    out.tif = TIFS.get(e.tif) ?? e.tif;
    out.stp = STPS.get(e.stp) ?? e.stp;
  }
  if (e.type === 'OrderRejected') {
    out.code = rejectCodeName(e.code);
    // What a refused place asked for; the other commands' refusals have no type.
    if (e.command === CommandKind.Place) {
      out.orderType = ORDER_TYPES.get(e.orderType) ?? e.orderType;
      out.tif = TIFS.get(e.tif) ?? e.tif;
    } else {
      delete out.orderType;
      delete out.tif;
    }
  }
  if (e.type === 'OrderCancelled' || e.type === 'OrderReduced')
    out.reason = REASONS.get(e.reason) ?? e.reason;
  void type;
  return out;
}

interface Copied {
  readonly firstSeq: number;
  readonly timeUs: number;
  readonly events: Float64Array;
  readonly ends: Int32Array;
}

export class VenueEvents {
  private readonly reader = new EventBuffer(1);
  private pending: Copied[] = [];
  private scheduled = false;
  private closed = false;
  /** Commands up to this sequence number were published by an earlier run. */
  private readonly publishedThrough: number;

  constructor(
    private readonly outbox: Outbox,
    /** An instrument id's symbol (undefined: not one of the venue's, its events are left out). */
    private readonly symbolOf: (instrument: number) => string | undefined,
  ) {
    this.publishedThrough = outbox.progressSeq;
  }

  /** One command of the start-up replay: offered only when it comes after the saved progress. */
  replayCommand(seq: number, timeUs: number, events: Float64Array, count: number): void {
    this.outbox.accepting = seq > this.publishedThrough;
    if (!this.outbox.accepting) return;
    this.offerCommand(seq, timeUs, events, 0, count);
    this.outbox.mark(seq);
  }

  /** After the replay: live batches from now on. */
  goLive(): void {
    this.outbox.accepting = true;
  }

  /** The engine's listener: copies the batch's records; the envelopes are made on a later turn. */
  applyBatch(b: BatchRecords): void {
    if (this.closed || b.ends.length === 0) return;
    const records = b.ends[b.ends.length - 1];
    this.pending.push({
      firstSeq: b.firstSeq,
      timeUs: b.timeUs,
      events: b.events.slice(0, records * EVENT_STRIDE),
      ends: b.ends.slice(),
    });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Makes the envelopes of what is pending now (the timer's work, also before a close). */
  drain(): void {
    this.scheduled = false;
    const batches = this.pending;
    this.pending = [];
    for (const b of batches) {
      let from = 0;
      for (let k = 0; k < b.ends.length; k++) {
        this.offerCommand(b.firstSeq + k, b.timeUs, b.events, from, b.ends[k]);
        this.outbox.mark(b.firstSeq + k);
        from = b.ends[k];
      }
    }
  }

  close(): void {
    this.drain();
    this.closed = true;
  }

  private offerCommand(seq: number, timeUs: number, d: Float64Array, from: number, to: number): void {
    this.reader.data = d;
    for (let i = from; i < to; i++) {
      const type = d[i * EVENT_STRIDE];
      if (type < 1 || type > BOOK_TYPE_MAX) continue;
      const instrument = d[i * EVENT_STRIDE + F_INSTRUMENT];
      const symbol = this.symbolOf(instrument);
      if (symbol === undefined) continue;
      const m = venueEventEnvelope(decodeEvent(this.reader, i), symbol, instrument, seq, i - from, timeUs);
      this.outbox.offer(venueEventsTopic(symbol), m);
    }
  }
}

/** The envelope of record `record` of command `seq`. */
export function venueEventEnvelope(
  e: BookEvent,
  symbol: string,
  instrument: number,
  seq: number,
  record: number,
  timeUs: number,
): Envelope {
  const command = `venue-command:${seq}`;
  return envelope({
    event_type: e.type,
    event_id: `venue-event:${seq}:${record}`,
    timestamp: formatTime(timeUs, 0),
    source: VENUE_EVENTS_SOURCE,
    version: VENUE_EVENTS_VERSION,
    // Every event of one command shares its correlation; each was caused by that command.
    correlation_id: command,
    causation_id: command,
    payload: venueEventPayload(e, symbol, instrument, seq),
  });
}
