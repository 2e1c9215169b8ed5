/**
 * End-to-end tests of `rialto config validate` and `rialto keys create | list | revoke`: the built CLI in a
 * child process, as a user runs it. Keys run against the embedded store (PGlite in a temporary data
 * directory) and against a real PostgreSQL (a database made for this run and dropped after it).
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirLock } from '../../src/journal/index.js';
import { openPostgresStore } from '../../src/store/index.js';
import { TEST_DATABASE_URL } from '../store/helpers.js';
import { ROOT, assertCleanFailure, run, type Run } from './helpers.js';

const EXAMPLE = join(ROOT, 'rialto.example.yaml');
const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const KEY = /^rk_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/;

const tmp = mkdtempSync(join(tmpdir(), 'rialto-cli-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function rialtoIn(cwd: string, env: Record<string, string | undefined>, ...args: string[]): Run {
  return run(args, undefined, { cwd, env });
}

function writeConfig(name: string, yaml: string): string {
  const path = join(tmp, name);
  writeFileSync(path, yaml);
  return path;
}

describe('rialto config validate', () => {
  it('accepts the example file: exit 0 and a short summary', () => {
    const r = rialtoIn(tmp, {}, 'config', 'validate', EXAMPLE);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /rialto\.example\.yaml: valid \(development mode\)/);
    assert.match(r.stdout, /listen\s+0\.0\.0\.0:8080/);
    assert.match(r.stdout, /database\s+PGlite in .*data\/pglite/);
    assert.match(r.stdout, /instrument\s+BTC-USDT \(id 1\): tick 0\.01 USDT, lot 0\.0001 BTC/);
    assert.match(r.stdout, /instrument\s+ETH-USDT/);
    assert.match(r.stdout, /auth\s+on, HS256 secret set/);
    assert.doesNotMatch(r.stdout, /change-me/, 'no secret printed');
    assert.equal(r.stderr, '');
  });

  it('production mode refuses the placeholder secret, and accepts a real one from the environment', () => {
    const refused = rialtoIn(tmp, {}, 'config', 'validate', EXAMPLE, '--mode', 'production');
    assertCleanFailure(refused, 1, /auth\.jwt\.secret: is the example file's placeholder/);
    const accepted = rialtoIn(
      tmp,
      { RIALTO_JWT_SECRET: SECRET },
      'config',
      'validate',
      EXAMPLE,
      '--mode',
      'production',
    );
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.match(accepted.stdout, /valid \(production mode\)/);
    assert.match(accepted.stdout, /from env\s+RIALTO_JWT_SECRET/);
    assert.ok(!accepted.stdout.includes(SECRET), 'the secret is never printed');
  });

  it('lists every problem of a bad file, one per line, exit 1, no stack trace', () => {
    const file = writeConfig(
      'bad.yaml',
      'mode: production\nserver: { port: 99999, hots: x }\nlog: { level: debug }\nauth: { enabled: false }\n' +
        'rateLimits: { enabled: false }\ninstruments:\n  - { id: 1, symbol: X-Y, base: X, quote: Y, tickSize: 0.01, lotSize: "1", maxQty: "1" }\n',
    );
    const r = rialtoIn(tmp, { PORT: 'abc' }, 'config', 'validate', file);
    assertCleanFailure(r, 1, /bad\.yaml is not valid \(\d+ problems\):/);
    for (const line of [
      /^ {2}server\.port \(from PORT\): must be a whole number, got "abc"$/m,
      /^ {2}server\.port: must be a whole number from 0 to 65535, got number 99999$/m,
      /^ {2}server\.hots: unknown key \(allowed here: host, port, hsts, trustedProxies\)$/m,
      /^ {2}instruments\[0\]\.tickSize: .*YAML reads an unquoted number as a float$/m,
      /^ {2}auth\.enabled: production mode refuses to run without authentication/m,
      /^ {2}auth\.jwt: production mode needs a secret/m,
      /^ {2}log\.level: production mode refuses debug logging/m,
      /^ {2}rateLimits\.enabled: production mode refuses to run without rate limits/m,
    ]) {
      assert.match(r.stderr, line);
    }
  });

  it('--ignore-env checks the file alone', () => {
    const file = writeConfig('plain.yaml', 'server: { port: 9000 }\n');
    assertCleanFailure(
      rialtoIn(tmp, { PORT: 'abc' }, 'config', 'validate', file),
      1,
      /server\.port \(from PORT\)/,
    );
    const r = rialtoIn(tmp, { PORT: 'abc' }, 'config', 'validate', file, '--ignore-env');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /listen\s+0\.0\.0\.0:9000/);
  });

  it('masks a database password in the summary and warns of unknown RIALTO_ variables', () => {
    const file = writeConfig(
      'pg.yaml',
      'database: { url: "postgres://rialto:hunter2@db.example:5432/rialto" }\n',
    );
    const r = rialtoIn(tmp, { RIALTO_JWT_SECRT: 'typo' }, 'config', 'validate', file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /database\s+PostgreSQL postgres:\/\/rialto:\*\*\*@db\.example:5432\/rialto/);
    assert.doesNotMatch(r.stdout, /hunter2/);
    assert.match(r.stderr, /warning: RIALTO_JWT_SECRT is set but is not a Rialto setting/);
  });

  it('a missing file, a directory, and broken YAML fail with one clear message', () => {
    assertCleanFailure(
      rialtoIn(tmp, {}, 'config', 'validate', 'nope.yaml'),
      1,
      /^rialto: nope\.yaml: no such file$/m,
    );
    assertCleanFailure(rialtoIn(tmp, {}, 'config', 'validate', tmp), 1, /is a directory/);
    const broken = writeConfig('broken.yaml', 'server: { port: 1\n');
    assertCleanFailure(
      rialtoIn(tmp, {}, 'config', 'validate', broken),
      1,
      /is not valid YAML: .*line \d+, column \d+/,
    );
  });

  it('bad command lines are usage errors (exit 2)', () => {
    for (const args of [
      ['config', 'validate'],
      ['config', 'validate', EXAMPLE, '--mode', 'staging'],
      ['config', 'validate', EXAMPLE, '--frobnicate'],
      ['config', 'frobnicate'],
    ]) {
      const r = rialtoIn(tmp, {}, ...args);
      assert.equal(r.status, 2, `rialto ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /error: /);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    }
  });

  it('has help', () => {
    const r = rialtoIn(tmp, {}, 'config', 'validate', '--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: rialto config validate \[options\] <file>/);
    assert.match(r.stdout, /--mode <mode>/);
  });
});

/** The keys commands' shared scenario, against whichever store `env` configures. */
function keysScenario(env: () => Record<string, string | undefined>, cwd: () => string): void {
  const keys = (...args: string[]): Run => rialtoIn(cwd(), env(), 'keys', ...args);

  it('create prints the key alone on stdout, and the secret only then', () => {
    const admin = keys('create', '--role', 'admin', '--label', 'ops');
    assert.equal(admin.status, 0, admin.stderr);
    assert.match(admin.stdout.trim(), KEY);
    assert.match(admin.stderr, /created admin key [A-Za-z0-9_-]{16}: its secret is shown only this once/);

    const trader = keys('create', '--role', 'trader', '--account', '3', '--account', '4', '--json');
    assert.equal(trader.status, 0, trader.stderr);
    const made = JSON.parse(trader.stdout) as { id: string; role: string; accountIds: number[]; key: string };
    assert.equal(made.role, 'trader');
    assert.deepEqual(made.accountIds, [3, 4]);
    assert.match(made.key, KEY);

    const list = keys('list');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+ROLE\s+ACCOUNTS\s+CREATED\s+REVOKED\s+LABEL$/m);
    assert.match(list.stdout, /\sadmin\s+-\s+\S+Z\s+-\s+ops$/m);
    assert.match(list.stdout, new RegExp(`^${made.id}\\s+trader\\s+3,4\\s`, 'm'));
    const secretOf = (k: string) => k.split('.')[1];
    assert.ok(!list.stdout.includes(secretOf(made.key)), 'no secret in the list');
    assert.ok(!list.stdout.includes(secretOf(admin.stdout.trim())), 'no secret in the list');
    assert.doesNotMatch(list.stdout, /argon2/);

    const json = keys('list', '--json');
    const listed = JSON.parse(json.stdout) as { keys: Record<string, unknown>[] };
    assert.equal(listed.keys.length, 2);
    assert.deepEqual(Object.keys(listed.keys[0]).sort(), [
      'accountIds',
      'createdAt',
      'id',
      'label',
      'revokedAt',
      'role',
    ]);

    const revoked = keys('revoke', made.id);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`^revoked trader key ${made.id} at \\S+Z$`, 'm'));
    const again = keys('revoke', made.id);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /was already revoked at/);
    assert.match(keys('list').stdout, new RegExp(`^${made.id}\\s+trader\\s+3,4\\s+\\S+Z\\s+\\S+Z`, 'm'));
    assertCleanFailure(keys('revoke', 'AAAAAAAAAAAAAAAA'), 1, /no API key with id "AAAAAAAAAAAAAAAA"/);
  });
}

