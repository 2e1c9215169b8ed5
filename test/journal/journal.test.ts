/**
 * The writer and the recovery scan together: what is appended comes back in order with its sequence numbers
 * and times; group commit shares syncs; a torn tail is cut and reported while damage anywhere else stops the
 * start naming the file and offset; a failed write or sync stops the writer without losing or half-writing
 * anything acknowledged.
 */
import { after, describe, it } from 'node:test';
import { deepEqual, equal, ok, rejects } from 'node:assert/strict';
import {
  appendFileSync,
  readFileSync,
  readdirSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../../src/core/index.js';
import {
  JournalError,
  JournalErrorCode,
  JournalNoticeCode,
  nodeFs,
  openJournal,
  segmentFileName,
  type JournalOptions,
  type OpenedJournal,
  SYNC_SECONDS_BUCKETS,
  syncBucketOf,
} from '../../src/journal/index.js';
import { TempDirs, TestFs, eventually, placeOrder, sampleCommands, settle, testClock } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

interface Replayed {
  seq: number;
  timeUs: number;
  command: Command;
}

function options(dir: string, extra: Partial<JournalOptions> = {}): JournalOptions {
  return { dir, clockUs: testClock().clockUs, ...extra };
}

async function replay(
  dir: string,
  fromSeq = 1,
  extra: Partial<JournalOptions> = {},
): Promise<[Replayed[], OpenedJournal]> {
  const records: Replayed[] = [];
  const opened = await openJournal(options(dir, extra), {
    fromSeq,
    visit: (seq, timeUs, command) => records.push({ seq, timeUs, command }),
  });
  return [records, opened];
}

function isCode(code: string, check: (e: JournalError) => void = () => {}): (e: unknown) => boolean {
  return (e) => {
    ok(e instanceof JournalError, String(e));
    equal(e.code, code, e.message);
    check(e);
    return true;
  };
}

const segments = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort();
const orders = (from: number, n: number): Command[] =>
  Array.from({ length: n }, (_, i) => placeOrder(from + i));

describe('journal writer and recovery', () => {
  void it('gives sequence numbers and times, and replays exactly what was appended', async () => {
    const dir = temp.make();
    const clock = testClock(1_000);
    const { writer, lastSeq } = await openJournal({ dir, clockUs: clock.clockUs });
    equal(lastSeq, 0);
    const cmds = sampleCommands();
    const first = await writer.append(cmds.slice(0, 10));
    deepEqual(first, { firstSeq: 1, lastSeq: 10, timeUs: 1_000 });
    ok(
      cmds.slice(0, 10).every((c) => c.timeUs === 1_000),
      'stamped in place',
    );
    clock.set(500); // the clock goes back: times do not
    const second = await writer.append(cmds.slice(10));
    deepEqual(second, { firstSeq: 11, lastSeq: 16, timeUs: 1_000 });
    await writer.close();

    const [records, opened] = await replay(dir);
    equal(opened.lastSeq, 16);
    equal(opened.replayed, 16);
    deepEqual(
      records.map((r) => r.seq),
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
    deepEqual(
      records.map((r) => r.command),
      cmds,
    );
    ok(records.every((r) => r.timeUs === r.command.timeUs));
    const [later] = await replay(dir, 12);
    deepEqual(
      later.map((r) => r.seq),
      [12, 13, 14, 15, 16],
    );
    await opened.writer.close();
  });

  void it('continues sequence numbers and times after a reopen', async () => {
    const dir = temp.make();
    const a = await openJournal({ dir, clockUs: () => 5_000 });
    await a.writer.append(orders(1, 3));
    await a.writer.close();
    const b = await openJournal({ dir, clockUs: () => 10 }); // a clock behind the journal
    equal(b.lastSeq, 3);
    equal(b.lastTimeUs, 5_000);
    deepEqual(await b.writer.append(orders(4, 2)), { firstSeq: 4, lastSeq: 5, timeUs: 5_000 });
    await b.writer.close();
    const [records] = await replay(dir);
    equal(records.length, 5);
  });

  void it('shares one fdatasync among the appends that arrive while a sync is in flight', async () => {
    const dir = temp.make();
    const io = new TestFs();
    const { writer } = await openJournal(options(dir, { fs: io }));
    const base = io.fdatasyncs;
    io.holdSyncs = true;
    let acked = 0;
    const first = writer.append(orders(1, 1)).then(() => acked++);
    await eventually(() => io.fdatasyncs - base === 1, 'the first batch is syncing');
    equal(acked, 0, 'not acknowledged before its sync');
    const rest = Array.from({ length: 200 }, (_, i) => writer.append(orders(2 + i, 1)).then(() => acked++));
    await settle();
    equal(io.fdatasyncs - base, 1, 'no new sync while one is in flight');
    io.release(true);
    await first;
    await eventually(() => io.fdatasyncs - base === 2, 'the second batch is syncing');
    await settle();
    equal(acked, 1);
    equal(io.fdatasyncs - base, 2, 'the 200 appends went in one batch');
    io.release();
    await Promise.all(rest);
    equal(acked, 201);
    const stats = writer.stats();
    equal(stats.batches, 2);
    equal(stats.syncs, 2);
    equal(stats.ackedSeq, 201);
    await writer.close();
    const [records] = await replay(dir);
    equal(records.length, 201);
  });

  void it('counts every fsync into its duration bucket', async () => {
    // The buckets: at most each bound, more than the one before; past the last bound, the extra bucket.
    equal(syncBucketOf(0), 0);
    equal(syncBucketOf(50), 0);
    equal(syncBucketOf(51), 1);
    equal(syncBucketOf(1_000), SYNC_SECONDS_BUCKETS.indexOf(0.001));
    equal(syncBucketOf(1_001), SYNC_SECONDS_BUCKETS.indexOf(0.002));
    equal(syncBucketOf(5_000_000), SYNC_SECONDS_BUCKETS.length - 1);
    equal(syncBucketOf(5_000_001), SYNC_SECONDS_BUCKETS.length);
    const dir = temp.make();
    const io = new TestFs();
    const { writer } = await openJournal(options(dir, { fs: io }));
    const before = writer.stats();
    equal(before.syncBuckets.length, SYNC_SECONDS_BUCKETS.length + 1);
    for (let i = 0; i < 5; i++) await writer.append(orders(1 + i, 1));
    // One sync held 30 ms: it lands in a bucket whose bound is at least that.
    io.holdSyncs = true;
    const held = writer.append(orders(6, 1));
    await eventually(() => io.waiting > 0, 'the sync is held');
    await settle(30);
    io.release();
    await held;
    const after = writer.stats();
    const added = after.syncBuckets.map((n, k) => n - before.syncBuckets[k]);
    equal(
      added.reduce((a, b) => a + b, 0),
      after.syncs - before.syncs,
      'every sync counted in one bucket',
    );
    let slowest = added.length - 1;
    while (slowest > 0 && added[slowest] === 0) slowest--;
    ok(slowest === SYNC_SECONDS_BUCKETS.length || SYNC_SECONDS_BUCKETS[slowest] >= 0.03, `bucket ${slowest}`);
    await writer.close();
  });

  void it("under { fsync: 'interval' } acknowledges after the write and syncs at most every intervalMs", async () => {
    const dir = temp.make();
    const io = new TestFs();
    const { writer } = await openJournal(
      options(dir, { fs: io, durability: { fsync: 'interval', intervalMs: 200 } }),
    );
    const base = io.fdatasyncs;
    await settle(210);
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await writer.append(orders(i * 5 + 1, 5));
    // At most one sync per interval begun while they were written (a loaded machine writes them slowly).
    const intervals = 1 + Math.floor((performance.now() - t0) / 200);
    ok(
      io.fdatasyncs - base <= intervals,
      `${io.fdatasyncs - base} syncs for 20 batches in ${intervals} intervals`,
    );
    await settle(300);
    ok(io.fdatasyncs - base >= 1, 'the written batches were synced later');
    equal(writer.stats().batches, 20);
    await writer.close();
    const [records] = await replay(dir);
    equal(records.length, 100);
  });

  void it('rolls segments at the configured size and reads across them', async () => {
    const dir = temp.make();
    const io = new TestFs();
    const { writer } = await openJournal(options(dir, { fs: io, segmentBytes: 4096 }));
    for (let i = 0; i < 40; i++) await writer.append(orders(i * 10 + 1, 10));
    await writer.close();
    const names = segments(dir);
    ok(names.length >= 5, `${names.length} segments`);
    equal(names[0], segmentFileName(1));
    for (const name of names) ok(statSync(join(dir, name)).size <= 4096, name);
    const [records, opened] = await replay(dir);
    equal(records.length, 400);
    deepEqual(
      records.map((r) => r.command),
      orders(1, 400).map((c, i) => ({ ...c, timeUs: records[i].timeUs })),
    );
    // Replay from the middle starts in the right segment.
    const [tail] = await replay(dir, 355);
    equal(tail[0].seq, 355);
    equal(tail.length, 46);
    // Appends continue in the last segment after a reopen.
    await opened.writer.append(orders(401, 10));
    await opened.writer.close();
    const [all] = await replay(dir);
    equal(all.length, 410);
  });

  void it('cuts a torn record at the end, reports it, and continues after it', async () => {
    const dir = temp.make();
    const a = await openJournal(options(dir));
    await a.writer.append(orders(1, 10));
    await a.writer.close();
    const file = join(dir, segmentFileName(1));
    const size = statSync(file).size;
    truncateSync(file, size - 5); // the last record loses 5 bytes
    const notices: string[] = [];
    const [records, b] = await replay(dir, 1, { onNotice: (n) => notices.push(n.code) });
    equal(records.length, 9);
    equal(b.lastSeq, 9);
    deepEqual(notices, [JournalNoticeCode.TailTruncated]);
    equal(b.notices[0].file, file);
    const recordBytes = (size - 32) / 10;
    equal(b.notices[0].offset, 32 + 9 * recordBytes);
    equal(statSync(file).size, b.notices[0].offset);
    deepEqual(await b.writer.append(orders(100, 1)), { firstSeq: 10, lastSeq: 10, timeUs: b.lastTimeUs });
    await b.writer.close();
    const [again, c] = await replay(dir);
    equal(again.length, 10);
    equal(c.notices.length, 0);
    await c.writer.close();
  });

  void it('cuts zeros or garbage after the last record (a crash after the file grew)', async () => {
    for (const junk of [new Uint8Array(4096), Uint8Array.from({ length: 100 }, (_, i) => (i * 37) & 0xff)]) {
      const dir = temp.make();
      const a = await openJournal(options(dir));
      await a.writer.append(orders(1, 5));
      await a.writer.close();
      const file = join(dir, segmentFileName(1));
      const size = statSync(file).size;
      appendFileSync(file, junk);
      const [records, b] = await replay(dir);
      equal(records.length, 5);
      equal(b.notices.length, 1);
      equal(b.notices[0].offset, size);
      equal(b.notices[0].bytes, junk.length);
      await b.writer.close();
    }
  });

  void it('stops with JOURNAL_CORRUPT naming the file and offset for a flipped byte in an older record', async () => {
    const dir = temp.make();
    const a = await openJournal(options(dir, { segmentBytes: 4096 }));
    for (let i = 0; i < 10; i++) await a.writer.append(orders(i * 10 + 1, 10));
    await a.writer.close();
    const names = segments(dir);
    const recordBytes = 8 + 16 + 44;
    // In the first segment (not the last): the 4th record's payload.
    const first = join(dir, names[0]);
    const bytes = readFileSync(first);
    bytes[32 + 3 * recordBytes + 20] ^= 0x01;
    writeFileSync(first, bytes);
    await rejects(
      replay(dir),
      isCode(JournalErrorCode.Corrupt, (e) => {
        equal(e.file, first);
        equal(e.offset, 32 + 3 * recordBytes);
        ok(e.message.includes(first) && e.message.includes(`byte ${32 + 3 * recordBytes}`), e.message);
      }),
    );
    bytes[32 + 3 * recordBytes + 20] ^= 0x01;
    writeFileSync(first, bytes);
    // In the last segment, with valid records after it: not a tail either.
    const last = join(dir, names[names.length - 1]);
    const lastBytes = readFileSync(last);
    ok(lastBytes.length > 32 + 3 * recordBytes);
    lastBytes[32 + recordBytes + 4] ^= 0x80; // the second record's checksum
    writeFileSync(last, lastBytes);
    await rejects(
      openJournal(options(dir)),
      isCode(JournalErrorCode.Corrupt, (e) => {
        equal(e.file, last);
        equal(e.offset, 32 + recordBytes);
      }),
    );
    // A length field blown up in the last segment's middle is not taken for a torn tail.
    lastBytes[32 + recordBytes + 4] ^= 0x80;
    lastBytes[32 + recordBytes + 3] = 0x7f;
    writeFileSync(last, lastBytes);
    await rejects(
      openJournal(options(dir)),
      isCode(JournalErrorCode.Corrupt, (e) => equal(e.offset, 32 + recordBytes)),
    );
  });

  void it('stops for a missing middle segment, a renamed one, and a newer format version', async () => {
    const dir = temp.make();
    const a = await openJournal(options(dir, { segmentBytes: 4096 }));
    for (let i = 0; i < 20; i++) await a.writer.append(orders(i * 10 + 1, 10));
    await a.writer.close();
    const names = segments(dir);
    ok(names.length >= 3);
    const middle = join(dir, names[1]);
    const saved = readFileSync(middle);
    unlinkSync(middle);
    await rejects(
      replay(dir),
      isCode(JournalErrorCode.Corrupt, (e) => ok(e.message.includes('segment before'), e.message)),
    );
    writeFileSync(middle, saved);
    await rejects(replay(dir, 10_000), isCode(JournalErrorCode.Missing));
    const versioned = Buffer.from(saved);
    versioned.writeUInt16LE(2, 4);
    // Re-checksum the header so it reads as intact, of version 2.
    const { crc32c } = await import('../../src/journal/index.js');
    versioned.writeUInt32LE(crc32c(versioned, 0, 28), 28);
    writeFileSync(middle, versioned);
    await rejects(
      replay(dir),
      isCode(JournalErrorCode.Version, (e) => equal(e.file, middle)),
    );
    writeFileSync(middle, saved);
    const [records] = await replay(dir);
    equal(records.length, 200);
  });

  void it('removes a last segment whose header is torn and continues the one before', async () => {
    const dir = temp.make();
    const a = await openJournal(options(dir, { segmentBytes: 4096 }));
    for (let i = 0; i < 6; i++) await a.writer.append(orders(i * 10 + 1, 10));
    await a.writer.close();
    const [, b] = await replay(dir);
    await b.writer.close();
    const next = join(dir, segmentFileName(b.lastSeq + 1));
    writeFileSync(next, Uint8Array.from([0x52, 0x4a, 0x4e])); // a crash three bytes into the header
    const [records, c] = await replay(dir);
    equal(records.length, 60);
    equal(c.notices[0].code, JournalNoticeCode.SegmentRemoved);
    equal(c.notices[0].file, next);
    equal((await c.writer.append(orders(61, 1))).firstSeq, 61);
    await c.writer.close();
    const [all] = await replay(dir);
    equal(all.length, 61);
  });

  void it('rejects a command it cannot encode without using a sequence number', async () => {
    const dir = temp.make();
    const { writer } = await openJournal(options(dir));
    const bad = { ...placeOrder(2), price: 'x' } as unknown as Command;
    await rejects(writer.append([placeOrder(1), bad]), isCode(JournalErrorCode.CommandUnencodable));
    deepEqual((await writer.append([placeOrder(3)])).firstSeq, 1);
    await writer.close();
    await rejects(writer.append([placeOrder(4)]), isCode(JournalErrorCode.Closed));
  });

  void it('refuses appends with JOURNAL_BUSY beyond the pending bytes while a sync is slow', async () => {
    const dir = temp.make();
    const io = new TestFs();
    const { writer } = await openJournal(options(dir, { fs: io, pendingBytesMax: 64 * 1024 }));
    io.holdSyncs = true;
    const first = writer.append(orders(1, 1));
    await settle();
    // 2,000 appends of 10 records (1.4 MB) while the first sync hangs: the first 64 KiB are taken, then busy.
    const outcomes = Array.from({ length: 2000 }, (_, i) =>
      writer.append(orders(10 + i * 10, 10)).then(
        () => 'ok',
        (e: unknown) => (e instanceof JournalError ? e.code : String(e)),
      ),
    );
    io.release();
    await first;
    const results = await Promise.all(outcomes);
    const accepted = results.indexOf(JournalErrorCode.Busy);
    ok(accepted > 50, `${accepted} appends taken before the first refusal`);
    ok(results.slice(0, accepted).every((r) => r === 'ok'));
    ok(results.slice(accepted).every((r) => r === JournalErrorCode.Busy));
    await writer.close();
    const [records] = await replay(dir);
    equal(records.length, 1 + accepted * 10);
    equal(records[records.length - 1].seq, 1 + accepted * 10, 'refused appends used no sequence numbers');
  });

  for (const fault of ['write ENOSPC', 'short write then ENOSPC', 'fdatasync EIO'] as const) {
    void it(`after ${fault}: rejects the batch and every later append, keeps what was acknowledged`, async () => {
      const dir = temp.make();
      const io = new TestFs();
      const { writer } = await openJournal(options(dir, { fs: io }));
      await writer.append(orders(1, 50));
      if (fault === 'write ENOSPC') io.failWritesAfterBytes = 0;
      if (fault === 'short write then ENOSPC') io.failWritesAfterBytes = 100;
      if (fault === 'fdatasync EIO') io.failSync = 'EIO';
      const cause = fault === 'fdatasync EIO' ? 'EIO' : 'ENOSPC';
      const failing = writer.append(orders(51, 50));
      const queued = writer.append(orders(101, 5));
      await rejects(
        failing,
        isCode(JournalErrorCode.Failed, (e) =>
          ok(e.message.includes(cause) && e.message.includes('up to 50'), e.message),
        ),
      );
      await rejects(queued, isCode(JournalErrorCode.Failed));
      await rejects(writer.append(orders(200, 1)), isCode(JournalErrorCode.Failed));
      ok(writer.failed !== null);
      await writer.close();
      await settle();
      const file = join(dir, segmentFileName(1));
      equal(statSync(file).size, 32 + 50 * (8 + 16 + 44), 'cut back to the acknowledged records');
      const [records, reopened] = await replay(dir);
      equal(records.length, 50);
      equal(reopened.notices.length, 0);
      await reopened.writer.close();
    });
  }

  void it('when even the cut-back fails, the next start cuts the partial batch as a torn tail', async () => {
    const dir = temp.make();
    const io = new TestFs();
    const { writer } = await openJournal(options(dir, { fs: io }));
    await writer.append(orders(1, 20));
    io.failWritesAfterBytes = 150;
    io.truncate = () => Promise.reject(new Error('EIO: simulated'));
    await rejects(writer.append(orders(21, 20)), isCode(JournalErrorCode.Failed));
    await settle();
    const [records, reopened] = await replay(dir);
    equal(
      records.length,
      22,
      'the two complete records of the unacknowledged batch survive; the torn third goes',
    );
    equal(reopened.notices[0].code, JournalNoticeCode.TailTruncated);
    await reopened.writer.close();
  });

  void it('after a failure, close returns only once the cut back is done (the next owner may open the file)', async () => {
    const dir = temp.make();
    const io = new TestFs();
    const { writer } = await openJournal(options(dir, { fs: io }));
    await writer.append(orders(1, 20));
    let letTruncate: () => void = () => undefined;
    let truncated = false;
    io.truncate = async (fd, length) => {
      await new Promise<void>((resolve) => (letTruncate = resolve));
      await nodeFs.truncate(fd, length);
      truncated = true;
    };
    io.failWritesAfterBytes = 150;
    await rejects(writer.append(orders(21, 20)), isCode(JournalErrorCode.Failed));
    let closed = false;
    const closing = writer.close().then(() => (closed = true));
    await settle();
    equal(closed, false, 'close waits for the cut back');
    letTruncate();
    await closing;
    ok(truncated, 'the cut back finished before close returned');
    const [records, reopened] = await replay(dir);
    equal(records.length, 20);
    equal(reopened.notices.length, 0, 'nothing left to repair');
    await reopened.writer.close();
  });

  void it('fails cleanly when the next segment cannot be created, and recovers after', async () => {
    const dir = temp.make();
    const io = new TestFs();
    const { writer } = await openJournal(options(dir, { fs: io, segmentBytes: 4096 }));
    await writer.append(orders(1, 55)); // 32 + 55 * 68 = 3772 bytes: the next batch rolls
    io.failWritesAfterBytes = 0;
    await rejects(writer.append(orders(56, 10)), isCode(JournalErrorCode.Failed));
    await settle();
    const [records, reopened] = await replay(dir);
    equal(records.length, 55);
    equal((await reopened.writer.append(orders(56, 10))).firstSeq, 56);
    await reopened.writer.close();
    const [all] = await replay(dir);
    equal(all.length, 65);
  });
});
