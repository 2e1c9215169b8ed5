/**
 * The sequencer and journal writer. `append` gives each command the next sequence number and a time (from the
 * injected clock, never going backwards), encodes it into the open batch, and returns a promise that resolves
 * once the batch is durable. Group commit: while one batch is being written and synced, new appends fill the
 * next one, so under load one write and one fdatasync carry hundreds of commands.
 *
 * Durability policy, passed explicitly:
 * - `{ fsync: 'batch' }` (the default): an append resolves after its batch's write and fdatasync. A kill -9 or
 *   a power loss at any moment loses nothing that was acknowledged.
 * - `{ fsync: 'interval', intervalMs }`: an append resolves once its batch is written to the operating system;
 *   fdatasync runs at most every intervalMs. Survives a kill -9 (the data is in the page cache) but a power
 *   loss or kernel crash can lose the last intervalMs of acknowledged commands.
 *
 * Any failed write or sync (ENOSPC, EIO) stops the writer for good: the batch in flight and everything after
 * it is rejected with JOURNAL_FAILED naming the cause, the file is cut back to the last acknowledged byte (as
 * far as the failing disk allows), and nothing is retried, because after a failed fsync the kernel may have
 * dropped the dirty pages and a retry could report success for data that is gone. Recovery is a restart.
 */
import type { Command } from '../core/index.js';
import { JournalError, JournalErrorCode, describeError, errnoCode } from './errors.js';
import {
  FRAME_BYTES,
  HEADER_BYTES,
  PAYLOAD_BYTES_MIN,
  segmentFileName,
  viewOf,
  writeSegmentHeader,
} from './format.js';
import { writeFully, type JournalFs } from './fs-port.js';
import { JOURNAL_LIMITS } from './limits.js';
import { RECORD_BYTES_MAX, frameCommand, stampRecord } from './record.js';
import { join } from 'node:path';

export type DurabilityPolicy = { fsync: 'batch' } | { fsync: 'interval'; intervalMs: number };

export const DEFAULT_DURABILITY: Readonly<DurabilityPolicy> = Object.freeze({ fsync: 'batch' });

/** What an append was given: commands[i] has sequence number firstSeq + i; all of them the time timeUs. */
export interface AppendResult {
  firstSeq: number;
  lastSeq: number;
  timeUs: number;
}

export interface WriterStats {
  /** The last sequence number given out, and the last one acknowledged. */
  lastSeq: number;
  ackedSeq: number;
  records: number;
  batches: number;
  syncs: number;
  bytes: number;
  /** Microseconds spent in fdatasync, in all (with `syncs`, the mean sync's duration). */
  syncUs: number;
  /**
   * The fsyncs by duration: how many took at most each bound of SYNC_SECONDS_BUCKETS (and more than the bound
   * before it), then how many took longer than the last bound. Not cumulative.
   */
  syncBuckets: number[];
}

/**
 * Upper bounds, in seconds, of the fsync duration histogram's buckets (the journal's group commits): from 50 µs,
 * an idle NVMe disk's flush, to 5 s, a failing one's; steps of 2 and 2.5, fine around the millisecond where the
 * order path's acknowledgement latency is decided.
 */
export const SYNC_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5,
]);

/** The bucket of an fsync of `us` microseconds: its index in SYNC_SECONDS_BUCKETS, or their count past the last. */
export function syncBucketOf(us: number): number {
  let k = 0;
  while (k < SYNC_SECONDS_BUCKETS.length && us > SYNC_SECONDS_BUCKETS[k] * 1e6) k++;
  return k;
}

/** Where the writer starts: set up by openJournal after the recovery scan. */
export interface WriterStart {
  dir: string;
  io: JournalFs;
  clockUs: () => number;
  durability: DurabilityPolicy;
  segmentBytes: number;
  pendingBytesMax: number;
  /** The open segment, positioned after its last valid record. */
  fd: number;
  segmentPath: string;
  fileEnd: number;
  lastSeq: number;
  lastTimeUs: number;
}

interface Waiter {
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
  result: AppendResult;
}

