/**
 * Reads the journal back: segments in sequence order, every record's frame, checksum, sequence number and time
 * checked, and the records from a given sequence number decoded for a visitor. It is the recovery scan, so it
 * reads each segment whole in one call and walks the records in memory: no system call per record.
 *
 * A damaged record is classified here and repaired by the caller (openJournal):
 * - at the very end of the last segment, with no valid record anywhere after it, it is a torn tail: the write
 *   the process died in (or one whose sync never finished). It was never acknowledged, so it is cut off, and
 *   the cut is reported. A last segment whose own header is torn (a crash while it was being created) goes
 *   whole, by the same rule.
 * - anywhere else it is corruption of acknowledged data, and the scan stops with JOURNAL_CORRUPT naming the
 *   file and the byte offset. Nothing is ever skipped.
 * A valid record after the damage (found by searching the rest of the segment byte by byte for a frame whose
 * length, sequence number and checksum all hold) means the damage is not a tail. A bit flip in the very last
 * acknowledged record cannot be told from a torn write; that one record would be cut, and reported.
 */
import type { Command } from '../core/index.js';
import { commandKindAt, decodeCommand } from './command-codec.js';
import { crc32c, crc32cOf } from './crc32c.js';
import { JournalError, JournalErrorCode, assert, describeError } from './errors.js';
import {
  FRAME_BYTES,
  HEADER_BYTES,
  PAYLOAD_BYTES_MIN,
  RECORD_HEAD_BYTES,
  SEGMENT_MAGIC,
  SEGMENT_VERSION,
  checkHeader,
  parseSegmentFileName,
  viewOf,
} from './format.js';
import { nodeFs, readFully, type JournalFs } from './fs-port.js';
import { JOURNAL_LIMITS } from './limits.js';
import { join } from 'node:path';

/**
 * Called for every record from the scan's first sequence number on, in order. `kind` is the command's kind
 * byte (a COMMAND_KIND value): executeByKind(core, command, kind) runs it without a dispatch on `command.kind`.
 */
export type RecordVisitor = (seq: number, timeUs: number, command: Command, kind: number) => void;

export interface SegmentFile {
  path: string;
  /** The sequence number in the file's name (its header must say the same). */
  firstSeq: number;
}

/** One segment whose header is valid, as the scan finished it (a torn tail, if any, is in the scan's result). */
export interface SegmentSummary {
  file: string;
  /** The format version in its header. */
  version: number;
  firstSeq: number;
  /** Its last valid record's sequence number; firstSeq - 1 when it holds none. */
  lastSeq: number;
  records: number;
  /** The file's size, a torn tail included. */
  bytes: number;
  /** The time of the record before the segment (its header's time floor), and of its last valid record. */
  timeFloorUs: number;
  lastTimeUs: number;
}

/** Called once per segment whose header is valid, after its records were checked (for tools and progress). */
export type SegmentVisitor = (segment: SegmentSummary) => void;

/** A damaged end of the last segment that holds nothing acknowledged: what the caller should cut. */
export interface TornTail {
  file: string;
  /** Where the valid data ends; everything from here on goes. */
  offset: number;
  bytes: number;
  reason: string;
  /** The segment's header is itself torn: the whole file goes (offset is 0). */
  wholeFile: boolean;
}

export interface ScanResult {
  /** The last valid record's sequence number; one before the journal's first when it holds no record. */
  lastSeq: number;
  /** The last valid record's time, or the time floor of the segment it would be in. */
  lastTimeUs: number;
  /** Records passed to the visitor. */
  visited: number;
  /** Where the next record goes (after the tail is cut), or null when no segment would be left. */
  end: { file: string; firstSeq: number; offset: number } | null;
  tail: TornTail | null;
}

const PAYLOAD_MAX = JOURNAL_LIMITS.recordPayloadBytesMax;

