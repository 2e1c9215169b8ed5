/**
 * Assets and instruments: from the file's decimal strings to the core's integers. An instrument's price unit
 * and quantity unit (by default its tick and lot size) fix how its integers map to money, as the core's
 * baseScale and quoteScale; the tick and lot size become multiples of those units. Everything must divide
 * exactly, and every problem names the field and says what would fix it.
 */
import {
  exactQuotient,
  formatDecimal,
  fractionDigits,
  multiply,
  parseDecimal,
  shift,
  toSafeInteger,
  wholeNumber,
  type Decimal,
} from './decimal.js';
import { CONFIG_DEFAULTS, CONFIG_LIMITS } from './limits.js';
import type { AssetEntry, InstrumentEntry } from './schema.js';
import type { AssetConfig, ConfigProblem, InstrumentConfig, InstrumentSpecConfig } from './types.js';

/** The example venue: what runs when the configuration lists no assets and instruments. */
export const DEFAULT_ASSETS: readonly AssetEntry[] = Object.freeze([
  { id: 0, code: 'USDT', decimals: 6 },
  { id: 1, code: 'BTC', decimals: 8 },
  { id: 2, code: 'ETH', decimals: 8 },
]);

export const DEFAULT_INSTRUMENTS: readonly InstrumentEntry[] = Object.freeze([
  {
    id: 1,
    symbol: 'BTC-USDT',
    base: 'BTC',
    quote: 'USDT',
    tickSize: '0.01',
    lotSize: '0.0001',
    minQty: '0.0001',
    maxQty: '100',
    makerFee: '0.0001',
    takerFee: '0.0005',
  },
  {
    id: 2,
    symbol: 'ETH-USDT',
    base: 'ETH',
    quote: 'USDT',
    tickSize: '0.01',
    lotSize: '0.001',
    minQty: '0.001',
    maxQty: '1000',
    makerFee: '0.0001',
    takerFee: '0.0005',
  },
]);

const PPM: Decimal = { units: 1_000_000n, scale: 0 };

type Problems = ConfigProblem[];

function problem(problems: Problems, path: string, message: string): void {
  problems.push({ path, env: null, message });
}

export function resolveAssets(entries: readonly AssetEntry[], problems: Problems): AssetConfig[] {
  const ids = new Map<number, number>();
  const codes = new Map<string, number>();
  entries.forEach((a, i) => {
    const earlier = ids.get(a.id);
    if (earlier !== undefined)
      problem(problems, `assets[${i}].id`, `${a.id} is also the id of assets[${earlier}]`);
    else ids.set(a.id, i);
    const same = codes.get(a.code);
    if (same !== undefined)
      problem(problems, `assets[${i}].code`, `${a.code} is also the code of assets[${same}]`);
    else codes.set(a.code, i);
  });
  return entries.map((a) => ({ id: a.id, code: a.code, decimals: a.decimals }));
}

/** A positive decimal, or null with a problem. */
function positive(text: string, path: string, problems: Problems): Decimal | null {
  const d = parseDecimal(text);
  if (d.units > 0n) return d;
  problem(problems, path, `must be greater than zero, got "${text}"`);
  return null;
}

/** `value / unit` as a safe positive integer, or null with a problem that explains. */
function inUnits(
  value: Decimal,
  unit: Decimal,
  path: string,
  what: string,
  unitName: string,
  problems: Problems,
): number | null {
  const q = exactQuotient(value, unit);
  if (q === null) {
    problem(
      problems,
      path,
      `${formatDecimal(value)} is not a whole multiple of the ${unitName} ${formatDecimal(unit)}`,
    );
    return null;
  }
  const n = toSafeInteger(q);
  if (n === null || n < 0) {
    problem(problems, path, `${what} is ${q} ${unitName}s, more than 2^53 - 1: use a larger ${unitName}`);
    return null;
  }
  return n;
}

/** A fee rate as parts per million, or null with a problem. */
function feePpm(text: string, path: string, min: number, problems: Problems): number | null {
  const ppm = wholeNumber(multiply(parseDecimal(text), PPM));
  const max = CONFIG_LIMITS.feePpmMax;
  if (ppm === null) {
    problem(
      problems,
      path,
      `"${text}" is finer than one part per million (at most 6 digits after the point)`,
    );
    return null;
  }
  const n = Number(ppm);
  if (n < min || n > max) {
    const range = `${formatDecimal({ units: BigInt(min), scale: 6 })} to ${formatDecimal({ units: BigInt(max), scale: 6 })}`;
    problem(problems, path, `must be from ${range} (at most 10%), got "${text}"`);
    return null;
  }
  return n;
}