/** Room kept at the start of every batch buffer for a segment header, so a batch that opens a segment is one write. */
const RESERVE = HEADER_BYTES;
const BATCH_INITIAL = 64 * 1024;

export class JournalWriter {
  private readonly io: JournalFs;
  private readonly dir: string;
  private readonly clockUs: () => number;
  private readonly intervalMs: number;
  private readonly segmentBytes: number;
  private readonly pendingBytesMax: number;

  private fd: number;
  private segmentPath: string;
  /** Bytes of the open segment written, and of those the ones acknowledged (synced, or written under 'interval'). */
  private fileEnd: number;
  private ackedEnd: number;
  /** Sequence number and time of the last record written to the file. */
  private writtenSeq: number;
  private writtenTimeUs: number;
  private ackedSeq: number;

  /** The sequencer: the last number and time given out. */
  private lastSeq: number;
  private lastTimeUs: number;

  /** The open batch: records from RESERVE to batchEnd, and who waits for them. */
  private batch: Uint8Array = new Uint8Array(BATCH_INITIAL);
  private view: DataView = viewOf(this.batch);
  private batchEnd = RESERVE;
  private waiters: Waiter[] = [];
  /** The buffer of the batch being written, reused for the batch after next. */
  private spare: Uint8Array = new Uint8Array(BATCH_INITIAL);

  private running: Promise<void> | null = null;
  private failure: JournalError | null = null;
  /** After a failure: the cut back to the acknowledged bytes, which close waits for. */
  private cutting: Promise<void> = Promise.resolve();
  private closed = false;
  /** 'interval' only: written bytes not yet synced, when the last sync ran, and the timer for the next. */
  private dirty = false;
  private lastSyncMs = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The I/O step in progress, named in the failure. */
  private step = '';

  private readonly counters = { records: 0, batches: 0, syncs: 0, bytes: 0, syncUs: 0 };
  /** fsyncs by duration bucket (see WriterStats.syncBuckets). */
  private readonly syncBuckets = new Float64Array(SYNC_SECONDS_BUCKETS.length + 1);

  constructor(start: WriterStart) {
    this.io = start.io;
    this.dir = start.dir;
    this.clockUs = start.clockUs;
    this.intervalMs = start.durability.fsync === 'interval' ? start.durability.intervalMs : 0;
    this.segmentBytes = start.segmentBytes;
    this.pendingBytesMax = start.pendingBytesMax;
    this.fd = start.fd;
    this.segmentPath = start.segmentPath;
    this.fileEnd = start.fileEnd;
    this.ackedEnd = start.fileEnd;
    this.writtenSeq = start.lastSeq;
    this.ackedSeq = start.lastSeq;
    this.writtenTimeUs = start.lastTimeUs;
    this.lastSeq = start.lastSeq;
    this.lastTimeUs = start.lastTimeUs;
  }

  /** The error that stopped the writer, or null while it accepts commands. */
  get failed(): JournalError | null {
    return this.failure;
  }

  /** The last sequence number given out (an append that returns without raising it sequenced nothing). */
  get sequencedSeq(): number {
    return this.lastSeq;
  }

  /** The time stamped on the last records sequenced. */
  get sequencedTimeUs(): number {
    return this.lastTimeUs;
  }

  stats(): WriterStats {
    return {
      lastSeq: this.lastSeq,
      ackedSeq: this.ackedSeq,
      ...this.counters,
      syncBuckets: Array.from(this.syncBuckets),
    };
  }