/** What walking one segment's records found. */
interface Walk {
  /** Offset after the last valid record. */
  pos: number;
  /** Sequence number and time of the last valid record (the values before the segment when none). */
  lastSeq: number;
  lastTimeUs: number;
  visited: number;
  /** Why the record at `pos` is not valid, or '' when the records end exactly at the end of the file. */
  problem: string;
  /** The record at `pos` has a valid checksum (it is not torn, whatever else is wrong with it). */
  intact: boolean;
}

export class JournalReader {
  private buffer = new Uint8Array(0);

  constructor(
    readonly dir: string,
    private readonly io: JournalFs = nodeFs,
  ) {}

  /** The segment files, in sequence order. */
  async segments(): Promise<SegmentFile[]> {
    const names = await this.io.readdir(this.dir);
    const segments: SegmentFile[] = [];
    for (const name of names) {
      const firstSeq = parseSegmentFileName(name);
      if (firstSeq >= 0) segments.push({ path: join(this.dir, name), firstSeq });
    }
    return segments.sort((a, b) => a.firstSeq - b.firstSeq);
  }

  /**
   * Validates the journal from the segment holding `fromSeq` to the end and passes every record with a
   * sequence number of `fromSeq` or more to `visit` (null: validate only). Throws JOURNAL_CORRUPT for damage
   * that is not a torn tail, JOURNAL_VERSION for a segment of another format, JOURNAL_MISSING when `fromSeq`
   * is before the first segment or more than one past the last record. `onSegment` hears of each segment
   * once it checked out. Changes no file.
   */
  async scan(
    fromSeq: number,
    visit: RecordVisitor | null,
    onSegment: SegmentVisitor | null = null,
  ): Promise<ScanResult> {
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) {
      throw new JournalError(JournalErrorCode.InvalidArgument, `fromSeq ${fromSeq} is not a sequence number`);
    }
    const segments = await this.segments();
    const journalStart = segments.length === 0 ? 1 : segments[0].firstSeq;
    if (fromSeq < journalStart) {
      throw new JournalError(
        JournalErrorCode.Missing,
        `records from ${fromSeq} were asked for; the journal starts at ${journalStart}`,
        { file: this.dir },
      );
    }
    let first = Math.max(0, segments.length - 1);
    while (first > 0 && segments[first].firstSeq > fromSeq) first--;
    // With a torn header the last segment may go whole; the writer then continues the one before it, which
    // must have been scanned to know where it ends.
    if (first === segments.length - 1 && first > 0 && !(await this.headerIntact(segments[first]))) first--;

