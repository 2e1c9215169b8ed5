/**
 * Integer money arithmetic. Amounts are integer minor units held in JavaScript numbers, which are exact up to
 * 2^53; every product is checked, and a result that would leave the safe range is refused (NaN here, a reject
 * code at the caller), never rounded or wrapped.
 */

// feeOf, which the order path runs per order and per trade, reads this module-local constant: V8 reads an
// exported binding through its module cell on every use (a hole check and a load), a local one as an immediate.
const PPM_LOCAL = 1_000_000;
/** Fee and rebate rates are integers in parts per million of the traded value: 1,000 ppm is 0.1%. */
export const PPM = PPM_LOCAL;
/** Below this, value × rate / PPM needs one float division (see feeOf). */
const FEE_ONE_DIVISION_MAX = 2 ** 32 * PPM_LOCAL;

/** A positive integer amount of minor units that a JavaScript number holds exactly. */
export function isPositiveAmount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x > 0;
}

/** a × b for non-negative safe integers, or NaN when the product is not a safe integer. */
export function mulExact(a: number, b: number): number {
  const p = a * b;
  return Number.isSafeInteger(p) ? p : NaN;
}

/** a + b, or NaN when the sum is not a safe integer. */
export function addExact(a: number, b: number): number {
  const s = a + b;
  return Number.isSafeInteger(s) ? s : NaN;
}

/** floor(a × b / c) for safe integers a, b >= 0 and c > 0, exact (through BigInt when a × b is large). */
export function mulDivFloor(a: number, b: number, c: number): number {
  const p = a * b;
  if (Number.isSafeInteger(p)) {
    // The float quotient can round across an integer near 2^53; one correction step makes it exact.
    let q = Math.floor(p / c);
    const r = p - q * c;
    if (r < 0) q--;
    else if (r >= c) q++;
    return q;
  }
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/**
 * The fee on `value` minor units at `ratePpm`: rounded up when the venue charges (rate > 0), and the rebate
 * rounded down when it pays (rate < 0, a negative result), so rounding never favours the customer at the
 * venue's expense. Exact for any safe `value` and |rate| <= PPM.
 */
export function feeOf(value: number, ratePpm: number): number {
  if (ratePpm === 0 || value === 0) return 0;
  const rate = Math.abs(ratePpm);
  const product = value * rate;
  if (product <= FEE_ONE_DIVISION_MAX) {
    // The product is exact and the quotient below 2^32, where a float's rounding error (under 2^-21) is
    // smaller than the 10^-6 that separates a non-integer quotient from the nearest integer: one division
    // rounds the right way.
    const q = product / PPM_LOCAL;
    if (ratePpm > 0) return Math.ceil(q);
    const down = Math.floor(q);
    return down === 0 ? 0 : -down;
  }
  // value = hi × PPM + lo, so value × rate / PPM = hi × rate + lo × rate / PPM with every product exact.
  const hi = Math.floor(value / PPM_LOCAL);
  const lo = value - hi * PPM_LOCAL;
  const part = lo * rate;
  if (ratePpm > 0) return hi * rate + Math.ceil(part / PPM_LOCAL);
  const rebate = hi * rate + Math.floor(part / PPM_LOCAL);
  return rebate === 0 ? 0 : -rebate; // never -0, which would print and hash differently
}
