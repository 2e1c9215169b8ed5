/**
 * Follows the journal from a sequence number on, a chunk at a time, for projections that read the truth
 * rather than keep a copy of what the engine published (the query tables, src/projection). Unlike the recovery
 * scan it never reads a segment whole after the first seek: it keeps its file and offset and reads what was
 * appended since, so following a running venue costs the bytes of the new records only.
 *
 * It reads only records the caller says are durable (`uptoSeq`): those are whole and synced, so a record
 * beyond them that is still being written is never looked at, and any damage in a durable one is corruption
 * (JOURNAL_CORRUPT naming file and offset). It changes no file and takes no lock.
 */
import type { Command } from '../core/index.js';
import { commandKindAt, decodeCommand } from './command-codec.js';
import { crc32cOf } from './crc32c.js';
import { JournalError, JournalErrorCode, describeError } from './errors.js';
import { FRAME_BYTES, HEADER_BYTES, PAYLOAD_BYTES_MIN, RECORD_HEAD_BYTES, viewOf } from './format.js';
import { nodeFs, readFully, type JournalFs } from './fs-port.js';
import { JOURNAL_LIMITS } from './limits.js';
import { JournalReader, type RecordVisitor, type SegmentFile } from './reader.js';

/** Bytes read per call at most (a record is at most 536 bytes, so a chunk always holds whole ones). */
const CHUNK_BYTES = 1 << 20;

export class JournalTail {
  private readonly reader: JournalReader;
  private segment: SegmentFile | null = null;
  /** Where record `nextSeq` starts in `segment`. */
  private offset = 0;
  private seq = 1;
  private buffer = new Uint8Array(CHUNK_BYTES);

  constructor(
    readonly dir: string,
    private readonly io: JournalFs = nodeFs,
  ) {
    this.reader = new JournalReader(dir, io);
  }

  /** The sequence number the next `read` starts at. */
  get nextSeq(): number {
    return this.seq;
  }

  /**
   * Positions the tail at record `seq` (which must be durable, or one past the last durable record): finds
   * its segment and walks the frames before it once.
   */
  async seek(seq: number): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq < 1) {
      throw new JournalError(JournalErrorCode.InvalidArgument, `seq ${seq} is not a sequence number`);
    }
    const segments = await this.reader.segments();
    let k = segments.length - 1;
    while (k > 0 && segments[k].firstSeq > seq) k--;
    const segment = segments[k];
    if (segment === undefined || segment.firstSeq > seq) {
      throw new JournalError(JournalErrorCode.Missing, `no segment holds record ${seq}`, { file: this.dir });
    }
    this.segment = segment;
    this.offset = HEADER_BYTES;
    this.seq = segment.firstSeq;
    // Skip the records before `seq` (checked as they are read, decoded never).
    while (this.seq < seq) {
      const skipped = await this.read(seq - 1, seq - this.seq, null);
      if (skipped === 0) {
        throw new JournalError(JournalErrorCode.Missing, `the journal ends before record ${seq}`, {
          file: segment.path,
        });
      }
    }
  }

  /**
   * Reads records from `nextSeq` up to `uptoSeq` (durable), at most `max`, passing each to `visit` (null:
   * skip them); resolves with how many were read (0: none durable yet).
   */
  async read(uptoSeq: number, max: number, visit: RecordVisitor | null): Promise<number> {
    if (this.segment === null) await this.seek(this.seq);
    let count = 0;
    while (count < max && this.seq <= uptoSeq) {
      const segment = this.segment as SegmentFile;
      const got = await this.readChunk(segment.path);
      const n = got === 0 ? 0 : this.walk(segment.path, got, uptoSeq, max - count, visit);
      count += n;
      if (n > 0) continue;
      // Nothing more in this segment: the next one must start at the next record.
      const next = await this.nextSegment(segment);
      if (next === null) {
        throw new JournalError(
          JournalErrorCode.Missing,
          `record ${this.seq} is durable but not in the journal`,
          { file: segment.path, offset: this.offset },
        );
      }
      this.segment = next;
      this.offset = HEADER_BYTES;
    }
    return count;
  }

  private async nextSegment(current: SegmentFile): Promise<SegmentFile | null> {
    const segments = await this.reader.segments();
    const next = segments.find((s) => s.firstSeq > current.firstSeq);
    if (next === undefined || next.firstSeq !== this.seq) return null;
    return next;
  }

  /** Reads from `offset` into the buffer; resolves with the bytes read. */
  private async readChunk(path: string): Promise<number> {
    const fd = await this.io.open(path, 'r');
    try {
      const size = await this.io.size(fd);
      const want = Math.min(CHUNK_BYTES, Math.max(0, size - this.offset));
      if (want === 0) return 0;
      return await readFully(this.io, fd, this.buffer, want, this.offset);
    } finally {
      await this.io.close(fd);
    }
  }

  /** Walks the whole records in the buffer's first `got` bytes; resolves with how many it took. */
  private walk(file: string, got: number, uptoSeq: number, max: number, visit: RecordVisitor | null): number {
    const bytes = this.buffer;
    const view = viewOf(bytes);
    let pos = 0;
    let n = 0;
    const corrupt = (message: string, cause?: unknown): JournalError =>
      new JournalError(JournalErrorCode.Corrupt, message, { file, offset: this.offset + pos, cause });
    while (n < max && this.seq <= uptoSeq && got - pos >= FRAME_BYTES) {
      const length = view.getUint32(pos, true);
      if (length < PAYLOAD_BYTES_MIN || length > JOURNAL_LIMITS.recordPayloadBytesMax) {
        throw corrupt(`durable record ${this.seq} has length ${length}`);
      }
      const p = pos + FRAME_BYTES;
      if (p + length > got) break;
      if (crc32cOf(bytes, view, p, p + length) !== view.getUint32(pos + 4, true)) {
        throw corrupt(`durable record ${this.seq}: checksum mismatch`);
      }
      const seq = view.getFloat64(p, true);
      if (seq !== this.seq) throw corrupt(`record has sequence number ${seq}, expected ${this.seq}`);
      if (visit !== null) {
        const timeUs = view.getFloat64(p + 8, true);
        let command: Command;
        try {
          command = decodeCommand(bytes, p + RECORD_HEAD_BYTES, p + length, timeUs);
        } catch (e) {
          throw corrupt(`record does not decode: ${describeError(e)}`, e);
        }
        visit(seq, timeUs, command, commandKindAt(bytes, p + RECORD_HEAD_BYTES));
      }
      pos = p + length;
      this.seq++;
      n++;
    }
    this.offset += pos;
    return n;
  }
}
