/**
 * Tick rows in `COPY md_ticks (...) FROM STDIN (FORMAT binary)` form, encoded one at a time as they are offered
 * into one growing buffer: per row 15 fields, each its length and bytes in network order (int8, int2, int4,
 * "char", timestamptz as int8 µs since 2000, text as UTF-8). The writer fills one per batch on PostgreSQL, so
 * that a tick costs no row object and the batch's COPY input is ready when the batch is taken; `rows()` reads
 * them back for the rare statement that needs them as values (after a unique violation: a redelivery).
 */
import { Flag } from '../pipeline/tick.js';
import type { TickSlot } from '../pipeline/tick.js';
import { TIME_US_MAX, type TickRow } from './rows.js';

/** PostgreSQL's binary timestamps count µs from 2000-01-01 UTC. */
const PG_EPOCH_US = 946_684_800_000_000;
const DAY_US = 86_400_000_000;
const TWO_32 = 4_294_967_296;
const COPY_SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
/** The signature, flags and header extension length. */
const HEADER_BYTES = 19;
const FIELDS = 15;
const CHAR = { t: 0x74, q: 0x71, b: 0x62, s: 0x73, u: 0x75 } as const;
const SIDE_OF_CODE: Readonly<Record<number, 'buy' | 'sell' | 'unknown'>> = {
  [CHAR.b]: 'buy',
  [CHAR.s]: 'sell',
  [CHAR.u]: 'unknown',
};
/** Every fixed-size part of a row at most: the field count, 15 lengths, 8 int8 values, int2, int4, 2 chars. */
const ROW_FIXED_BYTES = 2 + 4 * FIELDS + 8 * 8 + 2 + 4 + 2;
const EVENT_ID_MAX = 256;
const TEXT_MAX = 64;

export class TickCopyBuffer {
  private buf: Buffer;
  private view: DataView;
  /** The end of the rows written (the trailer goes there). */
  private o = HEADER_BYTES;
  private lastDay = -1;
  /** Rows written. */
  count = 0;
  /** The distinct days (since 1970) of the rows' times, for their partitions. */
  readonly days: number[] = [];

