/**
 * Recovery through the real engine (Engine.start: worker thread, files in a temporary directory) from damaged
 * data directories: a flipped byte in an old record stops the start naming the file and offset and changes
 * nothing; a torn tail is cut and reported and the state is a clean replay of the intact prefix; a damaged
 * newest snapshot (truncated, flipped, or valid but undecodable) falls back to an older one or to a full
 * replay, and the state is a clean replay of the whole journal.
 */
import { after, before, describe, it } from 'node:test';
import { deepEqual, equal, ok, rejects } from 'node:assert/strict';
import { existsSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, EngineError, recoverState } from '../../src/engine/index.js';
import {
  JournalNoticeCode,
  LOCK_FILE_NAME,
  SnapshotStore,
  snapshotFileName,
} from '../../src/journal/index.js';
import {
  TempDirs,
  cleanReplayHash,
  fingerprint,
  recordOffsets,
  segmentPaths,
  snapshotPaths,
  stream,
  writeThroughHost,
  type Written,
} from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

const COMMANDS = 600;

function flipByte(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] ^= 0x10;
  writeFileSync(file, bytes);
}

/** Starts an engine on `dir`, reads its state hash, and closes it. */
async function startAndHash(dir: string): Promise<{ engine: Engine; hash: string }> {
  const engine = await Engine.start({ dir, snapshotEveryCommands: 0, snapshotEveryMs: 0 });
  try {
    return { engine, hash: await engine.stateHash() };
  } finally {
    await engine.close();
  }
}

function isCorrupt(file: string, offset: number): (e: unknown) => boolean {
  return (e) => {
    ok(e instanceof EngineError, String(e));
    equal(e.code, 'JOURNAL_CORRUPT', e.message);
    equal(e.file, file);
    equal(e.offset, offset);
    ok(e.message.includes(`${file} at byte ${offset}`), e.message);
    return true;
  };
}

