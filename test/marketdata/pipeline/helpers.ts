/** A pipeline for tests: an in-process bus recording every topic, in-memory reference data and projection. */
import { InProcessBus, type Envelope } from '../../../src/bus/index.js';
import {
  DEFAULT_BAR_SPECS,
  InMemoryLatest,
  InMemoryReferenceData,
  MarketDataPipeline,
  ReferenceCache,
  TOPICS,
  barsTopic,
  defaultSchemas,
  intervalName,
  type BarSpec,
  type QualityOptions,
  type RawEvent,
  type ReferenceData,
} from '../../../src/marketdata/index.js';

export const T0_US = 1_704_186_000_000_000; // 2024-01-02T09:00:00Z

export function refData(instrument: string, revision = 1): ReferenceData {
  return {
    instrument,
    assetClass: 'crypto',
    venue: 'rialto',
    currency: 'USDT',
    unit: 'BTC',
    tickSize: 1,
    lotSize: 1,
    taxonomy: { path: ['crypto', 'spot'], confidence: 0.9, method: 'rule' },
    revision,
  };
}

export interface Harness {
  pipeline: MarketDataPipeline;
  bus: InProcessBus;
  refs: InMemoryReferenceData;
  cache: ReferenceCache;
  latest: InMemoryLatest;
  /** Every message per topic, in order. */
  topics: Map<string, Envelope[]>;
  clock: { us: number };
}

export interface HarnessOptions {
  bars?: readonly BarSpec[];
  latenessUs?: number;
  quality?: QualityOptions;
  /** Instruments with reference data, loaded before the first tick. */
  known?: readonly string[];
  subscribe?: boolean;
}

export async function harness(o: HarnessOptions = {}): Promise<Harness> {
  const bus = new InProcessBus();
  const refs = new InMemoryReferenceData();
  const clock = { us: 0 };
  const cache = new ReferenceCache(refs, { ttlUs: 60_000_000, entriesMax: 100, clockUs: () => clock.us });
  for (const name of o.known ?? []) {
    refs.set(refData(name));
    await cache.load(name);
  }
  const latest = new InMemoryLatest();
  const bars = o.bars ?? DEFAULT_BAR_SPECS;
  const topics = new Map<string, Envelope[]>();
  if (o.subscribe ?? true) {
    const names = [...Object.values(TOPICS), ...bars.map((s) => barsTopic(intervalName(s)))];
    for (const t of names) {
      topics.set(t, []);
      bus.subscribe(t, (m) => topics.get(t)?.push(m));
    }
  }
  const pipeline = new MarketDataPipeline({
    bus,
    schemas: defaultSchemas({ priceDecimals: 2, sizeDecimals: 4 }),
    reference: cache,
    projection: latest,
    bars,
    latenessUs: o.latenessUs ?? 0,
    ...(o.quality === undefined ? {} : { quality: o.quality }),
  });
  return { pipeline, bus, refs, cache, latest, topics, clock };
}

let nextRaw = 0;

/** A venue trade as a raw event. */
export function venueTrade(
  instrument: string,
  timeUs: number,
  priceTicks: number,
  qtyLots: number,
  tradeId: number,
): RawEvent {
  return {
    id: `test:${nextRaw++}`,
    source: 'venue',
    schema: 'venue.trade.v1',
    receivedUs: timeUs,
    payload: { instrument, timeUs, priceTicks, qtyLots, side: 'buy', tradeId },
  };
}

export const topic = (h: Harness, name: string): Envelope[] => h.topics.get(name) ?? [];
