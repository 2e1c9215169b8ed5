/**
 * Prices, quantities and amounts at the API boundary: decimal strings in, the core's integers out (price
 * units, quantity units, minor units), and back. BigInt arithmetic only: a value that does not convert
 * exactly is refused with a reason, never rounded, and no float ever holds a price or a quantity.
 */
import type { InstrumentConfig } from '../../ops/index.js';

/** Digits after the point a price, quantity or amount may have on the API (the rule). */
export const API_DECIMALS_MAX = 8;
/** Digits before the point: 20 is far past any safe integer of units, and keeps parsing bounded. */
const INTEGER_DIGITS_MAX = 20;
const API_DECIMAL = new RegExp(
  `^(0|[1-9][0-9]{0,${INTEGER_DIGITS_MAX - 1}})(\\.[0-9]{1,${API_DECIMALS_MAX}})?$`,
);

interface Dec {
  units: bigint;
  scale: number;
}

/** 10^n for the scales met here (decimals of the API, the configuration and averages), made once. */
const POW10: readonly bigint[] = Array.from({ length: 40 }, (_, i) => 10n ** BigInt(i));
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const pow10 = (n: number): bigint => POW10[n] ?? 10n ** BigInt(n);

function parse(text: string): Dec | null {
  if (!API_DECIMAL.test(text)) return null;
  const point = text.indexOf('.');
  if (point < 0) return { units: BigInt(text), scale: 0 };
  return { units: BigInt(text.slice(0, point) + text.slice(point + 1)), scale: text.length - point - 1 };
}

/**
 * The units of the configuration (a tick or lot size, a few per instrument), parsed once each: every price
 * and quantity converted in or out needs its instrument's, and parsing it cost as much as the conversion.
 */
const UNITS = new Map<string, Readonly<Dec>>();
const UNITS_MAX = 4_096;

/** Parses a unit such as "0.01" from the configuration (canonical, positive). */
function unitOf(text: string): Readonly<Dec> {
  const known = UNITS.get(text);
  if (known !== undefined) return known;
  const d = parseUnit(text);
  if (UNITS.size >= UNITS_MAX) UNITS.clear();
  UNITS.set(text, d);
  return d;
}

function parseUnit(text: string): Dec {
  const point = text.indexOf('.');
  const d =
    point < 0
      ? { units: BigInt(text), scale: 0 }
      : { units: BigInt(text.slice(0, point) + text.slice(point + 1)), scale: text.length - point - 1 };
  if (d.units <= 0n) throw new Error(`unit ${text} is not positive`);
  return d;
}

/** A conversion's outcome: the integer, or why not (a sentence fragment for the error's message). */
export type Converted = { ok: true; value: number } | { ok: false; problem: string };

const fail = (problem: string): Converted => ({ ok: false, problem });

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** 10^n as a double, exact up to 10^22. */
const POW10_EXACT: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);
const DIGIT_0 = 48;
const POINT = 46;

/**
 * toUnits without BigInt for what orders carry: the decimal's digits as one whole number, and the division by
 * the unit, all below 2^53, where a double holds whole numbers exactly (so the arithmetic is integer
 * arithmetic). Returns the units when the text converts to a positive multiple of `step`; -1 for anything else
 * (not a decimal of the API's form, not a multiple, zero, a value past 2^53), which toUnits then works out with
 * BigInt and explains. Parsing each price and quantity through BigInt made a handful of BigInts and strings per
 * order, a tenth of what the WebSocket order path allocated.
 */
function smallUnits(text: string, unit: Readonly<Dec>, step: number): number {
  if (!API_DECIMAL.test(text)) return -1;
  const unitUnits = Number(unit.units);
  if (!(unitUnits <= MAX_SAFE && unit.scale < POW10_EXACT.length)) return -1;
  let whole = 0;
  let scale = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === POINT) scale = 0;
    else {
      whole = whole * 10 + (c - DIGIT_0);
      if (scale >= 0) scale++;
    }
  }
  if (scale < 0) scale = 0;
  // Exact only under 2^53 (num is at least `whole`, which once past it stays past): beyond, BigInt decides.
  const num = whole * POW10_EXACT[unit.scale];
  const den = unitUnits * POW10_EXACT[scale];
  if (!(num <= MAX_SAFE && den <= MAX_SAFE) || num % den !== 0) return -1;
  const n = num / den;
  return n > 0 && n % step === 0 ? n : -1;
}

