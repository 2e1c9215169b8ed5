/**
 * The audit trail's truth: an append-only file in the data directory (`audit.log`, beside the journal), one
 * line per event, written in groups with one fdatasync per group. The query store's
 * `audit_events` table is a projection of it (projection.ts), which may lag.
 *
 * A line is `CRC SEQ HASH JSON\n`: JSON is the event's canonical JSON (docs/audit.md; it holds `seq` too),
 * HASH the chain's hash of the event (64 hex digits), SEQ its number, and CRC the CRC-32 (8 hex digits) of
 * everything after it on the line. Canonical JSON has no raw line breaks (control characters are escaped), so
 * a line break always ends a record.
 *
 * The CRC tells damage from a crash; the hash chain tells tampering (a line changed and its CRC recomputed).
 * Opening for appending checks each line's CRC and that each number follows the one before (not the hashes:
 * that is `rialto audit verify`), from the file's checkpoint on. As in the journal, bad bytes at the very end with
 * no good line after them are a torn tail, the last group's write cut short by a crash and never reported
 * written: they are cut. A bad line with a good one after it is corruption, and the open fails naming its
 * byte offset.
 *
 * The checkpoint (`audit.checkpoint`, beside the file: the number, hash and end of a durable line) is written
 * at every clean close and every `CHECKPOINT_EVERY_BYTES` appended, so that an open reads what came after it
 * rather than the whole file, which grows with every request the venue ever answered (about 400 bytes an
 * order: gigabytes a day under load, and each start read it all). It is a hint: written without an fsync,
 * believed only when the line it names ends where it says with that number and hash, and otherwise the open
 * reads the whole file as before. What lies before a checkpoint was checked when it was written; damage
 * done to it since is `rialto audit verify`'s to find.
 */