    const result: ScanResult = {
      lastSeq: journalStart - 1,
      lastTimeUs: 0,
      visited: 0,
      end: null,
      tail: null,
    };
    for (let i = first; i < segments.length; i++) {
      const isLast = i === segments.length - 1;
      await this.scanSegment(segments[i], i === first, isLast, fromSeq, visit, result, onSegment);
    }
    if (fromSeq > result.lastSeq + 1) {
      throw new JournalError(
        JournalErrorCode.Missing,
        `records from ${fromSeq} were asked for; the journal ends at ${result.lastSeq}`,
        { file: this.dir },
      );
    }
    return result;
  }

  private async headerIntact(segment: SegmentFile): Promise<boolean> {
    const fd = await this.io.open(segment.path, 'r');
    try {
      const header = new Uint8Array(HEADER_BYTES);
      if ((await readFully(this.io, fd, header, HEADER_BYTES, 0)) < HEADER_BYTES) return false;
      return checkHeader(header, 0, SEGMENT_MAGIC, SEGMENT_VERSION).ok;
    } finally {
      await this.io.close(fd);
    }
  }

  private async readWhole(path: string): Promise<number> {
    const fd = await this.io.open(path, 'r');
    try {
      const size = await this.io.size(fd);
      if (size > JOURNAL_LIMITS.segmentFileBytesMax) {
        throw new JournalError(JournalErrorCode.Corrupt, `segment of ${size} bytes is over the limit`, {
          file: path,
        });
      }
      if (this.buffer.length < size) this.buffer = new Uint8Array(Math.max(size, this.buffer.length * 2));
      const got = await readFully(this.io, fd, this.buffer, size, 0);
      if (got !== size) {
        throw new JournalError(JournalErrorCode.Corrupt, `read ${got} of ${size} bytes`, {
          file: path,
          offset: got,
        });
      }
      return size;
    } finally {
      await this.io.close(fd);
    }
  }

  private async scanSegment(
    segment: SegmentFile,
    isFirst: boolean,
    isLast: boolean,
    fromSeq: number,
    visit: RecordVisitor | null,
    result: ScanResult,
    onSegment: SegmentVisitor | null,
  ): Promise<void> {
    const size = await this.readWhole(segment.path);
    const bytes = this.buffer;
    const file = segment.path;
    const corrupt = (offset: number, message: string): JournalError =>
      new JournalError(JournalErrorCode.Corrupt, message, { file, offset });

    const header = size < HEADER_BYTES ? null : checkHeader(bytes, 0, SEGMENT_MAGIC, SEGMENT_VERSION);
    if (header !== null && !header.ok && header.version) {
      throw new JournalError(JournalErrorCode.Version, header.problem, { file, offset: 0 });
    }
    if (header === null || !header.ok) {
      const problem = header === null ? `file of ${size} bytes is shorter than a header` : header.problem;
      if (!isLast) throw corrupt(0, `segment header: ${problem}`);
      // Only a torn header if nothing valid was written after it.
      const found = findValidRecord(bytes, 0, size, segment.firstSeq - 1);
      if (found >= 0) throw corrupt(0, `segment header: ${problem} (valid records follow at byte ${found})`);
      result.tail = { file, offset: 0, bytes: size, reason: `segment header: ${problem}`, wholeFile: true };
      if (isFirst) result.lastSeq = segment.firstSeq - 1;
      return;
    }
    if (header.seq !== segment.firstSeq) {
      throw corrupt(8, `header says first sequence number ${header.seq}, the file name ${segment.firstSeq}`);
    }
    if (!isFirst && header.seq !== result.lastSeq + 1) {
      throw corrupt(8, `segment starts at ${header.seq}, the segment before ended at ${result.lastSeq}`);
    }
    if (!isFirst && header.word !== result.lastTimeUs) {
      throw corrupt(16, `time floor ${header.word}, the segment before ended at time ${result.lastTimeUs}`);
    }
    const walk = walkRecords(bytes, size, header.seq, header.word, fromSeq, visit, file);
    assert(walk.pos >= HEADER_BYTES && walk.pos <= size, 'the walk stays inside the segment');
    assert(walk.lastSeq >= header.seq - 1, 'the walk does not go back before the segment');
    result.visited += walk.visited;
    result.lastSeq = walk.lastSeq;
    result.lastTimeUs = walk.lastTimeUs;
    result.end = { file, firstSeq: header.seq, offset: walk.pos };
    if (walk.problem !== '') {
      if (!isLast || walk.intact) throw corrupt(walk.pos, walk.problem);
      const found = findValidRecord(bytes, walk.pos + 1, size, walk.lastSeq);
      if (found >= 0) throw corrupt(walk.pos, `${walk.problem} (valid records follow at byte ${found})`);
      result.tail = {
        file,
        offset: walk.pos,
        bytes: size - walk.pos,
        reason: walk.problem,
        wholeFile: false,
      };
    }
    onSegment?.({
      file,
      version: SEGMENT_VERSION,
      firstSeq: header.seq,
      lastSeq: walk.lastSeq,
      records: walk.lastSeq - header.seq + 1,
      bytes: size,
      timeFloorUs: header.word,
      lastTimeUs: walk.lastTimeUs,
    });
  }
}

/**
 * Walks the records of a segment held in bytes[0, size), from just after the header, until the end or the
 * first record that is not valid. The hot loop of recovery: reads through a DataView, no allocation but the
 * decoded commands.
 */
