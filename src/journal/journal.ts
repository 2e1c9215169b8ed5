/**
 * Opening the journal: the recovery scan, the repair of a torn tail, and a writer positioned after the last
 * valid record. Start-up in the engine is: load the newest valid snapshot (SnapshotStore), then
 * `openJournal(options, { fromSeq: snapshotSeq + 1, visit })` replays the journal after it into the core and
 * hands back the writer that continues it.
 */
import {
  JournalError,
  JournalErrorCode,
  JournalNoticeCode,
  type JournalNotice,
  type NoticeSink,
} from './errors.js';
import { HEADER_BYTES, segmentFileName, writeSegmentHeader } from './format.js';
import { nodeFs, writeFully, type JournalFs } from './fs-port.js';
import { JOURNAL_LIMITS } from './limits.js';
import { JournalReader, type RecordVisitor, type TornTail } from './reader.js';
import { DEFAULT_DURABILITY, JournalWriter, type DurabilityPolicy } from './writer.js';
import { dirname, join } from 'node:path';

export interface JournalOptions {
  /** The journal's directory; created if missing. */
  dir: string;
  /** The sequencer's clock: microseconds since the epoch, a safe integer. Injected so tests are deterministic. */
  clockUs: () => number;
  /** Default { fsync: 'batch' }: nothing acknowledged is lost, even on power loss. */
  durability?: DurabilityPolicy;
  /** A segment rolls over when the next batch would take it past this size. Default 64 MiB. */
  segmentBytes?: number;
  /** Encoded bytes that may wait for the next batch before appends are refused (JOURNAL_BUSY). Default 64 MiB. */
  pendingBytesMax?: number;
  fs?: JournalFs;
  /** Told about every repair (a torn tail cut). The same notices are in the result. */
  onNotice?: NoticeSink;
}

export interface ReplayRequest {
  /** The first sequence number to visit: the snapshot's plus one, or 1 for a full replay. */
  fromSeq: number;
  visit: RecordVisitor;
}

export interface OpenedJournal {
  writer: JournalWriter;
  /** The last record in the journal (0 when it is empty) and its time. */
  lastSeq: number;
  lastTimeUs: number;
  /** Records passed to the visitor. */
  replayed: number;
  notices: JournalNotice[];
}

/**
 * Scans the journal (from the segment holding `replay.fromSeq`, or only the last segment without a replay),
 * cuts a torn tail, and opens the writer after the last valid record. Throws JOURNAL_CORRUPT, JOURNAL_VERSION
 * or JOURNAL_MISSING from the scan; nothing is written before the scan has succeeded.
 */
export async function openJournal(options: JournalOptions, replay?: ReplayRequest): Promise<OpenedJournal> {
  const settings = checkOptions(options);
  const io = options.fs ?? nodeFs;
  await io.mkdir(options.dir);
  const reader = new JournalReader(options.dir, io);
  let fromSeq = replay?.fromSeq;
  if (fromSeq === undefined) {
    const segments = await reader.segments();
    fromSeq = segments.length === 0 ? 1 : segments[segments.length - 1].firstSeq;
  }
  const scan = await reader.scan(fromSeq, replay?.visit ?? null);

  const notices: JournalNotice[] = [];
  const notify = (notice: JournalNotice): void => {
    notices.push(notice);
    options.onNotice?.(notice);
  };
  if (scan.tail !== null) await cutTail(io, options.dir, scan.tail, notify);

  let fd: number;
  let segmentPath: string;
  let fileEnd: number;
  if (scan.end === null) {
    segmentPath = join(options.dir, segmentFileName(scan.lastSeq + 1));
    fd = await createSegment(io, options.dir, segmentPath, scan.lastSeq + 1, scan.lastTimeUs);
    // The journal's directory may be new too: its own entry becomes durable with its parent's sync.
    await io.syncDir(dirname(options.dir));
    fileEnd = HEADER_BYTES;
  } else {
    segmentPath = scan.end.file;
    fileEnd = scan.end.offset;
    fd = await io.open(segmentPath, 'r+');
    const size = await io.size(fd);
    if (size !== fileEnd) {
      await io.close(fd);
      throw new JournalError(
        JournalErrorCode.Corrupt,
        `segment is ${size} bytes, its records end at ${fileEnd}`,
        {
          file: segmentPath,
        },
      );
    }
  }
  const writer = new JournalWriter({
    dir: options.dir,
    io,
    clockUs: options.clockUs,
    ...settings,
    fd,
    segmentPath,
    fileEnd,
    lastSeq: scan.lastSeq,
    lastTimeUs: scan.lastTimeUs,
  });
  return { writer, lastSeq: scan.lastSeq, lastTimeUs: scan.lastTimeUs, replayed: scan.visited, notices };
}

