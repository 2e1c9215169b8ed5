/**
 * Decimal strings at market data's boundary: a price, a size or a threshold in, an integer number of units of
 * a fixed scale (10^-decimals) out, and back. BigInt only, never a float: a value that is not a whole number
 * of units is refused with a reason rather than rounded, and so is one past 2^53 units.
 */

/** Digits after the point a scale may have. */
export const DECIMALS_MAX = 12;
/** Digits before the point: bounds parsing; 2^53 has 16. */
const INTEGER_DIGITS_MAX = 20;
const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** A conversion's outcome: the units, or why not (a sentence fragment naming `what`). */
export type Scaled<T> = { ok: true; value: T } | { ok: false; problem: string };

/** `text` (a plain non-negative decimal, such as "101.25") in units of 10^-decimals, as a bigint. */
export function parseScaledBig(text: string, decimals: number, what: string): Scaled<bigint> {
  const m = DECIMAL.exec(text);
  if (m === null || m[1].length > INTEGER_DIGITS_MAX) {
    return { ok: false, problem: `${what} "${text}" is not a decimal number such as 101.25` };
  }
  const fraction = m[2] ?? '';
  // Trailing zeros past the scale are harmless ("1.50" at one decimal); other digits are not.
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > decimals) {
    return { ok: false, problem: `${what} "${text}" has more than ${decimals} decimals` };
  }
  return { ok: true, value: BigInt(m[1] + significant.padEnd(decimals, '0')) };
}

/** As parseScaledBig, positive and at most 2^53 − 1 units, as a number. */
export function parseScaled(text: string, decimals: number, what: string): Scaled<number> {
  const r = parseScaledBig(text, decimals, what);
  if (!r.ok) return r;
  if (r.value <= 0n) return { ok: false, problem: `${what} "${text}" is not positive` };
  if (r.value > BigInt(Number.MAX_SAFE_INTEGER)) {
    return {
      ok: false,
      problem: `${what} "${text}" is past 2^53 units at ${decimals} decimals: use fewer decimals`,
    };
  }
  return { ok: true, value: Number(r.value) };
}

/** `units` of 10^-decimals as a decimal string, without trailing zeros ("101.25", "7"). */
export function formatScaled(units: bigint | number, decimals: number): string {
  let v = BigInt(units);
  const negative = v < 0n;
  if (negative) v = -v;
  let text = v.toString();
  if (decimals > 0) {
    text = text.padStart(decimals + 1, '0');
    const whole = text.slice(0, text.length - decimals);
    const fraction = text.slice(text.length - decimals).replace(/0+$/, '');
    text = fraction === '' ? whole : `${whole}.${fraction}`;
  }
  return negative ? `-${text}` : text;
}

/** num / den rounded to the nearest integer, ties to even (num ≥ 0, den > 0). */
export function divRoundHalfEven(num: bigint, den: bigint): bigint {
  if (den <= 0n || num < 0n) throw new Error('divRoundHalfEven: num ≥ 0 and den > 0');
  const q = num / den;
  const twiceRest = 2n * (num % den);
  if (twiceRest > den || (twiceRest === den && q % 2n === 1n)) return q + 1n;
  return q;
}

/**
 * VWAP = notional / volume as a decimal string, correctly rounded (half to even) to `digits` decimals. The
 * notional is in price units × size units and the volume in size units, so the quotient is in price units of
 * 10^-priceDecimals; digits ≥ priceDecimals.
 */
export function vwapText(notional: bigint, volume: number, priceDecimals: number, digits: number): string {
  if (digits < priceDecimals) throw new Error('vwapText: fewer digits than the price has');
  const scaled = divRoundHalfEven(notional * pow10(digits - priceDecimals), BigInt(volume));
  return formatScaled(scaled, digits);
}
