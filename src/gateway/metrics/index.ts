/** Prometheus metrics: the venue's registry and metrics, the journal's stats read on scrape, the fastify plugin. */
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
export { UNMATCHED_ROUTE, metricsPlugin, type MetricsPluginOptions } from './plugin.js';
