/**
 * The table as a projection of the file, on PGlite and PostgreSQL alike: the file's events become rows exactly
 * (details text as hashed), projecting again changes nothing, a projection started later catches up from the
 * table's head, the table checks against the file (a changed row, a lag, a table ahead of the file), and inbox
 * events are chained into the file once, even when they were chained before a crash left them in the inbox.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AuditFile,
  AuditFileReader,
  AuditInbox,
  AuditLog,
  AuditProjection,
  GENESIS_HASH,
  chainEvents,
  compareTable,
  makeEvent,
  verifyChain,
  type AuditEventInput,
} from '../../src/audit/index.js';
import { migrate, type Store } from '../../src/store/index.js';
import { storeFactories } from '../store/helpers.js';
import { sampleEvent, sampleEvents } from './helpers.js';

for (const factory of storeFactories()) {
  describe(`audit table as a projection: ${factory.name}`, () => {
    let store: Store;
    let log: AuditLog;
    let file: AuditFile;

    const made: AuditProjection[] = [];
    const projection = (extra: Partial<ConstructorParameters<typeof AuditProjection>[2]> = {}) => {
      const p = new AuditProjection(log, file.path, { durableSeq: () => file.head.seq, ...extra });
      made.push(p);
      return p;
    };

    before(async () => {
      store = await factory.fresh();
      await migrate(store);
      log = new AuditLog(store);
      file = await AuditFile.open(mkdtempSync(join(tmpdir(), 'rialto-audit-proj-')));
    });
    after(async () => {
      for (const p of made) await p.close();
      await file.close();
      await store.close();
      await factory.cleanup();
    });

    it('writes the file events as rows, exactly, and projecting again changes nothing', async () => {
      assert.deepEqual(await log.head(), { seq: 0, hash: GENESIS_HASH });
      await file.append(sampleEvents(5));
      await projection().catchUp();
      const rows = await log.page(0, 100);
      assert.deepEqual(rows, chainEvents(0, GENESIS_HASH, sampleEvents(5)), 'the same events and hashes');
      assert.equal(verifyChain(rows).ok, true);
      // A projection that starts from scratch finds the table's head and writes nothing twice.
      await file.append([sampleEvent(6), sampleEvent(7)]);
      const p = projection();
      await p.catchUp();
      assert.equal(p.projectedSeq, 7);
      assert.equal((await log.page(0, 100)).length, 7);
      await log.project([]);
      assert.deepEqual(await compareTable(file.path, log), { ok: true, rows: 7, lag: 0 });
    });

    it('may lag behind the file, and is checked against it', async () => {
      await file.append([sampleEvent(8)]);
      assert.deepEqual(await compareTable(file.path, log), { ok: true, rows: 7, lag: 1 });
      await store.query("UPDATE audit_events SET actor_ip = '10.6.6.6' WHERE seq = 3");
      const changed = await compareTable(file.path, log);
      assert.deepEqual(changed, { ok: false, seq: 3, why: "the table's row is not the file's event" });
      await store.query("UPDATE audit_events SET actor_ip = '127.0.0.1' WHERE seq = 3");
      await store.query('DELETE FROM audit_events WHERE seq = 5');
      assert.deepEqual(await compareTable(file.path, log), {
        ok: false,
        seq: 5,
        why: 'the table has no row for it',
      });
      await projection()
        .catchUp()
        .catch(() => undefined);
    });

    it('chains inbox events into the file once, also after a crash between chaining and removing', async () => {
      await store.query('DELETE FROM audit_events');
      const inbox = new AuditInbox(store);
      const chained: AuditEventInput[] = [];
      const chain = async (events: readonly AuditEventInput[]): Promise<void> => {
        chained.push(...events);
        await file.append(events);
      };
      await inbox.add(sampleEvent(50));
      await inbox.add(sampleEvent(51));
      assert.equal(await inbox.count(), 2);
      // A venue chained event 50 and crashed before removing it from the inbox.
      await file.append([sampleEvent(50)]);
      await projection({ inbox, chain }).catchUp();
      assert.deepEqual(
        chained.map((e) => e.id),
        [sampleEvent(51).id],
        'event 50 was in the file already',
      );
      assert.equal(await inbox.count(), 0);
      await projection({ inbox, chain }).catchUp();
      const rows = await log.page(0, 100);
      assert.deepEqual(
        rows.slice(-2).map((r) => r.id),
        [sampleEvent(50).id, sampleEvent(51).id],
      );
      assert.deepEqual(await compareTable(file.path, log), { ok: true, rows: rows.length, lag: 0 });
    });

    it('keeps text with COPY’s special characters exactly, and writes lines already there again as no-ops', async () => {
      await store.query('DELETE FROM audit_events');
      const own = await AuditFile.open(mkdtempSync(join(tmpdir(), 'rialto-audit-copy-')));
      try {
        const odd = (i: number): AuditEventInput =>
          makeEvent({
            ...sampleEvent(i),
            actor: { id: 'tab\there', role: 'back\\slash', ip: null },
            target: { kind: 'line\nbreak', id: '\\N' },
            requestId: 'cr\rlf\n',
            details: { text: 'a\tb\\c\nd "quoted" ünï €', n: i },
          });
        await own.append([odd(1), odd(2), odd(3)]);
        const ownLog = new AuditLog(store);
        const p = new AuditProjection(ownLog, own.path, { durableSeq: () => own.head.seq });
        made.push(p);
        await p.catchUp();
        const rows = await ownLog.page(0, 100);
        assert.deepEqual(rows, chainEvents(0, GENESIS_HASH, [odd(1), odd(2), odd(3)]));
        // Every line again, two of them in the table: no error, nothing changed, the missing one written.
        await store.query('DELETE FROM audit_events WHERE seq = 2');
        const lines = [];
        for await (const page of new AuditFileReader(own.path).pages(100)) lines.push(...page);
        await ownLog.project(lines);
        assert.deepEqual(await ownLog.page(0, 100), rows);
        assert.deepEqual(await compareTable(own.path, ownLog), { ok: true, rows: 3, lag: 0 });
      } finally {
        await own.close();
      }
    });
  });
}