describe('rialto keys (PGlite in the data directory)', () => {
  const dataDir = join(tmp, 'data');
  const env = () => ({ RIALTO_DATA_DIR: dataDir });

  it('list on a fresh directory says there are none and creates nothing', () => {
    const r = rialtoIn(tmp, env(), 'keys', 'list');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no API keys/);
    assert.ok(!existsSync(dataDir));
    assertCleanFailure(rialtoIn(tmp, env(), 'keys', 'revoke', 'AAAAAAAAAAAAAAAA'), 1, /no API key/);
  });

  keysScenario(env, () => tmp);

  it('keeps the store in the data directory and releases its LOCK', () => {
    assert.ok(existsSync(join(dataDir, 'pglite', 'PG_VERSION')));
    assert.ok(!existsSync(join(dataDir, 'LOCK')));
  });

  it('fails naming the holder while another process holds the data directory', async () => {
    const lock = await DirLock.acquire(dataDir, 'a test engine');
    try {
      assertCleanFailure(rialtoIn(tmp, env(), 'keys', 'list'), 1, /a test engine/);
      assertCleanFailure(rialtoIn(tmp, env(), 'keys', 'create', '--role', 'viewer'), 1, /a test engine/);
    } finally {
      await lock.release();
    }
  });

  it('reads --config, RIALTO_CONFIG and ./rialto.yaml, and refuses a bad configuration before the store', () => {
    const other = join(tmp, 'other-data');
    const cfg = writeConfig('keys.yaml', `dataDir: ${other}\n`);
    const r = rialtoIn(tmp, {}, 'keys', 'create', '--role', 'viewer', '--config', cfg);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(other, 'pglite')));
    const viaEnv = rialtoIn(tmp, { RIALTO_CONFIG: cfg }, 'keys', 'list');
    assert.match(viaEnv.stdout, /viewer/);
    const local = mkdtempSync(join(tmp, 'cwd-'));
    writeFileSync(join(local, 'rialto.yaml'), `dataDir: ${other}\n`);
    assert.match(rialtoIn(local, {}, 'keys', 'list').stdout, /viewer/);
    const bad = writeConfig('bad-keys.yaml', 'server: { port: x }\n');
    assertCleanFailure(
      rialtoIn(tmp, {}, 'keys', 'list', '--config', bad),
      1,
      /server\.port: must be a whole number/,
    );
  });

  it('bad arguments are usage errors (exit 2), before any store is opened', () => {
    for (const args of [
      ['create'],
      ['create', '--role', 'boss'],
      ['create', '--role', 'trader'],
      ['create', '--role', 'admin', '--account', '1'],
      ['create', '--role', 'trader', '--account', '0'],
      ['create', '--role', 'trader', '--account', 'x'],
      ['create', '--role', 'viewer', '--label', 'x'.repeat(101)],
      ['revoke'],
      ['frobnicate'],
    ]) {
      const r = rialtoIn(tmp, { RIALTO_DATA_DIR: join(tmp, 'never') }, 'keys', ...args);
      assert.equal(r.status, 2, `rialto keys ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /error: /);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    }
    assert.ok(!existsSync(join(tmp, 'never')));
  });
});

describe('rialto keys (PostgreSQL from DATABASE_URL)', () => {
  const database = `rialto_cli_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;

  before(async () => {
    const admin = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await admin.exec(`CREATE DATABASE ${database}`);
    await admin.close();
  });
  after(async () => {
    const admin = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await admin.exec(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.close();
  });

  keysScenario(
    () => ({ DATABASE_URL: url.toString(), RIALTO_DATA_DIR: join(tmp, 'pg-data') }),
    () => tmp,
  );

  it('an unreachable database fails with one line', () => {
    const r = rialtoIn(tmp, { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' }, 'keys', 'list');
    assertCleanFailure(r, 1, /cannot reach PostgreSQL/);
  });
});
