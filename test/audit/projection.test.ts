/**
 * The audit projection's pacing on PostgreSQL (`sharesThread: false`). The venue's thread busy with other
 * work used to shrink its batches to 16 rows with a pause of nineteen times each batch's time, which for a
 * database that answers over the network is mostly waiting: under a steady load the table fell further behind
 * and, after an outage, did not catch up (test/ops/outage.test.ts found it). Off the thread it takes full
 * batches, one after the other, however busy the thread is.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { AuditFile, AuditLog, AuditProjection, type AuditLine } from '../../src/audit/index.js';
import { AUDIT_LIMITS } from '../../src/audit/limits.js';
import { offThreadPauseMs } from '../../src/audit/projection.js';
import { migrate, type Store } from '../../src/store/index.js';
import { postgresFactory } from '../store/helpers.js';
import { sampleEvent } from './helpers.js';

/** An AuditLog that records the size of each batch it is given. */
class CountingLog extends AuditLog {
  readonly batches: number[] = [];
  override async project(lines: readonly AuditLine[]): Promise<void> {
    this.batches.push(lines.length);
    await super.project(lines);
  }
}

describe('audit projection off the venue thread (PostgreSQL)', { timeout: 120_000 }, () => {
  const factory = postgresFactory();
  let store: Store;
  let file: AuditFile;

  before(async () => {
    store = await factory.fresh();
    await migrate(store);
    file = await AuditFile.open(mkdtempSync(join(tmpdir(), 'rialto-audit-pace-')));
  });
  after(async () => {
    await file.close();
    await store.close();
    await factory.cleanup();
  });

  it('takes full batches while the thread is busy, and catches up', async () => {
    const total = AUDIT_LIMITS.projectionBatchRowsOffThread * 2 + 100;
    for (let i = 0; i < total; i += 100)
      await file.append(Array.from({ length: 100 }, (_, k) => sampleEvent(i + k + 1)));
    assert.equal(file.head.seq, total);
    const log = new CountingLog(store);
    const p = new AuditProjection(log, file.path, { durableSeq: () => file.head.seq, sharesThread: false });
    // Other work takes most of the thread (well past the projection's "busy" utilization) until it is done.
    const spin = setInterval(() => {
      const end = performance.now() + 20;
      while (performance.now() < end);
    }, 1);
    try {
      p.start();
      for (const end = Date.now() + 90_000; p.projectedSeq < total && Date.now() < end;)
        await new Promise((r) => setTimeout(r, 20));
    } finally {
      clearInterval(spin);
      await p.close();
    }
    assert.equal(p.projectedSeq, total);
    assert.deepEqual(log.batches, [
      AUDIT_LIMITS.projectionBatchRowsOffThread,
      AUDIT_LIMITS.projectionBatchRowsOffThread,
      100,
    ]);
  });
});

describe('audit projection: the pause off the venue thread', () => {
  it('is none while a full batch waits, whatever the last step took; else the idle pause', () => {
    const rows = AUDIT_LIMITS.projectionBatchRowsOffThread;
    // A step of handed-over groups ends at a group's end below `rows`: what is left decides, not what it took.
    assert.equal(offThreadPauseMs(rows, rows), 0);
    assert.equal(offThreadPauseMs(50 * rows, rows), 0);
    assert.equal(offThreadPauseMs(rows - 1, rows), AUDIT_LIMITS.projectionIdleMs);
    assert.equal(offThreadPauseMs(0, rows), AUDIT_LIMITS.projectionIdleMs);
  });
});