import { constants } from 'node:fs';
import { open, readFile, rename, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { TextBytes } from '../collections/index.js';
import {
  GENESIS_HASH,
  RESULT_STATUSES,
  canonicalEventJson,
  writeCanonicalEventJson,
  type AuditEventInput,
  type AuditRecord,
  type DetailObject,
} from './event.js';
import { AuditAppendThread } from './file-thread.js';
import { GroupLines } from './lines.js';

/** The file's name in the data directory. */
export const AUDIT_FILE_NAME = 'audit.log';
/** The checkpoint's name in the data directory (see the top of this file). */
export const AUDIT_CHECKPOINT_NAME = 'audit.checkpoint';
/** Bytes read from the file at a time. */
const READ_CHUNK_BYTES = 1 << 16;
/** By default a checkpoint is written once this many bytes were appended since the last (and at every close). */
const CHECKPOINT_EVERY_BYTES = 64 * 1024 * 1024;
/** Bisecting for an event stops when this few bytes are left, which are then read line by line. */
const BISECT_SCAN_BYTES = 256 * 1024;
/** A line longer than this is damage (an event's canonical JSON is at most about 6 KB: docs/audit.md). */
export const AUDIT_LINE_BYTES_MAX = 64 * 1024;

const NEWLINE = 0x0a;
const LINE = /^([0-9a-f]{8}) (([1-9][0-9]{0,15}) ([0-9a-f]{64}) (\{.*\}))$/s;

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** One line of the file, checked for its CRC and form (not its hash). */
export interface AuditLine {
  readonly seq: number;
  readonly hash: string;
  /** The event's canonical JSON as stored. */
  readonly json: string;
  /** Byte offset of the line in the file. */
  readonly offset: number;
  /** Byte offset of the next line (after this one's newline). */
  readonly next: number;
}

/** How a read of the file ended. */
export type AuditFileEnd =
  | { readonly kind: 'clean'; readonly bytes: number }
  /** Bad bytes at the end, no good line after them: cut at `offset` when opened for appending. */
  | { readonly kind: 'torn'; readonly offset: number; readonly bytes: number }
  /** A bad line (or a number out of order) with good lines after it: nothing is trusted past `offset`. */
  | { readonly kind: 'corrupt'; readonly offset: number; readonly seq: number; readonly why: string };

export class AuditFileError extends Error {
  override name = 'AuditFileError';
}

export const auditFilePath = (dir: string): string => join(dir, AUDIT_FILE_NAME);
const checkpointPath = (dir: string): string => join(dir, AUDIT_CHECKPOINT_NAME);

/** The line of an event (`json` its canonical JSON, `hash` its chained hash), newline included. */
export function auditLineText(seq: number, hash: string, json: string): string {
  const body = `${seq} ${hash} ${json}`;
  return `${crc32(body).toString(16).padStart(8, '0')} ${body}\n`;
}

/** Parses one line (without its newline); null when it is damaged. */
export function parseAuditLine(text: string, offset: number, next: number): AuditLine | null {
  const m = LINE.exec(text);
  if (m === null || parseInt(m[1], 16) !== crc32(m[2])) return null;
  const seq = Number(m[3]);
  if (!Number.isSafeInteger(seq)) return null;
  return { seq, hash: m[4], json: m[5], offset, next };
}

/**
 * Reads the file's lines in order, from byte `fromOffset` (a line's start) on, a page at a time (at most
 * `pageLines` each). Numbers must follow one another from `firstSeq`. `end` says how the read ended once the
 * iteration is done. Read only: it cuts nothing, so it is safe beside a venue that appends (a group being
 * written shows as a torn tail).
 */
export class AuditFileReader {
  end: AuditFileEnd = { kind: 'clean', bytes: 0 };

  constructor(
    readonly path: string,
    private readonly fromOffset = 0,
    private readonly firstSeq = 1,
    /** A handle of the file kept open by the caller (the projection reads often), else one per read. */
    private readonly handle: FileHandle | null = null,
  ) {}

  async *pages(pageLines: number): AsyncGenerator<AuditLine[]> {
    if (this.handle !== null) {
      yield* this.read(this.handle, pageLines);
      return;
    }
    let fh: FileHandle;
    try {
      fh = await open(this.path, constants.O_RDONLY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.end = { kind: 'clean', bytes: 0 };
        return;
      }
      throw e;
    }
    try {
      yield* this.read(fh, pageLines);
    } finally {
      await fh.close();
    }
  }

  private async *read(fh: FileHandle, pageLines: number): AsyncGenerator<AuditLine[]> {
    let at = this.fromOffset;
    let nextSeq = this.firstSeq;
    let rest = Buffer.alloc(0);
    /** The first bad line, while no good one has followed it. */
    let bad: { offset: number; seq: number; why: string } | null = null;
    let page: AuditLine[] = [];
    const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, READ_CHUNK_BYTES, at + rest.length);
      if (bytesRead === 0) break;
      const buf =
        rest.length === 0
          ? chunk.subarray(0, bytesRead)
          : Buffer.concat([rest, chunk.subarray(0, bytesRead)]);
      let start = 0;
      for (let nl = buf.indexOf(NEWLINE, start); nl >= 0; nl = buf.indexOf(NEWLINE, start)) {
        const offset = at + start;
        const line = parseAuditLine(buf.toString('utf8', start, nl), offset, at + nl + 1);
        start = nl + 1;
        if (line === null) {
          bad ??= { offset, seq: nextSeq, why: 'a damaged line' };
          continue;
        }
        // A whole line after a damaged one, or a whole line out of order: no crash leaves either.
        if (bad !== null || line.seq !== nextSeq) {
          const found =
            bad === null
              ? { offset, seq: nextSeq, why: `event ${line.seq} out of order` }
              : { ...bad, why: `${bad.why}, with good lines after it` };
          this.end = { kind: 'corrupt', ...found };
          if (page.length > 0) yield page;
          return;
        }
        page.push(line);
        nextSeq++;
        if (page.length >= pageLines) {
          yield page;
          page = [];
        }
      }
      at += start;
      rest = Buffer.from(buf.subarray(start));
      if (rest.length > AUDIT_LINE_BYTES_MAX) {
        bad ??= { offset: at, seq: nextSeq, why: 'a line longer than any event' };
        at += rest.length;
        rest = Buffer.alloc(0);
      }
    }
    if (page.length > 0) yield page;
    const bytes = at + rest.length;
    if (bad !== null) this.end = { kind: 'torn', offset: bad.offset, bytes };
    else if (rest.length > 0) this.end = { kind: 'torn', offset: at, bytes };
    else this.end = { kind: 'clean', bytes };
  }
}

