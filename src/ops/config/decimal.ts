/**
 * Exact decimals for the configuration's boundary. A size such as a tick of "0.01" USDT or a lot of "0.0001"
 * BTC is written as a decimal string and turned into integers (ticks, lots, minor units) here, with BigInt
 * arithmetic, so that no float ever stands between the file and the core. A value that does not divide
 * exactly is an error for the caller to report, never a rounding.
 */

/** Digits after the point that a configured decimal may have (an asset has at most 18 decimals). */
export const DECIMAL_FRACTION_DIGITS_MAX = 18;
/** Characters of a decimal string, sign and point included. */
export const DECIMAL_LENGTH_MAX = 40;

const DECIMAL_PATTERN = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** A decimal as an integer and a power of ten: value = units / 10^scale. */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

/** Why `text` is not a decimal string, or '' when it is. */
export function decimalProblem(text: string): string {
  if (text.length > DECIMAL_LENGTH_MAX) return `must have at most ${DECIMAL_LENGTH_MAX} characters`;
  if (!DECIMAL_PATTERN.test(text)) return 'must be a decimal number written as a string, such as "0.01"';
  const point = text.indexOf('.');
  if (point >= 0 && text.length - point - 1 > DECIMAL_FRACTION_DIGITS_MAX) {
    return `must have at most ${DECIMAL_FRACTION_DIGITS_MAX} digits after the decimal point`;
  }
  return '';
}

/** Parses a string that decimalProblem accepted; throws on anything else (a caller's bug). */
export function parseDecimal(text: string): Decimal {
  const problem = decimalProblem(text);
  if (problem !== '') throw new Error(`not a decimal: ${JSON.stringify(text)} ${problem}`);
  const point = text.indexOf('.');
  if (point < 0) return { units: BigInt(text), scale: 0 };
  const scale = text.length - point - 1;
  return { units: BigInt(text.slice(0, point) + text.slice(point + 1)), scale };
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** a × b, exactly. */
export function multiply(a: Decimal, b: Decimal): Decimal {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

/** a × 10^n, exactly. */
export function shift(a: Decimal, n: number): Decimal {
  if (n <= a.scale) return { units: a.units, scale: a.scale - n };
  return { units: a.units * pow10(n - a.scale), scale: 0 };
}

/** a / b when it is a whole number, else null. b must not be zero. */
export function exactQuotient(a: Decimal, b: Decimal): bigint | null {
  if (b.units === 0n) throw new Error('division by a zero decimal');
  // a / b = (a.units × 10^b.scale) / (b.units × 10^a.scale)
  const numerator = a.units * pow10(b.scale);
  const denominator = b.units * pow10(a.scale);
  return numerator % denominator === 0n ? numerator / denominator : null;
}

/** The whole number a is, or null when it has a fractional part. */
export function wholeNumber(a: Decimal): bigint | null {
  return exactQuotient(a, { units: 1n, scale: 0 });
}

/** A bigint as a JavaScript number when it is a safe integer, else null. */
export function toSafeInteger(n: bigint): number | null {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : null;
}

/** The canonical text of a decimal: no trailing zeros after the point, no point when whole. */
export function formatDecimal(a: Decimal): string {
  const negative = a.units < 0n;
  const digits = (negative ? -a.units : a.units).toString().padStart(a.scale + 1, '0');
  const whole = digits.slice(0, digits.length - a.scale);
  const fraction = digits.slice(digits.length - a.scale).replace(/0+$/, '');
  return (negative ? '-' : '') + whole + (fraction === '' ? '' : '.' + fraction);
}

/** Digits after the point in the canonical text ("0.0100" has 2). */
export function fractionDigits(a: Decimal): number {
  const text = formatDecimal(a);
  const point = text.indexOf('.');
  return point < 0 ? 0 : text.length - point - 1;
}
