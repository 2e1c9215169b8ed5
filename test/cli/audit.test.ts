/**
 * `rialto audit verify | tail` as a user runs them on the audit file of a data directory: a good chain
 * verifies with its count and head, a tampered one fails naming the first broken link (expected and found
 * hash), a truncated one fails against an anchor; `--table` checks the store's table against the file. On
 * PGlite `rialto keys` appends its events to the file itself; on a real PostgreSQL it leaves them in the inbox
 * and a venue chains them.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AuditFile,
  AuditLog,
  AuditProjection,
  auditFilePath,
  auditLineText,
  canonicalEventJson,
  chainEvents,
  GENESIS_HASH,
} from '../../src/audit/index.js';
import { startVenue } from '../../src/gateway/index.js';
import { loadConfigOrThrow } from '../../src/ops/index.js';
import { migrate, openPgliteStore, openPostgresStore, type Store } from '../../src/store/index.js';
import { sampleEvents } from '../audit/helpers.js';
import { TEST_DATABASE_URL } from '../store/helpers.js';
import { seedPglite } from '../support/pglite-template.js';
import { assertCleanFailure, run, type Run } from './helpers.js';

/** The configuration a `rialto` command with `env` would load. */
function loadTestConfig(env: Record<string, string>) {
  return loadConfigOrThrow({ file: null, env, cwd: process.cwd() }).config;
}

const rialtoWith = (env: Record<string, string>, ...args: string[]): Run => run(args, undefined, { env });

async function withPglite<T>(dataDir: string, work: (s: Store) => Promise<T>): Promise<T> {
  // A new database starts as a copy of initdb's (seconds of CPU saved); it is migrated here all the same.
  seedPglite(join(dataDir, 'pglite'));
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

  const path = auditFilePath(dataDir);
  /** Rewrites the file's line of event `seq` (1-based) with `edit` applied to its text. */
  const editLine = (seq: number, edit: (line: string) => string): void => {
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[seq - 1] = edit(lines[seq - 1]);
    writeFileSync(path, lines.join('\n'));
  };

  before(async () => {
    const file = await AuditFile.open(dataDir);
    await file.append(sampleEvents(30));
    hashes = chainEvents(0, GENESIS_HASH, sampleEvents(30)).map((r) => r.hash);
    await withPglite(dataDir, async (s) => {
      const p = new AuditProjection(new AuditLog(s), file.path, { durableSeq: () => file.head.seq });
      await p.catchUp();
      await p.close();
    });
    await file.close();
  });

  it('verifies a good chain and prints its count and head', () => {
    const r = rialtoWith(env, 'audit', 'verify');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `audit chain OK: 30 events, head 30:${hashes[29]}\n`);
    const j = rialtoWith(env, 'audit', 'verify', '--json');
    assert.deepEqual(JSON.parse(j.stdout), { ok: true, count: 30, headSeq: 30, headHash: hashes[29] });
  });

  it('names the first broken link of a tampered chain, with the expected and the found hash', () => {
    const original = readFileSync(path);
    // Events 7 and 20 changed as a forger would: another actor, the line's CRC recomputed, the hash kept.
    const records = chainEvents(0, GENESIS_HASH, sampleEvents(30));
    for (const seq of [7, 20]) {
      const r = records[seq - 1];
      const forged = { ...r, actor: { ...r.actor, id: 'mallory' } };
      editLine(seq, () => auditLineText(seq, r.hash, canonicalEventJson(seq, forged)).trimEnd());
    }
    const r = rialtoWith(env, 'audit', 'verify');
    assertCleanFailure(r, 1, /audit chain broken: event 7: expected hash [0-9a-f]{64}, found ([0-9a-f]{64})/);
    assert.ok(r.stderr.includes(`found ${hashes[6]}`), 'the stored hash is the one found');
    assert.match(r.stderr, /\(6 events before it are good\)/);
    const j = rialtoWith(env, 'audit', 'verify', '--json');
    assert.equal(j.status, 1);
    const report = JSON.parse(j.stdout) as { ok: boolean; broken: { kind: string; seq: number } };
    assert.deepEqual([report.ok, report.broken.kind, report.broken.seq], [false, 'hash', 7]);
    // A change that leaves the CRC wrong is damage, named by its event and byte.
    writeFileSync(path, original);
    editLine(9, (l) => l.replace('req-9', 'req-X'));
    assertCleanFailure(
      rialtoWith(env, 'audit', 'verify'),
      1,
      /event 9: a damaged line, with good lines after it at byte \d+ of the audit file/,
    );
    writeFileSync(path, original);
  });

  it('checks the table against the file with --table', async () => {
    const ok = rialtoWith(env, 'audit', 'verify', '--table');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /\naudit_events OK: 30 events as in the file, 0 not projected yet\n$/);
    await withPglite(dataDir, (s) => s.query("UPDATE audit_events SET action = 'nothing' WHERE seq = 11"));
    assertCleanFailure(
      rialtoWith(env, 'audit', 'verify', '--table'),
      1,
      /audit_events differs from the audit file at event 11: the table's row is not the file's event/,
    );
    await withPglite(dataDir, (s) =>
      s.query("UPDATE audit_events SET action = 'balances.read' WHERE seq = 11"),
    );
    assert.equal(rialtoWith(env, 'audit', 'verify', '--table').status, 0);
  });

  it('names a removed event, and a truncation against an anchor', () => {
    assert.equal(rialtoWith(env, 'audit', 'verify').status, 0, 'restored');
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [...lines.slice(0, 11), ...lines.slice(12)].join('\n'));
    assertCleanFailure(
      rialtoWith(env, 'audit', 'verify'),
      1,
      /event 12: event 13 out of order at byte \d+ of the audit file/,
    );
    writeFileSync(path, lines.slice(0, 11).join('\n') + '\n');
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
    assertCleanFailure(
      rialtoWith(env, 'audit', 'verify', '--table'),
      1,
      /audit_events differs from the audit file at event 12: the table goes on to event 30/,
    );
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

  it('leaves key commands in the inbox, which a venue chains into its file', async () => {
    const made = rialtoWith(env, 'keys', 'create', '--role', 'risk', '--json');
    assert.equal(made.status, 0, made.stderr);
    const id = (JSON.parse(made.stdout) as { id: string }).id;
    assert.equal(rialtoWith(env, 'keys', 'revoke', id).status, 0);
    const waiting = rialtoWith(env, 'audit', 'verify', '--table');
    assert.equal(waiting.status, 0, waiting.stderr);
    assert.match(waiting.stderr, /2 events of `rialto keys` wait in audit_inbox/);
    // A venue on the store chains them into its file and projects them (the store has a key: no admin key made).
    const config = loadTestConfig(env);
    const venue = await startVenue(config, { setup: [], listen: false, processMetrics: false });
    try {
      await venue.auditTable.catchUp();
      await venue.auditTable.catchUp();
    } finally {
      await venue.close();
    }
    const tail = rialtoWith(env, 'audit', 'tail', '--json');
    const events = tail.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; target: { id: string }; actor: { role: string } });
    assert.deepEqual(
      events.map((e) => [e.action, e.actor.role]),
      [
        ['key.create', 'operator'],
        ['key.revoke', 'operator'],
      ],
    );
    assert.deepEqual(
      events.map((e) => e.target.id),
      [id, id],
    );
    const ok = rialtoWith(env, 'audit', 'verify', '--table');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^audit chain OK: 2 events, head 2:[0-9a-f]{64}\naudit_events OK: 2 events/);
    assert.doesNotMatch(ok.stderr, /wait in audit_inbox/);
  });
});
