/**
 * The embedded adapter with PGlite on a worker thread of its own (pglite-worker.ts), for the venue: PGlite runs
 * its SQL on the thread that calls it, and the market data writer's and the audit projection's INSERTs were
 * about a sixth of the venue's main thread under load. Here that thread only sends the statement and its
 * parameters (copied by postMessage) and gets the rows back; the behaviour is the in-process adapter's
 * (the same PGlite calls, one transaction at a time, each commit flushed before it is answered).
 *
 * The worker runs at a lower scheduling priority (nice PGLITE_WORKER_NICE, Linux): what the venue writes there is
 * background work that may lag, and at the same priority its bursts took a core from the order path's threads.
 *
 * The worker keeps the process alive only while a request is waiting for its answer, as the in-process
 * PGlite would (an idle open store does not hold the process).
 */
import { Worker } from 'node:worker_threads';
// The leaf module, not ops/index.js: that one loads the configuration's parser, which `rialto --help` skips.
import { firstMessageOf } from '../ops/worker-start.js';
import {
  PGLITE_WORKER_NICE,
  errorOf,
  type FromPgliteWorker,
  type PgliteWorkerData,
  type StoreErrorInfo,
  type ToPgliteWorker,
} from './pglite-protocol.js';
import {
  CHANNEL_PATTERN,
  GuardedStore,
  StoreError,
  StoreErrorCode,
  type NotificationHandler,
  type Queryable,
  type Row,
} from './port.js';

interface Pending {
  resolve(m: { rows: Row[] | null; value: number | null }): void;
  reject(e: Error): void;
}

type Request = ToPgliteWorker extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** The requests and answers of one worker. */
class Channel {
  private readonly pending = new Map<number, Pending>();
  private readonly notifyHandlers = new Map<number, NotificationHandler>();
  private nextId = 1;
  /** Why the worker is gone (it exited or failed), or null while it runs. */
  private gone: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (m: FromPgliteWorker) => this.receive(m));
    worker.on('error', (e) => this.lose(e));
    worker.on('exit', (code) => this.lose(new Error(`the PGlite worker exited (${code})`)));
  }

  call(request: Request): Promise<{ rows: Row[] | null; value: number | null }> {
    if (this.gone !== null) {
      return Promise.reject(
        new StoreError(StoreErrorCode.Unavailable, `the PGlite worker is gone: ${this.gone.message}`),
      );
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Held while an answer is awaited, so that a caller with nothing else to do is not left behind.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  onNotify(listener: number, handler: NotificationHandler | null): void {
    if (handler === null) this.notifyHandlers.delete(listener);
    else this.notifyHandlers.set(listener, handler);
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return p;
  }

  private receive(m: FromPgliteWorker): void {
    switch (m.type) {
      case 'done':
        this.settle(m.id)?.resolve(m);
        return;
      case 'failed':
        this.settle(m.id)?.reject(errorOf(m.error));
        return;
      case 'notify':
        this.notifyHandlers.get(m.listener)?.notify(m.payload);
        return;
      default:
        return;
    }
  }

  private lose(e: Error): void {
    this.gone ??= e;
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.worker.unref();
    for (const p of pending) {
      p.reject(
        new StoreError(StoreErrorCode.Unavailable, `the PGlite worker is gone: ${e.message}`, { cause: e }),
      );
    }
  }
}

function queryable(channel: Channel, tx: number): Queryable {
  return {
    query: async (sql, params = []) =>
      (await channel.call({ op: 'query', tx, sql, params: params })).rows ?? [],
    exec: async (sql) => void (await channel.call({ op: 'exec', tx, sql })),
    copyFrom: async (sql, data) => (await channel.call({ op: 'copy', tx, sql, data })).value ?? 0,
  };
}

class PgliteThreadStore extends GuardedStore {
  readonly kind = 'pglite';

  constructor(
    private readonly channel: Channel,
    private readonly worker: Worker,
  ) {
    super(queryable(channel, 0));
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    this.open();
    // PGlite runs one transaction at a time; other statements wait for it, as they would for a lock.
    const { value: tx } = await this.channel.call({ op: 'begin' });
    if (tx === null) throw new Error('the PGlite worker began no transaction');
    let result: T;
    try {
      result = await work(queryable(this.channel, tx));
    } catch (e) {
      // The work's error is the one to report; a failed rollback (the worker gone) adds nothing to it.
      await this.channel.call({ op: 'end', tx, commit: false }).catch(() => undefined);
      throw e;
    }
    await this.channel.call({ op: 'end', tx, commit: true });
    return result;
  }

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    this.open();
    if (!CHANNEL_PATTERN.test(channel)) throw new Error(`not a channel name: ${channel}`);
    const { value: listener } = await this.channel.call({ op: 'listen', channel });
    if (listener === null) throw new Error('the PGlite worker made no listener');
    // In-process (another thread, one process): no connection to lose, so never a gap.
    this.channel.onNotify(listener, handler);
    return async () => {
      this.channel.onNotify(listener, null);
      await this.channel.call({ op: 'unlisten', listener });
    };
  }

  protected async release(): Promise<void> {
    try {
      await this.channel.call({ op: 'close' });
    } finally {
      // Held until it has exited: the channel let go of it once the close was answered.
      this.worker.ref();
      await this.worker.terminate();
    }
  }
}

/**
 * PGlite in folder `dir` (null: in memory) on a worker thread, at a lower scheduling priority (`nice`, default
 * PGLITE_WORKER_NICE; null: the process's); the caller has checked the folder exists.
 */
export async function openPgliteThreadStore(
  dir: string | null,
  nice: number | null = PGLITE_WORKER_NICE,
): Promise<GuardedStore> {
  const worker = new Worker(new URL('./pglite-worker.js', import.meta.url), {
    workerData: { dir, nice } satisfies PgliteWorkerData,
  });
  const first = await firstMessageOf<FromPgliteWorker>(worker, 'the PGlite worker');
  if (first.type !== 'ready') {
    await worker.terminate();
    const error: StoreErrorInfo =
      first.type === 'openFailed'
        ? first.error
        : { name: 'Error', message: 'unexpected message', fields: {} };
    throw errorOf(error);
  }
  return new PgliteThreadStore(new Channel(worker), worker);
}
