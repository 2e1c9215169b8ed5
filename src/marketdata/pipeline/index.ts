/** The in-process market data pipeline: topics, envelope payloads, sources, stages and projections. */
export { TOPICS, PAYLOAD_VERSION, TICK_ID_SUFFIX, barsTopic } from './topics.js';
export { PIPELINE_LIMITS } from './limits.js';
export type { RawEvent } from './raw.js';
export {
  Flag,
  FLAG_NAMES,
  FLAGS_EXCLUDED_FROM_BARS,
  TickSlot,
  flagNames,
  tickPayload,
  type FlagName,
  type NormalizedTick,
  type ReferenceData,
  type TickKind,
  type TradeSide,
} from './tick.js';
export {
  quoteSchema,
  signedUnits,
  tradeSchema,
  venueBboSchema,
  venueTradeSchema,
  type DecimalScale,
  type SourceSchema,
} from './schemas.js';
export {
  InMemoryReferenceData,
  ReferenceCache,
  type ReferenceCacheOptions,
  type ReferenceCacheStats,
  type ReferenceDataPort,
} from './reference.js';
export {
  REFERENCE_CHANNEL,
  StoreReferenceData,
  referenceDataProblem,
  type ReferenceDataInput,
} from './reference-store.js';
export { InMemoryLatest, type LatestProjection, type LatestState } from './projection.js';
export { newCounters, type PipelineCounters, type StageCounters } from './counters.js';
export {
  MarketDataPipeline,
  QUALITY_DEFAULTS,
  intervalName,
  type BarPayload,
  type DeadLetter,
  type PipelineOptions,
  type QualityOptions,
} from './pipeline.js';
export { VenueSource, VENUE_SOURCE, type BatchRecords } from './sources/venue.js';
export { wallScheduler, type Scheduler } from './sources/scheduler.js';
export {
  replayLines,
  unparsedSchema,
  type ReplayOptions as FileReplayOptions,
  type ReplayReport,
  type ReplaySpeed,
} from './sources/replay.js';
export {
  BACKOFF_DEFAULTS,
  FeedSupervisor,
  backoffDelayMs,
  type BackoffOptions,
  type Connector,
  type FeedConnection,
  type SupervisorStats,
} from './sources/connector.js';
export {
  QUOTE_FIELDS,
  RIALTO_TRADES_MAPPING,
  TRADE_FIELDS,
  WS_FEED_LIMITS,
  WebSocketConnector,
  mapMessage,
  mappingProblem,
  type EpochUnit,
  type JsonFeedMapping,
  type MappedMessage,
  type WebSocketFeedOptions,
  type WebSocketFeedStats,
} from './sources/websocket.js';
export { DEFAULT_BAR_SPECS, defaultSchemas } from './defaults.js';
