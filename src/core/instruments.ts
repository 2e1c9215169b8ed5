/**
 * What an instrument is: its two assets, how its integer prices and quantities convert into minor units of
 * those assets, its book rules, its fees and its risk settings.
 *
 * A quantity of q lots is q × baseScale minor units of the base asset; q lots at a price of p ticks cost
 * p × q × quoteScale minor units of the quote asset. With BTC (8 decimals) against USD (2 decimals), lots of
 * 0.0001 BTC and ticks of 0.01 USD per BTC give baseScale 10,000 and, since 0.0001 × 0.01 USD is 1e-6 USD,
 * a quoteScale below one minor unit: such an instrument is defined with a larger tick (1 USD: quoteScale 1
 * cent per lot per tick). Every conversion is an exact integer product.
 */
export const MarkMethod = { LastTrade: 1, Mid: 2 } as const;
export type MarkMethod = (typeof MarkMethod)[keyof typeof MarkMethod];

export interface InstrumentSpec {
  /** 0 .. 65535 */
  instrument: number;
  symbol: string;
  baseAsset: number;
  quoteAsset: number;
  /** Base minor units per lot. */
  baseScale: number;
  /** Quote minor units per lot per tick. */
  quoteScale: number;
  /** Prices must be a multiple of this many ticks; quantities of this many lots. */
  tickSize: number;
  lotSize: number;
  qtyMin: number;
  qtyMax: number;
  /** Fat-finger band: limit prices within this many basis points of the reference price; 0 for none. */
  priceBandBps: number;
  /** The reference price until the first trade, in ticks; 0 for none. */
  referencePrice: number;
  /** Market orders trade no further than this many basis points beyond the reference price. */
  marketProtectionBps: number;
  /** Parts per million of the traded value; a negative maker rate is a rebate. */
  makerFeePpm: number;
  takerFeePpm: number;
  markMethod: MarkMethod;
}

export const INSTRUMENT_LIMITS = Object.freeze({
  instrumentsMax: 1 << 16,
  /** Fees above 10% are a typing error, not a fee schedule. */
  feePpmMax: 100_000,
  bandBpsMax: 10_000,
  protectionBpsMax: 10_000,
  symbolLengthMax: 32,
});

export const INSTRUMENT_DEFAULTS: Readonly<
  Omit<InstrumentSpec, 'instrument' | 'symbol' | 'baseAsset' | 'quoteAsset'>
> = Object.freeze({
  baseScale: 1,
  quoteScale: 1,
  tickSize: 1,
  lotSize: 1,
  qtyMin: 1,
  qtyMax: Number.MAX_SAFE_INTEGER,
  priceBandBps: 0,
  referencePrice: 0,
  marketProtectionBps: 500,
  makerFeePpm: 0,
  takerFeePpm: 0,
  markMethod: MarkMethod.LastTrade,
});

/** Fields fixed once an instrument exists: open orders' holds and every position depend on them. */
export const FIXED_FIELDS: readonly (keyof InstrumentSpec)[] = [
  'baseAsset',
  'quoteAsset',
  'baseScale',
  'quoteScale',
];

const posInt = (x: unknown): boolean => typeof x === 'number' && Number.isSafeInteger(x) && x > 0;
const natInt = (x: unknown): boolean => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const inRange = (x: unknown, lo: number, hi: number): boolean =>
  typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi;

/** Why a complete spec is invalid, or ''. */
export function specProblem(s: InstrumentSpec): string {
  if (!inRange(s.instrument, 0, INSTRUMENT_LIMITS.instrumentsMax - 1)) return 'instrument id out of range';
  if (
    typeof s.symbol !== 'string' ||
    s.symbol.length === 0 ||
    s.symbol.length > INSTRUMENT_LIMITS.symbolLengthMax
  ) {
    return 'symbol must be 1 to 32 characters';
  }
  if (!natInt(s.baseAsset) || !natInt(s.quoteAsset)) return 'assets must be asset ids';
  if (s.baseAsset === s.quoteAsset) return 'base and quote asset must differ';
  for (const k of ['baseScale', 'quoteScale', 'tickSize', 'lotSize', 'qtyMin', 'qtyMax'] as const) {
    if (!posInt(s[k])) return `${k} must be a positive safe integer`;
  }
  if (s.qtyMin > s.qtyMax) return 'qtyMin is above qtyMax';
  if (!inRange(s.priceBandBps, 0, INSTRUMENT_LIMITS.bandBpsMax)) return 'priceBandBps out of range';
  if (!natInt(s.referencePrice)) return 'referencePrice must be a non-negative safe integer';
  if (!inRange(s.marketProtectionBps, 1, INSTRUMENT_LIMITS.protectionBpsMax))
    return 'marketProtectionBps out of range';
  const feeMax = INSTRUMENT_LIMITS.feePpmMax;
  if (!inRange(s.takerFeePpm, 0, feeMax)) return 'takerFeePpm must be 0 .. 100000';
  if (!inRange(s.makerFeePpm, -feeMax, feeMax)) return 'makerFeePpm must be -100000 .. 100000';
  // A maker rebate larger than the taker fee would pay out more than the venue takes in on every trade;
  // a maker fee above the taker fee would exceed what a buy order holds for fees.
  if (s.makerFeePpm > s.takerFeePpm || -s.makerFeePpm > s.takerFeePpm) {
    return 'makerFeePpm must lie within -takerFeePpm .. takerFeePpm';
  }
  if (s.markMethod !== MarkMethod.LastTrade && s.markMethod !== MarkMethod.Mid)
    return 'markMethod must be 1 or 2';
  return '';
}
