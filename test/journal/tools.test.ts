/**
 * What the read-only tools build on: the scan's per-segment summaries, SnapshotStore.check, and the read-only
 * file-system port that keeps a path meant to look from repairing anything.
 */
import { after, describe, it } from 'node:test';
import { deepEqual, equal, ok, rejects } from 'node:assert/strict';
import { appendFileSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  JournalError,
  JournalErrorCode,
  JournalReader,
  SnapshotStore,
  openJournal,
  readOnlyFs,
  snapshotFileName,
  type SegmentSummary,
} from '../../src/journal/index.js';
import { TempDirs, placeOrder, testClock } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

const orders = (from: number, n: number) => Array.from({ length: n }, (_, i) => placeOrder(from + i));

/** A journal of `batches` batches of 10 place orders in segments of 4 KiB. */
async function journal(batches: number): Promise<string> {
  const dir = temp.make();
  const { writer } = await openJournal({ dir, clockUs: testClock().clockUs, segmentBytes: 4096 });
  for (let i = 0; i < batches; i++) await writer.append(orders(i * 10 + 1, 10));
  await writer.close();
  return dir;
}

function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) out[name] = readFileSync(join(dir, name)).toString('hex');
  return out;
}

function isCode(code: string): (e: unknown) => boolean {
  return (e) => {
    ok(e instanceof JournalError, String(e));
    equal(e.code, code, e.message);
    return true;
  };
}

describe('scan summaries, snapshot checks, read-only port', () => {
  void it('reports each segment with its sequence range, record count and size', async () => {
    const dir = await journal(30);
    const summaries: SegmentSummary[] = [];
    const result = await new JournalReader(dir).scan(1, null, (s) => summaries.push(s));
    const names = readdirSync(dir).filter((n) => n.endsWith('.seg'));
    ok(names.length >= 3, `${names.length} segments`);
    equal(summaries.length, names.length);
    equal(summaries[0].firstSeq, 1);
    for (let i = 1; i < summaries.length; i++) {
      equal(summaries[i].firstSeq, summaries[i - 1].lastSeq + 1, 'contiguous');
      equal(summaries[i].timeFloorUs, summaries[i - 1].lastTimeUs, 'time floor carried over');
    }
    equal(summaries[summaries.length - 1].lastSeq, 300);
    equal(
      summaries.reduce((n, s) => n + s.records, 0),
      300,
    );
    for (const s of summaries) {
      equal(s.version, 1);
      equal(s.records, s.lastSeq - s.firstSeq + 1);
      equal(s.bytes, readFileSync(s.file).length);
    }
    equal(result.lastSeq, 300);
  });

  void it('scans through the read-only port, tail and all, and changes nothing', async () => {
    const dir = await journal(30);
    const last = join(
      dir,
      readdirSync(dir)
        .filter((n) => n.endsWith('.seg'))
        .sort()
        .pop() ?? '',
    );
    truncateSync(last, readFileSync(last).length - 5);
    const before = contents(dir);
    const result = await new JournalReader(dir, readOnlyFs()).scan(1, () => undefined);
    ok(result.tail !== null, 'the torn tail is reported');
    equal(result.tail.file, last);
    equal(result.lastSeq, 299);
    deepEqual(contents(dir), before);
  });

  void it('refuses every change through the read-only port', async () => {
    const dir = await journal(3);
    const before = contents(dir);
    const io = readOnlyFs();
    // openJournal would cut a tail and open the segment for appending: the port stops it at its first step.
    await rejects(
      openJournal({ dir, clockUs: testClock().clockUs, fs: io }),
      isCode(JournalErrorCode.ReadOnly),
    );
    await rejects(io.open(join(dir, 'x'), 'w'), isCode(JournalErrorCode.ReadOnly));
    await rejects(io.open(join(dir, snapshotFileName(1)), 'wx'), isCode(JournalErrorCode.ReadOnly));
    await rejects(
      new SnapshotStore({ dir, fs: io }).write(1, new Uint8Array(4)),
      isCode(JournalErrorCode.ReadOnly),
    );
    const fd = await io.open(join(dir, readdirSync(dir)[0]), 'r');
    await rejects(io.truncate(fd, 0), isCode(JournalErrorCode.ReadOnly));
    await rejects(io.write(fd, new Uint8Array(1), 0, 1, 0), isCode(JournalErrorCode.ReadOnly));
    await io.close(fd);
    deepEqual(contents(dir), before);
  });

  void it('checks each snapshot file and says why one does not verify', async () => {
    const dir = temp.make();
    const store = new SnapshotStore({ dir, keep: 5 });
    for (const seq of [10, 20, 30])
      await store.write(
        seq,
        Uint8Array.from({ length: 100 }, (_, i) => i + seq),
      );
    const file = (seq: number): string => join(dir, snapshotFileName(seq));
    const good = await store.check(file(10), 10);
    ok(typeof good !== 'string', typeof good === 'string' ? good : '');
    equal(good.seq, 10);
    equal(good.payload[0], 10);
    truncateSync(file(20), 60);
    equal(await store.check(file(20), 20), 'header says 100 payload bytes, the file holds 28');
    const flipped = readFileSync(file(30));
    flipped[32 + 50] ^= 1;
    writeFileSync(file(30), flipped);
    equal(await store.check(file(30), 30), 'payload checksum mismatch');
    equal(await store.check(file(10), 11), 'header covers 10, the file name 11');
    appendFileSync(file(10), 'x');
    equal(await store.check(file(10), 10), 'header says 100 payload bytes, the file holds 101');
    const missing = await store.check(join(dir, 'missing.snap'), 1);
    ok(typeof missing === 'string' && missing.startsWith('unreadable: ENOENT'));
  });
});
