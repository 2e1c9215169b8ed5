/**
 * `rialto backup` and `rialto restore` as an operator runs them: a venue trades, is backed up, its data
 * directory (and database) wiped, restored, and found again with the same state hash, the same query rows
 * and the same orders over the API. Then the refusals: a running embedded venue, non-empty targets, a
 * damaged or incomplete backup.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
  readdirSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fingerprintTables, parseManifest } from '../../src/backup/index.js';
import { recoverState } from '../../src/engine/index.js';
import { openPgliteStore, openPostgresStore, type Queryable } from '../../src/store/index.js';
import { postJson, run, startVenue, stopVenue, type Run, type StartedVenue } from '../cli/helpers.js';
import { TEST_DATABASE_URL } from '../store/helpers.js';
import { seedPglite } from '../support/pglite-template.js';

const rialtoWith = (env: Record<string, string>, ...args: string[]): Run => run(args, undefined, { env });
const tmp = (name: string): string => mkdtempSync(join(tmpdir(), `rialto-${name}-`));

/** Trades a little on a venue: an account, a deposit, a resting order. Returns the order's answer and the key. */
async function trade(v: StartedVenue): Promise<{ key: string; order: Record<string, unknown> }> {
  const key = /^\s+(rk_\S+)$/m.exec(v.stdout())?.[1];
  assert.ok(key !== undefined, v.stdout());
  assert.equal((await postJson(`${v.url}/api/v1/admin/accounts`, key, { account_id: 7 })).status, 201);
  const dep = await postJson(`${v.url}/api/v1/admin/accounts/7/deposits`, key, {
    asset: 'USDT',
    amount: '1000',
  });
  assert.equal(dep.status, 201);
  const placed = await postJson(`${v.url}/api/v1/orders`, key, {
    account_id: 7,
    symbol: 'ETH-USDT',
    side: 'buy',
    order_type: 'limit',
    quantity: '0.1',
    price: '3000',
    client_order_id: 'bk-1',
  });
  assert.equal(placed.status, 201, JSON.stringify(placed.json));
  return { key, order: placed.json };
}

async function stateHash(dataDir: string): Promise<{ hash: string; lastSeq: number }> {
  const s = await recoverState(dataDir);
  return { hash: s.core.stateHash(), lastSeq: s.lastSeq };
}

/** Every row of every table, as text, sorted: what "the same query rows" means. */
async function allRows(db: Queryable): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const name of Object.keys(await fingerprintTables(db))) {
    const rows = await db.query(`SELECT t::text AS row FROM "${name}" t`);
    out[name] = rows.map((r) => String(r.row)).sort();
  }
  return out;
}

async function pgliteRows(dataDir: string): Promise<Record<string, string[]>> {
  const s = await openPgliteStore({ dir: join(dataDir, 'pglite'), create: false });
  try {
    return await allRows(s);
  } finally {
    await s.close();
  }
}

function assertCleanFailure(r: Run, code: string, message: RegExp): void {
  assert.equal(r.status, 1, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`rialto: ${code}: `));
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