  /**
   * Sequences the commands (stamping each one's `timeUs`) and resolves when they are durable under the
   * policy. Rejects at once, with nothing sequenced, for a command the codec cannot encode (the other commands
   * of the call included), JOURNAL_BUSY when too many bytes wait already, and JOURNAL_FAILED or JOURNAL_CLOSED
   * once the writer stopped. The commands belong to the journal from this call on only as far as `timeUs`
   * goes: they are encoded before append returns, so the caller may reuse the objects afterwards.
   */
  append(commands: readonly Command[]): Promise<AppendResult> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed)
      return Promise.reject(new JournalError(JournalErrorCode.Closed, 'the journal writer is closed'));
    if (commands.length === 0) {
      return Promise.resolve({ firstSeq: this.lastSeq + 1, lastSeq: this.lastSeq, timeUs: this.lastTimeUs });
    }
    let result: AppendResult;
    try {
      result = this.sequence(commands);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const promise = new Promise<AppendResult>((resolve, reject) =>
      this.waiters.push({ resolve, reject, result }),
    );
    this.kick();
    return promise;
  }

  /**
   * Sequences records framed elsewhere by frameCommand (`count` of them, back to back in `records`): stamps
   * each one's sequence number and time, computes its checksum and adds it to the open batch. The same
   * promise and the same refusals as `append`, plus JOURNAL_INVALID_ARGUMENT (nothing sequenced) when the
   * bytes are not `count` well-framed records. The writer copies the bytes; the caller keeps `records`.
   */
  appendRecords(records: Uint8Array, count: number): Promise<AppendResult> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed)
      return Promise.reject(new JournalError(JournalErrorCode.Closed, 'the journal writer is closed'));
    let result: AppendResult;
    try {
      result = this.sequenceRecords(records, count);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const promise = new Promise<AppendResult>((resolve, reject) =>
      this.waiters.push({ resolve, reject, result }),
    );
    this.kick();
    return promise;
  }

  /**
   * Waits for everything appended so far to be written and synced, then closes the segment. After a failure
   * it waits for the cut back and the close of the segment instead, so that once it returns this writer
   * touches no file again (the next owner of the directory may open it).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.running !== null) await this.running;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.failure !== null) return this.cutting;
    try {
      if (this.dirty) await this.sync();
      await this.io.close(this.fd);
    } catch (e) {
      throw this.fail(e);
    }
  }

  /** Encodes the commands into the open batch; all or nothing. */
  private sequence(commands: readonly Command[]): AppendResult {
    const timeUs = this.stamp();
    const firstSeq = this.lastSeq + 1;
    const lastSeq = this.lastSeq + commands.length;
    if (lastSeq > Number.MAX_SAFE_INTEGER) {
      throw new JournalError(JournalErrorCode.InvalidArgument, 'sequence numbers would pass 2^53');
    }
    const start = this.batchEnd;
    let at = start;
    try {
      for (let i = 0; i < commands.length; i++) {
        if (at + RECORD_BYTES_MAX > this.batch.length) this.grow(at);
        at = this.frame(at, firstSeq + i, timeUs, commands[i]);
      }
    } catch (e) {
      this.batchEnd = start;
      throw e;
    }
    for (let i = 0; i < commands.length; i++) commands[i].timeUs = timeUs;
    this.batchEnd = at;
    this.lastSeq = lastSeq;
    this.lastTimeUs = timeUs;
    this.counters.records += commands.length;
    return { firstSeq, lastSeq, timeUs };
  }

  /** Checks the frames, copies the records into the open batch and stamps them; all or nothing. */
  private sequenceRecords(records: Uint8Array, count: number): AppendResult {
    const bytes = records.length;
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new JournalError(JournalErrorCode.InvalidArgument, `${count} records: at least one is needed`);
    }
    const view = viewOf(records);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + FRAME_BYTES > bytes) {
        throw new JournalError(JournalErrorCode.InvalidArgument, `${count} records announced, ${i} found`);
      }
      const length = view.getUint32(at, true);
      if (length < PAYLOAD_BYTES_MIN || length > JOURNAL_LIMITS.recordPayloadBytesMax) {
        throw new JournalError(
          JournalErrorCode.InvalidArgument,
          `record ${i} has a payload of ${length} bytes`,
        );
      }
      at += FRAME_BYTES + length;
    }
    if (at !== bytes) {
      throw new JournalError(
        JournalErrorCode.InvalidArgument,
        `${bytes} bytes are not ${count} framed records (${at} bytes for them)`,
      );
    }
    const timeUs = this.stamp();
    const firstSeq = this.lastSeq + 1;
    const lastSeq = this.lastSeq + count;
    if (lastSeq > Number.MAX_SAFE_INTEGER) {
      throw new JournalError(JournalErrorCode.InvalidArgument, 'sequence numbers would pass 2^53');
    }
    const start = this.batchEnd;
    if (start + bytes > this.batch.length) this.grow(start, bytes);
    const batch = this.batch;
    batch.set(records, start);
    const batchView = this.view;
    let p = start;
    for (let i = 0; i < count; i++) {
      const end = p + FRAME_BYTES + batchView.getUint32(p, true);
      stampRecord(batch, batchView, p, end, firstSeq + i, timeUs);
      p = end;
    }
    this.batchEnd = p;
    this.lastSeq = lastSeq;
    this.lastTimeUs = timeUs;
    this.counters.records += count;
    return { firstSeq, lastSeq, timeUs };
  }

  /** The clock's time, or the last time given out if the clock went back (times never go backwards). */
  private stamp(): number {
    const now = this.clockUs();
    if (!Number.isSafeInteger(now) || now < 0) {
      throw new JournalError(JournalErrorCode.InvalidArgument, `the clock returned ${now}, not microseconds`);
    }
    return now > this.lastTimeUs ? now : this.lastTimeUs;
  }

  /** Writes one framed record at `at` in the open batch; returns the offset after it. */
  private frame(at: number, seq: number, timeUs: number, command: Command): number {
    const end = frameCommand(command, this.batch, at);
    stampRecord(this.batch, this.view, at, end, seq, timeUs);
    return end;
  }

  /** Makes room for `needed` more bytes after `at` in the open batch, within the pending-bytes bound. */
  private grow(at: number, needed: number = RECORD_BYTES_MAX): void {
    if (at - RESERVE + needed > this.pendingBytesMax) {
      throw new JournalError(
        JournalErrorCode.Busy,
        `${at - RESERVE} bytes already wait for the next batch (limit ${this.pendingBytesMax})`,
      );
    }
    const size = Math.min(Math.max(this.batch.length * 2, at + needed), RESERVE + this.pendingBytesMax);
    const bigger = new Uint8Array(size);
    bigger.set(this.batch.subarray(0, at));
    this.batch = bigger;
    this.view = viewOf(bigger);
  }

  /**
   * Starts the I/O loop unless it runs, in the check phase of this turn of the event loop rather than at once:
   * everything appended in the turn (every message a worker receives in it, every append woken by the same
   * sync) shares one write and one sync, and `running` is set before the loop can clear it.
   */
  private kick(): void {
    if (this.running === null) {
      this.running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run());
    }
  }

  /** Writes batches while there are any, and syncs under 'interval' when due; one loop, so I/O never overlaps. */
  private async run(): Promise<void> {
    try {
      while (this.failure === null) {
        if (this.batchEnd > RESERVE) await this.commitBatch();
        else if (this.dirty && this.syncDue()) await this.syncNoted();
        else break;
      }
    } finally {
      this.running = null;
      if (this.dirty && this.failure === null && this.timer === null) this.armTimer();
    }
  }

  /** Swaps the open batch out, writes it, and settles its waiters. */
  private async commitBatch(): Promise<void> {
    const buffer = this.batch;
    const end = this.batchEnd;
    const waiters = this.waiters;
    const lastSeq = this.lastSeq;
    const lastTimeUs = this.lastTimeUs;
    this.batch = this.spare;
    this.view = viewOf(this.batch);
    this.spare = buffer;
    this.batchEnd = RESERVE;
    this.waiters = [];
    try {
      await this.writeBatch(buffer, end);
    } catch (e) {
      this.fail(e, waiters);
      return;
    }
    this.writtenSeq = lastSeq;
    this.writtenTimeUs = lastTimeUs;
    if (this.dirty && this.syncDue()) {
      await this.syncNoted();
      if (this.failure !== null) return this.rejectAll(waiters);
    }
    this.ackedEnd = this.fileEnd;
    this.ackedSeq = lastSeq;
    for (const w of waiters) w.resolve(w.result);
  }

  private async writeBatch(buffer: Uint8Array, end: number): Promise<void> {
    let from = RESERVE;
    let position = this.fileEnd;
    const rolls = this.fileEnd > HEADER_BYTES && this.fileEnd + (end - RESERVE) > this.segmentBytes;
    if (rolls) {
      await this.openSegment(this.writtenSeq + 1);
      writeSegmentHeader(buffer, 0, this.writtenSeq + 1, this.writtenTimeUs);
      from = 0;
      position = 0;
    }
    this.step = `write of ${end - from} bytes`;
    await writeFully(this.io, this.fd, buffer, from, end, position);
    this.fileEnd = position + (end - from);
    this.dirty = true;
    this.counters.batches++;
    this.counters.bytes += end - from;
    if (this.intervalMs === 0 || rolls) await this.sync();
    // A new segment's directory entry must be durable before anything in it is acknowledged.
    if (rolls) {
      this.step = 'sync of the directory';
      await this.io.syncDir(this.dir);
    }
  }

  /** Syncs and closes the full segment, then creates the next one (its header goes with its first batch). */
  private async openSegment(firstSeq: number): Promise<void> {
    if (this.dirty) await this.sync();
    const path = join(this.dir, segmentFileName(firstSeq));
    this.step = 'creating the next segment';
    const fd = await this.io.open(path, 'wx');
    const old = this.fd;
    this.fd = fd;
    this.segmentPath = path;
    this.fileEnd = 0;
    this.ackedEnd = 0;
    this.step = 'closing the full segment';
    await this.io.close(old);
  }

  private async sync(): Promise<void> {
    this.step = 'fdatasync';
    const startedMs = performance.now();
    await this.io.fdatasync(this.fd);
    this.counters.syncs++;
    this.dirty = false;
    this.lastSyncMs = performance.now();
    const us = Math.round((this.lastSyncMs - startedMs) * 1000);
    this.counters.syncUs += us;
    this.syncBuckets[syncBucketOf(us)]++;
  }

  private async syncNoted(): Promise<void> {
    try {
      await this.sync();
    } catch (e) {
      this.fail(e);
    }
  }

  private syncDue(): boolean {
    return performance.now() - this.lastSyncMs >= this.intervalMs;
  }

  private armTimer(): void {
    const wait = Math.max(0, this.intervalMs - (performance.now() - this.lastSyncMs));
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.failure === null) this.kick();
    }, wait);
    // The data is already in the operating system; a pending sync must not keep the process alive.
    this.timer.unref();
  }

  /** Stops the writer: every waiting append and every later one is rejected with the same error. */
  private fail(cause: unknown, inFlight: Waiter[] = []): JournalError {
    let failure = this.failure;
    if (failure === null) {
      const errno = errnoCode(cause);
      const detail = describeError(cause);
      const why = errno !== '' && !detail.includes(errno) ? `${errno}: ${detail}` : detail;
      failure = new JournalError(
        JournalErrorCode.Failed,
        `the journal stopped accepting commands: ${this.step} failed (${why}); ` +
          `records up to ${this.ackedSeq} are acknowledged, restart to recover`,
        { file: this.segmentPath, offset: this.ackedEnd, cause },
      );
      this.failure = failure;
      this.cutting = this.cutBack();
    }
    this.rejectAll(inFlight);
    this.rejectAll(this.waiters);
    this.waiters = [];
    this.batchEnd = RESERVE;
    return failure;
  }

  private rejectAll(waiters: Waiter[]): void {
    for (const w of waiters) w.reject(this.failure);
  }

  /**
   * Best effort after a failure: cut the segment back to the acknowledged bytes, so a partial batch does not
   * sit in the page cache, and close it. Errors are ignored; recovery at the next start repairs a torn tail.
   */
  private async cutBack(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    try {
      await this.io.truncate(this.fd, this.ackedEnd);
    } catch {
      // The disk that failed the write may fail this too; the torn tail is cut at the next start.
    }
    try {
      await this.io.close(this.fd);
    } catch {
      // Nothing more to do with a descriptor that will not close.
    }
  }
}
