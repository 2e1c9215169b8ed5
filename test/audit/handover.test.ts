/**
 * The audit projection fed by the file's worker (file-thread.ts): each durable group's rows handed over as
 * COPY text, written as they are, and the file read for everything else: groups appended before the hand-over
 * began (a restart), groups not handed over because the held text was at its bound, a group larger than a
 * batch on a shared thread. On PGlite and PostgreSQL alike, the table ends as the file's projection either
 * way: the same rows as the file's events and hashes, none twice, also when the handed rows are in the table
 * already, and a failed write keeps the text for its retry.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  AuditFile,
  AuditFileReader,
  AuditLog,
  AuditProjection,
  GENESIS_HASH,
  chainEvents,
  compareTable,
  makeEvent,
  type AuditEventInput,
  type AuditProjectionOptions,
} from '../../src/audit/index.js';
import { copyRowOfLine } from '../../src/audit/copy-row.js';
import { migrate, type Store } from '../../src/store/index.js';
import { storeFactories } from '../store/helpers.js';
import { sampleEvent } from './helpers.js';

/** Events `from` to `to` (inclusive): the samples, every third with COPY's special characters and non-ASCII. */
const events = (from: number, to: number): AuditEventInput[] =>
  Array.from({ length: to - from + 1 }, (_, k) => {
    const i = from + k;
    if (i % 3 !== 0) return sampleEvent(i);
    return makeEvent({
      ...sampleEvent(i),
      actor: { id: 'tab\there', role: 'back\\slash', ip: null },
      target: { kind: 'line\nbreak', id: '\\N' },
      requestId: 'cr\rlf\n',
      details: { text: 'a\tb\\c\nd "quoted" ünï €', n: i },
    });
  });

/** The bytes of the COPY text of events 1 to `n` as a file's first lines (a scratch file: the same chain). */
async function copyTextBytes(n: number): Promise<number> {
  const scratch = await AuditFile.open(mkdtempSync(join(tmpdir(), 'rialto-audit-handover-size-')));
  try {
    await scratch.append(events(1, n));
    let bytes = 0;
    for await (const page of new AuditFileReader(scratch.path).pages(n))
      for (const l of page) bytes += Buffer.byteLength(copyRowOfLine(l.seq, l.hash, l.json));
    return bytes;
  } finally {
    await scratch.close();
  }
}

/** An AuditLog whose COPY of handed-over text fails `failures` times (the store down), then works. */
class FailingLog extends AuditLog {
  failures = 0;
  override async projectCopyText(...args: Parameters<AuditLog['projectCopyText']>): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('the store is down');
    }
    await super.projectCopyText(...args);
  }
}

