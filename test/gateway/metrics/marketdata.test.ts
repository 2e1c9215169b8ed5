/**
 * The market data and event transport metrics: read from the parts' counters at each scrape (a later scrape
 * shows the new totals), every stage, flag, dead-letter reason, outbox and consumer as its own series, and the
 * names registered (without series) when the parts do not run.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import {
  registerMarketDataMetrics,
  type MarketDataFigures,
  type TransportFigures,
} from '../../../src/gateway/metrics/index.js';

const stage = (n: number) => ({ in: n, out: n - 1, deadLettered: 1 });

function figures(n: number): MarketDataFigures {
  return {
    pipeline: {
      raw: stage(n),
      normalize: stage(n),
      enrich: stage(n - 1),
      aggregate: { ...stage(n), skipped: 2, late: 3, barsClosed: 4, barsCorrected: 5 },
      project: stage(n),
      flags: { valid: n, duplicate: 2 },
    },
    deadLetters: [
      { stage: 'normalize', reason: 'bad_payload', count: 1 },
      { stage: 'aggregate', reason: 'bars_failed', count: 6 },
    ],
    pending: 7,
    pendingDropped: 0,
    writer: null,
  };
}

const transports: TransportFigures = {
  nats: {
    connected: true,
    bus: { disconnects: 1, reconnects: 1 },
    outboxes: [
      {
        name: 'venue_events',
        queued: 3,
        inFlight: 2,
        published: 40,
        duplicates: 5,
        failures: 1,
        dropped: 0,
        progressSeq: 90,
        markedSeq: 95,
      },
    ],
    consumers: [
      {
        name: 'md-store-ticks',
        counters: { delivered: 10, redelivered: 1, acked: 9, failed: 1, deadLettered: 0, malformed: 0 },
      },
    ],
  },
  redis: { applied: 11, stale: 2, flushes: 3, failures: 1 },
};

const line = (text: string, series: string): number => {
  const m = new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  assert.ok(m !== null, `no ${series} in\n${text}`);
  return Number(m[1]);
};

describe('market data metrics', () => {
  it('reads the pipeline, the outboxes, the consumers and Redis at each scrape', async () => {
    const registry = new Registry();
    let n = 100;
    registerMarketDataMetrics(registry, { marketData: () => figures(n), transports: () => transports });
    let text = await registry.metrics();
    assert.equal(line(text, 'rialto_md_ingested_total'), 100);
    assert.equal(line(text, 'rialto_md_normalized_total'), 99);
    assert.equal(line(text, 'rialto_md_enriched_total'), 98);
    assert.equal(line(text, 'rialto_md_dead_lettered_total{stage="aggregate",reason="bars_failed"}'), 6);
    assert.equal(line(text, 'rialto_md_ticks_flagged_total{flag="duplicate"}'), 2);
    assert.equal(line(text, 'rialto_md_bars_total{kind="corrected"}'), 5);
    assert.equal(line(text, 'rialto_md_late_ticks_total'), 3);
    assert.equal(line(text, 'rialto_md_aggregate_ticks_total{outcome="skipped"}'), 2);
    assert.equal(line(text, 'rialto_md_pending_events'), 7);
    assert.equal(line(text, 'rialto_md_redis_writes_total{result="applied"}'), 11);
    assert.equal(line(text, 'rialto_md_redis_failures_total'), 1);
    assert.equal(line(text, 'rialto_events_published_total{outbox="venue_events",result="duplicate"}'), 5);
    assert.equal(line(text, 'rialto_events_backlog{outbox="venue_events"}'), 3);
    assert.equal(line(text, 'rialto_events_lag_commands{outbox="venue_events"}'), 5);
    assert.equal(
      line(text, 'rialto_events_consumed_total{consumer="md-store-ticks",result="redelivered"}'),
      1,
    );
    assert.equal(line(text, 'rialto_events_connected'), 1);
    n = 250;
    text = await registry.metrics();
    assert.equal(line(text, 'rialto_md_ingested_total'), 250);
    assert.doesNotMatch(text, /rialto_md_store_rows_total\{/, 'no writer, no series');
  });

  it('registers every name, without series, when the parts do not run', async () => {
    const registry = new Registry();
    registerMarketDataMetrics(registry, { marketData: () => null, transports: () => null });
    const text = await registry.metrics();
    for (const name of [
      'rialto_md_ingested_total',
      'rialto_md_dead_lettered_total',
      'rialto_md_redis_writes_total',
      'rialto_events_published_total',
      'rialto_events_backlog',
      'rialto_events_consumed_total',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
      assert.doesNotMatch(text, new RegExp(`^${name}[{ ]`, 'm'));
    }
  });
});