describe('engine recovery from damaged data directories', () => {
  /** 600 commands in 4 KiB segments, snapshots after 200 and 400, and the one close writes after 600. */
  let base = '';
  let written: Written;

  before(async () => {
    base = temp.make();
    written = await writeThroughHost(base, stream(11, COMMANDS), {
      snapshotsAt: [200, 400],
      config: { segmentBytes: 4096 },
    });
    ok(segmentPaths(base).length >= 4, 'several segments');
    deepEqual(
      snapshotPaths(base).map((p) => p.slice(-30)),
      [200, 400, 600].map((s) => snapshotFileName(s).slice(-30)),
    );
    equal(cleanReplayHash(written.commands), written.hash, 'the engine agrees with a clean replay');
  });

  void it('starts from the newest snapshot of an undamaged directory', async () => {
    const dir = temp.copy(base);
    const { engine, hash } = await startAndHash(dir);
    equal(engine.recovery.snapshotSeq, 600);
    equal(engine.recovery.replayed, 0);
    equal(hash, written.hash);
  });

  void it('refuses to start on a flipped byte in an old record, naming file and offset, and changes nothing', async () => {
    // A full replay (no snapshots), the damage in the first segment.
    const dir = temp.copy(base);
    for (const s of snapshotPaths(dir)) unlinkSync(s);
    const segment = segmentPaths(dir)[0];
    const victim = recordOffsets(segment)[3];
    equal(victim.seq, 4);
    flipByte(segment, victim.offset + 8 + 20); // inside the command bytes: the checksum fails
    const before = fingerprint(dir);
    await rejects(Engine.start({ dir }), isCorrupt(segment, victim.offset));
    deepEqual(fingerprint(dir), before, 'no file was cut, created or removed');
    ok(!existsSync(join(dir, LOCK_FILE_NAME)), 'the lock was released');
  });

  void it('refuses to start on a flipped byte in a record the newest snapshot already covers', async () => {
    // The start replays from the snapshot after 600, but walks the whole last segment it lies in.
    const dir = temp.copy(base);
    const segments = segmentPaths(dir);
    const segment = segments[segments.length - 1];
    const records = recordOffsets(segment);
    ok(records.length >= 3);
    const victim = records[1];
    flipByte(segment, victim.offset + 8 + 3); // inside the sequence number
    const before = fingerprint(dir);
    await rejects(Engine.start({ dir }), isCorrupt(segment, victim.offset));
    deepEqual(fingerprint(dir), before);
  });

  void it('cuts a torn tail, reports it, and recovers the state of the intact prefix', async () => {
    const dir = temp.copy(base);
    // The snapshot after 600 covers the record about to be torn; recovery starts from the one after 400.
    unlinkSync(join(dir, snapshotFileName(600)));
    const segments = segmentPaths(dir);
    const segment = segments[segments.length - 1];
    const records = recordOffsets(segment);
    const last = records[records.length - 1];
    equal(last.seq, COMMANDS);
    const size = statSync(segment).size;
    truncateSync(segment, size - 7); // the last record loses its end, as a write cut short would
    const { engine, hash } = await startAndHash(dir);
    const r = engine.recovery;
    equal(r.snapshotSeq, 400);
    equal(r.lastSeq, COMMANDS - 1);
    equal(r.replayed, COMMANDS - 1 - 400);
    equal(r.notices.length, 1);
    equal(r.notices[0].code, JournalNoticeCode.TailTruncated);
    equal(r.notices[0].file, segment);
    equal(r.notices[0].offset, last.offset);
    equal(r.notices[0].bytes, size - 7 - last.offset);
    equal(statSync(segment).size, last.offset, 'the torn record was cut');
    equal(hash, cleanReplayHash(written.commands.slice(0, COMMANDS - 1)));
  });

  void it('recovers the same state offline, reading only (a torn tail left for the engine to cut)', async () => {
    const dir = temp.copy(base);
    unlinkSync(join(dir, snapshotFileName(600)));
    const segments = segmentPaths(dir);
    const segment = segments[segments.length - 1];
    truncateSync(segment, statSync(segment).size - 7);
    const before = fingerprint(dir);
    const progress: number[][] = [];
    const state = await recoverState(dir, { onProgress: (done, total) => progress.push([done, total]) });
    deepEqual(fingerprint(dir), before, 'nothing was cut');
    equal(state.snapshotSeq, 400);
    equal(state.lastSeq, COMMANDS - 1);
    equal(state.replayed, COMMANDS - 1 - 400);
    equal(state.tail?.file, segment);
    deepEqual(progress[progress.length - 1], [COMMANDS - 1 - 400, COMMANDS - 1 - 400]);
    equal(state.core.stateHash(), cleanReplayHash(written.commands.slice(0, COMMANDS - 1)));
    const whole = await recoverState(base);
    equal(whole.core.stateHash(), written.hash);
  });

  void it('falls back from a truncated newest snapshot to the one before it', async () => {
    const dir = temp.copy(base);
    const newest = join(dir, snapshotFileName(600));
    truncateSync(newest, statSync(newest).size - 100);
    const { engine, hash } = await startAndHash(dir);
    const r = engine.recovery;
    equal(r.snapshotSeq, 400);
    equal(r.replayed, 200);
    deepEqual(
      r.rejectedSnapshots.map((s) => s.file),
      [newest],
    );
    ok(r.rejectedSnapshots[0].reason.includes('payload bytes'), r.rejectedSnapshots[0].reason);
    equal(hash, written.hash);
  });

  void it('falls back past a flipped snapshot and an undecodable one to a full replay', async () => {
    const dir = temp.copy(base);
    flipByte(join(dir, snapshotFileName(600)), 32 + 1000);
    truncateSync(join(dir, snapshotFileName(400)), 20);
    // Checksums that hold around a payload the core cannot decode.
    await new SnapshotStore({ dir, keep: 10 }).write(200, new Uint8Array(64).fill(7));
    const { engine, hash } = await startAndHash(dir);
    const r = engine.recovery;
    equal(r.snapshotSeq, 0);
    equal(r.replayed, COMMANDS);
    deepEqual(
      r.rejectedSnapshots.map((s) => s.reason.split(':')[0]),
      ['payload checksum mismatch', '20 bytes, shorter than a header', 'does not decode'],
    );
    equal(hash, written.hash);
  });
});
