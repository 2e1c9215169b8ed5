/**
 * The engine, as the main thread sees it: `Engine.start` recovers the state in a worker thread and
 * `submit` sends commands there. Commands submitted in the same turn of the event loop travel as one batch and
 * share one journal write and one fsync (group commit); each caller gets its commands' sequence numbers and
 * events once they are durable. The network and the callers stay on this thread, so they never stall
 * matching, and matching never stalls them.
 */
import { Worker } from 'node:worker_threads';
import { EVENT_STRIDE } from '../book/index.js';
import type { Command } from '../core/index.js';
import { DirLock } from '../journal/index.js';
import type {
  EngineConfig,
  EngineQuery,
  ErrorInfo,
  FromWorker,
  RecoveryReport,
  ToWorker,
} from './protocol.js';

export interface CommandResult {
  seq: number;
  timeUs: number;
  /** The command's event records (16 numbers each, as in the core's buffer). */
  events: Float64Array;
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

interface PendingBatch {
  commands: Command[];
  waiters: { from: number; to: number; resolve: (r: CommandResult[]) => void; reject: (e: Error) => void }[];
}

export class Engine {
  readonly recovery: RecoveryReport;
  private readonly worker: Worker;
  private open: PendingBatch | null = null;
  private readonly inFlight = new Map<number, PendingBatch>();
  private nextBatch = 1;
  private nextQuery = 1;
  private readonly answers = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: EngineError | null = null;
  private closing = false;
  private exited: Promise<void>;

  /** `exited` resolves once the worker has exited and the data directory's lock is released. */
  private constructor(worker: Worker, recovery: RecoveryReport, exited: Promise<void>) {
    this.worker = worker;
    this.recovery = recovery;
    this.exited = exited;
    worker.on('message', (m: FromWorker) => this.receive(m));
    worker.on('error', (e) => this.fail({ code: 'ENGINE_WORKER_ERROR', message: e.message }));
    worker.once('exit', () => this.fail({ code: 'ENGINE_CLOSED', message: 'the engine has stopped' }));
  }

  /**
   * Takes the data directory's lock (DATA_DIR_LOCKED when another engine or tool holds it), recovers the state
   * in `config.dir` (snapshot, then journal) and starts accepting commands. The lock is taken here, on the
   * main thread, and released when the worker has exited, however it ends.
   */
  static async start(config: EngineConfig): Promise<Engine> {
    const lock = await DirLock.acquire(config.dir, 'engine');
    let worker: Worker;
    try {
      worker = new Worker(new URL('./worker.js', import.meta.url), {
        workerData: { ...config, lockToken: lock.token } satisfies EngineConfig,
      });
    } catch (e) {
      await lock.release();
      throw e;
    }
    // A lock file that cannot be removed is found stale once this process is gone; nothing to do here.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      .then(() => lock.release())
      .catch(() => undefined);
    // Listeners for the start only, removed one by one: Worker keeps internal listeners of its own.
    let onMessage: (m: FromWorker) => void = () => undefined;
    let onError: (e: Error) => void = () => undefined;
    let onExit: (code: number) => void = () => undefined;
    const first = await new Promise<FromWorker>((resolve, reject) => {
      onMessage = resolve;
      onError = reject;
      onExit = (code) => reject(new Error(`the engine worker exited (${code}) while starting`));
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    })
      .finally(() => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      })
      .catch(async (e: unknown) => {
        await worker.terminate();
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
    return new Engine(worker, first.recovery, exited);
  }

  /** The error that stopped the engine, or null. */
  get failed(): EngineError | null {
    return this.failure;
  }

  /**
   * Submits commands (their `timeUs` is set by the sequencer). Resolves with one result per command once they
   * are durable; rejects with an EngineError when the journal refused or failed them.
   */
  submit(commands: Command[]): Promise<CommandResult[]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closing)
      return Promise.reject(new EngineError({ code: 'ENGINE_CLOSED', message: 'the engine is closing' }));
    if (this.open === null) {
      this.open = { commands: [], waiters: [] };
      setImmediate(() => this.flush());
    }
    const batch = this.open;
    const from = batch.commands.length;
    for (const c of commands) batch.commands.push(c);
    return new Promise((resolve, reject) =>
      batch.waiters.push({ from, to: batch.commands.length, resolve, reject }),
    );
  }

  stateHash(): Promise<string> {
    return this.ask('stateHash') as Promise<string>;
  }

  stats(): Promise<Record<string, number>> {
    return this.ask('stats') as Promise<Record<string, number>>;
  }

  /** Takes a snapshot now; resolves with the sequence number it covers once it is on disk. */
  snapshot(): Promise<number> {
    return this.call({ type: 'snapshot', id: this.nextQuery++ }) as Promise<number>;
  }

  /** Stops accepting commands, waits for the journal, writes a last snapshot and stops the worker. */
  async close(): Promise<void> {
    if (this.closing) return this.exited;
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

  private call(m: Extract<ToWorker, { id: number }>): Promise<unknown> {
    if (this.closing)
      return Promise.reject(new EngineError({ code: 'ENGINE_CLOSED', message: 'the engine is closing' }));
    return new Promise((resolve, reject) => {
      this.answers.set(m.id, { resolve, reject });
      this.worker.postMessage(m);
    });
  }

  private flush(): void {
    const batch = this.open;
    this.open = null;
    if (batch === null || batch.commands.length === 0) return;
    if (this.failure !== null) {
      for (const w of batch.waiters) w.reject(this.failure);
      return;
    }
    const id = this.nextBatch++;
    this.inFlight.set(id, batch);
    const message: ToWorker = { type: 'submit', batch: id, commands: batch.commands };
    this.worker.postMessage(message);
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'done': {
        const batch = this.inFlight.get(m.batch);
        if (batch === undefined) return;
        this.inFlight.delete(m.batch);
        for (const w of batch.waiters) {
          const results: CommandResult[] = [];
          for (let i = w.from; i < w.to; i++) {
            const start = i === 0 ? 0 : m.ends[i - 1];
            results.push({
              seq: m.firstSeq + i,
              timeUs: m.timeUs,
              events: m.events.subarray(start * EVENT_STRIDE, m.ends[i] * EVENT_STRIDE),
            });
          }
          w.resolve(results);
        }
        return;
      }
      case 'refused': {
        const batch = this.inFlight.get(m.batch);
        if (batch === undefined) return;
        this.inFlight.delete(m.batch);
        const e = new EngineError(m.error);
        for (const w of batch.waiters) w.reject(e);
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

  private fail(info: ErrorInfo): void {
    if (this.failure !== null) return;
    this.failure = new EngineError(info);
    for (const batch of this.inFlight.values()) for (const w of batch.waiters) w.reject(this.failure);
    this.inFlight.clear();
    for (const a of this.answers.values()) a.reject(this.failure);
    this.answers.clear();
  }
}
