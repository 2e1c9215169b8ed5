/**
 * Prometheus metrics: the venue's registry and metrics, the journal's stats and the venue's state read on scrape,
 * the projections' lag, the fastify plugin.
 */
export {
  ACK_LATENCY_BUCKETS,
  HTTP_DURATION_BUCKETS,
  createVenueMetrics,
  statusClassOf,
  type AuditBacklog,
  type StatusClass,
  type VenueMetrics,
  type VenueMetricsOptions,
} from './metrics.js';
export {
  STATS_TIMEOUT_MS,
  registerJournalStats,
  type JournalStats,
  type JournalStatsSource,
} from './journal.js';
export {
  ProjectionGauges,
  STATE_TIMEOUT_MS,
  registerVenueState,
  type ProjectionLag,
  type ProjectionLagSource,
  type VenueStateFigures,
  type VenueStateSource,
} from './state.js';
export { UNMATCHED_ROUTE, metricsPlugin, type MetricsPluginOptions } from './plugin.js';
export {
  registerMarketDataMetrics,
  type MarketDataFigures,
  type MarketDataMetricsSources,
  type TransportFigures,
} from './marketdata.js';
