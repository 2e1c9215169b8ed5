/**
 * `rialto audit verify | tail` as a user runs them: a good chain verifies with its count and head, a tampered
 * one fails naming the first broken link (expected and found hash), a truncated one fails against an anchor,
 * on PGlite in a data directory and on a real PostgreSQL (where `rialto keys` writes the events).
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/index.js';
import { migrate, openPgliteStore, openPostgresStore, type Store } from '../../src/store/index.js';
import { sampleEvents } from '../audit/helpers.js';
import { TEST_DATABASE_URL } from '../store/helpers.js';
import { assertCleanFailure, run, type Run } from './helpers.js';

const rialtoWith = (env: Record<string, string>, ...args: string[]): Run => run(args, undefined, { env });

async function withPglite<T>(dataDir: string, work: (s: Store) => Promise<T>): Promise<T> {
  const s = await openPgliteStore({ dir: join(dataDir, 'pglite'), create: true });
  try {
    await migrate(s);
    return await work(s);
  } finally {
    await s.close();
  }
}

describe('rialto audit (PGlite)', { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rialto-audit-'));
  const env = { RIALTO_DATA_DIR: dataDir };
  let hashes: string[] = [];

  before(async () => {
    hashes = await withPglite(dataDir, async (s) =>
      (await new AuditLog(s).append(sampleEvents(30))).map((r) => r.hash),
    );
  });

  it('verifies a good chain and prints its count and head', () => {
    const r = rialtoWith(env, 'audit', 'verify');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `audit chain OK: 30 events, head 30:${hashes[29]}\n`);
    const j = rialtoWith(env, 'audit', 'verify', '--json');
    assert.deepEqual(JSON.parse(j.stdout), { ok: true, count: 30, headSeq: 30, headHash: hashes[29] });
  });

  it('names the first broken link of a tampered chain, with the expected and the found hash', async () => {
    await withPglite(dataDir, (s) =>
      s.query("UPDATE audit_events SET actor_id = 'mallory' WHERE seq IN (7, 20)"),
    );
    const r = rialtoWith(env, 'audit', 'verify');
    assertCleanFailure(r, 1, /audit chain broken: event 7: expected hash [0-9a-f]{64}, found ([0-9a-f]{64})/);
    assert.ok(r.stderr.includes(`found ${hashes[6]}`), 'the stored hash is the one found');
    assert.match(r.stderr, /\(6 events before it are good\)/);
    const j = rialtoWith(env, 'audit', 'verify', '--json');
    assert.equal(j.status, 1);
    const report = JSON.parse(j.stdout) as { ok: boolean; broken: { kind: string; seq: number } };
    assert.deepEqual([report.ok, report.broken.kind, report.broken.seq], [false, 'hash', 7]);
    // Back as they were (sampleEvent: actor key{i % 5}).
    await withPglite(dataDir, (s) =>
      s.query(
        "UPDATE audit_events SET actor_id = CASE seq WHEN 7 THEN 'key2' ELSE 'key0' END WHERE seq IN (7, 20)",
      ),
    );
  });

  it('names a removed event, and a truncation against an anchor', async () => {
    assert.equal(rialtoWith(env, 'audit', 'verify').status, 0, 'restored');
    await withPglite(dataDir, (s) => s.query('DELETE FROM audit_events WHERE seq = 12'));
    assertCleanFailure(
      rialtoWith(env, 'audit', 'verify'),
      1,
      /event 12 is missing \(the next event found is 13\)/,
    );
    await withPglite(dataDir, (s) => s.query('DELETE FROM audit_events WHERE seq >= 12'));
    const cut = rialtoWith(env, 'audit', 'verify');
    assert.equal(cut.status, 0, 'a chain cut at its end still verifies by itself');
    assert.match(cut.stdout, /OK: 11 events, head 11:/);
    const anchored = rialtoWith(env, 'audit', 'verify', '--anchor', `30:${hashes[29]}`);
    assertCleanFailure(
      anchored,
      1,
      /does not hold the anchor: the chain has 11 events: event 30 of the anchor is gone/,
    );
    assert.equal(rialtoWith(env, 'audit', 'verify', '--anchor', `11:${hashes[10]}`).status, 0);
    assert.equal(rialtoWith(env, 'audit', 'verify', '--anchor', 'nonsense').status, 2, 'a usage error');
  });

  it('tails the last events, as lines or JSON', () => {
    const r = rialtoWith(env, 'audit', 'tail', '-n', '2');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(
      lines[1],
      /^11 {2}2026-01-01T00:00:00\.011Z {2}.*\(admin\)@127\.0\.0\.1 {2}balances\.read {2}account:4 {2}ok {2}req=req-11/,
    );
    const j = rialtoWith(env, 'audit', 'tail', '-n', '1', '--json');
    const e = JSON.parse(j.stdout) as { seq: number; hash: string };
    assert.deepEqual([e.seq, e.hash], [11, hashes[10]]);
  });
});

describe('rialto audit (PostgreSQL from DATABASE_URL)', { timeout: 120_000 }, () => {
  const database = `rialto_audit_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  const env = {
    DATABASE_URL: url.toString(),
    RIALTO_DATA_DIR: mkdtempSync(join(tmpdir(), 'rialto-audit-pg-')),
  };

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

  it('records key commands, verifies them, and names a tampered event', async () => {
    const made = rialtoWith(env, 'keys', 'create', '--role', 'risk', '--json');
    assert.equal(made.status, 0, made.stderr);
    const id = (JSON.parse(made.stdout) as { id: string }).id;
    assert.equal(rialtoWith(env, 'keys', 'revoke', id).status, 0);
    const tail = rialtoWith(env, 'audit', 'tail', '--json');
    const events = tail.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; target: { id: string }; actor: { role: string } });
    assert.deepEqual(
      events.map((e) => [e.action, e.target.id, e.actor.role]),
      [
        ['key.create', id, 'operator'],
        ['key.revoke', id, 'operator'],
      ],
    );
    const ok = rialtoWith(env, 'audit', 'verify');
    assert.match(ok.stdout, /^audit chain OK: 2 events, head 2:[0-9a-f]{64}\n$/);
    const db = await openPostgresStore({ url: url.toString(), schema: null });
    try {
      await db.query(`UPDATE audit_events SET details = '{"role":"admin"}' WHERE seq = 1`);
    } finally {
      await db.close();
    }
    assertCleanFailure(rialtoWith(env, 'audit', 'verify'), 1, /audit chain broken: event 1: expected hash/);
  });
});