describe('rialto backup and restore, embedded store', { timeout: 180_000 }, () => {
  const dataDir = tmp('bk-data');
  const env = { RIALTO_DATA_DIR: dataDir };
  let key = '';
  let order: Record<string, unknown> = {};
  let before_: { hash: string; lastSeq: number };
  let rowsBefore: Record<string, string[]>;
  const backupDir = join(tmp('bk-dest'), 'backup');
  /** The backup of the stopped venue, made once: the later tests damage copies of it. */
  let made: Run;

  before(async () => {
    // The venue's new PGlite database starts as a copy of initdb's (seconds of CPU saved; the venue opens and
    // migrates it as one it made itself).
    seedPglite(join(dataDir, 'pglite'));
    const v = await startVenue(dataDir);
    try {
      ({ key, order } = await trade(v));
      // Refused while the venue runs: PGlite's files cannot be copied live. Nothing is left behind.
      const busy = rialtoWith(env, 'backup', backupDir);
      assertCleanFailure(busy, 'BACKUP_DATA_DIR_IN_USE', /stop the venue first/);
      assert.equal(existsSync(backupDir), false, 'a refused backup leaves no directory');
    } finally {
      assert.equal(await stopVenue(v), 0, v.stderr());
    }
    before_ = await stateHash(dataDir);
    rowsBefore = await pgliteRows(dataDir);
    made = rialtoWith(env, 'backup', backupDir, '--json');
  });

  /** A copy of the backup made in `before`, for a test to damage. */
  const copyOfBackup = (name: string): string => {
    const dir = join(tmp(name), 'b');
    cpSync(backupDir, dir, { recursive: true });
    return dir;
  };

  it('backs up, is checked, and restores after a wipe to the same state, rows and orders', async () => {
    const b = made;
    assert.equal(b.status, 0, b.stderr);
    const manifest = parseManifest(b.stdout);
    assert.deepEqual([manifest.state.stateHash, manifest.state.lastSeq], [before_.hash, before_.lastSeq]);
    assert.equal(manifest.store, 'pglite');
    assert.ok(manifest.files.some((f) => /^data\/journal-\d+\.seg$/.test(f.path)));
    assert.ok(manifest.files.some((f) => f.path.startsWith('pglite/')));
    assert.ok(manifest.tables.api_keys.rows >= 1, 'the admin key is in the backup');
    assert.deepEqual(parseManifest(readFileSync(join(backupDir, 'manifest.json'), 'utf8')), manifest);

    const check = rialtoWith(env, 'restore', backupDir, '--check');
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, new RegExp(`backup OK: .*state hash ${before_.hash}`));

    rmSync(dataDir, { recursive: true, force: true });
    const r = rialtoWith(env, 'restore', backupDir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`state hash ${before_.hash}`));
    assert.deepEqual(await stateHash(dataDir), before_);
    assert.deepEqual(await pgliteRows(dataDir), rowsBefore);

    const v = await startVenue(dataDir);
    try {
      const again = await fetch(`${v.url}/api/v1/orders/${String(order.order_id)}`, {
        headers: { 'x-api-key': key },
      });
      assert.equal(again.status, 200, 'the admin key of before the wipe still works');
      assert.deepEqual(await again.json(), order);
    } finally {
      assert.equal(await stopVenue(v), 0, v.stderr());
    }
  });

  it('refuses a destination or data directory that is not empty', () => {
    const full = tmp('bk-full');
    writeFileSync(join(full, 'something'), 'x');
    assertCleanFailure(rialtoWith(env, 'backup', full), 'BACKUP_TARGET_NOT_EMPTY', /is not empty/);
    assert.deepEqual(readdirSync(full), ['something'], 'nothing written into it');
    assertCleanFailure(
      rialtoWith({ RIALTO_DATA_DIR: full }, 'restore', backupDir),
      'BACKUP_TARGET_NOT_EMPTY',
      /the data directory .* is not empty/,
    );
    assertCleanFailure(
      rialtoWith(env, 'backup', join(dataDir, 'inside')),
      'BACKUP_TARGET_NOT_EMPTY',
      /outside/,
    );
  });

  it('names a damaged file, and a failed restore leaves the data directory empty', () => {
    const damaged = copyOfBackup('bk-damaged');
    const manifest = parseManifest(readFileSync(join(damaged, 'manifest.json'), 'utf8'));
    const seg = manifest.files.find((f) => f.path.startsWith('data/journal-'));
    assert.ok(seg !== undefined);
    const bytes = readFileSync(join(damaged, seg.path));
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(join(damaged, seg.path), bytes);
    assertCleanFailure(
      rialtoWith(env, 'restore', damaged, '--check'),
      'BACKUP_DAMAGED',
      new RegExp(`${seg.path.replaceAll('.', '\\.')} differs from the manifest`),
    );
    const target = tmp('bk-target');
    assertCleanFailure(
      rialtoWith({ RIALTO_DATA_DIR: target }, 'restore', damaged),
      'BACKUP_DAMAGED',
      /differs/,
    );
    assert.deepEqual(readdirSync(target), [], 'nothing restored');
  });

  it('refuses an incomplete backup and a manifest that points outside the backup', () => {
    const incomplete = tmp('bk-incomplete');
    mkdirSync(join(incomplete, 'data'));
    assertCleanFailure(
      rialtoWith(env, 'restore', incomplete, '--check'),
      'BACKUP_SOURCE_MISSING',
      /no manifest\.json/,
    );
    const evil = copyOfBackup('bk-evil');
    const m = JSON.parse(readFileSync(join(evil, 'manifest.json'), 'utf8')) as { files: { path: string }[] };
    m.files[0].path = '../../etc/passwd';
    writeFileSync(join(evil, 'manifest.json'), JSON.stringify(m));
    assertCleanFailure(
      rialtoWith(env, 'restore', evil, '--check'),
      'BACKUP_DAMAGED',
      /not a relative path inside/,
    );
  });
});

