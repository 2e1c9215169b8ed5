/**
 * The audit file's appender on a worker thread of its own (file-worker.ts), for the venue: chaining a group
 * (a SHA-256 and a CRC per event, the line written into a buffer), writing it and its fdatasync were about a
 * tenth of the venue's main thread under load. The main thread now only writes each event's canonical JSON
 * (which numbers it, so the order of the chain stays the caller's) and sends the group's text; the worker
 * links, writes and syncs it exactly as AuditFile does on its own thread, and answers with the new head's
 * hash and the bytes written, or why it failed (having cut the file back to its size before the group).
 * Asked to, it also answers with the group's rows for the audit projection as COPY text (copy-row.ts's
 * `copyRowOfLine` of each line, made while the group's fdatasync runs), so that the main thread does not read
 * the lines back, check them and make that text itself (docs/audit.md, the table).
 *
 * The worker keeps the process alive only while a group is waiting for its answer.
 */
import { Worker } from 'node:worker_threads';
// The leaf module, not ops/index.js: that one loads the configuration's parser, which `rialto --help` skips.
import { firstMessageOf } from '../ops/worker-start.js';

export interface AuditWorkerData {
  readonly path: string;
}

/**
 * A group: the canonical JSON of events `firstSeq` and on, joined by line breaks (JSON holds none raw), as
 * UTF-8 bytes in a buffer of their own, transferred rather than copied.
 */
export type ToAuditWorker =
  | {
      readonly id: number;
      readonly kind: 'append';
      readonly bytes: Uint8Array<ArrayBuffer>;
      readonly count: number;
      readonly firstSeq: number;
      /** The hash before the group, hex. */
      readonly prev: string;
      /** The file's size before the group: where a failed group is cut back to. */
      readonly size: number;
      /** Whether to answer with the group's COPY text too. */
      readonly copy: boolean;
    }
  | { readonly id: number; readonly kind: 'close' };

export type FromAuditWorker =
  | {
      readonly id: number;
      readonly ok: true;
      readonly hash: string;
      readonly bytes: number;
      /**
       * The group's rows as COPY text (UTF-8, transferred), when asked for and the worker could make it (null
       * when a line was not an event: the projection then reads the file, and says what it found there).
       */
      readonly copy: Uint8Array<ArrayBuffer> | null;
    }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** A group written: the new head's hash, the bytes added, and its COPY text when asked for and made. */
interface Appended {
  readonly hash: string;
  readonly bytes: number;
  readonly copy: Uint8Array | null;
}

interface Pending {
  resolve(m: Appended): void;
  reject(e: Error): void;
}

export class AuditAppendThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the worker is gone, or null while it runs. */
  private gone: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (m: FromAuditWorker) => this.receive(m));
    worker.on('error', (e) => this.lose(e));
    worker.on('exit', (code) => this.lose(new Error(`the audit file's worker exited (${code})`)));
  }

  /** Starts the worker on the file at `path` (which exists: the caller has opened and checked it). */
  static async start(path: string): Promise<AuditAppendThread> {
    const worker = new Worker(new URL('./file-worker.js', import.meta.url), {
      workerData: { path } satisfies AuditWorkerData,
    });
    const first = await firstMessageOf<FromAuditWorker>(worker, "the audit file's worker");
    if (!first.ok) {
      await worker.terminate();
      throw new Error(first.message);
    }
    return new AuditAppendThread(worker);
  }

  /**
   * Links, writes and syncs a group, given as its events' canonical JSON joined by line breaks, in UTF-8 in a
   * buffer of its own (it is transferred: the caller lets go of it); resolves with the new head's hash, the
   * bytes it added and (with `copy`) the group's COPY text, or null. Cloning the text as a string cost the main
   * thread a copy as much, and the worker a decoding, a split and an encoding again.
   */
  async append(
    firstSeq: number,
    prev: Buffer,
    bytes: Uint8Array<ArrayBuffer>,
    count: number,
    size: number,
    copy: boolean,
  ): Promise<{ hash: Buffer; bytes: number; copy: Uint8Array | null }> {
    const prevHex = prev.toString('hex');
    const r = await this.call({ kind: 'append', bytes, count, firstSeq, prev: prevHex, size, copy });
    return { hash: Buffer.from(r.hash, 'hex'), bytes: r.bytes, copy: r.copy };
  }

  /** Closes the worker's file and stops it. */
  async close(): Promise<void> {
    if (this.gone !== null) return;
    try {
      await this.call({ kind: 'close' });
    } finally {
      // Held until it has exited: it was let go of once the close was answered.
      this.worker.ref();
      await this.worker.terminate();
    }
  }

  private call(
    request: Omit<Extract<ToAuditWorker, { kind: 'append' }>, 'id'> | { kind: 'close' },
  ): Promise<Appended> {
    if (this.gone !== null)
      return Promise.reject(new Error(`the audit file's worker is gone: ${this.gone.message}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const m = { ...request, id } satisfies ToAuditWorker;
      this.worker.postMessage(m, m.kind === 'append' ? [m.bytes.buffer] : []);
    });
  }

  private receive(m: FromAuditWorker): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.ok) p.resolve(m);
    else p.reject(new Error(m.message));
  }

  private lose(e: Error): void {
    this.gone ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
