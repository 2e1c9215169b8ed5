/**
 * The engine, as the main thread sees it: `Engine.start` recovers the state in a worker thread and
 * `submit` sends commands there. Each command is encoded into a journal record on this thread as it is
 * submitted (a command that cannot be journaled is refused to its caller alone, at once); the records of one
 * turn of the event loop, or of every `flushCommands` commands under load, travel to the worker as one
 * transferred buffer, which it stamps, journals as it is and executes. Each caller gets one Receipt (its
 * commands' sequence numbers and events) once they are durable. The network and the callers stay on this
 * thread, so they never stall matching, and matching never stalls them.
 */
import { Worker } from 'node:worker_threads';
import { EVENT_STRIDE } from '../book/index.js';
// The leaf module, not ops/index.js: that one loads the configuration's parser, which `rialto --help` skips.
import { firstMessageOf } from '../ops/worker-start.js';
import { delayUntil } from '../ops/timers.js';
import type { Command } from '../core/index.js';
import { DirLock, RECORD_BYTES_MAX, frameCommand } from '../journal/index.js';
import { ENGINE_LIMITS, EngineErrorCode } from './limits.js';
import type { EnginePort, EngineStats } from './port.js';
import {
  errorInfo,
  type AccountReport,
  type Checkpoint,
  type AccountsPage,
  type EngineConfig,
  type EngineQuery,
  type ErrorInfo,
  type FromWorker,
  type RecoveryReport,
  type ReportAnswer,
  type ReportQuery,
  type Statements,
  type ToWorker,
  type VenueReport,
} from './protocol.js';

export interface CommandResult {
  seq: number;
  timeUs: number;
  /** The command's event records (16 numbers each, as in the core's buffer). */
  events: Float64Array;
}

/**
 * What one submit gets back once its commands are durable: their sequence numbers (firstSeq .. lastSeq, in
 * the order given), the time the sequencer stamped on them, and each command's events, as views into the
 * batch's event buffer (EVENT_STRIDE numbers per event, as in the core's buffer), made only when asked for.
 */
export class Receipt {
  readonly firstSeq: number;
  readonly count: number;
  readonly timeUs: number;
  private readonly batchEvents: Float64Array;
  private readonly batchEnds: Int32Array;
  private readonly offset: number;

  constructor(
    firstSeq: number,
    count: number,
    timeUs: number,
    batchEvents: Float64Array,
    batchEnds: Int32Array,
    offset: number,
  ) {
    this.firstSeq = firstSeq;
    this.count = count;
    this.timeUs = timeUs;
    this.batchEvents = batchEvents;
    this.batchEnds = batchEnds;
    this.offset = offset;
  }

  get lastSeq(): number {
    return this.firstSeq + this.count - 1;
  }

  /** The events of the i-th command of the submit (0-based). */
  events(i: number): Float64Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new RangeError(`command ${i} of a receipt for ${this.count}`);
    }
    const k = this.offset + i;
    const from = k === 0 ? 0 : this.batchEnds[k - 1];
    return this.batchEvents.subarray(from * EVENT_STRIDE, this.batchEnds[k] * EVENT_STRIDE);
  }

  /** One result per command, for callers that want them as objects. */
  results(): CommandResult[] {
    const out: CommandResult[] = [];
    for (let i = 0; i < this.count; i++) {
      out.push({ seq: this.firstSeq + i, timeUs: this.timeUs, events: this.events(i) });
    }
    return out;
  }
}

/** An engine error with a stable code (JOURNAL_FAILED, JOURNAL_BUSY, ENGINE_CLOSED, ...). */
export class EngineError extends Error {
  readonly code: string;
  readonly file: string | undefined;
  readonly offset: number | undefined;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.code = info.code;
    this.file = info.file;
    this.offset = info.offset;
  }
}

/**
 * One durable batch as subscribers see it: what projections (order and trade views, book feeds, query tables)
 * are built from. Commands firstSeq .. firstSeq + count - 1, all stamped `timeUs`; their event records
 * (EVENT_STRIDE numbers each) back to back in `events`, with `ends[i]` the record count after command i.
 */
