/**
 * The rows of the market data store, and how a bus message becomes one. A tick row is an enriched (or
 * normalized) tick's payload, a bar row a `BarClosed`/`BarCorrected` payload; both keep the message's
 * `event_id`. Messages from another process (a JetStream consumer) are parsed JSON, so every field is
 * checked here: a message that does not fit is refused with the reason (`MdStoreError` BAD_MESSAGE), never
 * written half right.
 */
import type { Envelope } from '../../bus/index.js';
import { FLAG_NAMES, type TickKind, type TradeSide } from '../pipeline/tick.js';

export interface TickRow {
  readonly instrument: string;
  readonly timeUs: number;
  readonly timeNs: number;
  readonly eventId: string;
  readonly kind: TickKind;
  readonly price: number | null;
  readonly size: number | null;
  readonly side: TradeSide | null;
  readonly bidPrice: number | null;
  readonly bidSize: number | null;
  readonly askPrice: number | null;
  readonly askSize: number | null;
  readonly tradeId: number | null;
  /** The quality flags' bits (pipeline/tick.ts `Flag`); 0 is valid. */
  readonly flags: number;
  readonly source: string;
}

export interface BarRow {
  readonly instrument: string;
  readonly interval: string;
  readonly startUs: number;
  readonly endUs: number;
  /** A tick, volume or dollar bar's number in its instrument's stream; 0 for time bars (keyed by start). */
  readonly number: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** The exact sum of price × size, a decimal string of units. */
  readonly notional: string;
  readonly trades: number;
  readonly revision: number;
  readonly eventId: string;
}

export const MdStoreErrorCode = {
  /** A message whose payload is not a tick or a bar of the pipeline's schema. */
  BadMessage: 'MD_BAD_MESSAGE',
} as const;
export type MdStoreErrorCode = (typeof MdStoreErrorCode)[keyof typeof MdStoreErrorCode];

export class MdStoreError extends Error {
  override name = 'MdStoreError';
  constructor(
    readonly code: MdStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (e: Envelope, why: string): MdStoreError =>
  new MdStoreError(MdStoreErrorCode.BadMessage, `message ${JSON.stringify(e.event_id)}: ${why}`);

/** Time in µs: from 1970 to 2262 (what a timestamptz partition and a JS number both hold exactly). */
export const TIME_US_MAX = 9_214_646_400_000_000;

function int(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

function intOrNull(e: Envelope, p: Fields, key: string): number | null {
  const v = p[key];
  if (v === null || v === undefined) return null;
  const n = int(v);
  if (n === null) throw bad(e, `${key} must be an integer or null`);
  return n;
}

function timeOf(e: Envelope, v: unknown, key: string): number {
  const n = int(v);
  if (n === null || n < 0 || n >= TIME_US_MAX) throw bad(e, `${key} must be µs since 1970, before 2262`);
  return n;
}

const FLAG_BITS = new Map<string, number>(FLAG_NAMES.map(([bit, name]) => [name, bit]));

function flagsOf(e: Envelope, v: unknown): number {
  if (!Array.isArray(v)) throw bad(e, 'flags must be a list of flag names');
  let bits = 0;
  for (const name of v) {
    if (name === 'valid') continue;
    const bit = typeof name === 'string' ? FLAG_BITS.get(name) : undefined;
    if (bit === undefined) throw bad(e, `unknown flag ${JSON.stringify(name)}`);
    bits |= bit;
  }
  return bits;
}

function text(e: Envelope, v: unknown, key: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw bad(e, `${key} must be 1 to ${max} characters`);
  return v;
}

/** A `TickEnriched` or `TickNormalized` message as a row. */
export function tickRowOf(e: Envelope): TickRow {
  const p = e.payload;
  if (!isFields(p)) throw bad(e, 'the payload is not an object');
  const kind = p.kind;
  if (kind !== 'trade' && kind !== 'quote') throw bad(e, 'kind must be trade or quote');
  const side = p.side ?? null;
  if (side !== null && side !== 'buy' && side !== 'sell' && side !== 'unknown') {
    throw bad(e, 'side must be buy, sell, unknown or null');
  }
  const timeNs = int(p.time_ns);
  if (timeNs === null || timeNs < 0 || timeNs > 999) throw bad(e, 'time_ns must be 0 to 999');
  return {
    instrument: text(e, p.instrument, 'instrument', 64),
    timeUs: timeOf(e, p.time_us, 'time_us'),
    timeNs,
    eventId: text(e, e.event_id, 'event_id', 256),
    kind,
    price: intOrNull(e, p, 'price'),
    size: intOrNull(e, p, 'size'),
    side,
    bidPrice: intOrNull(e, p, 'bid_price'),
    bidSize: intOrNull(e, p, 'bid_size'),
    askPrice: intOrNull(e, p, 'ask_price'),
    askSize: intOrNull(e, p, 'ask_size'),
    tradeId: intOrNull(e, p, 'trade_id'),
    flags: flagsOf(e, p.flags),
    source: text(e, p.source, 'source', 64),
  };
}

/** A tick, volume or dollar bar's id ends in `:nN`; a time bar's in `:rREVISION`. */
const NUMBERED = /:n([0-9]{1,15})$/;

/** A `BarClosed` or `BarCorrected` message as a row. */
export function barRowOf(e: Envelope): BarRow {
  const p = e.payload;
  if (!isFields(p)) throw bad(e, 'the payload is not an object');
  const eventId = text(e, e.event_id, 'event_id', 256);
  const numbered = NUMBERED.exec(eventId);
  const need = (key: string): number => {
    const n = int(p[key]);
    if (n === null) throw bad(e, `${key} must be an integer`);
    return n;
  };
  const notional = p.notional;
  if (typeof notional !== 'string' || !/^-?[0-9]{1,60}$/.test(notional)) {
    throw bad(e, 'notional must be a decimal string of units');
  }
  const startUs = timeOf(e, p.start_us, 'start_us');
  const endUs = timeOf(e, p.end_us, 'end_us');
  if (endUs < startUs) throw bad(e, 'end_us is before start_us');
  const row: BarRow = {
    instrument: text(e, p.instrument, 'instrument', 64),
    interval: text(e, p.interval, 'interval', 40),
    startUs,
    endUs,
    number: numbered === null ? 0 : Number(numbered[1]),
    open: need('open'),
    high: need('high'),
    low: need('low'),
    close: need('close'),
    volume: need('volume'),
    notional,
    trades: need('count'),
    revision: need('revision'),
    eventId,
  };
  if (row.low > row.high || row.trades < 1 || row.revision < 0 || row.volume < 0) {
    throw bad(e, 'the bar is not consistent (low > high, no trades, or a negative revision or volume)');
  }
  return row;
}
