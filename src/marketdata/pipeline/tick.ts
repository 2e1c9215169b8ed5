/**
 * The one tick schema every source is normalized into, and its quality flags. On the hot path a tick is a
 * reused mutable slot (`TickSlot`) that each stage reads and fills in turn; a frozen `NormalizedTick` object is
 * made from it only when someone reads the tick's topic (`tickPayload`).
 *
 * Time is the bars' representation: whole µs since the epoch (UTC) plus the ns within the µs, exact to the
 * nanosecond without a bigint. Prices and sizes are integers of the source's units (the venue's ticks and lots,
 * a file's decimals at the scale its schema names); never floats.
 */

/** Quality flags, one bit each; a tick without any flag is valid. */
export const Flag = {
  PriceNegative: 1,
  OutOfRange: 2,
  VolumeSpike: 4,
  LateArrival: 8,
  MissingMetadata: 16,
  Duplicate: 32,
} as const;
export type FlagName =
  | 'valid'
  | 'price_negative'
  | 'out_of_range'
  | 'volume_spike'
  | 'late_arrival'
  | 'missing_metadata'
  | 'duplicate';

export const FLAG_NAMES: readonly [number, FlagName][] = [
  [Flag.PriceNegative, 'price_negative'],
  [Flag.OutOfRange, 'out_of_range'],
  [Flag.VolumeSpike, 'volume_spike'],
  [Flag.LateArrival, 'late_arrival'],
  [Flag.MissingMetadata, 'missing_metadata'],
  [Flag.Duplicate, 'duplicate'],
];

/**
 * Flags that keep a trade out of the bars: its price or size cannot be true, or it was counted already. The
 * others (a spike, a late arrival, missing reference data) describe a tick that still happened; the bars
 * decide lateness themselves by their watermark.
 */
export const FLAGS_EXCLUDED_FROM_BARS = Flag.PriceNegative | Flag.OutOfRange | Flag.Duplicate;

/** The flags of a valid tick, shared by every payload that has no other (most of them). */
const VALID: readonly FlagName[] = Object.freeze(['valid']);

export function flagNames(flags: number): readonly FlagName[] {
  if (flags === 0) return VALID;
  return FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

export type TickKind = 'trade' | 'quote';
/** The aggressor's side of a trade, when the source says. */
export type TradeSide = 'buy' | 'sell' | 'unknown';

/** The tick being processed: written by normalize, completed by enrich, read by aggregate and project. */
export class TickSlot {
  instrument = '';
  source = '';
  kind: TickKind = 'trade';
  timeUs = 0;
  timeNs = 0;
  /** Trade: price and size. Quote: unused (0). */
  price = 0;
  size = 0;
  side: TradeSide = 'unknown';
  /** Quote: best bid and ask with their sizes (NaN: that side is empty). */
  bidPrice = NaN;
  bidSize = NaN;
  askPrice = NaN;
  askSize = NaN;
  /** The trade's id within its instrument (duplicates share it); a sequence number when the source has none. */
  tradeId = 0;
  flags = 0;
  /** The raw event's id, from which this tick's own event ids derive. */
  eventId = '';
  correlationId = '';
  /** Set by enrich: the instrument's reference data, or null when there is none. */
  ref: ReferenceData | null = null;
}

/** Reference data of one instrument (src/marketdata/pipeline/reference.ts keeps and caches it). */
export interface ReferenceData {
  readonly instrument: string;
  readonly assetClass: string;
  readonly venue: string;
  readonly currency: string;
  /** The unit a size counts (shares, contracts, BTC). */
  readonly unit: string;
  /** Tick and lot size in the source's integer price and size units. */
  readonly tickSize: number;
  readonly lotSize: number;
  readonly taxonomy: {
    readonly path: readonly string[];
    /** 0..1: how sure the method that set the path was. */
    readonly confidence: number;
    readonly method: 'manual' | 'rule' | 'model' | 'vendor';
  };
  /** Changes each time the record changes, so that a cache can tell. */
  readonly revision: number;
}

/** A normalized (and, once enriched, referenced) tick as a message payload. */
export interface NormalizedTick {
  readonly instrument: string;
  readonly source: string;
  readonly kind: TickKind;
  readonly time_us: number;
  readonly time_ns: number;
  readonly price: number | null;
  readonly size: number | null;
  readonly side: TradeSide | null;
  readonly bid_price: number | null;
  readonly bid_size: number | null;
  readonly ask_price: number | null;
  readonly ask_size: number | null;
  readonly trade_id: number | null;
  readonly flags: readonly FlagName[];
  readonly reference?: ReferenceData | null;
}

const orNull = (n: number): number | null => (Number.isNaN(n) ? null : n);

export function tickPayload(t: TickSlot, enriched: boolean): NormalizedTick {
  const trade = t.kind === 'trade';
  // One object either way (a spread to add the reference would build the payload twice).
  return {
    instrument: t.instrument,
    source: t.source,
    kind: t.kind,
    time_us: t.timeUs,
    time_ns: t.timeNs,
    price: trade ? t.price : null,
    size: trade ? t.size : null,
    side: trade ? t.side : null,
    bid_price: trade ? null : orNull(t.bidPrice),
    bid_size: trade ? null : orNull(t.bidSize),
    ask_price: trade ? null : orNull(t.askPrice),
    ask_size: trade ? null : orNull(t.askSize),
    trade_id: trade ? t.tradeId : null,
    flags: flagNames(t.flags),
    reference: enriched ? t.ref : undefined,
  };
}