export interface DurableBatch {
  readonly firstSeq: number;
  readonly count: number;
  readonly timeUs: number;
  readonly events: Float64Array;
  readonly ends: Int32Array;
  /**
   * The commands as framed records (journal/record.ts, sequence number, time and checksum not stamped), when
   * the engine was started with `publishRecords`; else undefined.
   */
  readonly records?: Uint8Array;
}

export type BatchListener = (batch: DurableBatch) => void;

interface Waiter {
  count: number;
  resolve: (r: Receipt) => void;
  reject: (e: Error) => void;
}

/** The batch being gathered: framed records in `bytes` up to `end`, `count` of them, and who waits for them. */
interface OpenBatch {
  bytes: Uint8Array;
  end: number;
  count: number;
  waiters: Waiter[];
}

const OPEN_BYTES_INITIAL = 64 * 1024;

export class Engine implements EnginePort {
  readonly recovery: RecoveryReport;
  private readonly worker: Worker;
  private readonly flushCommands: number;
  /** Reused for each batch: what is sent is a copy of its used part. */
  private open: OpenBatch = { bytes: new Uint8Array(OPEN_BYTES_INITIAL), end: 0, count: 0, waiters: [] };
  private flushScheduled = false;
  private readonly inFlight = new Map<number, Waiter[]>();
  /** The framed records of each batch in flight, kept only with `publishRecords`. */
  private readonly keptRecords: Map<number, Uint8Array> | null;
  private nextBatch = 1;
  private nextQuery = 1;
  private readonly answers = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: EngineError | null = null;
  private closing = false;
  private listeners: BatchListener[] = [];
  private exited: Promise<void>;
  /** Submits `advanceTime` when the core wants time advanced (`armClock`); null: none armed. */
  private clockTimer: NodeJS.Timeout | null = null;
  /** When the armed timer is due, ms since 1970; 0: none. */
  private clockDueMs = 0;
  /** When the engine last submitted `advanceTime` of its own accord, ms since 1970. */
  private lastAdvanceMs = 0;
  /** The core's next expiry as its last batch (or its recovery) reported it; 0: none. */
  private nextExpiryUs: number;
  /** Whether the core's emergency checks want time advanced, as its last batch reported. */
  private riskSweepDue: boolean;
  /** Whether `startClock` was called: before, nothing is submitted of the engine's own accord. */
  private clockOn = false;

  /** `exited` resolves once the worker has exited and the data directory's lock is released. */
  private constructor(
    worker: Worker,
    recovery: RecoveryReport,
    exited: Promise<void>,
    flushCommands: number,
    publishRecords: boolean,
    nextExpiryUs: number,
    riskSweepDue: boolean,
  ) {
    this.keptRecords = publishRecords ? new Map() : null;
    this.worker = worker;
    this.flushCommands = flushCommands;
    this.recovery = recovery;
    this.exited = exited;
    worker.on('message', (m: FromWorker) => this.receive(m));
    worker.on('error', (e) => this.fail({ code: 'ENGINE_WORKER_ERROR', message: e.message }));
    worker.once('exit', () => this.fail({ code: 'ENGINE_CLOSED', message: 'the engine has stopped' }));
    this.nextExpiryUs = nextExpiryUs;
    this.riskSweepDue = riskSweepDue;
  }

  /**
   * From now on, advances the core's clock (an `advanceTime` command) when the core wants it: when an order's
   * expiry comes, so that DAY and GTD orders expire when they are due, not when their book next takes a
   * command (orders that came due while the venue was down expire at once); and, while some account has an
   * emergency loss threshold and commands run, at most every `riskSweepIntervalMs`, so that an account whose
   * marks moved without it trading is stopped past its threshold. Called by the serving process once its
   * replays are checked against the engine and its subscribers follow it: before, the engine's state moves
   * only by submits.
   */
  startClock(): void {
    this.clockOn = true;
    this.armClock();
  }

