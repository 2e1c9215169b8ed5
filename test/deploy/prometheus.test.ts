/**
 * deploy/prometheus, checked by the real Prometheus tools: `promtool check config` and `check rules`, the rules'
 * unit tests (`promtool test rules`), every alert's runbook entry in docs/deployment.md, and a real Prometheus
 * server that scrapes a running venue (with its metrics token) and fires an alert when the venue's kill switch
 * is set over the admin API.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import type { Venue } from '../../src/gateway/index.js';
import { openVenue, tempDir, testConfig } from '../gateway/helpers.js';
import { Daemon, GiveUp, ROOT, freePort, output, run, waitFor } from './tools.js';

const PROMETHEUS_DIR = join(ROOT, 'deploy/prometheus');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface ScrapeConfig {
  job_name: string;
  authorization?: { type: string; credentials_file: string };
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
}
interface PrometheusConfig {
  global: Record<string, unknown>;
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

const readYaml = <T>(path: string): T => parse(readFileSync(path, 'utf8')) as T;
const alerts = (): Rule[] =>
  readYaml<RuleFile>(join(PROMETHEUS_DIR, 'alerts.yml')).groups.flatMap((g) =>
    g.rules.filter((r) => r.alert),
  );

/** GitHub's anchor of a markdown heading: lower case, punctuation dropped, spaces to dashes. */
const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

/**
 * The shipped configuration in `dir` for a test: the shipped rules (their `for:` as given, or 0s), the token
 * file in `dir`, and the venue's job pointed at `target`; with `fast`, scrapes and evaluations every second.
 */
function testCopy(
  dir: string,
  options: { token: string; target?: string; selfTarget?: string; fast?: boolean; forZero?: boolean },
): string {
  const config = readYaml<PrometheusConfig>(join(PROMETHEUS_DIR, 'prometheus.yml'));
  const rules = readYaml<RuleFile>(join(PROMETHEUS_DIR, 'alerts.yml'));
  if (options.forZero === true)
    for (const g of rules.groups) for (const r of g.rules) if (r.alert) r.for = '0s';
  writeFileSync(join(dir, 'alerts.yml'), stringify(rules));
  writeFileSync(join(dir, 'rialto-metrics-token'), options.token);
  const venueJob = config.scrape_configs.find((s) => s.job_name === 'rialto');
  assert.ok(venueJob?.authorization !== undefined, 'the venue job sends the metrics token');
  const engineJob = config.scrape_configs.find((s) => s.job_name === 'rialto-engine');
  assert.ok(engineJob?.authorization !== undefined, "the engine process's job sends the metrics token");
  for (const job of [venueJob, engineJob])
    if (job.authorization !== undefined)
      job.authorization.credentials_file = join(dir, 'rialto-metrics-token');
  if (options.target !== undefined) venueJob.static_configs[0].targets = [options.target];
  const self = config.scrape_configs.find((s) => s.job_name === 'prometheus');
  if (self !== undefined && options.selfTarget !== undefined)
    self.static_configs[0].targets = [options.selfTarget];
  if (options.fast === true) {
    config.global.scrape_interval = '1s';
    config.global.scrape_timeout = '1s';
    config.global.evaluation_interval = '1s';
  }
  const path = join(dir, 'prometheus.yml');
  writeFileSync(path, stringify(config));
  return path;
}