/** Where a file's lines end and what its head is, after a full read (for opening and the projection). */
export interface AuditFileScan {
  readonly head: ChainHead;
  readonly end: AuditFileEnd;
  /** Where the good lines end (the size once a torn tail is cut). */
  readonly goodBytes: number;
}

/** A durable line of the file: its number and hash, and the offset after it. */
export interface AuditFilePoint {
  readonly head: ChainHead;
  readonly bytes: number;
}

const FILE_START: AuditFilePoint = { head: { seq: 0, hash: GENESIS_HASH }, bytes: 0 };

/** Reads the file from `from` (a line's end: by default its start) to its end. */
export async function scanAuditFile(path: string, from: AuditFilePoint = FILE_START): Promise<AuditFileScan> {
  const reader = new AuditFileReader(path, from.bytes, from.head.seq + 1);
  let head: ChainHead = from.head;
  let goodBytes = from.bytes;
  for await (const page of reader.pages(4096)) {
    const last = page[page.length - 1];
    head = { seq: last.seq, hash: last.hash };
    goodBytes = last.next;
  }
  return { head, end: reader.end, goodBytes };
}

/**
 * The checkpoint of the file in `dir`, when it names a line of the file as it is (the line ending at its
 * offset, with its number and hash); else null, and the file is read from its start.
 */
export async function auditCheckpointOf(dir: string): Promise<AuditFilePoint | null> {
  let saved: unknown;
  try {
    saved = JSON.parse(await readFile(checkpointPath(dir), 'utf8'));
  } catch {
    return null; // none yet, or one a crash left half written: a hint, not the truth
  }
  const cp = saved as { seq?: unknown; hash?: unknown; bytes?: unknown } | null;
  const { seq, hash, bytes } = cp ?? {};
  if (
    !(typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0) ||
    !(typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash)) ||
    !(typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes > 0)
  ) {
    return null;
  }
  let fh: FileHandle;
  try {
    fh = await open(auditFilePath(dir), constants.O_RDONLY);
  } catch {
    return null;
  }
  try {
    if ((await fh.stat()).size < bytes) return null;
    const from = Math.max(0, bytes - AUDIT_LINE_BYTES_MAX - 1);
    const buf = Buffer.allocUnsafe(bytes - from);
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    if (bytesRead !== buf.length || buf[buf.length - 1] !== NEWLINE) return null;
    const newline = buf.lastIndexOf(NEWLINE, buf.length - 2);
    if (newline === -1 && from > 0) return null;
    const line = parseAuditLine(buf.toString('utf8', newline + 1, buf.length - 1), from + newline + 1, bytes);
    if (line === null || line.seq !== seq || line.hash !== hash) return null;
    return { head: { seq, hash }, bytes };
  } finally {
    await fh.close();
  }
}

/** Writes `point` as the checkpoint of the file in `dir` (no fsync: see the top of this file). */
async function writeAuditCheckpoint(dir: string, point: AuditFilePoint): Promise<void> {
  const path = checkpointPath(dir);
  const text = JSON.stringify({ seq: point.head.seq, hash: point.head.hash, bytes: point.bytes });
  await writeFile(`${path}.tmp`, text + '\n');
  await rename(`${path}.tmp`, path);
}

/**
 * The line of event `seq` in the file, or null when the file does not hold it. Bisects the file's bytes (the
 * numbers grow with the offset) down to `BISECT_SCAN_BYTES`, which it reads line by line, so that finding an
 * event reads a few hundred kilobytes of any file; a damaged line where it lands makes it read from the start.
 */
export async function findAuditLine(path: string, seq: number): Promise<AuditLine | null> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    let lo = 0;
    let loSeq = 1;
    let hi = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(2 * AUDIT_LINE_BYTES_MAX + 2);
    while (hi - lo > BISECT_SCAN_BYTES) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const line = await lineFrom(fh, buf, mid);
      if (line === null || line.offset >= hi) {
        lo = 0; // damage, or a group being written: the whole file, line by line, says which
        loSeq = 1;
        break;
      }
      if (line.seq <= seq) {
        lo = line.offset;
        loSeq = line.seq;
      } else {
        hi = mid;
      }
    }
    const reader = new AuditFileReader(path, lo, loSeq, fh);
    for await (const page of reader.pages(4096)) {
      if (page[page.length - 1].seq < seq) continue;
      return page.find((l) => l.seq === seq) ?? null;
    }
    return null;
  } finally {
    await fh.close();
  }
}