  /**
   * Takes the data directory's lock (DATA_DIR_LOCKED when another engine or tool holds it), recovers the state
   * in `config.dir` (snapshot, then journal) and starts accepting commands. The lock is taken here, on the
   * main thread, and released when the worker has exited, however it ends.
   */
  static async start(config: EngineConfig): Promise<Engine> {
    const flushCommands = config.flushCommands ?? ENGINE_LIMITS.flushCommandsDefault;
    if (
      !Number.isSafeInteger(flushCommands) ||
      flushCommands < 1 ||
      flushCommands > ENGINE_LIMITS.flushCommandsMax
    ) {
      throw new EngineError({
        code: EngineErrorCode.InvalidArgument,
        message: `flushCommands must be an integer from 1 to ${ENGINE_LIMITS.flushCommandsMax}, not ${flushCommands}`,
      });
    }
    const lock = await DirLock.acquire(config.dir, 'engine');
    let worker: Worker;
    try {
      worker = new Worker(new URL('./worker.js', import.meta.url), {
        workerData: { ...config, lockToken: lock.token } satisfies EngineConfig,
        resourceLimits: { maxYoungGenerationSizeMb: ENGINE_LIMITS.workerYoungGenerationMb },
      });
    } catch (e) {
      await lock.release();
      throw e;
    }
    // A lock file that cannot be removed is found stale once this process is gone; nothing to do here.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      .then(() => lock.release())
      .catch(() => undefined);
    const first = await firstMessageOf<FromWorker>(worker, 'the engine worker').catch(async (e: unknown) => {
      await exited;
      throw e;
    });
    if (first.type !== 'ready') {
      await worker.terminate();
      await exited;
      throw new EngineError(
        first.type === 'startFailed' ? first.error : { code: 'ENGINE_ERROR', message: 'unexpected message' },
      );
    }
    return new Engine(
      worker,
      first.recovery,
      exited,
      flushCommands,
      config.publishRecords === true,
      first.nextExpiryUs,
      first.riskSweepDue,
    );
  }

  /** The error that stopped the engine, or null. */
  get failed(): EngineError | null {
    return this.failure;
  }