function checkOptions(options: JournalOptions): {
  durability: DurabilityPolicy;
  segmentBytes: number;
  pendingBytesMax: number;
} {
  const L = JOURNAL_LIMITS;
  const durability = options.durability ?? DEFAULT_DURABILITY;
  const segmentBytes = options.segmentBytes ?? L.segmentBytesDefault;
  const pendingBytesMax = options.pendingBytesMax ?? L.pendingBytesDefault;
  const bad = (message: string): JournalError => new JournalError(JournalErrorCode.InvalidArgument, message);
  if (typeof options.clockUs !== 'function') throw bad('clockUs must be a function');
  if (
    !Number.isSafeInteger(segmentBytes) ||
    segmentBytes < L.segmentBytesMin ||
    segmentBytes > L.segmentBytesMax
  ) {
    throw bad(`segmentBytes must be ${L.segmentBytesMin} .. ${L.segmentBytesMax}`);
  }
  if (
    !Number.isSafeInteger(pendingBytesMax) ||
    pendingBytesMax < L.pendingBytesMin ||
    pendingBytesMax > L.pendingBytesMax
  ) {
    throw bad(`pendingBytesMax must be ${L.pendingBytesMin} .. ${L.pendingBytesMax}`);
  }
  if (durability.fsync === 'interval') {
    const ms = durability.intervalMs;
    if (!Number.isSafeInteger(ms) || ms < L.intervalMsMin || ms > L.intervalMsMax) {
      throw bad(`intervalMs must be ${L.intervalMsMin} .. ${L.intervalMsMax}`);
    }
  } else if (durability.fsync !== 'batch') {
    throw bad(`fsync policy must be 'batch' or 'interval'`);
  }
  return { durability, segmentBytes, pendingBytesMax };
}

/** Cuts a torn tail (or removes a segment whose header is torn) durably, and reports it. */
async function cutTail(io: JournalFs, dir: string, tail: TornTail, notify: NoticeSink): Promise<void> {
  if (tail.wholeFile) {
    await io.unlink(tail.file);
    await io.syncDir(dir);
    notify({
      code: JournalNoticeCode.SegmentRemoved,
      file: tail.file,
      offset: 0,
      bytes: tail.bytes,
      message: `removed the last segment (${tail.bytes} bytes): ${tail.reason}; it held no valid record`,
    });
    return;
  }
  const fd = await io.open(tail.file, 'r+');
  try {
    await io.truncate(fd, tail.offset);
    await io.fsync(fd);
  } finally {
    await io.close(fd);
  }
  notify({
    code: JournalNoticeCode.TailTruncated,
    file: tail.file,
    offset: tail.offset,
    bytes: tail.bytes,
    message: `cut ${tail.bytes} bytes at byte ${tail.offset} of the last segment: ${tail.reason}`,
  });
}

/** Creates a segment holding only its header, durably (file and directory entry), and returns it open. */
async function createSegment(
  io: JournalFs,
  dir: string,
  path: string,
  firstSeq: number,
  timeFloorUs: number,
): Promise<number> {
  const header = new Uint8Array(HEADER_BYTES);
  writeSegmentHeader(header, 0, firstSeq, timeFloorUs);
  const fd = await io.open(path, 'wx');
  try {
    await writeFully(io, fd, header, 0, HEADER_BYTES, 0);
    await io.fdatasync(fd);
    await io.syncDir(dir);
  } catch (e) {
    await io.close(fd);
    throw e;
  }
  return fd;
}
