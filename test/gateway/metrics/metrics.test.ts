/**
 * The venue's metrics, scraped through the fastify plugin and parsed: every metric the issue names is
 * there with its labels, request durations by route pattern and status class, the journal's counters read
 * from a stats function on each scrape (deltas, an engine restart, a failing or hanging source), process
 * metrics, and a registry of the venue's own rather than prom-client's global one.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry, register as globalRegistry } from 'prom-client';
import { errorEnvelope } from '../../../src/gateway/http/plugins/index.js';
import {
  ProjectionGauges,
  createVenueMetrics,
  metricsPlugin,
  statusClassOf,
  type JournalStats,
  type ProjectionLag,
  type VenueMetrics,
  type VenueStateFigures,
} from '../../../src/gateway/metrics/index.js';
import { SYNC_SECONDS_BUCKETS } from '../../../src/journal/index.js';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Scrape {
  readonly samples: Sample[];
  readonly types: Map<string, string>;
}

/** Prometheus text format 0.0.4, enough of it for these tests (no escaped quotes in label values). */
function parse(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) {
      types.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    assert.ok(m !== null, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g))
      labels[pair[1]] = pair[2];
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    // prom-client writes NaN as `Nan` (an event-loop mean before any sample); Prometheus reads both.
    assert.ok(!Number.isNaN(value) || m[3].toLowerCase() === 'nan', line);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types };
}

function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  return scrape.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

async function makeApp(metrics: VenueMetrics, authorize?: () => boolean): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(errorEnvelope);
  await app.register(metricsPlugin, { metrics, ...(authorize === undefined ? {} : { authorize }) });
  app.get('/api/v1/bbo/:symbol', () => ({ bid: '1' }));
  app.get('/boom', () => {
    throw new Error('bug');
  });
  await app.ready();
  return app;
}

async function scrape(app: FastifyInstance): Promise<Scrape> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parse(res.body);
}

