/**
 * The journal's figures, read on scrape from a stats function (the engine's `engine.stats()`, which asks the
 * worker) rather than pushed on every batch: the hot path stays as it is, and a scrape costs one message to
 * the worker. The engine counts records, batches, fsyncs and bytes since it started; they become Prometheus
 * counters by adding what each scrape finds beyond the last (an engine that restarted counts from zero,
 * which the counters take as a reset of the engine's figures, never as a decrease).
 *
 * Mean batch size (records per fsync) and mean fsync duration are ratios of these counters' rates (see
 * docs/operations.md): `rialto_journal_sync_seconds_total` over `rialto_journal_syncs_total` is the mean fsync,
 * `rialto_journal_records_total` over `rialto_journal_syncs_total` the mean batch. The fsyncs' durations are
 * also a histogram, `rialto_journal_sync_duration_seconds` (as etcd's `etcd_disk_wal_fsync_duration_seconds`):
 * the engine counts each fsync into its bucket, and the histogram reports those counts, so that a slow disk
 * shows in its quantiles, not only in a mean.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EngineStats } from '../../engine/index.js';
import { SYNC_SECONDS_BUCKETS } from '../../journal/index.js';
import { pushHistogramSamples, type HistogramSample, type HistogramText } from './bucket-histogram.js';
import { ScrapeRead } from './scrape-read.js';

/** What the metrics read of the engine's figures (any of them may be missing: the counters then stay). */
export type JournalStats = Partial<EngineStats>;
export type JournalStatsSource = () => Promise<JournalStats> | JournalStats;

/** A scrape waits at most this long for the stats; past it the counters keep their last values. */
export const STATS_TIMEOUT_MS = 1000;

/** The stats fields read, and the counters they become. */
const COUNTED = [
  ['records', 'rialto_journal_records_total', 'Commands written to the journal'],
  ['batches', 'rialto_journal_batches_total', 'Batches of commands sequenced by the journal'],
  ['syncs', 'rialto_journal_syncs_total', 'fsyncs of the journal (group commits)'],
  ['bytes', 'rialto_journal_bytes_total', 'Bytes written to the journal'],
  ['syncUs', 'rialto_journal_sync_seconds_total', 'Time spent in journal fsyncs'],
  [
    'submits',
    'rialto_engine_submits_total',
    'Batches of commands the engine executed (one per message from the gateway)',
  ],
] as const;

/** Registers the journal's counters and gauges on `registry`, read from `source` on each scrape. */
export function registerJournalStats(registry: Registry, source: JournalStatsSource): void {
  const reader = new ScrapeRead(source, STATS_TIMEOUT_MS);
  for (const [field, name, help] of COUNTED) {
    const scale = field === 'syncUs' ? 1e-6 : 1;
    let last = 0;
    const counter: Counter = new Counter({
      name,
      help,
      registers: [registry],
      collect: async () => {
        const stats = await reader.read();
        const value = stats?.[field];
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return;
        // Below the last value: the engine restarted, and everything it counts now is new.
        const added = value >= last ? value - last : value;
        last = value;
        if (added > 0) counter.inc(added * scale);
      },
    });
  }
  new SyncDurationHistogram(registry, reader);
  const acked = new Gauge({
    name: 'rialto_journal_acked_seq',
    help: 'The last sequence number the journal made durable',
    registers: [registry],
    collect: async () => {
      const stats = await reader.read();
      const value = stats?.ackedSeq;
      if (typeof value === 'number') acked.set(value);
    },
  });
}

/**
 * `rialto_journal_sync_duration_seconds`: a histogram whose observations are made in the engine's worker, which
 * counts each fsync into its bucket (SYNC_SECONDS_BUCKETS); here its counts become the exported buckets, sum and
 * count. A prom-client Histogram to the registry, whose samples it reports instead of observing any itself. The
 * engine's counts go up from its start; a scrape that finds one below the last takes the engine as restarted
 * (everything it counts is new), as the counters above do.
 */
class SyncDurationHistogram extends Histogram {
  private static readonly NAME = 'rialto_journal_sync_duration_seconds';
  private static readonly HELP = 'Duration of the journal fsyncs (group commits)';
  private readonly counts = new Float64Array(SYNC_SECONDS_BUCKETS.length + 1);
  private readonly last = new Float64Array(SYNC_SECONDS_BUCKETS.length + 1);
  private sumSeconds = 0;
  private lastSyncUs = 0;

  constructor(
    registry: Registry,
    private readonly reader: ScrapeRead<JournalStats>,
  ) {
    super({
      name: SyncDurationHistogram.NAME,
      help: SyncDurationHistogram.HELP,
      buckets: [...SYNC_SECONDS_BUCKETS],
      registers: [registry],
    });
  }

  /** Takes in what the engine counted since the last scrape. */
  private async update(): Promise<void> {
    const stats = await this.reader.read();
    const values = stats?.syncBuckets;
    const syncUs = stats?.syncUs;
    if (values === undefined || values.length !== this.counts.length || typeof syncUs !== 'number') return;
    if (!values.every((v) => Number.isSafeInteger(v) && v >= 0)) return;
    // Any count below the last: the engine restarted, and everything it counts now is new.
    const restarted = values.some((v, k) => v < this.last[k]) || syncUs < this.lastSyncUs;
    for (let k = 0; k < this.counts.length; k++) {
      const v = values[k];
      this.counts[k] += restarted ? v : v - this.last[k];
      this.last[k] = v;
    }
    this.sumSeconds += (restarted ? syncUs : syncUs - this.lastSyncUs) * 1e-6;
    this.lastSyncUs = syncUs;
  }

  /**
   * What the registry prints (prom-client calls it in place of reading observations when a metric has it; the
   * Histogram's `get`, for JSON, calls it too).
   */
  async getForPromString(): Promise<HistogramText> {
    await this.update();
    const name = SyncDurationHistogram.NAME;
    const values: HistogramSample[] = [];
    pushHistogramSamples(values, name, SYNC_SECONDS_BUCKETS, this.counts, this.sumSeconds, {});
    return { name, help: SyncDurationHistogram.HELP, type: 'histogram', aggregator: 'sum', values };
  }
}