  constructor(capacityBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(capacityBytes, HEADER_BYTES + 2));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    for (let k = 0; k < COPY_SIGNATURE.length; k++) this.buf[k] = COPY_SIGNATURE[k];
    this.view.setInt32(11, 0); // flags
    this.view.setInt32(15, 0); // header extension
  }

  /** Empties it for another batch, keeping its memory (the writer's batches reuse two or three). */
  reset(): void {
    this.o = HEADER_BYTES;
    this.count = 0;
    this.lastDay = -1;
    this.days.length = 0;
  }

  /** Bytes of the rows so far. */
  get byteLength(): number {
    return this.o;
  }

  /** A row (checked by `tickRowOf`). */
  addRow(r: TickRow): void {
    this.begin(r.timeUs, r.instrument.length + r.eventId.length + r.source.length);
    this.text(r.instrument);
    this.int8(r.timeUs - PG_EPOCH_US);
    this.int2(r.timeNs);
    this.text(r.eventId);
    this.char(r.kind === 'trade' ? CHAR.t : CHAR.q);
    this.int8OrNull(r.price);
    this.int8OrNull(r.size);
    if (r.side === null) this.nul();
    else this.char(r.side === 'buy' ? CHAR.b : r.side === 'sell' ? CHAR.s : CHAR.u);
    this.int8OrNull(r.bidPrice);
    this.int8OrNull(r.bidSize);
    this.int8OrNull(r.askPrice);
    this.int8OrNull(r.askSize);
    this.int8OrNull(r.tradeId);
    this.int4(r.flags);
    this.text(r.source);
  }

  /**
   * The pipeline's tick as it is enriched, with the enriched message's event id (the raw event's id and
   * `idSuffix`): the row `tickRowOf` makes of that message, without the message. Returns why the tick cannot
   * be a row (the checks of `tickRowOf`), writing nothing then, or null.
   */
  addSlot(t: Readonly<TickSlot>, idSuffix: string): string | null {
    const why = slotProblem(t, idSuffix);
    if (why !== null) return why;
    this.begin(t.timeUs, t.instrument.length + t.eventId.length + idSuffix.length + t.source.length);
    const trade = t.kind === 'trade';
    this.text(t.instrument);
    this.int8(t.timeUs - PG_EPOCH_US);
    this.int2(t.timeNs);
    this.text2(t.eventId, idSuffix);
    this.char(trade ? CHAR.t : CHAR.q);
    if (trade) {
      this.int8(t.price);
      this.int8(t.size);
      this.char(t.side === 'buy' ? CHAR.b : t.side === 'sell' ? CHAR.s : CHAR.u);
      this.nul();
      this.nul();
      this.nul();
      this.nul();
      this.int8(t.tradeId);
    } else {
      this.nul();
      this.nul();
      this.nul();
      this.int8OrNaN(t.bidPrice);
      this.int8OrNaN(t.bidSize);
      this.int8OrNaN(t.askPrice);
      this.int8OrNaN(t.askSize);
      this.nul();
    }
    this.int4(t.flags);
    this.text(t.source);
    return null;
  }

  /** The COPY input: the header, the rows and the trailer (a view of the buffer, valid until the next add). */
  data(): Uint8Array {
    this.ensure(2);
    this.view.setInt16(this.o, -1);
    return this.buf.subarray(0, this.o + 2);
  }

  /** The rows, read back. */
  rows(): TickRow[] {
    const out: TickRow[] = [];
    const buf = this.buf;
    const view = this.view;
    let o = HEADER_BYTES;
    const len = (): number => {
      const n = view.getInt32(o);
      o += 4;
      return n;
    };
    const text = (): string => {
      const n = len();
      const s = buf.toString('utf8', o, o + n);
      o += n;
      return s;
    };
    const int8OrNull = (): number | null => {
      if (len() < 0) return null;
      const v = view.getInt32(o) * TWO_32 + view.getUint32(o + 4);
      o += 8;
      return v;
    };
    const charOrNull = (): number | null => {
      if (len() < 0) return null;
      return buf[o++];
    };
    while (o < this.o) {
      o += 2; // the field count
      const instrument = text();
      const timeUs = (int8OrNull() ?? 0) + PG_EPOCH_US;
      len();
      const timeNs = view.getInt16(o);
      o += 2;
      const eventId = text();
      const kind = charOrNull() === CHAR.t ? 'trade' : 'quote';
      const price = int8OrNull();
      const size = int8OrNull();
      const side = charOrNull();
      const bidPrice = int8OrNull();
      const bidSize = int8OrNull();
      const askPrice = int8OrNull();
      const askSize = int8OrNull();
      const tradeId = int8OrNull();
      len();
      const flags = view.getInt32(o);
      o += 4;
      const source = text();
      out.push({
        instrument,
        timeUs,
        timeNs,
        eventId,
        kind,
        price,
        size,
        side: side === null ? null : SIDE_OF_CODE[side],
        bidPrice,
        bidSize,
        askPrice,
        askSize,
        tradeId,
        flags,
        source,
      });
    }
    return out;
  }

  private begin(timeUs: number, textUnits: number): void {
    this.ensure(ROW_FIXED_BYTES + 3 * textUnits);
    const day = Math.floor(timeUs / DAY_US);
    if (day !== this.lastDay) {
      if (!this.days.includes(day)) this.days.push(day);
      this.lastDay = day;
    }
    this.count++;
    this.view.setInt16(this.o, FIELDS);
    this.o += 2;
  }

  private ensure(bytes: number): void {
    if (this.o + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.o + bytes));
    this.buf.copy(grown, 0, 0, this.o);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  private nul(): void {
    this.view.setInt32(this.o, -1);
    this.o += 4;
  }

  private int2(v: number): void {
    this.view.setInt32(this.o, 2);
    this.view.setInt16(this.o + 4, v);
    this.o += 6;
  }

  private int4(v: number): void {
    this.view.setInt32(this.o, 4);
    this.view.setInt32(this.o + 4, v);
    this.o += 8;
  }

  private int8(v: number): void {
    const hi = Math.floor(v / TWO_32);
    const view = this.view;
    view.setInt32(this.o, 8);
    view.setInt32(this.o + 4, hi);
    view.setUint32(this.o + 8, v - hi * TWO_32);
    this.o += 12;
  }

  private int8OrNull(v: number | null): void {
    if (v === null) this.nul();
    else this.int8(v);
  }

  private int8OrNaN(v: number): void {
    if (v !== v) this.nul();
    else this.int8(v);
  }

  private char(code: number): void {
    this.view.setInt32(this.o, 1);
    this.buf[this.o + 4] = code;
    this.o += 5;
  }

  private text(s: string): void {
    const start = this.o;
    const end = this.ascii(s, start + 4);
    this.view.setInt32(start, end - start - 4);
    this.o = end;
  }

  /** `a` and `b` as one text field (an event id made of the raw event's and a suffix). */
  private text2(a: string, b: string): void {
    const start = this.o;
    const end = this.ascii(b, this.ascii(a, start + 4));
    this.view.setInt32(start, end - start - 4);
    this.o = end;
  }

  /** Writes `s` at `at` as UTF-8 (byte by byte while it is ASCII, the usual case); returns the end. */
  private ascii(s: string, at: number): number {
    const buf = this.buf;
    const n = s.length;
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c > 0x7f) return at + buf.write(s, at, 'utf8');
      buf[at + k] = c;
    }
    return at + n;
  }
}

