/**
 * Snapshots of the core's state, so that recovery replays only the journal after them. The payload is opaque
 * here (the core encodes its state); this store makes it durable and checks it comes back as it went in.
 *
 * A write is atomic: the bytes go to a temporary file, which is fsynced, renamed over its final name, and then
 * the directory is fsynced, so a crash leaves either the old set of snapshots or the new one, never half a
 * file under a snapshot's name. Each file carries the sequence number it covers (the state after that
 * command), its length and two CRC32C checksums (header and payload). Loading takes the newest snapshot that
 * verifies; one that does not is reported and passed over for the one before it, down to none (a full replay).
 */
import { crc32c } from './crc32c.js';
import { JournalError, JournalErrorCode, JournalNoticeCode, describeError, errnoCode } from './errors.js';
import type { JournalNotice, NoticeSink } from './errors.js';
import {
  HEADER_BYTES,
  SNAPSHOT_MAGIC,
  SNAPSHOT_VERSION,
  checkHeader,
  parseSnapshotFileName,
  snapshotFileName,
  writeSnapshotHeader,
} from './format.js';
import { nodeFs, readFully, writeFully, type JournalFs } from './fs-port.js';
import { JOURNAL_LIMITS } from './limits.js';
import { join } from 'node:path';

const TEMP_SUFFIX = '.tmp';

export interface SnapshotStoreOptions {
  dir: string;
  /** How many of the newest snapshots to keep; older ones are removed after each write. Default 3. */
  keep?: number;
  fs?: JournalFs;
  onNotice?: NoticeSink;
}

export interface LoadedSnapshot {
  /** The sequence number the snapshot covers: replay continues at seq + 1. */
  seq: number;
  payload: Uint8Array;
  file: string;
}

export interface SnapshotRejection {
  file: string;
  reason: string;
}

export interface SnapshotLoad {
  /** The newest snapshot that verifies, or null: replay the whole journal. */
  snapshot: LoadedSnapshot | null;
  /** Newer snapshots passed over, newest first, with why. */
  rejected: SnapshotRejection[];
}

export class SnapshotStore {
  private readonly dir: string;
  private readonly keep: number;
  private readonly io: JournalFs;
  private readonly onNotice: NoticeSink | undefined;

  constructor(options: SnapshotStoreOptions) {
    const keep = options.keep ?? JOURNAL_LIMITS.snapshotsKeptDefault;
    if (!Number.isSafeInteger(keep) || keep < 1 || keep > JOURNAL_LIMITS.snapshotsKeptMax) {
      throw new JournalError(
        JournalErrorCode.InvalidArgument,
        `keep must be 1 .. ${JOURNAL_LIMITS.snapshotsKeptMax}`,
      );
    }
    this.dir = options.dir;
    this.keep = keep;
    this.io = options.fs ?? nodeFs;
    this.onNotice = options.onNotice;
  }

  /** The snapshots on disk (verified or not), newest first. */
  async list(): Promise<{ seq: number; file: string }[]> {
    const names = await this.names();
    const found: { seq: number; file: string }[] = [];
    for (const name of names) {
      const seq = parseSnapshotFileName(name);
      if (seq >= 0) found.push({ seq, file: join(this.dir, name) });
    }
    return found.sort((a, b) => b.seq - a.seq);
  }