/** The first whole line that starts at or after byte `at` (`at` > 0), or null when there is none in reach. */
async function lineFrom(fh: FileHandle, buf: Buffer, at: number): Promise<AuditLine | null> {
  const { bytesRead } = await fh.read(buf, 0, buf.length, at - 1);
  const before = buf.indexOf(NEWLINE);
  if (before === -1 || before >= bytesRead) return null;
  const end = buf.indexOf(NEWLINE, before + 1);
  if (end === -1 || end >= bytesRead) return null;
  const offset = at + before;
  return parseAuditLine(buf.toString('utf8', before + 1, end), offset, at + end);
}

/**
 * A durable group's rows as COPY text, handed over by the appender's worker (file-thread.ts) for the audit
 * projection: events `firstSeq` to `firstSeq + count - 1`, whose lines are the file's bytes `offset` to `next`.
 */
export interface AuditCopyGroup {
  readonly firstSeq: number;
  readonly count: number;
  readonly offset: number;
  readonly next: number;
  /** `copyRowOfLine` of each line, in order, as UTF-8. */
  readonly text: Uint8Array;
}

/** Takes durable groups' COPY text (the audit projection). */
export interface AuditCopyReceiver {
  /** Whether it has room for another group's text now: the worker makes the text only then. */
  wantsCopyText(): boolean;
  /** A group durable in the file (given in the file's order, each once); it may drop it. */
  takeCopyText(group: AuditCopyGroup): void;
}

/** The file operations of the appender; tests inject failures. */
export interface AuditFileHandle {
  write(bytes: Buffer): Promise<void>;
  /** fdatasync. */
  sync(): Promise<void>;
  /** Cuts the file back to `bytes` (after a failed write) and syncs. */
  truncate(bytes: number): Promise<void>;
  close(): Promise<void>;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function openHandle(path: string): Promise<AuditFileHandle> {
  const fh = await open(path, 'a');
  // The file may be new: its directory entry must be as durable as the lines appended to it.
  await syncDir(dirname(path));
  return {
    write: async (bytes) => {
      for (let at = 0; at < bytes.length;) at += (await fh.write(bytes, at)).bytesWritten;
    },
    sync: () => fh.datasync(),
    truncate: async (bytes) => {
      await fh.truncate(bytes);
      await fh.datasync();
    },
    close: () => fh.close(),
  };
}

export interface AuditFileOptions {
  /** Told when a torn tail is cut (how many bytes, from which offset). */
  readonly onRepair?: (message: string) => void;
  /** Opens the file for appending; default node's file system. */
  readonly openHandle?: (path: string) => Promise<AuditFileHandle>;
  /**
   * Where groups are linked, written and synced: 'caller' (default) this thread, through `openHandle`;
   * 'worker' a worker thread of the file's own (file-thread.ts), for the venue, whose main thread serves the
   * API. The file and its lines are the same.
   */
  readonly thread?: 'caller' | 'worker';
  /** A checkpoint is written after this many bytes appended since the last (default 64 MiB), and at close. */
  readonly checkpointEveryBytes?: number;
}

/**
 * The appender. One per data directory, under its lock (the venue's engine, or `rialto keys` on PGlite).
 * `append` chains a group of events onto the head, writes their lines with one write and one fdatasync, and
 * resolves once they are durable; a failed write or sync is cut back (the file's size before the group) so
 * that a retry appends the same group again cleanly.
 */
export class AuditFile {
  private headSeq: number;
  private headHash: Buffer;
  private bytes: number;
  private appending = false;
  /** Where a group's canonical JSON is written before it goes to the worker (`thread`). */
  private readonly groupText = new TextBytes(1 << 16);
  /** Groups built on this thread (when `thread` is null). */
  private readonly lines = new GroupLines();
  /** Who takes the groups' COPY text (made by the worker only: `thread` 'worker'), or null. */
  private copyReceiver: AuditCopyReceiver | null = null;