export function resolveInstruments(
  entries: readonly InstrumentEntry[],
  assets: readonly AssetConfig[],
  problems: Problems,
): InstrumentConfig[] {
  const byCode = new Map(assets.map((a) => [a.code, a]));
  const ids = new Map<number, number>();
  const symbols = new Map<string, number>();
  const out: InstrumentConfig[] = [];
  entries.forEach((e, i) => {
    const at = `instruments[${i}]`;
    const earlier = ids.get(e.id);
    if (earlier !== undefined)
      problem(problems, `${at}.id`, `${e.id} is also the id of instruments[${earlier}]`);
    else ids.set(e.id, i);
    const same = symbols.get(e.symbol);
    if (same !== undefined)
      problem(problems, `${at}.symbol`, `${e.symbol} is also the symbol of instruments[${same}]`);
    else symbols.set(e.symbol, i);
    const resolved = resolveInstrument(e, at, byCode, problems);
    if (resolved !== null) out.push(resolved);
  });
  return out;
}

function asset(code: string, path: string, byCode: ReadonlyMap<string, AssetConfig>, problems: Problems) {
  const a = byCode.get(code);
  if (a === undefined) {
    const known = [...byCode.keys()].join(', ');
    problem(
      problems,
      path,
      `${JSON.stringify(code)} is not an asset of this configuration (assets: ${known})`,
    );
  }
  return a ?? null;
}

/**
 * One instrument entry (the file's shape) against the assets by code: the instrument in the core's integers,
 * or null with every problem pushed, each under `at` and the entry's field name. The configuration's
 * instruments go through here, and so do the ones an administrator adds over the API.
 */
export function resolveInstrument(
  e: InstrumentEntry,
  at: string,
  byCode: ReadonlyMap<string, AssetConfig>,
  problems: Problems,
): InstrumentConfig | null {
  const before = problems.length;
  const base = asset(e.base, `${at}.base`, byCode, problems);
  const quote = asset(e.quote, `${at}.quote`, byCode, problems);
  if (base !== null && quote !== null && base.id === quote.id) {
    problem(problems, `${at}.quote`, `must differ from the base asset (both are ${e.base})`);
  }
  const tick = positive(e.tickSize, `${at}.tickSize`, problems);
  const lot = positive(e.lotSize, `${at}.lotSize`, problems);
  const priceUnit = positive(e.priceUnit ?? e.tickSize, `${at}.priceUnit`, problems);
  const qtyUnit = positive(e.qtyUnit ?? e.lotSize, `${at}.qtyUnit`, problems);
  if (
    base === null ||
    quote === null ||
    tick === null ||
    lot === null ||
    priceUnit === null ||
    qtyUnit === null
  ) {
    return null;
  }
  const baseScale = scaleOf(
    shift(qtyUnit, base.decimals),
    `${at}.qtyUnit`,
    problems,
    () =>
      `one quantity unit (${formatDecimal(qtyUnit)} ${base.code}) is finer than ${base.code}'s minor unit ` +
      `(${base.decimals} decimals): use a larger qtyUnit (or lotSize)`,
  );
  const quoteScale = scaleOf(
    shift(multiply(qtyUnit, priceUnit), quote.decimals),
    at,
    problems,
    () =>
      `one quantity unit (${formatDecimal(qtyUnit)} ${base.code}) at one price unit (${formatDecimal(priceUnit)} ` +
      `${quote.code}) is ${formatDecimal(multiply(qtyUnit, priceUnit))} ${quote.code}, not a whole number of ` +
      `${quote.code}'s minor units (${quote.decimals} decimals): use a larger qtyUnit or priceUnit`,
  );
  const tickSize = inUnits(tick, priceUnit, `${at}.tickSize`, 'the tick size', 'price unit', problems);
  const lotSize = inUnits(lot, qtyUnit, `${at}.lotSize`, 'the lot size', 'quantity unit', problems);
  const minQty = positive(e.minQty ?? e.lotSize, `${at}.minQty`, problems);
  const maxQty = positive(e.maxQty, `${at}.maxQty`, problems);
  const qtyMin = minQty && inUnits(minQty, qtyUnit, `${at}.minQty`, 'minQty', 'quantity unit', problems);
  const qtyMax = maxQty && inUnits(maxQty, qtyUnit, `${at}.maxQty`, 'maxQty', 'quantity unit', problems);
  if (typeof qtyMin === 'number' && typeof qtyMax === 'number' && qtyMin > qtyMax) {
    problem(problems, `${at}.minQty`, `${e.minQty ?? e.lotSize} is above maxQty ${e.maxQty}`);
  }
  const reference = e.referencePrice === undefined ? null : parseDecimal(e.referencePrice);
  const referencePrice =
    reference === null
      ? 0
      : inUnits(reference, priceUnit, `${at}.referencePrice`, 'the reference price', 'price unit', problems);
  const takerFeePpm = feePpm(e.takerFee ?? '0', `${at}.takerFee`, 0, problems);
  const makerFeePpm = feePpm(e.makerFee ?? '0', `${at}.makerFee`, -CONFIG_LIMITS.feePpmMax, problems);
  // A maker rebate larger than the taker fee would pay out more than the venue takes in on every trade; a
  // maker fee above the taker fee would exceed what a buy order holds for fees (the core's rule).
  if (makerFeePpm !== null && takerFeePpm !== null && Math.abs(makerFeePpm) > takerFeePpm) {
    problem(
      problems,
      `${at}.makerFee`,
      `must lie within -takerFee .. takerFee (takerFee is "${e.takerFee ?? '0'}")`,
    );
  }
  if (problems.length > before) return null;
  return {
    spec: {
      instrument: e.id,
      symbol: e.symbol,
      baseAsset: base.id,
      quoteAsset: quote.id,
      baseScale: baseScale as number,
      quoteScale: quoteScale as number,
      tickSize: tickSize as number,
      lotSize: lotSize as number,
      qtyMin: qtyMin as number,
      qtyMax: qtyMax as number,
      priceBandBps: e.priceBandBps ?? 0,
      referencePrice: referencePrice as number,
      marketProtectionBps: e.marketProtectionBps ?? CONFIG_DEFAULTS.marketProtectionBps,
      makerFeePpm: makerFeePpm as number,
      takerFeePpm: takerFeePpm as number,
      markMethod: e.markMethod === 'mid' ? 2 : 1,
    },
    baseCode: base.code,
    quoteCode: quote.code,
    baseDecimals: base.decimals,
    quoteDecimals: quote.decimals,
    priceUnit: formatDecimal(priceUnit),
    qtyUnit: formatDecimal(qtyUnit),
    priceDecimals: fractionDigits(priceUnit),
    qtyDecimals: fractionDigits(qtyUnit),
    tickSize: formatDecimal(tick),
    lotSize: formatDecimal(lot),
  };
}

