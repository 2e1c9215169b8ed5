/**
 * The market data pipeline and the venue's event transport in Prometheus: `rialto_md_*` (the pipeline's
 * stages, quality flags, bars, the store's writer, the Redis projection) and `rialto_events_*` (the JetStream
 * outboxes, the bus and its durable consumers). Everything is read from the parts' own counters at each
 * scrape (no code on the hot path), and every metric is registered whatever runs, so that dashboards and
 * alerts find the names (a part that does not run has no series).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

interface Stage {
  readonly in: number;
  readonly out: number;
  readonly deadLettered: number;
}

/** What the metrics read of the venue's market data (VenueFeed.stats() and the pipeline). */
export interface MarketDataFigures {
  readonly pipeline: {
    readonly raw: Stage;
    readonly normalize: Stage;
    readonly enrich: Stage;
    readonly aggregate: Stage & {
      readonly skipped: number;
      readonly late: number;
      readonly barsClosed: number;
      readonly barsCorrected: number;
    };
    readonly project: Stage;
    readonly flags: Readonly<Record<string, number>>;
  };
  readonly deadLetters: readonly {
    readonly stage: string;
    readonly reason: string;
    readonly count: number;
  }[];
  /** Events picked from the engine's batches and waiting for the pipeline, and those dropped. */
  readonly pending: number;
  readonly pendingDropped: number;
  readonly writer: {
    readonly queued: number;
    readonly ticksWritten: number;
    readonly ticksExisting: number;
    readonly barsWritten: number;
    readonly barsExisting: number;
    readonly failedBatches: number;
    readonly dropped: number;
  } | null;
}

interface OutboxFigures {
  readonly name: string;
  readonly queued: number;
  readonly inFlight: number;
  readonly published: number;
  readonly duplicates: number;
  readonly failures: number;
  readonly dropped: number;
  readonly progressSeq: number;
  readonly markedSeq: number;
}

interface ConsumerFigures {
  readonly delivered: number;
  readonly redelivered: number;
  readonly acked: number;
  readonly failed: number;
  readonly deadLettered: number;
  readonly malformed: number;
}

/** What the metrics read of the transports (MarketDataTransports.stats()). */
export interface TransportFigures {
  readonly nats: {
    readonly connected: boolean;
    readonly bus: { readonly disconnects: number; readonly reconnects: number } | null;
    readonly outboxes: readonly OutboxFigures[];
    readonly consumers: readonly { readonly name: string; readonly counters: ConsumerFigures }[];
  } | null;
  readonly redis: {
    readonly applied: number;
    readonly stale: number;
    readonly flushes: number;
    readonly failures: number;
  } | null;
}

export interface MarketDataMetricsSources {
  /** Null: the pipeline is off. */
  readonly marketData: () => MarketDataFigures | null;
  readonly transports: () => TransportFigures | null;
}

type Labels = Record<string, string>;

/**
 * A counter whose values are set from a snapshot at each scrape (reset, then the totals): the parts count in
 * plain numbers, the registry reads them.
 */
function snapshotCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => readonly (readonly [Labels, number])[] | null,
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      const values = read();
      this.reset();
      // reset() gives a metric without labels a 0: no series instead, unless the part gives a value.
      if (labelNames.length === 0) this.remove();
      if (values === null) return;
      for (const [labels, v] of values) this.inc(labels as Partial<Record<L, string>>, v);
    },
  });
}

function snapshotGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => readonly (readonly [Labels, number])[] | null,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      const values = read();
      this.reset();
      // reset() gives a metric without labels a 0: no series instead, unless the part gives a value.
      if (labelNames.length === 0) this.remove();
      if (values === null) return;
      for (const [labels, v] of values) this.set(labels as Partial<Record<L, string>>, v);
    },
  });
}