describe('rialto backup and restore, PostgreSQL (online)', { timeout: 180_000 }, () => {
  const database = `rialto_backup_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  const dataDir = tmp('bk-pg-data');
  const env = { DATABASE_URL: url.toString(), RIALTO_DATA_DIR: dataDir };

  const admin = async <T>(work: (db: Queryable) => Promise<T>): Promise<T> => {
    const s = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    try {
      return await work(s);
    } finally {
      await s.close();
    }
  };
  const venueRows = async (): Promise<Record<string, string[]>> => {
    const s = await openPostgresStore({ url: url.toString(), schema: null });
    try {
      return await allRows(s);
    } finally {
      await s.close();
    }
  };

  before(() => admin((db) => db.exec(`CREATE DATABASE ${database}`)));
  after(() => admin((db) => db.exec(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)));

  it('backs up beside a running venue, and restores into an empty database to the same state and rows', async () => {
    const backupDir = join(tmp('bk-pg-dest'), 'backup');
    const v = await startVenue(dataDir, { DATABASE_URL: url.toString() });
    let order: Record<string, unknown>;
    let key: string;
    try {
      ({ key, order } = await trade(v));
      const b = rialtoWith(env, 'backup', backupDir, '--json');
      assert.equal(b.status, 0, b.stderr);
      const m = parseManifest(b.stdout);
      assert.equal(m.online, true);
      assert.ok(m.postgresDump !== null && m.postgresDump.bytes > 0);
      assert.ok(m.state.lastSeq >= 3, 'the account, the deposit and the order are in the copied journal');
    } finally {
      assert.equal(await stopVenue(v), 0, v.stderr());
    }
    // The venue stopped after the backup: its shutdown snapshot is not in the backup, the journal is.
    const rowsAtBackup = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8')) as {
      tables: Record<string, { rows: number }>;
    };
    assert.ok(rowsAtBackup.tables.api_keys.rows >= 1);
    const rowsBefore = await venueRows();

    // Wipe: the data directory and the database.
    rmSync(dataDir, { recursive: true, force: true });
    await admin(async (db) => {
      await db.exec(`DROP DATABASE ${database} WITH (FORCE)`);
      await db.exec(`CREATE DATABASE ${database}`);
    });
    const r = rialtoWith(env, 'restore', backupDir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /query tables match the backup/);
    const manifest = parseManifest(readFileSync(join(backupDir, 'manifest.json'), 'utf8'));
    assert.deepEqual((await stateHash(dataDir)).hash, manifest.state.stateHash);
    // The rows the venue wrote before the backup (keys, client order ids, audit events up to then).
    const rowsAfter = await venueRows();
    assert.deepEqual(rowsAfter.api_keys, rowsBefore.api_keys);
    assert.deepEqual(rowsAfter.schema_migrations, rowsBefore.schema_migrations);

    // A second restore into the now populated database is refused, naming its tables.
    const again = rialtoWith({ ...env, RIALTO_DATA_DIR: tmp('bk-pg-again') }, 'restore', backupDir);
    assertCleanFailure(again, 'BACKUP_TARGET_NOT_EMPTY', /the database already has tables \(.*api_keys/);

    const v2 = await startVenue(dataDir, { DATABASE_URL: url.toString() });
    try {
      const got = await fetch(`${v2.url}/api/v1/orders/${String(order.order_id)}`, {
        headers: { 'x-api-key': key },
      });
      assert.equal(got.status, 200, 'the restored key works against the restored database');
      assert.deepEqual(await got.json(), order);
    } finally {
      assert.equal(await stopVenue(v2), 0, v2.stderr());
    }
  });
});
