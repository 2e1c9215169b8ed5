/**
 * `rialto snapshot list | create`. `list` reads only (no lock) and checks each snapshot as recovery would:
 * header, name, length, payload checksum, and that the payload decodes into a core. `create` takes the data
 * directory's lock, rebuilds the state offline exactly as an engine's start would (newest valid snapshot,
 * then the journal after it; reading only, a torn tail left for the engine to cut) and writes a snapshot of it
 * atomically through the SnapshotStore, so that the next start replays less.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { encodeCoreSnapshot } from '../core/index.js';
import { decodeCoreOrWhyNot, recoverState } from '../engine/index.js';
import { DirLock, SnapshotStore, readOnlyFs } from '../journal/index.js';
import { CliError, type ProgramIo, type Progress } from './cli-io.js';
import { asCliError, tailText, type TailReport } from './journal-tools.js';

export interface SnapshotEntry {
  file: string;
  /** The sequence number it covers (the state after that command). */
  seq: number;
  bytes: number;
  /** Whether recovery would accept it. */
  valid: boolean;
  /** Why not ('' when valid). */
  problem: string;
  /** The state hash of the core it holds (null unless valid). */
  stateHash: string | null;
}

export interface SnapshotListReport {
  dir: string;
  /** Newest first; temporary files (a write in progress or interrupted) last. */
  snapshots: SnapshotEntry[];
  /** The snapshot an engine's start would load: the newest valid one (null: a full replay). */
  recoveryStartsAfterSeq: number | null;
}

export interface SnapshotCreateReport {
  dir: string;
  /** The snapshot written, or the existing one that already covers the state. */
  file: string;
  seq: number;
  bytes: number;
  /** False when the newest valid snapshot already covers the last record (nothing to write). */
  written: boolean;
  /** Where the offline recovery started, and what it replayed and passed over. */
  fromSnapshotSeq: number;
  replayed: number;
  rejectedSnapshots: { file: string; reason: string }[];
  tornTail: TailReport | null;
  stateHash: string;
}

const TEMP_NAME = /^snapshot-(\d{20})\.snap\.tmp$/;

export async function listSnapshots(dir: string): Promise<SnapshotListReport> {
  const store = new SnapshotStore({ dir, fs: readOnlyFs() });
  const snapshots: SnapshotEntry[] = [];
  let recoveryStartsAfterSeq: number | null = null;
  for (const { seq, file } of await store.list()) {
    const bytes = sizeOf(file);
    if (bytes < 0) continue; // removed since the listing (an engine pruning old snapshots)
    const entry: SnapshotEntry = {
      file: basename(file),
      seq,
      bytes,
      valid: false,
      problem: '',
      stateHash: null,
    };
    const checked = await store.check(file, seq);
    const core = typeof checked === 'string' ? checked : decodeCoreOrWhyNot(checked.payload);
    if (typeof core === 'string') entry.problem = core;
    else {
      entry.valid = true;
      entry.stateHash = core.stateHash();
      recoveryStartsAfterSeq ??= seq;
    }
    snapshots.push(entry);
  }
  for (const name of readdirSync(dir).sort()) {
    const match = TEMP_NAME.exec(name);
    const bytes = match === null ? -1 : sizeOf(join(dir, name));
    if (match === null || bytes < 0) continue; // not a temporary file, or renamed into place meanwhile
    snapshots.push({
      file: name,
      seq: Number(match[1]),
      bytes,
      valid: false,
      problem: 'temporary file: a snapshot write in progress or interrupted (the next write removes it)',
      stateHash: null,
    });
  }
  return { dir, snapshots, recoveryStartsAfterSeq };
}

/** The file's size, or -1 when it is gone (the tools that list take no lock: an engine may be at work). */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw e;
  }
}

export async function createSnapshot(
  dir: string,
  keep: number,
  io: ProgramIo,
): Promise<SnapshotCreateReport> {
  let lock: DirLock;
  try {
    lock = await DirLock.acquire(dir, 'rialto snapshot create');
  } catch (e) {
    throw asCliError(e);
  }
  // The bar starts when recovery knows how many records it will replay.
  let progress: Progress | null = null;
  const stopProgress = (): void => {
    progress?.stop();
    progress = null;
  };
  try {
    const state = await recoverState(dir, {
      onProgress: (done, total) => {
        progress ??= io.progress('replaying', total, 'records');
        progress.update(done);
      },
    }).catch((e: unknown) => {
      throw asCliError(e);
    });
    stopProgress();
    if (state.lastSeq === 0)
      throw new CliError(`the journal in ${dir} holds no records: there is no state to snapshot`);
    const report: SnapshotCreateReport = {
      dir,
      file: basename(state.snapshotFile),
      seq: state.lastSeq,
      bytes: 0,
      written: false,
      fromSnapshotSeq: state.snapshotSeq,
      replayed: state.replayed,
      rejectedSnapshots: state.rejectedSnapshots.map((r) => ({ file: basename(r.file), reason: r.reason })),
      tornTail: state.tail === null ? null : { ...state.tail },
      stateHash: state.core.stateHash(),
    };
    if (state.snapshotSeq === state.lastSeq) {
      report.bytes = statSync(state.snapshotFile).size;
      return report;
    }
    const payload = encodeCoreSnapshot(state.core);
    const file = await new SnapshotStore({ dir, keep }).write(state.lastSeq, payload);
    return { ...report, file: basename(file), bytes: statSync(file).size, written: true };
  } finally {
    stopProgress();
    await lock.release();
  }
}

// ------------------------------------------------------------------ text for people

export function listText(r: SnapshotListReport): string {
  const count = r.snapshots.length;
  const start =
    r.recoveryStartsAfterSeq === null
      ? 'none valid: recovery replays the whole journal'
      : `recovery starts from seq ${r.recoveryStartsAfterSeq}`;
  let text = `snapshots in ${r.dir}: ${count === 0 ? 'none' : `${count}, ${start}`}\n`;
  const width = Math.max(0, ...r.snapshots.map((s) => s.file.length));
  const seqWidth = Math.max(0, ...r.snapshots.map((s) => String(s.seq).length));
  const bytesWidth = Math.max(0, ...r.snapshots.map((s) => String(s.bytes).length));
  for (const s of r.snapshots) {
    const state = s.stateHash !== null ? `valid, state ${s.stateHash}` : `invalid: ${s.problem}`;
    text += `  ${s.file.padEnd(width)}  seq ${String(s.seq).padStart(seqWidth)}  ${String(s.bytes).padStart(bytesWidth)} bytes  ${state}\n`;
  }
  return text;
}

export function createText(r: SnapshotCreateReport): string {
  const from =
    r.fromSnapshotSeq === 0
      ? `a full replay of ${r.replayed} records`
      : `snapshot ${r.fromSnapshotSeq} and ${r.replayed} records replayed`;
  const what = r.written
    ? `wrote ${r.file} (${r.bytes} bytes): the state after seq ${r.seq}, from ${from}`
    : `${r.file} already holds the state after seq ${r.seq}, the last record: nothing written`;
  return `${what}\nstate hash ${r.stateHash}\n`;
}

/** Notices for stderr: snapshots passed over, a torn tail left in place. */
export function createNotices(r: SnapshotCreateReport): string {
  let text = '';
  for (const s of r.rejectedSnapshots) text += `rialto: passed over ${s.file}: ${s.reason}\n`;
  if (r.tornTail !== null) text += `rialto: ${tailText(r.tornTail)}\n`;
  return text;
}