describe('venue metrics', () => {
  it('exposes every metric of the issue with its labels and type', async () => {
    const stats = { records: 10, batches: 3, syncs: 2, bytes: 640, ackedSeq: 10, submits: 4 };
    const metrics = createVenueMetrics({
      journalStats: () => Promise.resolve(stats),
      auditStats: () => ({ queued: 7, projectionLag: 1200 }),
    });
    metrics.countOrder('limit', 'accepted');
    metrics.countOrder('limit', 'accepted');
    metrics.countOrder('market', 'rejected');
    metrics.trades.inc({ symbol: 'BTC-USDT' });
    metrics.orderAckLatency.observe({ transport: 'ws' }, 0.0008);
    metrics.wsClients.inc(3);
    metrics.wsClients.dec();
    metrics.wsSlowConsumersDropped.inc();
    metrics.riskRejects.inc({ code: 'INSUFFICIENT_FUNDS' });
    metrics.rateLimited.inc({ policy: 'ip' });
    const app = await makeApp(metrics);
    const s = await scrape(app);
    assert.equal(value(s, 'rialto_orders_total', { type: 'limit', result: 'accepted' }), 2);
    assert.equal(value(s, 'rialto_orders_total', { type: 'market', result: 'rejected' }), 1);
    // The counts are read again at each scrape: the same numbers, and what was counted since.
    metrics.countOrder('limit', 'accepted');
    const again = await scrape(app);
    assert.equal(value(again, 'rialto_orders_total', { type: 'limit', result: 'accepted' }), 3);
    assert.equal(value(again, 'rialto_orders_total', { type: 'market', result: 'rejected' }), 1);
    assert.equal(value(s, 'rialto_trades_total', { symbol: 'BTC-USDT' }), 1);
    assert.equal(value(s, 'rialto_order_ack_latency_seconds_bucket', { transport: 'ws', le: '0.00075' }), 0);
    assert.equal(value(s, 'rialto_order_ack_latency_seconds_bucket', { transport: 'ws', le: '0.001' }), 1);
    assert.equal(value(s, 'rialto_order_ack_latency_seconds_count', { transport: 'ws' }), 1);
    assert.equal(value(s, 'rialto_ws_clients'), 2);
    assert.equal(value(s, 'rialto_ws_slow_consumers_dropped_total'), 1);
    assert.equal(value(s, 'rialto_risk_rejects_total', { code: 'INSUFFICIENT_FUNDS' }), 1);
    assert.equal(value(s, 'rialto_rate_limited_total', { policy: 'ip' }), 1);
    assert.equal(value(s, 'rialto_journal_records_total'), 10);
    assert.equal(value(s, 'rialto_journal_batches_total'), 3);
    assert.equal(value(s, 'rialto_journal_syncs_total'), 2);
    assert.equal(value(s, 'rialto_engine_submits_total'), 4);
    assert.equal(value(s, 'rialto_journal_bytes_total'), 640);
    assert.equal(value(s, 'rialto_journal_acked_seq'), 10);
    assert.equal(value(s, 'rialto_audit_queue_events'), 7);
    assert.equal(value(s, 'rialto_audit_projection_lag_events'), 1200);
    assert.ok((value(s, 'process_cpu_user_seconds_total') ?? -1) >= 0);
    assert.ok((value(s, 'nodejs_heap_size_used_bytes') ?? 0) > 0);
    for (const [name, type] of [
      ['rialto_orders_total', 'counter'],
      ['rialto_http_request_duration_seconds', 'histogram'],
      ['rialto_order_ack_latency_seconds', 'histogram'],
      ['rialto_ws_clients', 'gauge'],
      ['rialto_journal_records_total', 'counter'],
    ]) {
      assert.equal(s.types.get(name), type, name);
    }
    assert.equal(globalRegistry.getSingleMetric('rialto_orders_total'), undefined, 'not the global registry');
    await app.close();
  });

  it('times requests by route pattern and status class, unmatched routes under one label', async () => {
    const metrics = createVenueMetrics({ processMetrics: false });
    const app = await makeApp(metrics);
    for (const symbol of ['BTC-USDT', 'ETH-USDT', 'X'])
      await app.inject({ method: 'GET', url: `/api/v1/bbo/${symbol}` });
    for (let i = 0; i < 4; i++) await app.inject({ method: 'GET', url: `/random/${i}` });
    await app.inject({ method: 'GET', url: '/boom' });
    const s = await scrape(app);
    const count = (route: string, status_class: string): number | undefined =>
      value(s, 'rialto_http_request_duration_seconds_count', { method: 'GET', route, status_class });
    assert.equal(count('/api/v1/bbo/:symbol', '2xx'), 3);
    assert.equal(count('unmatched', '4xx'), 4);
    assert.equal(count('/boom', '5xx'), 1);
    const routes = new Set(
      s.samples.filter((x) => x.name.startsWith('rialto_http')).map((x) => x.labels.route),
    );
    assert.deepEqual([...routes].sort(), ['/api/v1/bbo/:symbol', '/boom', 'unmatched']);
    const sum = value(s, 'rialto_http_request_duration_seconds_sum', { route: '/api/v1/bbo/:symbol' }) ?? -1;
    assert.ok(sum > 0 && sum < 5, String(sum));
    assert.equal(value(s, 'process_cpu_user_seconds_total'), undefined);
    await app.close();
  });

  it('reads the journal stats on each scrape: deltas, an engine restart, a failing or hanging source', async () => {
    let stats: JournalStats | 'fail' | 'hang' = { records: 5, batches: 1, syncs: 1, bytes: 100, syncUs: 250 };
    let reads = 0;
    const metrics = createVenueMetrics({
      processMetrics: false,
      journalStats: () => {
        reads++;
        if (stats === 'fail') return Promise.reject(new Error('engine closed'));
        if (stats === 'hang') return new Promise<JournalStats>(() => undefined);
        return stats;
      },
    });
    const app = await makeApp(metrics);
    let s = await scrape(app);
    assert.equal(reads, 1, 'one read shared by every journal metric of a scrape');
    assert.equal(value(s, 'rialto_journal_records_total'), 5);
    assert.equal(value(s, 'rialto_journal_sync_seconds_total'), 0.00025);
    stats = { records: 12, batches: 3, syncs: 2, bytes: 300, syncUs: 1250 };
    s = await scrape(app);
    assert.equal(value(s, 'rialto_journal_records_total'), 12);
    assert.equal(value(s, 'rialto_journal_syncs_total'), 2);
    assert.equal(value(s, 'rialto_journal_sync_seconds_total'), 0.00125);
    stats = 'fail';
    s = await scrape(app);
    assert.equal(value(s, 'rialto_journal_records_total'), 12, 'a failed read keeps the last values');
    stats = { records: 4, batches: 1, syncs: 1, bytes: 50, syncUs: 10 };
    s = await scrape(app);
    assert.equal(value(s, 'rialto_journal_records_total'), 16, 'a restarted engine adds, never subtracts');
    stats = 'hang';
    const started = Date.now();
    s = await scrape(app);
    assert.ok(Date.now() - started < 3000);
    assert.equal(value(s, 'rialto_journal_records_total'), 16);
    await app.close();
  });

  it("exposes the fsyncs by duration as a histogram from the engine's bucket counts", async () => {
    const n = SYNC_SECONDS_BUCKETS.length + 1;
    const buckets = (counts: Record<number, number>): number[] =>
      Array.from({ length: n }, (_, k) => counts[k] ?? 0);
    const ms1 = SYNC_SECONDS_BUCKETS.indexOf(0.001);
    const ms5 = SYNC_SECONDS_BUCKETS.indexOf(0.005);
    let stats: JournalStats = { syncs: 3, syncUs: 3_000, syncBuckets: buckets({ [ms1]: 2, [ms5]: 1 }) };
    const metrics = createVenueMetrics({ processMetrics: false, journalStats: () => stats });
    const app = await makeApp(metrics);
    const name = 'rialto_journal_sync_duration_seconds';
    let s = await scrape(app);
    assert.equal(s.types.get(name), 'histogram');
    assert.equal(value(s, `${name}_bucket`, { le: '0.0005' }), 0);
    assert.equal(value(s, `${name}_bucket`, { le: '0.001' }), 2);
    assert.equal(value(s, `${name}_bucket`, { le: '0.002' }), 2);
    assert.equal(value(s, `${name}_bucket`, { le: '0.005' }), 3);
    assert.equal(value(s, `${name}_bucket`, { le: '5' }), 3);
    assert.equal(value(s, `${name}_bucket`, { le: '+Inf' }), 3);
    assert.equal(value(s, `${name}_count`), 3);
    assert.equal(value(s, `${name}_sum`), 0.003);
    const buckets0 = s.samples.filter((x) => x.name === `${name}_bucket`);
    assert.equal(buckets0.length, n, 'one sample per bound and +Inf');
    // Later counts add what is new; one past the last bound counts only in +Inf.
    stats = { syncs: 5, syncUs: 10_003_000, syncBuckets: buckets({ [ms1]: 3, [ms5]: 1, [n - 1]: 1 }) };
    s = await scrape(app);
    assert.equal(value(s, `${name}_bucket`, { le: '0.001' }), 3);
    assert.equal(value(s, `${name}_bucket`, { le: '5' }), 4);
    assert.equal(value(s, `${name}_bucket`, { le: '+Inf' }), 5);
    assert.equal(value(s, `${name}_sum`), 10.003);
    // A restarted engine counts from zero: its counts are added, never subtracted.
    stats = { syncs: 1, syncUs: 500, syncBuckets: buckets({ 3: 1 }) };
    s = await scrape(app);
    assert.equal(value(s, `${name}_count`), 6);
    assert.equal(value(s, `${name}_bucket`, { le: '0.0005' }), 1);
    // Malformed counts are ignored: the histogram keeps what it had.
    stats = { syncs: 9, syncUs: 900, syncBuckets: [1, 2, 3] };
    s = await scrape(app);
    assert.equal(value(s, `${name}_count`), 6);
    await app.close();
  });

  it('reads the kill switches and halts from the venue state on each scrape, once per scrape', async () => {
    let state: VenueStateFigures | 'fail' = {
      venueKillSwitch: false,
      accountKillSwitches: 0,
      instruments: [
        { symbol: 'BTC-USDT', halted: false },
        { symbol: 'ETH-USDT', halted: true },
      ],
    };
    let reads = 0;
    const metrics = createVenueMetrics({
      processMetrics: false,
      venueState: () => {
        reads++;
        return state === 'fail' ? Promise.reject(new Error('engine closed')) : state;
      },
    });
    const app = await makeApp(metrics);
    let s = await scrape(app);
    assert.equal(reads, 1, 'one read shared by every state gauge of a scrape');
    assert.equal(value(s, 'rialto_venue_kill_switch_engaged'), 0);
    assert.equal(value(s, 'rialto_account_kill_switches_engaged'), 0);
    assert.equal(value(s, 'rialto_instrument_halted', { symbol: 'BTC-USDT' }), 0);
    assert.equal(value(s, 'rialto_instrument_halted', { symbol: 'ETH-USDT' }), 1);
    assert.equal(s.types.get('rialto_venue_kill_switch_engaged'), 'gauge');
    state = {
      venueKillSwitch: true,
      accountKillSwitches: 3,
      instruments: [{ symbol: 'BTC-USDT', halted: true }],
    };
    s = await scrape(app);
    assert.equal(value(s, 'rialto_venue_kill_switch_engaged'), 1);
    assert.equal(value(s, 'rialto_account_kill_switches_engaged'), 3);
    assert.equal(value(s, 'rialto_instrument_halted', { symbol: 'BTC-USDT' }), 1);
    state = 'fail';
    s = await scrape(app);
    assert.equal(value(s, 'rialto_venue_kill_switch_engaged'), 1, 'a failed read keeps the last values');
    await app.close();
  });

  it('shows each readiness check, run at each scrape: 1 ok, 0 failing; a failing source keeps the last values', async () => {
    let checks: Record<string, string> | 'fail' = { engine: 'ok', store: 'ok', nats: 'ok' };
    let runs = 0;
    const metrics = createVenueMetrics({
      processMetrics: false,
      readinessChecks: () => {
        runs++;
        return checks === 'fail' ? Promise.reject(new Error('closed')) : Promise.resolve({ checks });
      },
    });
    const app = await makeApp(metrics);
    let s = await scrape(app);
    assert.equal(runs, 1);
    assert.equal(s.types.get('rialto_readiness_check'), 'gauge');
    for (const check of ['engine', 'store', 'nats'])
      assert.equal(value(s, 'rialto_readiness_check', { check }), 1, check);
    checks = { engine: 'ok', store: 'ok', nats: 'unreachable: connect ECONNREFUSED 127.0.0.1:4222' };
    s = await scrape(app);
    assert.equal(value(s, 'rialto_readiness_check', { check: 'nats' }), 0);
    assert.equal(value(s, 'rialto_readiness_check', { check: 'store' }), 1);
    checks = 'fail';
    s = await scrape(app);
    assert.equal(value(s, 'rialto_readiness_check', { check: 'nats' }), 0, 'the last values stay');
    await app.close();
  });

  it("shows each projection's backlog and the age of its oldest record, 0 when none waits", async () => {
    const registry = new Registry();
    let nowUs = 50_000_000;
    const gauges = new ProjectionGauges(registry, () => nowUs);
    let audit: ProjectionLag = { backlog: 0, oldestUs: null };
    gauges.register('audit', () => audit);
    gauges.register('other', () => ({ backlog: 7, oldestUs: 49_000_000 }));
    assert.throws(() => gauges.register('audit', () => audit), /registered already/);
    let s = parse(await registry.metrics());
    assert.equal(value(s, 'rialto_projection_backlog', { projection: 'audit' }), 0);
    assert.equal(value(s, 'rialto_projection_lag_seconds', { projection: 'audit' }), 0);
    assert.equal(value(s, 'rialto_projection_backlog', { projection: 'other' }), 7);
    assert.equal(value(s, 'rialto_projection_lag_seconds', { projection: 'other' }), 1);
    audit = { backlog: 120, oldestUs: 47_500_000 };
    nowUs = 52_000_000;
    s = parse(await registry.metrics());
    assert.equal(value(s, 'rialto_projection_backlog', { projection: 'audit' }), 120);
    assert.equal(value(s, 'rialto_projection_lag_seconds', { projection: 'audit' }), 4.5);
    // A clock behind the record's time (another host's) is no lag, never a negative one.
    audit = { backlog: 1, oldestUs: nowUs + 10 };
    s = parse(await registry.metrics());
    assert.equal(value(s, 'rialto_projection_lag_seconds', { projection: 'audit' }), 0);
  });

  it('refuses /metrics to a client that authorize() turns away, in the error envelope', async () => {
    const app = await makeApp(createVenueMetrics({ processMetrics: false }), () => false);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json<{ error: { code: string } }>().error.code, 'FORBIDDEN');
    await app.close();
  });

  it('status classes', () => {
    assert.deepEqual([101, 200, 204, 304, 404, 429, 500, 503].map(statusClassOf), [
      '1xx',
      '2xx',
      '2xx',
      '3xx',
      '4xx',
      '4xx',
      '5xx',
      '5xx',
    ]);
  });
});
