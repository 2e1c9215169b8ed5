/**
 * deploy/grafana: the provisioning (the Prometheus data source, the dashboard provider) and the dashboards.
 * Every metric every panel and variable queries is one a running venue exports on /metrics (a histogram as its
 * _bucket, _sum and _count series), every query parses (`promtool check rules` on them as recording rules),
 * and every panel uses the provisioned data source.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import type { Venue } from '../../src/gateway/index.js';
import { openVenue, tempDir, testConfig } from '../gateway/helpers.js';
import { ROOT, output, run } from './tools.js';

const GRAFANA = join(ROOT, 'deploy/grafana');

interface DataSourceRef {
  type: string;
  uid: string;
}
interface Target {
  refId: string;
  expr: string;
  datasource?: DataSourceRef;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DataSourceRef;
  targets?: Target[];
  gridPos: { x: number; y: number; w: number; h: number };
}
interface Variable {
  name: string;
  type: string;
  query: { query: string } | string;
  datasource?: DataSourceRef;
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

/** Series Prometheus makes itself for every target; the venue does not export them. */
const MADE_BY_PROMETHEUS = new Set(['up']);

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: identifiers outside strings, label matchers, ranges and
 * grouping clauses, that are not functions (an identifier before `(`) or keywords.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = bare.slice((m.index ?? 0) + m[0].length);
    if (/^\s*\(/.test(rest)) continue;
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    // A number's exponent (1e-6) is no name.
    if (/[0-9.]$/.test(bare.slice(0, m.index ?? 0))) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** The series names of a Prometheus text exposition, from its TYPE lines (a histogram gives three). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(name + s);
    else names.add(name);
  }
  return names;
}

const dashboards = (): { file: string; board: Dashboard }[] =>
  readdirSync(join(GRAFANA, 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      board: JSON.parse(readFileSync(join(GRAFANA, 'dashboards', file), 'utf8')) as Dashboard,
    }));

/** Every query of a dashboard: each panel target's expression and each query variable's query. */
function queries(board: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of board.panels)
    for (const t of p.targets ?? [])
      out.push({ where: `${board.uid} panel "${p.title}" ${t.refId}`, expr: t.expr });
  for (const v of board.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query.query;
    // label_values(SELECTOR, label): the selector is the query.
    const selector = /^label_values\((.*),\s*\w+\)$/.exec(q);
    out.push({ where: `${board.uid} variable ${v.name}`, expr: selector === null ? q : selector[1] });
  }
  return out;
}

describe('deploy/grafana', () => {
  let venue: Venue;
  let exported: Set<string>;
  before(async () => {
    venue = await openVenue(testConfig(tempDir()));
    const r = await fetch(`${venue.url}/metrics`);
    assert.equal(r.status, 200);
    exported = exportedNames(await r.text());
  });
  after(async () => {
    await venue.close();
  });

  it('reads metric names out of PromQL the way the check below needs', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(rialto_http_request_duration_seconds_bucket{job="rialto", route=~"a|b"}[$__rate_interval])))',
      ),
      ['rialto_http_request_duration_seconds_bucket'],
    );
    assert.deepEqual(
      metricNames('sum(rate(a_total[5m])) / sum without (x) (b) > 1e-6 and on (i) c{l="up"}'),
      ['a_total', 'b', 'c'],
    );
    assert.deepEqual(metricNames('up{job="rialto", instance=~"$instance"}'), ['up']);
  });

  it('has the four dashboards, each with its own uid, and a venue that exports what they need', () => {
    const all = dashboards();
    assert.deepEqual(
      all.map((d) => d.board.uid),
      ['rialto-latency', 'rialto-market-data', 'rialto-overview', 'rialto-risk'],
    );
    for (const name of [
      'rialto_orders_total',
      'rialto_order_ack_latency_seconds_bucket',
      'rialto_venue_kill_switch_engaged',
      'rialto_projection_lag_seconds',
      'process_cpu_seconds_total',
    ]) {
      assert.ok(exported.has(name), `the venue exports ${name}`);
    }
  });

  it('queries only metrics the running venue exports on /metrics (histograms as _bucket, _sum, _count)', () => {
    let checked = 0;
    for (const { board } of dashboards()) {
      for (const p of board.panels) {
        if (p.type === 'row') continue;
        assert.ok((p.targets ?? []).length > 0, `${board.uid} panel "${p.title}" has a query`);
      }
      for (const q of queries(board)) {
        const names = metricNames(q.expr);
        assert.ok(names.length > 0, `${q.where}: no metric in ${q.expr}`);
        for (const name of names) {
          assert.ok(
            exported.has(name) || MADE_BY_PROMETHEUS.has(name),
            `${q.where}: ${name} is not exported by the venue (${q.expr})`,
          );
          checked++;
        }
      }
    }
    assert.ok(checked > 50, `checked ${checked} metric references`);
  });

  it('has queries that parse: promtool check rules on them as recording rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rialto-grafana-'));
    try {
      const rules = dashboards().flatMap(({ board }) =>
        queries(board).map((q, i) => ({
          record: `dashboard:${board.uid.replace(/-/g, '_')}:q${i}`,
          // Grafana's variables, as Grafana fills them in.
          expr: q.expr.replace(/\$__rate_interval/g, '1m').replace(/\$instance|\$symbol/g, '.*'),
        })),
      );
      const path = join(dir, 'dashboards.rules.yml');
      writeFileSync(path, stringify({ groups: [{ name: 'dashboards', rules }] }));
      const r = run('promtool', ['check', 'rules', path]);
      assert.equal(r.status, 0, output(r));
      assert.match(output(r), new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('provisions the Prometheus data source the panels name, and a provider for the dashboards', () => {
    const ds = parse(readFileSync(join(GRAFANA, 'provisioning/datasources/prometheus.yml'), 'utf8')) as {
      apiVersion: number;
      datasources: { uid: string; type: string; url: string }[];
    };
    assert.equal(ds.apiVersion, 1);
    assert.equal(ds.datasources.length, 1);
    const { uid, type, url } = ds.datasources[0];
    assert.equal(type, 'prometheus');
    assert.equal(url, 'http://prometheus:9090');
    const providers = parse(readFileSync(join(GRAFANA, 'provisioning/dashboards/rialto.yml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    assert.equal(providers.providers[0].type, 'file');
    assert.equal(providers.providers[0].options.path, '/var/lib/grafana/dashboards/rialto');
    for (const { board } of dashboards()) {
      const ids = new Set<number>();
      for (const p of board.panels) {
        assert.ok(!ids.has(p.id), `${board.uid}: panel id ${p.id} twice`);
        ids.add(p.id);
        assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${board.uid} "${p.title}" fits the grid`);
        if (p.type === 'row') continue;
        assert.deepEqual(p.datasource, { type, uid }, `${board.uid} "${p.title}"`);
        for (const t of p.targets ?? []) assert.deepEqual(t.datasource, { type, uid });
      }
      for (const v of board.templating.list) assert.deepEqual(v.datasource, { type, uid });
    }
  });
});