/** `text` as a whole number of `unit`s, positive and safe; a multiple of `step` units. */
function toUnits(text: string, unitText: string, step: number, stepText: string, what: string): Converted {
  const unit = unitOf(unitText);
  const small = smallUnits(text, unit, step);
  if (small !== -1) return { ok: true, value: small };
  const d = parse(text);
  if (d === null) {
    return fail(`${what} must be a decimal string with at most ${API_DECIMALS_MAX} decimals, such as "1.25"`);
  }
  // d / unit = d.units * 10^unit.scale / (unit.units * 10^d.scale)
  const num = d.units * pow10(unit.scale);
  const den = unit.units * pow10(d.scale);
  if (num % den !== 0n) return fail(`${what} must be a multiple of ${stepText}`);
  const n = num / den;
  if (n <= 0n) return fail(`${what} must be greater than 0`);
  if (n > SAFE_MAX) return fail(`${what} is too large`);
  const value = Number(n);
  if (value % step !== 0) return fail(`${what} must be a multiple of ${stepText}`);
  return { ok: true, value };
}

export function priceToTicks(text: string, inst: InstrumentConfig, what = 'price'): Converted {
  return toUnits(text, inst.priceUnit, inst.spec.tickSize, inst.tickSize, what);
}

export function qtyToLots(text: string, inst: InstrumentConfig, what = 'quantity'): Converted {
  return toUnits(text, inst.qtyUnit, inst.spec.lotSize, inst.lotSize, what);
}

/** An amount of an asset with `decimals` decimals, in minor units. */
export function amountToMinor(text: string, decimals: number): Converted {
  const d = parse(text);
  if (d === null) {
    return fail(`amount must be a decimal string with at most ${API_DECIMALS_MAX} decimals, such as "100.5"`);
  }
  if (d.scale > decimals) return fail(`amount has more than the asset's ${decimals} decimals`);
  const n = d.units * pow10(decimals - d.scale);
  if (n <= 0n) return fail('amount must be greater than 0');
  if (n > SAFE_MAX) return fail('amount is too large');
  return { ok: true, value: Number(n) };
}

/** `units` times a unit of `scale` decimals, with exactly `digits` decimals (digits >= the unit's). */
function format(units: bigint, unit: Readonly<Dec>, digits: number): string {
  let v = units * unit.units * pow10(digits - unit.scale);
  const negative = v < 0n;
  if (negative) v = -v;
  const s = v.toString().padStart(digits + 1, '0');
  const text = digits === 0 ? s : `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
  return negative ? `-${text}` : text;
}

export function ticksToPrice(ticks: number, inst: InstrumentConfig): string {
  return format(BigInt(ticks), unitOf(inst.priceUnit), inst.priceDecimals);
}

export function lotsToQty(lots: number, inst: InstrumentConfig): string {
  return format(BigInt(lots), unitOf(inst.qtyUnit), inst.qtyDecimals);
}

export function minorToAmount(minor: number, decimals: number): string {
  return format(BigInt(minor), { units: 1n, scale: decimals }, decimals);
}

/** Extra digits an average price carries beyond the instrument's price decimals (then truncated). */
const AVERAGE_EXTRA_DIGITS = 4;

/** The average fill price (notional in price units times lots, over lots), or null before any fill. */
export function averagePrice(notional: bigint, filledLots: number, inst: InstrumentConfig): string | null {
  if (filledLots === 0) return null;
  const scaled = (notional * pow10(AVERAGE_EXTRA_DIGITS)) / BigInt(filledLots);
  const unit = unitOf(inst.priceUnit);
  const scaledUnit = { units: unit.units, scale: unit.scale + AVERAGE_EXTRA_DIGITS };
  const text = format(scaled, scaledUnit, inst.priceDecimals + AVERAGE_EXTRA_DIGITS);
  // Trailing zeros beyond the instrument's own decimals say nothing.
  let end = text.length;
  const keep = text.length - AVERAGE_EXTRA_DIGITS;
  while (end > keep && text[end - 1] === '0') end--;
  return text.slice(0, end);
}
