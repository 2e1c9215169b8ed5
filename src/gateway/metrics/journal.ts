/**
 * The journal's figures, read on scrape from a stats function (the engine's `engine.stats()`, which asks the
 * worker) rather than pushed on every batch: the hot path stays as it is, and a scrape costs one message to
 * the worker. The engine counts records, batches, fsyncs and bytes since it started; they become Prometheus
 * counters by adding what each scrape finds beyond the last (an engine that restarted counts from zero,
 * which the counters take as a reset of the engine's figures, never as a decrease).
 *
 * Mean batch size (records per fsync) and mean fsync duration are ratios of these counters' rates (see
 * docs/operations.md): `rialto_journal_sync_seconds_total` over `rialto_journal_syncs_total` is the mean fsync,
 * `rialto_journal_records_total` over `rialto_journal_syncs_total` the mean batch.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { ScrapeRead } from './scrape-read.js';

export type JournalStats = Readonly<Record<string, number>>;
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