export function registerMarketDataMetrics(registry: Registry, s: MarketDataMetricsSources): void {
  const md = (f: (m: MarketDataFigures) => readonly (readonly [Labels, number])[]) => () => {
    const m = s.marketData();
    return m === null ? null : f(m);
  };
  const one = (v: number): readonly (readonly [Labels, number])[] => [[{}, v]];
  snapshotCounter(
    registry,
    'rialto_md_ingested_total',
    'Raw market data events into the pipeline',
    [],
    md((m) => one(m.pipeline.raw.in)),
  );
  snapshotCounter(
    registry,
    'rialto_md_normalized_total',
    'Ticks normalized',
    [],
    md((m) => one(m.pipeline.normalize.out)),
  );
  snapshotCounter(
    registry,
    'rialto_md_enriched_total',
    'Ticks enriched with reference data',
    [],
    md((m) => one(m.pipeline.enrich.out)),
  );
  snapshotCounter(
    registry,
    'rialto_md_dead_lettered_total',
    'Market data events dead-lettered, by stage and reason code',
    ['stage', 'reason'],
    md((m) => m.deadLetters.map((d) => [{ stage: d.stage, reason: d.reason }, d.count] as const)),
  );
  snapshotCounter(
    registry,
    'rialto_md_ticks_flagged_total',
    'Ticks by quality flag (valid: no other flag)',
    ['flag'],
    md((m) => Object.entries(m.pipeline.flags).map(([flag, v]) => [{ flag }, v] as const)),
  );
  snapshotCounter(
    registry,
    'rialto_md_aggregate_ticks_total',
    'Trades offered to the bars: accepted, skipped (kept out by a flag), late (behind the horizon)',
    ['outcome'],
    md((m) => {
      const a = m.pipeline.aggregate;
      return [
        [{ outcome: 'accepted' }, a.out],
        [{ outcome: 'skipped' }, a.skipped],
        [{ outcome: 'late' }, a.late],
      ];
    }),
  );
  snapshotCounter(
    registry,
    'rialto_md_late_ticks_total',
    'Trades dropped from the bars because they came behind the lateness horizon',
    [],
    md((m) => one(m.pipeline.aggregate.late)),
  );
  snapshotCounter(
    registry,
    'rialto_md_bars_total',
    'Bars emitted: closed (first emission) and corrected (a late trade in a closed bar)',
    ['kind'],
    md((m) => [
      [{ kind: 'closed' }, m.pipeline.aggregate.barsClosed],
      [{ kind: 'corrected' }, m.pipeline.aggregate.barsCorrected],
    ]),
  );
  snapshotGauge(
    registry,
    'rialto_md_pending_events',
    "Events picked from the engine's batches, waiting for the pipeline",
    [],
    md((m) => one(m.pending)),
  );
  snapshotCounter(
    registry,
    'rialto_md_pending_dropped_total',
    'Events dropped before the pipeline because it fell behind (written by the next start)',
    [],
    md((m) => one(m.pendingDropped)),
  );
  snapshotCounter(
    registry,
    'rialto_md_store_rows_total',
    'Rows the in-process writer stored (written) or found stored already (existing), by kind',
    ['kind', 'result'],
    md((m) => {
      const w = m.writer;
      if (w === null) return [];
      return [
        [{ kind: 'tick', result: 'written' }, w.ticksWritten],
        [{ kind: 'tick', result: 'existing' }, w.ticksExisting],
        [{ kind: 'bar', result: 'written' }, w.barsWritten],
        [{ kind: 'bar', result: 'existing' }, w.barsExisting],
      ];
    }),
  );
  snapshotGauge(
    registry,
    'rialto_md_store_queue_rows',
    'Rows queued in the in-process writer, not yet stored',
    [],
    md((m) => (m.writer === null ? [] : one(m.writer.queued))),
  );
  snapshotCounter(
    registry,
    'rialto_md_store_failed_batches_total',
    "The in-process writer's failed batches (each retried)",
    [],
    md((m) => (m.writer === null ? [] : one(m.writer.failedBatches))),
  );
  snapshotCounter(
    registry,
    'rialto_md_store_dropped_total',
    'Rows the in-process writer refused because its queue was full (written by the next start)',
    [],
    md((m) => (m.writer === null ? [] : one(m.writer.dropped))),
  );

  const redis =
    (f: (r: NonNullable<TransportFigures['redis']>) => readonly (readonly [Labels, number])[]) => () => {
      const r = s.transports()?.redis ?? null;
      return r === null ? null : f(r);
    };
  snapshotCounter(
    registry,
    'rialto_md_redis_writes_total',
    'Latest-price writes to Redis: applied, or stale (Redis held something newer)',
    ['result'],
    redis((r) => [
      [{ result: 'applied' }, r.applied],
      [{ result: 'stale' }, r.stale],
    ]),
  );
  snapshotCounter(
    registry,
    'rialto_md_redis_flushes_total',
    'Pipelined writes of the latest prices to Redis',
    [],
    redis((r) => one(r.flushes)),
  );
  snapshotCounter(
    registry,
    'rialto_md_redis_failures_total',
    'Writes of the latest prices to Redis that failed (kept, written again)',
    [],
    redis((r) => one(r.failures)),
  );

  const nats =
    (f: (n: NonNullable<TransportFigures['nats']>) => readonly (readonly [Labels, number])[]) => () => {
      const n = s.transports()?.nats ?? null;
      return n === null ? null : f(n);
    };
  snapshotGauge(
    registry,
    'rialto_events_connected',
    '1 while the venue is connected to NATS JetStream, else 0',
    [],
    nats((n) => one(n.connected ? 1 : 0)),
  );
  snapshotCounter(
    registry,
    'rialto_events_published_total',
    'Messages JetStream stored, by outbox (venue_events, market_data) and result (stored, duplicate)',
    ['outbox', 'result'],
    nats((n) =>
      n.outboxes.flatMap((o) => [
        [{ outbox: o.name, result: 'stored' }, o.published] as const,
        [{ outbox: o.name, result: 'duplicate' }, o.duplicates] as const,
      ]),
    ),
  );
  snapshotCounter(
    registry,
    'rialto_events_publish_failures_total',
    'Publishes that failed, by outbox (each retried)',
    ['outbox'],
    nats((n) => n.outboxes.map((o) => [{ outbox: o.name }, o.failures] as const)),
  );
  snapshotCounter(
    registry,
    'rialto_events_dropped_total',
    'Messages refused because the outbox was full, by outbox (published by the next start)',
    ['outbox'],
    nats((n) => n.outboxes.map((o) => [{ outbox: o.name }, o.dropped] as const)),
  );
  snapshotGauge(
    registry,
    'rialto_events_backlog',
    'Messages queued in the outbox and not yet stored by JetStream, by outbox',
    ['outbox'],
    nats((n) => n.outboxes.map((o) => [{ outbox: o.name }, o.queued] as const)),
  );
  snapshotGauge(
    registry,
    'rialto_events_in_flight',
    'Publishes waiting for JetStream, by outbox',
    ['outbox'],
    nats((n) => n.outboxes.map((o) => [{ outbox: o.name }, o.inFlight] as const)),
  );
  snapshotGauge(
    registry,
    'rialto_events_lag_commands',
    'Journal commands whose messages are not all stored by JetStream yet, by outbox',
    ['outbox'],
    nats((n) => n.outboxes.map((o) => [{ outbox: o.name }, o.markedSeq - o.progressSeq] as const)),
  );
  snapshotGauge(
    registry,
    'rialto_events_progress_seq',
    'The journal sequence number through which every message is stored by JetStream, by outbox',
    ['outbox'],
    nats((n) => n.outboxes.map((o) => [{ outbox: o.name }, o.progressSeq] as const)),
  );
  snapshotCounter(
    registry,
    'rialto_events_consumed_total',
    "Durable consumers' messages, by consumer and result (delivered, redelivered, acked, failed, dead_lettered, malformed)",
    ['consumer', 'result'],
    nats((n) =>
      n.consumers.flatMap(({ name, counters: c }) =>
        (
          [
            ['delivered', c.delivered],
            ['redelivered', c.redelivered],
            ['acked', c.acked],
            ['failed', c.failed],
            ['dead_lettered', c.deadLettered],
            ['malformed', c.malformed],
          ] as const
        ).map(([result, v]) => [{ consumer: name, result }, v] as const),
      ),
    ),
  );
  snapshotCounter(
    registry,
    'rialto_events_reconnects_total',
    'Connections to NATS lost (disconnects) and made again (reconnects)',
    ['event'],
    nats((n) =>
      n.bus === null
        ? []
        : [
            [{ event: 'disconnect' }, n.bus.disconnects],
            [{ event: 'reconnect' }, n.bus.reconnects],
          ],
    ),
  );
}
