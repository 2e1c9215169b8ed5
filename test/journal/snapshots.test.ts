/**
 * Snapshots: written atomically, verified on load, passed over (and reported) when they do not verify, with
 * the newest K kept.
 */
import { after, describe, it } from 'node:test';
import { deepEqual, equal, ok, rejects } from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  JournalNoticeCode,
  SnapshotStore,
  snapshotFileName,
  type JournalNotice,
} from '../../src/journal/index.js';
import { TempDirs, TestFs } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

const payload = (seq: number, size = 1000): Uint8Array =>
  Uint8Array.from({ length: size }, (_, i) => (i * 31 + seq) & 0xff);

describe('snapshot store', () => {
  void it('writes atomically and loads the newest, keeping the newest K', async () => {
    const dir = join(temp.make(), 'snapshots');
    const io = new TestFs();
    const store = new SnapshotStore({ dir, keep: 2, fs: io });
    equal((await store.loadNewestValid()).snapshot, null, 'none in a missing directory');
    for (const seq of [100, 200, 300]) await store.write(seq, payload(seq));
    ok(io.fsyncs >= 3 && io.dirSyncs >= 3, 'file and directory synced on each write');
    deepEqual(readdirSync(dir).sort(), [snapshotFileName(200), snapshotFileName(300)]);
    const { snapshot, rejected } = await store.loadNewestValid();
    equal(snapshot?.seq, 300);
    deepEqual(snapshot?.payload, payload(300));
    deepEqual(rejected, []);
    equal(statSync(join(dir, snapshotFileName(300))).size, 32 + 1000);
    await store.write(400, new Uint8Array(0));
    deepEqual((await store.loadNewestValid()).snapshot?.payload, new Uint8Array(0));
  });

  void it('passes over a truncated, a flipped and an emptied snapshot for an older one, reporting each', async () => {
    const dir = temp.make();
    const notices: JournalNotice[] = [];
    const store = new SnapshotStore({ dir, keep: 5, onNotice: (n) => notices.push(n) });
    for (const seq of [10, 20, 30, 40]) await store.write(seq, payload(seq));
    const file = (seq: number): string => join(dir, snapshotFileName(seq));
    truncateSync(file(40), 500);
    const flipped = readFileSync(file(30));
    flipped[32 + 700] ^= 0x04;
    writeFileSync(file(30), flipped);
    writeFileSync(file(20), new Uint8Array(0));
    const { snapshot, rejected } = await store.loadNewestValid();
    equal(snapshot?.seq, 10);
    deepEqual(snapshot?.payload, payload(10));
    deepEqual(
      rejected.map((r) => r.file),
      [file(40), file(30), file(20)],
    );
    ok(rejected[0].reason.includes('payload bytes'), rejected[0].reason);
    ok(rejected[1].reason.includes('checksum'), rejected[1].reason);
    ok(rejected[2].reason.includes('shorter than a header'), rejected[2].reason);
    deepEqual(
      notices.map((n) => n.code),
      Array(3).fill(JournalNoticeCode.SnapshotRejected),
    );
    // A header whose sequence number disagrees with the file name, and then nothing valid at all.
    writeFileSync(file(10), readFileSync(file(40)).subarray(0, 0));
    const none = await store.loadNewestValid();
    equal(none.snapshot, null, 'a full replay');
    equal(none.rejected.length, 4);
  });

  void it('refuses a snapshot copied under another sequence number, or with a damaged header', async () => {
    const dir = temp.make();
    const store = new SnapshotStore({ dir });
    await store.write(5, payload(5));
    await store.write(6, payload(6));
    writeFileSync(join(dir, snapshotFileName(7)), readFileSync(join(dir, snapshotFileName(5))));
    const header = readFileSync(join(dir, snapshotFileName(6)));
    header[9] ^= 1;
    writeFileSync(join(dir, snapshotFileName(6)), header);
    const { snapshot, rejected } = await store.loadNewestValid();
    equal(snapshot?.seq, 5);
    ok(rejected[0].reason.includes('file name'), rejected[0].reason);
    ok(rejected[1].reason.includes('header checksum'), rejected[1].reason);
  });

  void it('leaves the existing snapshots as they were when a write fails, and clears its temporary file later', async () => {
    const dir = temp.make();
    const io = new TestFs();
    const notices: JournalNotice[] = [];
    const store = new SnapshotStore({ dir, fs: io, onNotice: (n) => notices.push(n) });
    await store.write(1, payload(1));
    io.failSync = 'EIO';
    await rejects(store.write(2, payload(2)), /EIO/);
    io.failSync = '';
    io.failRename = 'ENOSPC';
    await rejects(store.write(3, payload(3)), /ENOSPC/);
    io.failRename = '';
    io.failWritesAfterBytes = 100;
    await rejects(store.write(4, payload(4)), /ENOSPC/);
    io.failWritesAfterBytes = Infinity;
    equal((await store.loadNewestValid()).snapshot?.seq, 1, 'only the complete snapshot is seen');
    ok(
      readdirSync(dir).some((n) => n.endsWith('.tmp')),
      'the interrupted write left its temporary file',
    );
    await store.write(5, payload(5));
    deepEqual(readdirSync(dir).sort(), [snapshotFileName(1), snapshotFileName(5)]);
    ok(notices.some((n) => n.code === JournalNoticeCode.SnapshotTempRemoved));
  });
});