  /**
   * Writes the snapshot covering `seq` atomically, then removes all but the newest `keep` snapshots and any
   * temporary file a crash left. Resolves once the snapshot is durable under its name; returns its path.
   */
  async write(seq: number, payload: Uint8Array): Promise<string> {
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw new JournalError(JournalErrorCode.InvalidArgument, `snapshot sequence number ${seq}`);
    }
    if (payload.length > JOURNAL_LIMITS.snapshotBytesMax) {
      throw new JournalError(
        JournalErrorCode.InvalidArgument,
        `snapshot of ${payload.length} bytes is over the limit`,
      );
    }
    await this.io.mkdir(this.dir);
    const file = join(this.dir, snapshotFileName(seq));
    const temp = file + TEMP_SUFFIX;
    const header = new Uint8Array(HEADER_BYTES);
    writeSnapshotHeader(header, seq, payload);
    const fd = await this.io.open(temp, 'w');
    try {
      await writeFully(this.io, fd, header, 0, HEADER_BYTES, 0);
      await writeFully(this.io, fd, payload, 0, payload.length, HEADER_BYTES);
      await this.io.fsync(fd);
    } finally {
      await this.io.close(fd);
    }
    await this.io.rename(temp, file);
    await this.io.syncDir(this.dir);
    await this.prune();
    return file;
  }

  /**
   * The newest snapshot whose header and payload verify and that `accept` takes (it returns '' or why not: a
   * payload that checks out but does not decode); each newer one that fails is reported.
   */
  async loadNewestValid(accept: (s: LoadedSnapshot) => string = () => ''): Promise<SnapshotLoad> {
    const rejected: SnapshotRejection[] = [];
    for (const { seq, file } of await this.list()) {
      const loaded = await this.check(file, seq);
      const reason = typeof loaded === 'string' ? loaded : accept(loaded);
      if (typeof loaded !== 'string' && reason === '') return { snapshot: loaded, rejected };
      rejected.push({ file, reason });
      this.notify({
        code: JournalNoticeCode.SnapshotRejected,
        file,
        offset: 0,
        bytes: 0,
        message: `passed over snapshot ${seq}: ${reason}`,
      });
    }
    return { snapshot: null, rejected };
  }

  /**
   * The snapshot in `file` (covering `seq`, the number in its name) with its payload, or why it does not
   * verify: the checks loading makes, for tools that list snapshots. Never throws for a bad or unreadable file.
   */
  async check(file: string, seq: number): Promise<LoadedSnapshot | string> {
    try {
      return await this.read(file, seq);
    } catch (e) {
      return `unreadable: ${errnoCode(e) || describeError(e)}`;
    }
  }

  /** The snapshot in `file`, or why it does not verify. */
  private async read(file: string, seq: number): Promise<LoadedSnapshot | string> {
    const fd = await this.io.open(file, 'r');
    try {
      const size = await this.io.size(fd);
      if (size < HEADER_BYTES) return `${size} bytes, shorter than a header`;
      if (size - HEADER_BYTES > JOURNAL_LIMITS.snapshotBytesMax) return `${size} bytes, over the limit`;
      const header = new Uint8Array(HEADER_BYTES);
      await readFully(this.io, fd, header, HEADER_BYTES, 0);
      const h = checkHeader(header, 0, SNAPSHOT_MAGIC, SNAPSHOT_VERSION);
      if (!h.ok) return `header: ${h.problem}`;
      if (h.seq !== seq) return `header covers ${h.seq}, the file name ${seq}`;
      if (h.word !== size - HEADER_BYTES)
        return `header says ${h.word} payload bytes, the file holds ${size - HEADER_BYTES}`;
      const payload = new Uint8Array(h.word);
      const got = await readFully(this.io, fd, payload, h.word, HEADER_BYTES);
      if (got !== h.word) return `read ${got} of ${h.word} payload bytes`;
      if (crc32c(payload) !== h.payloadCrc) return 'payload checksum mismatch';
      return { seq, payload, file };
    } finally {
      await this.io.close(fd);
    }
  }

  private async names(): Promise<string[]> {
    try {
      return await this.io.readdir(this.dir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  /** Removes snapshots beyond the newest `keep`, and temporary files (only this store writes them, one at a time). */
  private async prune(): Promise<void> {
    let removed = 0;
    for (const name of await this.names()) {
      if (name.endsWith(TEMP_SUFFIX) && parseSnapshotFileName(name.slice(0, -TEMP_SUFFIX.length)) >= 0) {
        await this.io.unlink(join(this.dir, name));
        removed++;
        this.notify({
          code: JournalNoticeCode.SnapshotTempRemoved,
          file: join(this.dir, name),
          offset: 0,
          bytes: 0,
          message: 'removed a temporary snapshot file left by an interrupted write',
        });
      }
    }
    const snapshots = await this.list();
    for (const { file } of snapshots.slice(this.keep)) {
      await this.io.unlink(file);
      removed++;
    }
    if (removed > 0) await this.io.syncDir(this.dir);
  }

  private notify(notice: JournalNotice): void {
    this.onNotice?.(notice);
  }
}
