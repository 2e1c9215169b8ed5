/** The pipeline's topics, in the order data flows through them, and the versions of their payloads. */
export const TOPICS = {
  raw: 'ingestion.market.raw.v1',
  normalized: 'normalized.market.ticks.v1',
  enriched: 'enriched.market.ticks.v1',
  latestPrices: 'served.market.latest_prices.v1',
  deadLetter: 'deadletter.market.v1',
} as const;

export const PAYLOAD_VERSION = 1;

/** What a tick's message's `event_id` adds to its raw event's id, per topic (a tick has one message per topic). */
export const TICK_ID_SUFFIX = { normalized: '/n', enriched: '/e', latestPrices: '/p' } as const;

/** `aggregated.market.bars.{interval}.v1`; `interval` is a bar's name such as `1m`, `tick-500`, `volume-1000`. */
export const barsTopic = (interval: string): string => `aggregated.market.bars.${interval}.v1`;
