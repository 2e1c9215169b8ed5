/**
 * A schema per source, each mapping its payloads onto the one tick schema (tick.ts). A decoder writes the
 * slot's instrument, kind, time, prices, sizes, side and trade id, and returns null, or returns the reason it
 * cannot understand the payload (the pipeline then dead-letters it). Values that parse but cannot be true (a
 * negative price, a zero size) are not a decoder's business: normalize flags them.
 *
 * - `venue.trade.v1`, `venue.bbo.v1`: the venue's own trades and best bid and offer, already integers (ticks and
 *   lots); made by the venue source (sources/venue.ts).
 * - `trade.v1`, `quote.v1`: trades and quotes of files and feeds with decimal strings, read at a fixed number of
 *   decimals (a value with more is refused, never rounded) and ISO 8601 times exact to the nanosecond.
 */
import { parseScaledBig } from '../decimal.js';
import { parseIsoTime } from '../time-text.js';
import type { TickSlot, TradeSide } from './tick.js';

export interface SourceSchema {
  readonly name: string;
  decode(payload: unknown, into: TickSlot): string | null;
}

type Fields = Record<string, unknown>;

const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

function integer(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

function side(v: unknown): TradeSide | null {
  if (v === undefined || v === null) return 'unknown';
  return v === 'buy' || v === 'sell' ? v : null;
}

/** The venue's trade: `{ instrument, timeUs, priceTicks, qtyLots, side, tradeId }`, all integers but the first. */
export const venueTradeSchema: SourceSchema = {
  name: 'venue.trade.v1',
  decode(p, t) {
    if (!isFields(p) || typeof p.instrument !== 'string') return 'not a venue trade';
    const timeUs = integer(p.timeUs);
    const price = integer(p.priceTicks);
    const size = integer(p.qtyLots);
    const tradeId = integer(p.tradeId);
    const s = side(p.side);
    if (timeUs === null || price === null || size === null || tradeId === null || s === null) {
      return 'a venue trade needs integer timeUs, priceTicks, qtyLots, tradeId and a side';
    }
    t.instrument = p.instrument;
    t.kind = 'trade';
    t.timeUs = timeUs;
    t.timeNs = 0;
    t.price = price;
    t.size = size;
    t.side = s;
    t.tradeId = tradeId;
    return null;
  },
};

/** The venue's best bid and offer: `{ instrument, timeUs, bidTicks, bidLots, askTicks, askLots }` (null: empty). */
export const venueBboSchema: SourceSchema = {
  name: 'venue.bbo.v1',
  decode(p, t) {
    if (!isFields(p) || typeof p.instrument !== 'string') return 'not a venue bbo';
    const timeUs = integer(p.timeUs);
    if (timeUs === null) return 'a venue bbo needs an integer timeUs';
    const q = [p.bidTicks, p.bidLots, p.askTicks, p.askLots].map((v) => (v === null ? NaN : integer(v)));
    if (q.some((v) => v === null)) return 'a venue bbo has integer or null prices and sizes';
    const bad = oneSided(q as number[]);
    if (bad !== null) return bad;
    t.instrument = p.instrument;
    t.kind = 'quote';
    t.timeUs = timeUs;
    t.timeNs = 0;
    [t.bidPrice, t.bidSize, t.askPrice, t.askSize] = q as number[];
    return null;
  },
};

/** A quote side with a price and no size, or a size and no price, is not a quote. */
function oneSided([bidPrice, bidSize, askPrice, askSize]: number[]): string | null {
  if (Number.isNaN(bidPrice) !== Number.isNaN(bidSize))
    return 'a bid needs both a price and a size, or neither';
  if (Number.isNaN(askPrice) !== Number.isNaN(askSize))
    return 'an ask needs both a price and a size, or neither';
  return null;
}

/** A signed decimal string at `decimals`, as a safe integer of units; or the reason it is not one. */
export function signedUnits(v: unknown, decimals: number, what: string): number | string {
  if (typeof v !== 'string') return `${what} is not a decimal string`;
  const negative = v.startsWith('-');
  const r = parseScaledBig(negative ? v.slice(1) : v, decimals, what);
  if (!r.ok) return r.problem;
  if (r.value > BigInt(Number.MAX_SAFE_INTEGER)) return `${what} "${v}" is past 2^53 units`;
  const n = Number(r.value);
  return negative ? -n : n;
}

function time(v: unknown, t: TickSlot): string | null {
  const parsed = typeof v === 'string' ? parseIsoTime(v) : null;
  if (parsed === null) return `time ${JSON.stringify(v)} is not an ISO 8601 timestamp with a zone`;
  t.timeUs = parsed.timeUs;
  t.timeNs = parsed.timeNs;
  return null;
}

export interface DecimalScale {
  readonly priceDecimals: number;
  readonly sizeDecimals: number;
}

/**
 * Trades of files and feeds: `{ symbol, time, price, size, side?, id? }`. Without an id, `nextId` numbers the
 * trades of a source in arrival order (such trades are never duplicates of each other).
 */
export function tradeSchema(scale: DecimalScale, name = 'trade.v1'): SourceSchema {
  let nextId = 0;
  return {
    name,
    decode(p, t) {
      if (!isFields(p)) return 'not an object';
      if (typeof p.symbol !== 'string' || p.symbol === '') return 'symbol is missing';
      const bad = time(p.time, t);
      if (bad !== null) return bad;
      const price = signedUnits(p.price, scale.priceDecimals, 'price');
      if (typeof price === 'string') return price;
      const size = signedUnits(p.size, scale.sizeDecimals, 'size');
      if (typeof size === 'string') return size;
      const s = side(p.side);
      if (s === null) return `side ${JSON.stringify(p.side)} is not buy or sell`;
      let id: number;
      if (p.id === undefined || p.id === null || p.id === '') id = nextId++;
      else {
        const parsed = typeof p.id === 'string' && /^\d{1,15}$/.test(p.id) ? Number(p.id) : integer(p.id);
        if (parsed === null || parsed < 0) return `id ${JSON.stringify(p.id)} is not a whole number`;
        id = parsed;
      }
      t.instrument = p.symbol;
      t.kind = 'trade';
      t.price = price;
      t.size = size;
      t.side = s;
      t.tradeId = id;
      return null;
    },
  };
}

/** Quotes of files and feeds: `{ symbol, time, bid, bid_size, ask, ask_size }`; an empty side is null or "". */
export function quoteSchema(scale: DecimalScale, name = 'quote.v1'): SourceSchema {
  const units = (v: unknown, decimals: number, what: string): number | string =>
    v === null || v === undefined || v === '' ? NaN : signedUnits(v, decimals, what);
  return {
    name,
    decode(p, t) {
      if (!isFields(p)) return 'not an object';
      if (typeof p.symbol !== 'string' || p.symbol === '') return 'symbol is missing';
      const bad = time(p.time, t);
      if (bad !== null) return bad;
      const q = [
        units(p.bid, scale.priceDecimals, 'bid'),
        units(p.bid_size, scale.sizeDecimals, 'bid_size'),
        units(p.ask, scale.priceDecimals, 'ask'),
        units(p.ask_size, scale.sizeDecimals, 'ask_size'),
      ];
      for (const v of q) if (typeof v === 'string') return v;
      const sided = oneSided(q as number[]);
      if (sided !== null) return sided;
      t.instrument = p.symbol;
      t.kind = 'quote';
      [t.bidPrice, t.bidSize, t.askPrice, t.askSize] = q as number[];
      return null;
    },
  };
}
