/**
 * The engine's host: the core and the journal together, on the engine's worker thread.
 *
 * A batch of commands is sequenced and encoded into the journal's open batch (the sequencer stamps each
 * command's time: the only clock read), then executed on the core at once; the journal writes and fsyncs
 * what the turn gathered in the turn's check phase. The batch's events are released only when its records are
 * durable, so nothing a client saw can be lost. On the engine's worker the journal's calls block
 * (blockingNodeFs): the commands that arrive during a write and fsync wait in the thread's message queue, then
 * are executed together and make the next group commit, without a hand-over to libuv's thread pool and back
 * for each call. If the journal fails (a full disk, a failed fsync) the host refuses everything after: the core
 * may then be ahead of the journal by the commands that were never acknowledged, and a restart recovers
 * exactly the journal.
 *
 * Recovery: the newest snapshot that verifies and decodes, then the journal after it. Snapshots are taken
 * every N commands or T milliseconds and on a clean close: the state is captured at once (after sequence
 * number S) and written (atomically, by the SnapshotStore) only once S is durable, so a snapshot never covers
 * a command the journal could lose.
 *
 * The data directory is locked (journal/dir-lock.ts) from open to close, so that no second engine or offline
 * tool writes it meanwhile.
 */
import { performance } from 'node:perf_hooks';
import { EVENT_STRIDE } from '../book/index.js';
import { ExchangeCore, encodeCoreSnapshot, type Command } from '../core/index.js';
import {
  DirLock,
  decodeFramedCommands,
  executeByKind,
  SnapshotStore,
  nodeFs,
  openJournal,
  type JournalFs,
  type JournalWriter,
} from '../journal/index.js';
import type { EngineConfig, RecoveryReport, ReportAnswer, ReportQuery } from './protocol.js';
import { loadCoreSnapshot } from './recover.js';
import { reportOf } from './reports.js';
import type { EngineStats } from './port.js';

export const ENGINE_DEFAULTS = Object.freeze({
  snapshotEveryCommands: 1_000_000,
  snapshotEveryMs: 300_000,
  snapshotsKept: 3,
});

/** The sequencer's clock: microseconds since the epoch. */
export function wallClockUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** What only a host on the caller's own thread can be given (it does not cross to a worker). */
export interface EngineHostOptions {
  /** The file system under the journal and the snapshots; default node's. Tests inject failures here. */
  fs?: JournalFs;
  /**
   * The journal's own file system, when it differs from `fs`: the engine's worker gives it blocking calls
   * (blockingNodeFs), while snapshots, large and occasional, keep being written without stopping the core.
   */
  journalFs?: JournalFs;
}

export interface BatchOutcome {
  firstSeq: number;
  timeUs: number;
  /** The batch's event records (in a buffer of their own), and the record count after each command. */
  events: Float64Array;
  ends: Int32Array;
  /** Resolves when the batch is durable; rejects with the journal's error. */
  durable: Promise<unknown>;
  /** The core's next expiry after the batch (Core.nextExpiryUs): when the engine should advance time. */
  nextExpiryUs: number;
  /** Whether the core's emergency checks want an advance of time soon (Core.riskSweepDue). */
  riskSweepDue: boolean;
}

export class EngineHost {
  private core: ExchangeCore;
  private readonly writer: JournalWriter;
  private readonly store: SnapshotStore;
  private readonly everyCommands: number;
  private readonly everyMs: number;
  private sinceSnapshot = 0;
  private lastSnapshotMs = Date.now();
  /** The last sequence number executed, and the promise of its durability. */
  private executedSeq: number;
  /** Batches submitted and executed since start (each a message from the gateway, when hosted by a worker). */
  private submits = 0;
  private lastDurable: Promise<unknown> = Promise.resolve();
  private snapshotting: Promise<unknown> | null = null;
  /** Where a batch's events are gathered (grown to the largest batch's). */
  private eventScratch: Float64Array = new Float64Array(4096 * EVENT_STRIDE);
  /** The kind bytes of the records a batch decodes (see kindsFor). */
  private kindScratch: Uint8Array = new Uint8Array(256);
  private closed = false;
  private readonly lock: DirLock;

  private constructor(
    core: ExchangeCore,
    writer: JournalWriter,
    store: SnapshotStore,
    config: EngineConfig,
    lastSeq: number,
    lock: DirLock,
  ) {
    this.core = core;
    this.writer = writer;
    this.store = store;
    this.lock = lock;
    this.everyCommands = config.snapshotEveryCommands ?? ENGINE_DEFAULTS.snapshotEveryCommands;
    this.everyMs = config.snapshotEveryMs ?? ENGINE_DEFAULTS.snapshotEveryMs;
    this.executedSeq = lastSeq;
  }