for (const factory of storeFactories()) {
  describe(`audit projection from the file's worker: ${factory.name}`, () => {
    let store: Store;
    let log: FailingLog;
    let file: AuditFile;
    const made: AuditProjection[] = [];

    const projection = (extra: Partial<AuditProjectionOptions> = {}): AuditProjection => {
      const p = new AuditProjection(log, file.path, {
        durableSeq: () => file.head.seq,
        sharesThread: false,
        ...extra,
      });
      made.push(p);
      return p;
    };
    /** The table holds the file's events 1 to `n` exactly, with their hashes. */
    const holdsTheFile = async (n: number): Promise<void> => {
      assert.deepEqual(await log.page(0, 10_000), chainEvents(0, GENESIS_HASH, events(1, n)));
      assert.deepEqual(await compareTable(file.path, log), { ok: true, rows: n, lag: 0 });
    };

    before(async () => {
      store = await factory.fresh();
      await migrate(store);
    });
    afterEach(async () => {
      for (const p of made.splice(0)) await p.close();
      await file.close();
    });
    after(async () => {
      await store.close();
      await factory.cleanup();
    });

    const fresh = async (): Promise<void> => {
      await store.query('DELETE FROM audit_events');
      log = new FailingLog(store);
      file = await AuditFile.open(mkdtempSync(join(tmpdir(), 'rialto-audit-handover-')), {
        thread: 'worker',
      });
    };

    it('writes the handed-over text, touching no line, and the rows are the file’s', async () => {
      await fresh();
      const p = projection();
      file.handOverCopyText(p);
      await file.append(events(1, 40));
      await file.append(events(41, 45));
      await file.append(events(46, 46));
      await p.catchUp();
      assert.deepEqual(p.sources, { handedRows: 46, fileRows: 0, droppedGroups: 0 });
      await holdsTheFile(46);
    });

    it('reads the file for what came before the hand-over (a restart), then takes the text', async () => {
      await fresh();
      await file.append(events(1, 10));
      const first = projection();
      await first.catchUp();
      await first.close();
      await file.append(events(11, 30));
      // Started again: the table's head is event 10; 11 to 30 were written before anyone took text.
      const p = projection();
      file.handOverCopyText(p);
      await file.append(events(31, 35));
      await file.append(events(36, 50));
      await p.catchUp();
      assert.deepEqual(p.sources, { handedRows: 20, fileRows: 20, droppedGroups: 0 });
      await holdsTheFile(50);
    });

    it('holds a bounded amount of text, and reads the file for the groups past it', async () => {
      await fresh();
      // Room for the first group's text and no more: the worker makes none while it is full.
      const p = projection({ handedBytesMax: await copyTextBytes(20) });
      file.handOverCopyText(p);
      await file.append(events(1, 20));
      assert.equal(p.wantsCopyText(), false, 'one group held fills it');
      await file.append(events(21, 40));
      await file.append(events(41, 45));
      await p.catchUp();
      assert.deepEqual(p.sources, { handedRows: 20, fileRows: 25, droppedGroups: 0 });
      assert.equal(p.wantsCopyText(), true, 'room again once written');
      await file.append(events(46, 50));
      await p.catchUp();
      assert.equal(p.sources.handedRows, 25);
      await holdsTheFile(50);
      // A group larger than the bound on its own is dropped.
      const tiny = projection({ handedBytesMax: 100 });
      file.handOverCopyText(tiny);
      await file.append(events(51, 60));
      assert.equal(tiny.sources.droppedGroups, 1);
    });

    it('on a shared thread, reads a group larger than its batch from the file', async () => {
      await fresh();
      const p = projection({ sharesThread: true });
      file.handOverCopyText(p);
      await file.append(events(1, 600));
      await file.append(events(601, 610));
      await p.catchUp();
      // 500 rows a batch on a shared thread: the group of 600 from the file, the next one as handed.
      assert.deepEqual(p.sources, { handedRows: 10, fileRows: 600, droppedGroups: 1 });
      await holdsTheFile(610);
    });

    it('writes handed rows that are in the table already as no-ops, and the missing ones', async () => {
      await fresh();
      const p = projection();
      file.handOverCopyText(p);
      await file.append(events(1, 5));
      await p.catchUp();
      await file.append(events(6, 15));
      // Another projection (a second venue on the store, say) wrote 6 to 15 first, and event 9 was lost.
      await projection().catchUp();
      await store.query('DELETE FROM audit_events WHERE seq = 9');
      await p.catchUp();
      assert.deepEqual(p.sources, { handedRows: 15, fileRows: 0, droppedGroups: 0 });
      await holdsTheFile(15);
    });

    it('keeps the text through a failed write and writes it at the retry', async () => {
      await fresh();
      const p = projection();
      file.handOverCopyText(p);
      await file.append(events(1, 8));
      log.failures = 1;
      await assert.rejects(p.catchUp(), /the store is down/);
      assert.equal(p.projectedSeq, 0);
      await p.catchUp();
      assert.deepEqual(p.sources, { handedRows: 8, fileRows: 0, droppedGroups: 0 });
      await holdsTheFile(8);
    });

    it('refuses a bound that is not a number of bytes', () => {
      assert.throws(() => projection({ handedBytesMax: -1 }), RangeError);
      assert.throws(() => projection({ handedBytesMax: Number.NaN }), RangeError);
    });
  });
}
