/**
 * Recovery of the core's state from a data directory, shared by the engine's start and the offline tools
 * (`rialto snapshot create`): the newest snapshot that verifies and decodes, then the journal after it.
 * `loadCoreSnapshot` is the one definition of which snapshot recovery accepts, so that a tool never starts
 * from a snapshot the engine would pass over. `recoverState` reads only: it neither cuts a torn tail nor
 * opens the journal for writing (the engine does both at its next start).
 */
import { ExchangeCore, decodeCoreSnapshot, type CoreOptions } from '../core/index.js';
import {
  JournalReader,
  executeByKind,
  SnapshotStore,
  readOnlyFs,
  type JournalFs,
  type LoadedSnapshot,
  type SnapshotRejection,
  type TornTail,
} from '../journal/index.js';
import { errorInfo } from './protocol.js';

/** Records replayed between two progress reports. */
const PROGRESS_EVERY_RECORDS = 65_536;

export interface CoreSnapshotLoad {
  /** The core restored from the newest acceptable snapshot, or null: replay the whole journal. */
  core: ExchangeCore | null;
  snapshot: LoadedSnapshot | null;
  /** Newer snapshots passed over, newest first, with why (including a payload that does not decode). */
  rejected: SnapshotRejection[];
}

/** The core in a snapshot's payload (whose checksums held), or why recovery would pass it over. */
export function decodeCoreOrWhyNot(payload: Uint8Array, options: CoreOptions = {}): ExchangeCore | string {
  try {
    return decodeCoreSnapshot(payload, options);
  } catch (e) {
    return `does not decode: ${errorInfo(e).message}`;
  }
}

/** The newest snapshot in `store` whose file verifies and whose payload decodes into a core. */
export async function loadCoreSnapshot(
  store: SnapshotStore,
  options: CoreOptions,
): Promise<CoreSnapshotLoad> {
  let restored: ExchangeCore | null = null;
  const load = await store.loadNewestValid((candidate) => {
    const decoded = decodeCoreOrWhyNot(candidate.payload, options);
    if (typeof decoded === 'string') return decoded;
    restored = decoded;
    return '';
  });
  return { core: restored, snapshot: load.snapshot, rejected: load.rejected };
}

export interface RecoverOptions {
  /** Order slots each new book allocates up front (as the engine's config). */
  bookCapacityOrders?: number;
  /** Default: node's file system, read only. */
  fs?: JournalFs;
  /** Told how many of the records after the snapshot were replayed: at 0, now and then, and at the end. */
  onProgress?: (replayed: number, total: number) => void;
}

export interface RecoveredState {
  core: ExchangeCore;
  /** The snapshot the replay started from (0 and '' for a full replay). */
  snapshotSeq: number;
  snapshotFile: string;
  rejectedSnapshots: SnapshotRejection[];
  /** Journal records replayed after the snapshot. */
  replayed: number;
  /** The last valid record: the state is the one after it. */
  lastSeq: number;
  /** A torn tail left in place (records never acknowledged; the engine cuts it at its next start). */
  tail: TornTail | null;
}

/**
 * Rebuilds the state the engine would start with, without changing a file. Throws the journal's errors
 * (JOURNAL_CORRUPT naming file and offset, JOURNAL_MISSING, JOURNAL_VERSION) as the engine's start would.
 */
export async function recoverState(dir: string, options: RecoverOptions = {}): Promise<RecoveredState> {
  const io = options.fs ?? readOnlyFs();
  const coreOptions = { bookCapacityOrders: options.bookCapacityOrders };
  const loaded = await loadCoreSnapshot(new SnapshotStore({ dir, fs: io }), coreOptions);
  const core = loaded.core ?? new ExchangeCore(coreOptions);
  const fromSeq = (loaded.snapshot?.seq ?? 0) + 1;
  const reader = new JournalReader(dir, io);
  // A check without decoding first (several times faster than the replay): damage stops the run before a long
  // replay, and the count of records to replay makes the progress exact.
  const checked = await reader.scan(fromSeq, null);
  const total = checked.lastSeq - fromSeq + 1;
  const progress = options.onProgress;
  progress?.(0, total);
  let replayed = 0;
  const scan = await reader.scan(fromSeq, (_seq, _timeUs, command, kind) => {
    core.events.clear();
    executeByKind(core, command, kind);
    replayed++;
    if (progress !== undefined && replayed % PROGRESS_EVERY_RECORDS === 0) progress(replayed, total);
  });
  core.events.clear();
  progress?.(replayed, total);
  return {
    core,
    snapshotSeq: loaded.snapshot?.seq ?? 0,
    snapshotFile: loaded.snapshot?.file ?? '',
    rejectedSnapshots: loaded.rejected,
    replayed,
    lastSeq: scan.lastSeq,
    tail: scan.tail,
  };
}
