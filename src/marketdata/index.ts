/**
 * Market data: bars (src/marketdata/bars), the LOBSTER book rebuild (src/marketdata/lobster), and the boundary's text forms (decimal prices and sizes,
 * event times, the CSV of `rialto md aggregate`), the pipeline, and the Redis latest-price projection. Everything
 * here is pure except src/marketdata/redis (a Redis adapter): files and terminals are the CLI's.
 */
export * from './bars/index.js';
export {
  DECIMALS_MAX,
  divRoundHalfEven,
  formatScaled,
  parseScaled,
  parseScaledBig,
  vwapText,
} from './decimal.js';
export {
  formatTime,
  parseDate,
  parseIsoTime,
  parseSecondsAfterMidnight,
  type EventTime,
} from './time-text.js';
export {
  BAR_CSV_HEADER,
  VWAP_EXTRA_DIGITS,
  barCsvRow,
  parseBarSpec,
  parseDuration,
  parseTradeHeader,
  parseTradeLine,
  type TradeColumns,
  type TradeFormat,
  type TradeRow,
} from './csv.js';
export * from './lobster/index.js';
export * from './pipeline/index.js';
export * from './store/index.js';
export {
  VENUE_FEED,
  VENUE_FEED_LIMITS,
  VenueFeed,
  intervalsOf,
  outboxTopics,
  type BarListener,
  type Candle,
  type VenueFeedOptions,
  type VenueFeedStats,
} from './venue-feed.js';
export * from './redis/index.js';
export {
  VENUE_EVENTS_SOURCE,
  VENUE_EVENTS_VERSION,
  VenueEvents,
  symbolToken,
  venueEventEnvelope,
  venueEventPayload,
  venueEventsTopic,
} from './venue-events.js';
export {
  BACKFILL_DEFAULTS,
  JournalBackfill,
  type BackfillLimits,
  type BackfillPart,
  type BackfillStats,
  type CommandRecords,
} from './backfill.js';
export {
  MarketDataTransports,
  guardedPublisher,
  TRANSPORT_DEFAULTS,
  type NamedOutboxStats,
  type TransportLog,
  type TransportStats,
  type TransportsOptions,
} from './transports.js';