const safeOrNaN = (v: number): boolean => v !== v || Number.isSafeInteger(v);

/** Why the pipeline's tick could not be stored (what `tickRowOf` would refuse of its message), or null. */
function slotProblem(t: Readonly<TickSlot>, idSuffix: string): string | null {
  if (t.instrument.length === 0 || t.instrument.length > TEXT_MAX)
    return 'instrument must be 1 to 64 characters';
  if (t.source.length === 0 || t.source.length > TEXT_MAX) return 'source must be 1 to 64 characters';
  const idLength = t.eventId.length + idSuffix.length;
  if (idLength === 0 || idLength > EVENT_ID_MAX) return 'event_id must be 1 to 256 characters';
  if (!Number.isSafeInteger(t.timeUs) || t.timeUs < 0 || t.timeUs >= TIME_US_MAX)
    return 'time_us must be µs since 1970, before 2262';
  if (!Number.isSafeInteger(t.timeNs) || t.timeNs < 0 || t.timeNs > 999) return 'time_ns must be 0 to 999';
  if (t.kind === 'trade') {
    if (!Number.isSafeInteger(t.price) || !Number.isSafeInteger(t.size) || !Number.isSafeInteger(t.tradeId))
      return 'price, size and trade_id must be integers';
  } else if (
    !safeOrNaN(t.bidPrice) ||
    !safeOrNaN(t.bidSize) ||
    !safeOrNaN(t.askPrice) ||
    !safeOrNaN(t.askSize)
  ) {
    return 'bid and ask prices and sizes must be integers or null';
  }
  if (t.flags < 0 || t.flags > ALL_FLAGS || !Number.isInteger(t.flags)) return 'unknown flags';
  return null;
}

const ALL_FLAGS = Object.values(Flag).reduce((a, b) => a | b, 0);

/** The pipeline's tick as the row `tickRowOf` makes of its enriched message, or why it cannot be one. */
export function slotRow(t: Readonly<TickSlot>, idSuffix: string): TickRow | string {
  const why = slotProblem(t, idSuffix);
  if (why !== null) return why;
  const trade = t.kind === 'trade';
  const orNull = (v: number): number | null => (v !== v ? null : v);
  return {
    instrument: t.instrument,
    timeUs: t.timeUs,
    timeNs: t.timeNs,
    eventId: t.eventId + idSuffix,
    kind: t.kind,
    price: trade ? t.price : null,
    size: trade ? t.size : null,
    side: trade ? t.side : null,
    bidPrice: trade ? null : orNull(t.bidPrice),
    bidSize: trade ? null : orNull(t.bidSize),
    askPrice: trade ? null : orNull(t.askPrice),
    askSize: trade ? null : orNull(t.askSize),
    tradeId: trade ? t.tradeId : null,
    flags: t.flags,
    source: t.source,
  };
}