/** A scale (minor units per unit) as a safe positive integer, or null with a problem. */
function scaleOf(value: Decimal, path: string, problems: Problems, finer: () => string): number | null {
  const whole = wholeNumber(value);
  if (whole === null || whole < 1n) {
    problem(problems, path, finer());
    return null;
  }
  const n = toSafeInteger(whole);
  if (n === null) problem(problems, path, `the unit is ${whole} minor units, more than 2^53 - 1`);
  return n;
}

/** The greatest common divisor of two positive bigints. */
function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** n / d as a decimal when it has a finite expansion, else null (d > 0). */
function finiteQuotient(n: bigint, d: bigint): Decimal | null {
  const g = gcd(n < 0n ? -n : n, d);
  let num = n / g;
  let den = d / g;
  let scale = 0;
  // A fraction in lowest terms ends when its denominator has no prime factors but 2 and 5.
  while (den % 10n === 0n) {
    den /= 10n;
    scale++;
  }
  while (den % 2n === 0n) {
    den /= 2n;
    num *= 5n;
    scale++;
  }
  while (den % 5n === 0n) {
    den /= 5n;
    num *= 2n;
    scale++;
  }
  return den === 1n ? { units: num, scale } : null;
}

/**
 * The gateway's view of an instrument the core holds: its units as decimals, recovered from the spec's scales
 * and the assets' decimals (one quantity unit is baseScale minor units of the base asset; one price unit is
 * quoteScale minor units of the quote per quantity unit). Null when the price unit has no finite decimal
 * expansion, which no instrument defined through a configuration or the API has.
 */
export function instrumentOfSpec(
  spec: InstrumentSpecConfig,
  base: AssetConfig,
  quote: AssetConfig,
): InstrumentConfig | null {
  if (spec.baseAsset !== base.id || spec.quoteAsset !== quote.id) {
    throw new Error(`instrument ${spec.symbol}: assets ${base.id}/${quote.id} are not its own`);
  }
  const qtyUnit: Decimal = { units: BigInt(spec.baseScale), scale: base.decimals };
  // priceUnit = quoteScale × 10^-quoteDecimals / qtyUnit = quoteScale × 10^baseDecimals / (baseScale × 10^quoteDecimals)
  const priceUnit = finiteQuotient(
    BigInt(spec.quoteScale) * 10n ** BigInt(base.decimals),
    BigInt(spec.baseScale) * 10n ** BigInt(quote.decimals),
  );
  if (priceUnit === null) return null;
  return {
    spec,
    baseCode: base.code,
    quoteCode: quote.code,
    baseDecimals: base.decimals,
    quoteDecimals: quote.decimals,
    priceUnit: formatDecimal(priceUnit),
    qtyUnit: formatDecimal(qtyUnit),
    priceDecimals: fractionDigits(priceUnit),
    qtyDecimals: fractionDigits(qtyUnit),
    tickSize: formatDecimal(multiply(priceUnit, { units: BigInt(spec.tickSize), scale: 0 })),
    lotSize: formatDecimal(multiply(qtyUnit, { units: BigInt(spec.lotSize), scale: 0 })),
  };
}