  /**
   * Takes the data directory's lock (DATA_DIR_LOCKED if another holds it; under `config.lockToken`, checks
   * the one its owner took), recovers the state from the directory and opens the journal for appending. The
   * lock is held until close, or released here if the start fails.
   */
  static async open(
    config: EngineConfig,
    clockUs: () => number = wallClockUs,
    options: EngineHostOptions = {},
  ): Promise<{ host: EngineHost; recovery: RecoveryReport }> {
    const lock =
      config.lockToken === undefined
        ? await DirLock.acquire(config.dir, 'engine')
        : await DirLock.confirm(config.dir, config.lockToken);
    try {
      const io = options.fs ?? nodeFs;
      return await EngineHost.recover(config, clockUs, io, options.journalFs ?? io, lock);
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  private static async recover(
    config: EngineConfig,
    clockUs: () => number,
    io: JournalFs,
    journalIo: JournalFs,
    lock: DirLock,
  ): Promise<{ host: EngineHost; recovery: RecoveryReport }> {
    const t0 = performance.now();
    const options = { bookCapacityOrders: config.bookCapacityOrders };
    const store = new SnapshotStore({
      dir: config.dir,
      keep: config.snapshotsKept ?? ENGINE_DEFAULTS.snapshotsKept,
      fs: io,
    });
    // Newest first; a snapshot whose checksum holds but whose payload does not decode falls back too.
    const load = await loadCoreSnapshot(store, options);
    const start = { core: load.core ?? new ExchangeCore(options), snapshot: load.snapshot };
    const rejected = load.rejected.map((r) => ({ file: r.file, reason: r.reason }));
    const core = start.core;
    const opened = await openJournal(
      {
        dir: config.dir,
        clockUs,
        durability: config.durability,
        segmentBytes: config.segmentBytes,
        fs: journalIo,
      },
      {
        fromSeq: (start.snapshot?.seq ?? 0) + 1,
        visit: (_seq, _timeUs, command, kind) => {
          core.events.clear();
          executeByKind(core, command, kind);
        },
      },
    );
    core.events.clear();
    const host = new EngineHost(core, opened.writer, store, config, opened.lastSeq, lock);
    return {
      host,
      recovery: {
        snapshotSeq: start.snapshot?.seq ?? 0,
        snapshotFile: start.snapshot?.file ?? '',
        rejectedSnapshots: rejected,
        replayed: opened.replayed,
        lastSeq: opened.lastSeq,
        notices: opened.notices,
        ms: Math.round(performance.now() - t0),
      },
    };
  }

  get lastSeq(): number {
    return this.executedSeq;
  }

  get failed(): Error | null {
    return this.writer.failed;
  }

  stateHash(): string {
    return this.core.stateHash();
  }

  /** The highest order id any place command carried (a gateway assigns ids above it). */
  highestOrderId(): number {
    return this.core.highestOrderId;
  }

  stats(): EngineStats {
    return { executedSeq: this.executedSeq, submits: this.submits, ...this.writer.stats() };
  }

  /** A report read from the core now (after every command executed so far). */
  report<Q extends ReportQuery>(query: Q): ReportAnswer<Q> {
    return reportOf(this.core, query);
  }

  /** The core's next expiry now (Core.nextExpiryUs). */
  get nextExpiryUs(): number {
    return this.core.nextExpiryUs;
  }

  /** Whether the core's emergency checks want an advance of time soon (Core.riskSweepDue). */
  get riskSweepDue(): boolean {
    return this.core.riskSweepDue;
  }

  /** Resolves once every command executed so far is durable; rejects with the journal's error. */
  whenDurable(): Promise<unknown> {
    return this.lastDurable;
  }

  /**
   * Sequences, journals and executes a batch. Throws (nothing sequenced or executed) when the journal refuses
   * it: failed, closed, busy, or a command it cannot encode.
   */
  submit(commands: Command[]): BatchOutcome {
    this.refuseWhenClosed();
    const before = this.writer.sequencedSeq;
    const durable = this.writer.append(commands);
    return this.executeSequenced(commands, null, before, durable);
  }

  /**
   * The same for `count` records framed by the journal's frameCommand (what the engine's main thread sends):
   * the commands are decoded first, so that bytes which do not decode are refused before anything is
   * sequenced, then journaled as they are and executed.
   */
  submitRecords(records: Uint8Array, count: number): BatchOutcome {
    this.refuseWhenClosed();
    const kinds = this.kindsFor(count);
    const commands = decodeFramedCommands(records, count, kinds);
    const before = this.writer.sequencedSeq;
    const durable = this.writer.appendRecords(records, count);
    return this.executeSequenced(commands, kinds, before, durable);
  }

  private refuseWhenClosed(): void {
    if (this.closed) throw Object.assign(new Error('the engine is closing'), { code: 'ENGINE_CLOSED' });
  }

  /** A scratch array of at least `count` kind bytes, kept between batches. */
  private kindsFor(count: number): Uint8Array {
    if (this.kindScratch.length < count)
      this.kindScratch = new Uint8Array(Math.max(count, 2 * this.kindScratch.length));
    return this.kindScratch;
  }

  /**
   * Executes commands the writer has just sequenced after `before` (or throws RefusedBatch if it did not).
   * `kinds` holds their kind bytes when they were decoded from records (null: built here, run by `execute`).
   */
  private executeSequenced(
    commands: Command[],
    kinds: Uint8Array | null,
    before: number,
    durable: Promise<unknown>,
  ): BatchOutcome {
    if (this.writer.sequencedSeq === before) {
      // Refused before sequencing: the promise is already rejected with the reason.
      durable.catch(() => undefined);
      throw new RefusedBatch(durable);
    }
    durable.catch(() => undefined); // the caller hears of a failure through its own handler
    const firstSeq = before + 1;
    const timeUs = this.writer.sequencedTimeUs;
    const core = this.core;
    const ends = new Int32Array(commands.length);
    // Each command runs on a cleared event buffer, as in a replay, so that its records are the same bytes a
    // replay gives (fields a record's type does not use keep what the buffer held); they are gathered in a
    // scratch buffer kept between batches, and the batch's leave in one copy of the used part.
    let out = this.eventScratch;
    let used = 0;
    for (let i = 0; i < commands.length; i++) {
      const command = commands[i];
      command.timeUs = timeUs;
      core.events.clear();
      if (kinds === null) core.execute(command);
      else executeByKind(core, command, kinds[i]);
      const n = core.events.count * EVENT_STRIDE;
      if (used + n > out.length) out = this.growScratch(used, used + n);
      out.set(core.events.data.subarray(0, n), used);
      used += n;
      ends[i] = used / EVENT_STRIDE;
    }
    core.events.clear();
    const events = out.slice(0, used);
    this.executedSeq = firstSeq + commands.length - 1;
    this.submits++;
    this.lastDurable = durable;
    this.sinceSnapshot += commands.length;
    if (this.snapshotDue()) void this.snapshot().catch(() => undefined);
    return {
      firstSeq,
      timeUs,
      events,
      ends,
      durable,
      nextExpiryUs: core.nextExpiryUs,
      riskSweepDue: core.riskSweepDue,
    };
  }

  /**
   * Captures the state now and writes it once everything executed so far is durable. Returns the sequence
   * number it covers. One snapshot at a time: a call during another waits for it and takes its own.
   */
  async snapshot(): Promise<number> {
    while (this.snapshotting !== null) await this.snapshotting;
    const seq = this.executedSeq;
    const payload = encodeCoreSnapshot(this.core);
    const durable = this.lastDurable;
    this.sinceSnapshot = 0;
    this.lastSnapshotMs = Date.now();
    const run = (async (): Promise<void> => {
      await durable;
      if (seq > 0) await this.store.write(seq, payload);
    })();
    this.snapshotting = run;
    try {
      await run;
    } finally {
      this.snapshotting = null;
    }
    return seq;
  }

  /**
   * Waits for the journal, closes it, writes a last snapshot (when the journal is sound), and releases the
   * data directory's lock.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writer.close();
      // The state is still whole: only new batches are refused.
      if (this.writer.failed === null && this.executedSeq > 0) await this.snapshot();
    } finally {
      await this.lock.release();
    }
  }

  private growScratch(used: number, needed: number): Float64Array {
    const bigger = new Float64Array(Math.max(needed, this.eventScratch.length * 2));
    bigger.set(this.eventScratch.subarray(0, used));
    this.eventScratch = bigger;
    return bigger;
  }

  private snapshotDue(): boolean {
    if (this.snapshotting !== null) return false;
    if (this.everyCommands > 0 && this.sinceSnapshot >= this.everyCommands) return true;
    return this.everyMs > 0 && this.sinceSnapshot > 0 && Date.now() - this.lastSnapshotMs >= this.everyMs;
  }
}

/** A batch the journal refused before sequencing it; `reason` rejects with the journal's error. */
export class RefusedBatch extends Error {
  readonly reason: Promise<unknown>;
  constructor(reason: Promise<unknown>) {
    super('the journal refused the batch');
    this.reason = reason;
  }
}