function walkRecords(
  bytes: Uint8Array,
  size: number,
  firstSeq: number,
  timeFloorUs: number,
  fromSeq: number,
  visit: RecordVisitor | null,
  file: string,
): Walk {
  const view = viewOf(bytes);
  let pos = HEADER_BYTES;
  let expect = firstSeq;
  let lastTimeUs = timeFloorUs;
  let visited = 0;
  let problem = '';
  let intact = false;
  while (pos < size) {
    if (size - pos < FRAME_BYTES) {
      problem = `${size - pos} bytes at the end, fewer than a record frame`;
      break;
    }
    const length = view.getUint32(pos, true);
    if (length < PAYLOAD_BYTES_MIN || length > PAYLOAD_MAX) {
      problem = `record length ${length} outside ${PAYLOAD_BYTES_MIN} .. ${PAYLOAD_MAX}`;
      break;
    }
    const p = pos + FRAME_BYTES;
    if (p + length > size) {
      problem = `record of ${length} bytes runs ${p + length - size} bytes past the end of the file`;
      break;
    }
    if (crc32cOf(bytes, view, p, p + length) !== view.getUint32(pos + 4, true)) {
      problem = 'record checksum mismatch';
      break;
    }
    intact = true;
    const seq = view.getFloat64(p, true);
    if (seq !== expect) {
      problem = `record has sequence number ${seq}, expected ${expect}`;
      break;
    }
    const timeUs = view.getFloat64(p + 8, true);
    if (!Number.isSafeInteger(timeUs) || timeUs < lastTimeUs) {
      problem = `record time ${timeUs} is before the previous record's ${lastTimeUs}`;
      break;
    }
    if (visit !== null && seq >= fromSeq) {
      visit(
        seq,
        timeUs,
        decodeAt(bytes, p, length, timeUs, file, pos),
        commandKindAt(bytes, p + RECORD_HEAD_BYTES),
      );
      visited++;
    }
    intact = false;
    lastTimeUs = timeUs;
    expect++;
    pos = p + length;
  }
  return { pos, lastSeq: expect - 1, lastTimeUs, visited, problem, intact };
}

function decodeAt(
  bytes: Uint8Array,
  p: number,
  length: number,
  timeUs: number,
  file: string,
  pos: number,
): Command {
  try {
    return decodeCommand(bytes, p + RECORD_HEAD_BYTES, p + length, timeUs);
  } catch (e) {
    // The checksum held, so these bytes are what was written: a writer bug or a format mismatch, not a tear.
    throw new JournalError(JournalErrorCode.Corrupt, `record does not decode: ${describeError(e)}`, {
      file,
      offset: pos,
      cause: e,
    });
  }
}

/**
 * The offset of the first valid-looking record in bytes[from, size) whose sequence number comes after
 * `afterSeq`, or -1. Cheap tests first (length, then a plausible sequence number), the checksum last, so
 * zeros and garbage cost a few reads per byte.
 */
function findValidRecord(bytes: Uint8Array, from: number, size: number, afterSeq: number): number {
  const view = viewOf(bytes);
  const seqMax = afterSeq + Math.ceil((size - from) / (FRAME_BYTES + PAYLOAD_BYTES_MIN)) + 1;
  const last = size - FRAME_BYTES - PAYLOAD_BYTES_MIN;
  for (let q = from; q <= last; q++) {
    const length = view.getUint32(q, true);
    if (length < PAYLOAD_BYTES_MIN || length > PAYLOAD_MAX || q + FRAME_BYTES + length > size) continue;
    const seq = view.getFloat64(q + FRAME_BYTES, true);
    if (!(seq > afterSeq && seq <= seqMax && Number.isInteger(seq))) continue;
    const p = q + FRAME_BYTES;
    if (crc32c(bytes, p, p + length) === view.getUint32(q + 4, true)) return q;
  }
  return -1;
}