  private constructor(
    private readonly dir: string,
    readonly path: string,
    private readonly fh: AuditFileHandle,
    head: ChainHead,
    bytes: number,
    /** Where the file's checkpoint stands (0: none). */
    private checkpointBytes: number,
    private readonly checkpointEveryBytes: number,
    /** The worker that links, writes and syncs groups, or null: this thread does. */
    private readonly thread: AuditAppendThread | null,
  ) {
    this.headSeq = head.seq;
    this.headHash = Buffer.from(head.hash, 'hex');
    this.bytes = bytes;
  }

  /**
   * Opens (creating) the file of `dir`: checks every line after its checkpoint (all of them without one), cuts
   * a torn tail, fails on corruption.
   */
  static async open(dir: string, options: AuditFileOptions = {}): Promise<AuditFile> {
    const path = auditFilePath(dir);
    const checkpoint = await auditCheckpointOf(dir);
    const scan = await scanAuditFile(path, checkpoint ?? undefined);
    if (scan.end.kind === 'corrupt') {
      throw new AuditFileError(
        `${path}: ${scan.end.why} at byte ${scan.end.offset} (where event ${scan.end.seq} should be): ` +
          'refusing to append to a damaged audit trail',
      );
    }
    const fh = await (options.openHandle ?? openHandle)(path);
    if (scan.end.kind === 'torn') {
      await fh.truncate(scan.goodBytes);
      options.onRepair?.(
        `${path}: cut a torn tail of ${scan.end.bytes - scan.goodBytes} bytes at byte ${scan.goodBytes} ` +
          `(after event ${scan.head.seq})`,
      );
    }
    const thread = options.thread === 'worker' ? await AuditAppendThread.start(path) : null;
    const every = options.checkpointEveryBytes ?? CHECKPOINT_EVERY_BYTES;
    const at = checkpoint?.bytes ?? 0;
    return new AuditFile(dir, path, fh, scan.head, scan.goodBytes, at, every, thread);
  }

  /** The last event durable in the file. */
  get head(): ChainHead {
    return { seq: this.headSeq, hash: this.headHash.toString('hex') };
  }

  get size(): number {
    return this.bytes;
  }

  /**
   * Hands each durable group's COPY text to `receiver` (null: to nobody) from now on, while it wants it. Only a
   * file appended on its worker (`thread: 'worker'`) makes the text; on the caller's thread it is left to the
   * projection, which reads the file for what it is not given.
   */
  handOverCopyText(receiver: AuditCopyReceiver | null): void {
    this.copyReceiver = receiver;
  }

  /** Chains `events` onto the head and makes them durable; resolves with the new head. */
  async append(events: readonly AuditEventInput[]): Promise<ChainHead> {
    if (this.appending) throw new Error('AuditFile.append is not reentrant');
    if (events.length === 0) return this.head;
    this.appending = true;
    try {
      if (this.thread !== null) {
        // The events are numbered here, in their order; the worker chains, writes and syncs them. Their
        // canonical JSON is written as UTF-8 straight into the group's bytes, joined by line breaks.
        const text = this.groupText.reset();
        for (let i = 0; i < events.length; i++) {
          if (i > 0) text.text('\n');
          writeCanonicalEventJson(text, this.headSeq + 1 + i, events[i]);
        }
        const firstSeq = this.headSeq + 1;
        const offset = this.bytes;
        const done = await this.thread.append(
          firstSeq,
          this.headHash,
          text.bytes(),
          events.length,
          offset,
          this.copyReceiver?.wantsCopyText() ?? false,
        );
        this.bytes += done.bytes;
        this.headSeq += events.length;
        this.headHash = done.hash;
        if (done.copy !== null) {
          const group = { firstSeq, count: events.length, offset, next: this.bytes, text: done.copy };
          this.copyReceiver?.takeCopyText(group);
        }
        await this.checkpointIfDue();
        return this.head;
      }
      const seq = this.headSeq + events.length;
      const jsons = events.map((e, i) => canonicalEventJson(this.headSeq + 1 + i, e));
      const { bytes, hash: prev } = this.lines.build(this.headHash, this.headSeq + 1, jsons);
      try {
        await this.fh.write(bytes);
        await this.fh.sync();
      } catch (e) {
        // What reached the file is unknown: cut back to the last durable group, so that a retry is clean.
        await this.fh.truncate(this.bytes).catch(() => undefined);
        throw e;
      }
      this.bytes += bytes.length;
      this.headSeq = seq;
      this.headHash = prev;
      await this.checkpointIfDue();
      return this.head;
    } finally {
      this.appending = false;
    }
  }