describe('deploy/prometheus: the files, by promtool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rialto-prom-check-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes `promtool check config`, with the rule file it names', () => {
    const path = testCopy(dir, { token: 'x'.repeat(32) });
    const r = run('promtool', ['check', 'config', path]);
    assert.equal(r.status, 0, output(r));
    assert.match(output(r), /SUCCESS: 1 rule files found/);
    // The copy differs from the shipped file only in where the token file is.
    const shipped = readYaml<PrometheusConfig>(join(PROMETHEUS_DIR, 'prometheus.yml'));
    assert.equal(
      shipped.scrape_configs.find((s) => s.job_name === 'rialto')?.authorization?.credentials_file,
      '/run/secrets/rialto_metrics_token',
    );
    assert.deepEqual(shipped.rule_files, ['alerts.yml']);
  });

  it('passes `promtool check rules`', () => {
    const r = run('promtool', ['check', 'rules', join(PROMETHEUS_DIR, 'alerts.yml')]);
    assert.equal(r.status, 0, output(r));
    assert.match(output(r), new RegExp(`SUCCESS: ${alerts().length} rules found`));
  });

  it('passes its unit tests, `promtool test rules`, which test every alert', () => {
    const testFile = join(PROMETHEUS_DIR, 'tests/alerts.test.yml');
    const r = run('promtool', ['test', 'rules', testFile]);
    assert.equal(r.status, 0, output(r));
    assert.match(output(r), /SUCCESS/);
    const tests = readYaml<{ tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] }>(
      testFile,
    );
    const fired = new Set(
      tests.tests.flatMap((t) =>
        t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    assert.deepEqual(
      [...fired].sort(),
      alerts()
        .map((a) => a.alert)
        .sort(),
      'each alert is shown firing',
    );
  });

  it('has the alerts the issue names, each with a severity and a runbook entry in docs/deployment.md', () => {
    const names = alerts().map((a) => a.alert);
    for (const name of [
      'RialtoDown',
      'RialtoOrderAckLatencyHigh',
      'RialtoHttpErrorRate',
      'RialtoJournalFsyncSlow',
      'RialtoRiskLimitBreached',
      'RialtoVenueKillSwitchEngaged',
      'RialtoWsSlowConsumersDropped',
      'RialtoProjectionLag',
    ]) {
      assert.ok(names.includes(name), name);
    }
    const docs = readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8');
    const anchors = new Set([...docs.matchAll(/^#+ (.+)$/gm)].map((m) => anchorOf(m[1])));
    for (const a of alerts()) {
      const name = a.alert ?? '';
      assert.match(a.labels?.severity ?? '', /^(critical|warning)$/, `${name}: severity`);
      const runbook = a.annotations?.runbook ?? '';
      assert.equal(runbook, `docs/deployment.md#${name.toLowerCase()}`, `${name}: runbook`);
      assert.ok(anchors.has(runbook.split('#')[1]), `${name}: docs/deployment.md has no heading for it`);
    }
  });
});

describe('deploy/prometheus: a real Prometheus scrapes a running venue and fires an alert', () => {
  const METRICS_TOKEN = 'prometheus-scrape-token-0123';
  const dir = mkdtempSync(join(tmpdir(), 'rialto-prom-run-'));
  let venue: Venue;
  let prometheus: Daemon | null = null;
  let api = '';

  before(async () => {
    venue = await openVenue(testConfig(tempDir(), { RIALTO_METRICS_TOKEN: METRICS_TOKEN }));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const config = testCopy(dir, {
      token: METRICS_TOKEN,
      target: new URL(venue.url).host,
      selfTarget: `127.0.0.1:${port}`,
      fast: true,
      forZero: true,
    });
    prometheus = new Daemon(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      dir,
    );
  });

  after(async () => {
    await prometheus?.stop();
    await venue.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(api + path);
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    return ((await r.json()) as { data: T }).data;
  };
  interface Alert {
    labels: Record<string, string>;
    state: string;
  }
  const killAlert = async (): Promise<Alert | undefined> =>
    (await get<{ alerts: Alert[] }>('/api/v1/alerts')).alerts.find(
      (a) => a.labels.alertname === 'RialtoVenueKillSwitchEngaged',
    );

  it('scrapes the venue with its token, then fires RialtoVenueKillSwitchEngaged once the switch is set', async () => {
    const p = prometheus;
    assert.ok(p !== null);
    const why = (): string => `prometheus says:\n${p.output}`;
    await waitFor(`Prometheus ready; ${why()}`, 60_000, async () => {
      if (!p.running) throw new GiveUp(`Prometheus exited; ${why()}`);
      return (await fetch(`${api}/-/ready`)).ok ? true : undefined;
    });
    interface Target {
      labels: Record<string, string>;
      health: string;
      lastError: string;
    }
    const target = await waitFor('the venue scraped', 60_000, async () => {
      const t = (await get<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets.find(
        (x) => x.labels.job === 'rialto',
      );
      return t?.health === 'up' ? t : undefined;
    });
    assert.equal(target.labels.instance, new URL(venue.url).host);
    // Scraped and evaluated: the gauge is there, 0, and its alert quiet.
    await waitFor('the kill switch gauge in Prometheus', 60_000, async () => {
      const q = await get<{ result: { value: [number, string] }[] }>(
        '/api/v1/query?query=' + encodeURIComponent('rialto_venue_kill_switch_engaged{job="rialto"}'),
      );
      return q.result.length === 1 && q.result[0].value[1] === '0' ? true : undefined;
    });
    assert.equal(await killAlert(), undefined);

    const admin = venue.adminKey;
    assert.ok(admin !== null);
    const set = await fetch(`${venue.url}/api/v1/admin/kill-switch`, {
      method: 'POST',
      headers: { 'x-api-key': admin, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(set.status, 200, await set.text());

    const firing = await waitFor('RialtoVenueKillSwitchEngaged firing', 90_000, async () => {
      const a = await killAlert();
      return a?.state === 'firing' ? a : undefined;
    });
    assert.equal(firing.labels.severity, 'critical');
    assert.equal(firing.labels.instance, new URL(venue.url).host);
    assert.equal((await get<{ activeTargets: Target[] }>('/api/v1/targets')).activeTargets.length, 2);
  });
});