  /**
   * Submits commands; resolves with their Receipt once they are durable. The commands are encoded at once and
   * not kept (nor changed: the receipt's `timeUs` is the time the sequencer gave them). Refused at once, with
   * nothing sequenced: an empty submit (ENGINE_SUBMIT_EMPTY), one over ENGINE_LIMITS.submitBytesMax encoded
   * (ENGINE_SUBMIT_TOO_LARGE), a command the journal cannot record (JOURNAL_COMMAND_UNENCODABLE), and any
   * submit once the engine is closing or has failed. Rejects later, with the journal's error, when the
   * journal refused or failed the batch.
   */
  submit(commands: readonly Command[]): Promise<Receipt> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(closedError());
    if (commands.length === 0) {
      return Promise.reject(
        new EngineError({
          code: EngineErrorCode.SubmitEmpty,
          message: 'a submit needs at least one command',
        }),
      );
    }
    const batch = this.open;
    const start = batch.end;
    try {
      let at = start;
      for (let i = 0; i < commands.length; i++) {
        if (at + RECORD_BYTES_MAX > batch.bytes.length) {
          if (at - start + RECORD_BYTES_MAX > ENGINE_LIMITS.submitBytesMax) throw tooLarge(commands.length);
          const bigger = new Uint8Array(batch.bytes.length * 2);
          bigger.set(batch.bytes.subarray(0, at));
          batch.bytes = bigger;
        }
        at = frameCommand(commands[i], batch.bytes, at);
      }
      if (at - start > ENGINE_LIMITS.submitBytesMax) throw tooLarge(commands.length);
      batch.end = at;
    } catch (e) {
      batch.end = start;
      return Promise.reject(e instanceof EngineError ? e : new EngineError(errorInfo(e)));
    }
    batch.count += commands.length;
    const receipt = new Promise<Receipt>((resolve, reject) =>
      batch.waiters.push({ count: commands.length, resolve, reject }),
    );
    if (batch.count >= this.flushCommands) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return receipt;
  }

  /**
   * Calls `listener` with every batch that becomes durable from now on, in sequence order, before the
   * batch's submitters get their receipts (so a view updated by it already shows a command when its submitter
   * hears it is done). The events are views into the batch's buffer: copy what is kept. A listener must not
   * throw: an exception from one is rethrown out of the event loop (an uncaught exception), because a view
   * that missed a batch is wrong from then on. Returns a function that unsubscribes.
   */
  subscribe(listener: BatchListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** The core's state hash after every command submitted before this call. */
  stateHash(): Promise<string> {
    return this.ask('stateHash') as Promise<string>;
  }

  /**
   * The highest order id any place command submitted before this call carried (0 for none): a gateway that
   * assigns order ids starts above it, so that no id in the journal is given out twice across restarts.
   */
  highestOrderId(): Promise<number> {
    return this.ask('highestOrderId') as Promise<number>;
  }

  /**
   * The state hash with the sequence number of the last command it covers (executed, maybe not durable yet):
   * a follower that replays the journal compares its own hash once it has applied that command.
   */
  checkpoint(): Promise<Checkpoint> {
    return this.ask('checkpoint') as Promise<Checkpoint>;
  }

  /** 'ok', or why the engine takes no commands (readiness reads it). */
  health(): string {
    if (this.failure !== null) return `failed: ${this.failure.code}`;
    return this.closing ? 'closing' : 'ok';
  }

  stats(): Promise<EngineStats> {
    return this.ask('stats') as Promise<EngineStats>;
  }

  /**
   * A report read from the core after every command submitted before this call, answered once those
   * commands are durable (so it never shows what the journal could still lose). Typed by its kind.
   */
  report<Q extends ReportQuery>(query: Q): Promise<ReportAnswer<Q>> {
    return this.call({ type: 'report', id: this.nextQuery++, report: query }) as Promise<ReportAnswer<Q>>;
  }

  /** One account's balances (with their ledger accounts), positions, status and limits; null if unknown. */
  accountReport(accountId: number): Promise<AccountReport | null> {
    return this.report({ kind: 'account', accountId });
  }

  /** Up to `limit` accounts with ids above `afterId` (1 .. ENGINE_LIMITS.reportAccountsMax), and the total. */
  accounts(afterId: number, limit: number): Promise<AccountsPage> {
    return this.report({ kind: 'accounts', afterId, limit });
  }

  /** The instruments with their trading status, the assets and the venue's kill switch. */
  venueReport(): Promise<VenueReport> {
    return this.report({ kind: 'venue' });
  }

  /** The venue's trial balance, and its balance sheet and income statement per asset (minor units). */
  statements(): Promise<Statements> {
    return this.report({ kind: 'statements' });
  }

  /** Takes a snapshot now; resolves with the sequence number it covers once it is on disk. */
  snapshot(): Promise<number> {
    return this.call({ type: 'snapshot', id: this.nextQuery++ }) as Promise<number>;
  }

  /** Stops accepting commands, waits for the journal, writes a last snapshot and stops the worker. */
  async close(): Promise<void> {
    if (this.closing) return this.exited;
    this.disarmClock();
    this.flush();
    if (this.failure === null) {
      // Asked before `closing` is set, which refuses every later call; the worker answers, then exits.
      const answered = this.call({ type: 'close', id: this.nextQuery++ });
      this.closing = true;
      try {
        await answered;
      } finally {
        await this.exited;
      }
    } else {
      this.closing = true;
      await this.worker.terminate();
    }
  }

  private ask(query: EngineQuery): Promise<unknown> {
    return this.call({ type: 'query', id: this.nextQuery++, query });
  }

  /** Sends a query or request after every command submitted before it (the gathered ones go first). */
  private call(m: Extract<ToWorker, { id: number }>): Promise<unknown> {
    if (this.closing) return Promise.reject(closedError());
    this.flush();
    return new Promise((resolve, reject) => {
      this.answers.set(m.id, { resolve, reject });
      this.worker.postMessage(m);
    });
  }

  /** Sends the gathered records to the worker as one batch (a copy of the used bytes, transferred). */
  private flush(): void {
    const batch = this.open;
    if (batch.count === 0) return;
    const waiters = batch.waiters;
    const records = batch.bytes.slice(0, batch.end);
    const count = batch.count;
    batch.end = 0;
    batch.count = 0;
    batch.waiters = [];
    if (this.failure !== null) {
      for (const w of waiters) w.reject(this.failure);
      return;
    }
    const id = this.nextBatch++;
    this.inFlight.set(id, waiters);
    this.keptRecords?.set(id, records.slice());
    const message: ToWorker = { type: 'submit', batch: id, records, count };
    this.worker.postMessage(message, [records.buffer]);
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'done': {
        const waiters = this.inFlight.get(m.batch);
        if (waiters === undefined) return;
        this.inFlight.delete(m.batch);
        const records = this.keptRecords?.get(m.batch);
        this.keptRecords?.delete(m.batch);
        if (this.listeners.length > 0) this.publish(m.firstSeq, m.timeUs, m.events, m.ends, records);
        this.nextExpiryUs = m.nextExpiryUs;
        this.riskSweepDue = m.riskSweepDue;
        if (this.clockOn) this.armClock();
        let offset = 0;
        for (const w of waiters) {
          w.resolve(new Receipt(m.firstSeq + offset, w.count, m.timeUs, m.events, m.ends, offset));
          offset += w.count;
        }
        return;
      }
      case 'refused': {
        const waiters = this.inFlight.get(m.batch);
        if (waiters === undefined) return;
        this.inFlight.delete(m.batch);
        this.keptRecords?.delete(m.batch);
        const e = new EngineError(m.error);
        for (const w of waiters) w.reject(e);
        return;
      }
      case 'failed':
        this.fail(m.error);
        return;
      case 'answer': {
        const a = this.answers.get(m.id);
        if (a === undefined) return;
        this.answers.delete(m.id);
        if (m.error !== undefined) a.reject(new EngineError(m.error));
        else a.resolve(m.value);
        return;
      }
      default:
        return;
    }
  }

  private publish(
    firstSeq: number,
    timeUs: number,
    events: Float64Array,
    ends: Int32Array,
    records: Uint8Array | undefined,
  ): void {
    const batch: DurableBatch =
      records === undefined
        ? { firstSeq, count: ends.length, timeUs, events, ends }
        : { firstSeq, count: ends.length, timeUs, events, ends, records };
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch (e) {
        setImmediate(() => {
          throw e;
        });
      }
    }
  }

  /**
   * Arms the timer for the next time the core wants time advanced: its next expiry, or a sweep of the
   * emergency checks `riskSweepIntervalMs` after the last advance. The advance is a command like any other:
   * journaled, executed, published to the subscribers (views, feeds), stamped by the sequencer with the time
   * it runs at; its batch's answer arms the timer again.
   */
  private armClock(): void {
    let dueMs = this.nextExpiryUs === 0 ? Infinity : this.nextExpiryUs / 1000;
    if (this.riskSweepDue) dueMs = Math.min(dueMs, this.lastAdvanceMs + ENGINE_LIMITS.riskSweepIntervalMs);
    if (dueMs === Infinity || this.closing || this.failure !== null) {
      this.disarmClock();
      return;
    }
    if (this.clockTimer !== null && dueMs === this.clockDueMs) return;
    this.disarmClock();
    this.clockDueMs = dueMs;
    this.clockTimer = setTimeout(() => this.advanceClock(), delayUntil(dueMs, ENGINE_LIMITS.clockWaitMinMs));
    // Time to advance is no reason to keep a process alive that has nothing else to do.
    this.clockTimer.unref();
  }

  private disarmClock(): void {
    if (this.clockTimer !== null) clearTimeout(this.clockTimer);
    this.clockTimer = null;
    this.clockDueMs = 0;
  }

  private advanceClock(): void {
    this.clockTimer = null;
    if (Date.now() < this.clockDueMs) {
      // Due later than one timer reaches (about 24.8 days): wait again.
      this.clockDueMs = 0;
      this.armClock();
      return;
    }
    this.lastAdvanceMs = Date.now();
    // A failure here is the engine's own (closing, failed), which its callers hear of on their own requests.
    this.submit([{ kind: 'advanceTime', timeUs: 0 }]).catch(() => undefined);
  }

  private fail(info: ErrorInfo): void {
    if (this.failure !== null) return;
    this.disarmClock();
    this.failure = new EngineError(info);
    for (const waiters of this.inFlight.values()) for (const w of waiters) w.reject(this.failure);
    this.inFlight.clear();
    this.keptRecords?.clear();
    for (const a of this.answers.values()) a.reject(this.failure);
    this.answers.clear();
  }
}

function closedError(): EngineError {
  return new EngineError({ code: EngineErrorCode.Closed, message: 'the engine is closing' });
}

function tooLarge(commands: number): EngineError {
  return new EngineError({
    code: EngineErrorCode.SubmitTooLarge,
    message: `a submit of ${commands} commands encodes to more than ${ENGINE_LIMITS.submitBytesMax} bytes; split it`,
  });
}