  /** A checkpoint at the head once enough was appended since the last (everything up to it is durable). */
  private async checkpointIfDue(): Promise<void> {
    if (this.bytes - this.checkpointBytes >= this.checkpointEveryBytes) await this.checkpoint();
  }

  private async checkpoint(): Promise<void> {
    if (this.headSeq === 0 || this.bytes === this.checkpointBytes) return;
    try {
      await writeAuditCheckpoint(this.dir, { head: this.head, bytes: this.bytes });
      this.checkpointBytes = this.bytes;
    } catch {
      // A hint only: without it the next open reads more of the file, nothing else changes.
    }
  }

  /**
   * Appends records chained elsewhere, hashes as they are (the table of an earlier version, which kept the
   * chain there, copied into a new file at the first start): `rialto audit verify` checks them as any others.
   */
  async importRecords(records: readonly AuditRecord[]): Promise<ChainHead> {
    if (records.length === 0) return this.head;
    let seq = this.headSeq;
    let text = '';
    for (const r of records) {
      if (r.seq !== seq + 1) throw new Error(`importing audit event ${r.seq} after event ${seq}`);
      seq = r.seq;
      text += auditLineText(r.seq, r.hash, canonicalEventJson(r.seq, r));
    }
    const bytes = Buffer.from(text, 'utf8');
    await this.fh.write(bytes);
    await this.fh.sync();
    this.bytes += bytes.length;
    this.headSeq = seq;
    this.headHash = Buffer.from(records[records.length - 1].hash, 'hex');
    return this.head;
  }

  async close(): Promise<void> {
    try {
      await this.thread?.close();
      // Not in the middle of an append (a close that does not wait for one): the head may not be durable.
      if (!this.appending) await this.checkpoint();
    } finally {
      await this.fh.close();
    }
  }
}

const str = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const obj = (v: unknown): Record<string, unknown> | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/**
 * The event a canonical JSON text holds (its `seq` aside), or null when the text is not an event of the
 * canonical form's shape.
 */
export function eventOfJson(json: string): AuditEventInput | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  const o = obj(parsed);
  const actor = obj(o?.actor);
  const target = obj(o?.target);
  const result = obj(o?.result);
  const details = obj(o?.details);
  if (o === null || actor === null || target === null || result === null || details === null) return null;
  const status = RESULT_STATUSES.find((r) => r === result.status);
  const { id, timeUs, action, requestId } = o;
  if (!(str(id) && typeof timeUs === 'number' && Number.isSafeInteger(timeUs) && str(action))) return null;
  if (!(strOrNull(requestId) && strOrNull(actor.id) && strOrNull(actor.role) && strOrNull(actor.ip)))
    return null;
  if (!(str(target.kind) && strOrNull(target.id) && status !== undefined && strOrNull(result.code)))
    return null;
  return {
    id,
    timeUs,
    actor: { id: actor.id, role: actor.role, ip: actor.ip },
    action,
    target: { kind: target.kind, id: target.id },
    result: { status, code: result.code },
    requestId,
    details: details as DetailObject,
  };
}

/**
 * The record of a line, for verifying and printing. A line whose JSON is not the canonical form of an event
 * numbered as the line is (edited by hand, say) becomes a record whose details hold the text as found: its
 * hash then does not match, and verification names the event, as for any other change.
 */
export function recordOfLine(line: AuditLine): AuditRecord {
  const e = eventOfJson(line.json);
  if (e !== null && canonicalEventJson(line.seq, e) === line.json)
    return { ...e, seq: line.seq, hash: line.hash };
  return {
    id: '',
    timeUs: 0,
    actor: { id: null, role: null, ip: null },
    action: '(not an event in canonical form)',
    target: { kind: '', id: null },
    result: { status: 'failed', code: null },
    requestId: null,
    details: { notCanonical: line.json },
    seq: line.seq,
    hash: line.hash,
  };
}
