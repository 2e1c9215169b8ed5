/**
 * The CSV shapes of `rialto md aggregate`, pure: a trades file (a header naming the columns time, price, size
 * and optionally id, in any order; one trade per line; no quoting) in, bar rows
 * (start,end,open,high,low,close,volume,vwap,count) out, and the text forms of bar specs and durations. Each
 * parser returns a problem (a sentence fragment) instead of throwing, so that the caller can name the line.
 */
import { formatScaled, parseScaled, parseScaledBig, vwapText } from './decimal.js';
import type { Bar, BarSpec } from './bars/index.js';
import { formatTime, parseIsoTime, parseSecondsAfterMidnight } from './time-text.js';

export interface TradeColumns {
  readonly time: number;
  readonly price: number;
  readonly size: number;
  /** The id column's index, or -1 when the file has none (then every line is a distinct trade). */
  readonly id: number;
  readonly count: number;
}

export interface TradeFormat {
  readonly priceDecimals: number;
  readonly sizeDecimals: number;
  /** Seconds since the epoch of the UTC midnight that seconds-after-midnight times count from, or null. */
  readonly midnightSec: number | null;
}

/** A trade read from a line (reused from line to line by the reader). */
export interface TradeRow {
  timeUs: number;
  timeNs: number;
  price: number;
  size: number;
  id: number;
}

export const BAR_CSV_HEADER = 'start,end,open,high,low,close,volume,vwap,count';
/** VWAP carries this many digits beyond the price's, correctly rounded (half to even). */
export const VWAP_EXTRA_DIGITS = 4;

const KNOWN = ['time', 'price', 'size', 'id'] as const;

export function parseTradeHeader(line: string): TradeColumns | string {
  const names = line.split(',').map((n) => n.trim());
  const at = (name: string): number => names.indexOf(name);
  for (const n of names) {
    if (!(KNOWN as readonly string[]).includes(n))
      return `unknown column "${n}" (expected time,price,size[,id])`;
    if (names.indexOf(n) !== names.lastIndexOf(n)) return `column "${n}" appears twice`;
  }
  for (const n of ['time', 'price', 'size']) {
    if (at(n) < 0) return `the header must name the columns time, price and size (got "${line}")`;
  }
  return { time: at('time'), price: at('price'), size: at('size'), id: at('id'), count: names.length };
}

/** Fills `out` from `line`; returns a problem, or null when the trade is good. `lineNo` is the default id. */
export function parseTradeLine(
  line: string,
  cols: TradeColumns,
  format: TradeFormat,
  lineNo: number,
  out: TradeRow,
): string | null {
  const fields = line.split(',');
  if (fields.length !== cols.count) return `expected ${cols.count} fields, found ${fields.length}`;
  const timeText = fields[cols.time];
  const time =
    parseIsoTime(timeText) ??
    (format.midnightSec === null ? null : parseSecondsAfterMidnight(timeText, format.midnightSec));
  if (time === null) {
    return format.midnightSec === null
      ? `time "${timeText}" is not an ISO timestamp such as 2024-01-02T09:30:00.5Z (seconds after midnight need --date)`
      : `time "${timeText}" is neither an ISO timestamp nor seconds after midnight (below 86400)`;
  }
  const price = parseScaled(fields[cols.price], format.priceDecimals, 'price');
  if (!price.ok) return price.problem;
  const size = parseScaled(fields[cols.size], format.sizeDecimals, 'size');
  if (!size.ok) return size.problem;
  let id = lineNo;
  if (cols.id >= 0) {
    const text = fields[cols.id];
    id = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(id)) return `id "${text}" is not a whole number below 2^53`;
  }
  out.timeUs = time.timeUs;
  out.timeNs = time.timeNs;
  out.price = price.value;
  out.size = size.value;
  out.id = id;
  return null;
}

/** A bar as a CSV row (no newline), prices and sizes in decimals of the input's scales. */
export function barCsvRow(bar: Bar, priceDecimals: number, sizeDecimals: number): string {
  const p = (units: number): string => formatScaled(units, priceDecimals);
  const vwap = vwapText(bar.notional, bar.volume, priceDecimals, priceDecimals + VWAP_EXTRA_DIGITS);
  return [
    formatTime(bar.startUs, bar.startNs),
    formatTime(bar.endUs, bar.endNs),
    p(bar.open),
    p(bar.high),
    p(bar.low),
    p(bar.close),
    formatScaled(bar.volume, sizeDecimals),
    vwap,
    bar.count,
  ].join(',');
}

const PERIOD = /^([1-9][0-9]{0,4})(s|m|h|d)$/;
const UNIT_SEC: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * `time:1s|1m|5m|1h|1d` (any whole number of s, m, h or d dividing a day), `tick:N`, `volume:N` (N in the
 * size's decimals) or `dollar:N` (N a price × size amount, in the decimals of both).
 */
export function parseBarSpec(text: string, priceDecimals: number, sizeDecimals: number): BarSpec | string {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const arg = colon < 0 ? '' : text.slice(colon + 1);
  const usage = 'use time:1s|1m|5m|1h|1d, tick:N, volume:N or dollar:N';
  switch (kind) {
    case 'time': {
      const m = PERIOD.exec(arg);
      if (m === null) return `bar "${text}": the period must be a whole number of s, m, h or d; ${usage}`;
      const periodSec = Number(m[1]) * UNIT_SEC[m[2]];
      if (86_400 % periodSec !== 0) return `bar "${text}": the period must divide a day, to align to UTC`;
      return { kind: 'time', periodSec };
    }
    case 'tick': {
      const n = /^[1-9][0-9]{0,14}$/.test(arg) ? Number(arg) : NaN;
      if (!Number.isSafeInteger(n)) return `bar "${text}": N must be a whole number of ticks, ≥ 1`;
      return { kind: 'tick', ticks: n };
    }
    case 'volume': {
      const n = parseScaled(arg, sizeDecimals, `bar "${text}": the volume`);
      return n.ok ? { kind: 'volume', size: n.value } : n.problem;
    }
    case 'dollar': {
      const n = parseScaledBig(arg, priceDecimals + sizeDecimals, `bar "${text}": the amount`);
      if (!n.ok) return n.problem;
      if (n.value <= 0n) return `bar "${text}": the amount must be positive`;
      return { kind: 'dollar', notional: n.value };
    }
    default:
      return `unknown bar "${text}": ${usage}`;
  }
}

const DURATION = /^(0|[1-9][0-9]{0,8})(us|ms|s|m|h)$/;
const UNIT_US: Record<string, number> = { us: 1, ms: 1000, s: 1e6, m: 60e6, h: 3600e6 };

/** "0s", "250ms", "2s", "5m", "1h" as whole µs, or a problem. */
export function parseDuration(text: string, what: string): number | string {
  const m = DURATION.exec(text);
  if (m === null)
    return `${what} "${text}" must be a whole number with a unit: us, ms, s, m or h (such as 500ms)`;
  const us = Number(m[1]) * UNIT_US[m[2]];
  if (!Number.isSafeInteger(us)) return `${what} "${text}" is too long`;
  return us;
}
