/**
 * The audit writer: a bounded queue in front of the chain, written in groups by one loop (to the audit file,
 * file.ts), so that callers never wait for the disk, yet no event is ever dropped.
 *
 * Room is taken before the audited action runs (`reserve`), and the event filled in once its result is known
 * (`Ticket.commit`): an action never happens without room for its event. When the queue is full (the sink is
 * slow or failing), `reserve` waits up to `admitTimeoutMs` for room and then throws AUDIT_UNAVAILABLE, which the
 * gateway answers with 503: the venue refuses audited work rather than do it unrecorded. Dropping events is not
 * an option for an audit trail.
 *
 * One loop writes: every event committed while a batch is being written joins the next batch (at most
 * `batchEventsMax`), so a busy venue writes few large groups. A failed batch stays at the head of the queue
 * and is retried (doubling the delay up to `retryDelayMsMax`), with `skipWritten` set for a sink that cannot
 * undo a failed attempt (the file can: it cuts the attempt back); meanwhile `failure` says why, `onError` is told once per failure, and the queue fills up
 * until callers are refused. `close` writes what is left and rejects with AUDIT_UNFLUSHED, naming the count,
 * if it cannot within `closeTimeoutMs`.
 */
import type { AuditEventInput } from './event.js';
import { AUDIT_LIMITS, writerLimits, type WriterLimits } from './limits.js';

export const AuditErrorCode = {
  /** The queue stayed full for `admitTimeoutMs`, or the writer is closing: the action must not go ahead. */
  Unavailable: 'AUDIT_UNAVAILABLE',
  /** The writer closed with events it could not write (the message says how many, and the last failure). */
  Unflushed: 'AUDIT_UNFLUSHED',
} as const;
export type AuditErrorCode = (typeof AuditErrorCode)[keyof typeof AuditErrorCode];

export class AuditError extends Error {
  override name = 'AuditError';
  constructor(
    readonly code: AuditErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    // AUDIT_UNAVAILABLE is a refusal, made per request while the queue is full: no stack (it said nothing).
    const limit = Error.stackTraceLimit;
    if (code === AuditErrorCode.Unavailable) Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = limit;
  }
}

/** Where batches go (an `AuditLog`; tests pass their own). */
export interface AuditSink {
  append(events: readonly AuditEventInput[], skipWritten: boolean): Promise<unknown>;
}

/** Room for one event, taken before the action; commit exactly once with the event. */
export interface Ticket {
  commit(event: AuditEventInput): void;
}

export interface AuditWriterStats {
  readonly queued: number;
  readonly reserved: number;
  readonly written: number;
  readonly batches: number;
  readonly failedBatches: number;
  readonly refused: number;
  /** When the oldest event waiting to be written happened (its `timeUs`), or null when none waits. */
  readonly oldestQueuedUs: number | null;
}

interface Waiter {
  resolve(t: Ticket): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | null;
  /** Refused after its wait: left in `waiters` for `wake` to skip (finding it there cost O(waiters) each). */
  expired: boolean;
}

interface Flusher {
  target: number;
  resolve(): void;
}

/** Room taken in the queue: `accept` takes its event, once. */
class QueueTicket implements Ticket {
  private spent = false;

  constructor(private readonly accept: (event: AuditEventInput) => void) {}

  commit(event: AuditEventInput): void {
    if (this.spent) throw new Error('an audit ticket was committed twice');
    this.spent = true;
    this.accept(event);
  }
}

/**
 * A pause that keeps the process alive: events not yet written must not be left behind by an exit, so a
 * failing writer keeps retrying until it is closed (and close gives up after its timeout, saying so).
 */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class AuditWriter {
  readonly limits: WriterLimits;
  private readonly queue: AuditEventInput[] = [];
  /**
   * Waiters in arrival order from `waitersHead` on (those before it were handed room or dropped): taken from
   * the front by moving the index, not by `shift`, which copied the array (tens of thousands of waiters
   * while the venue is behind) once per waiter woken.
   */
  private readonly waiters: Waiter[] = [];
  private waitersHead = 0;
  /** Waiters not expired (`waiters` may still hold expired ones). */
  private waiting = 0;
  private readonly flushers: Flusher[] = [];
  private reserved = 0;
  /** Events committed, and written, since the start: `committed - written` are in the queue. */
  private committed = 0;
  private written = 0;
  private batches = 0;
  private failedBatches = 0;
  private refused = 0;
  private running = false;
  private closing = false;
  private lastFailure: Error | null = null;
  private closed: Promise<void> | null = null;
  private closeDeadlineMs = 0;

  constructor(
    private readonly sink: AuditSink,
    limits: Partial<WriterLimits> = {},
    private readonly onError: (e: Error) => void = () => undefined,
  ) {
    this.limits = writerLimits(limits);
  }

  /** Why the last batch failed, while the writer is failing; null when the last write succeeded. */
  get failure(): Error | null {
    return this.lastFailure;
  }

  stats(): AuditWriterStats {
    return {
      queued: this.queue.length,
      reserved: this.reserved,
      written: this.written,
      batches: this.batches,
      failedBatches: this.failedBatches,
      refused: this.refused,
      oldestQueuedUs: this.queue.length > 0 ? this.queue[0].timeUs : null,
    };
  }

  private get used(): number {
    return this.queue.length + this.reserved;
  }

  /**
   * Room for one event now, or null when `reserve` would wait or refuse (the queue full, others waiting, or
   * the writer closing). The common case without a promise: every audited request takes one.
   */
  tryReserve(): Ticket | null {
    if (this.closing || this.used >= this.limits.queueCapacity || this.waiting !== 0) return null;
    return this.ticket();
  }

  /** Room for one event: at once when there is some, else after waiting up to `admitTimeoutMs`. */
  reserve(): Promise<Ticket> {
    const now = this.tryReserve();
    if (now !== null) return Promise.resolve(now);
    if (this.closing) return Promise.reject(this.unavailable('the audit writer is closing'));
    if (this.limits.admitTimeoutMs === 0 || this.waiting >= this.limits.queueCapacity) {
      return Promise.reject(this.unavailable('the audit queue is full'));
    }
    return new Promise<Ticket>((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: null, expired: false };
      w.timer = setTimeout(() => {
        w.expired = true;
        this.waiting--;
        reject(this.unavailable(`the audit queue stayed full for ${this.limits.admitTimeoutMs} ms`));
      }, this.limits.admitTimeoutMs);
      // Expired waiters are dropped in bulk once they outnumber the live ones (bounded at queueCapacity):
      // the array stays bounded while the sink fails for long, at O(1) a waiter.
      if (this.waiters.length - this.waitersHead >= 2 * this.limits.queueCapacity) {
        let kept = 0;
        for (let i = this.waitersHead; i < this.waiters.length; i++) {
          const x = this.waiters[i];
          if (!x.expired) this.waiters[kept++] = x;
        }
        this.waiters.length = kept;
        this.waitersHead = 0;
      }
      this.waiters.push(w);
      this.waiting++;
    });
  }

  /** Resolves once every event committed before the call is written (never, while the sink is failing). */
  flush(): Promise<void> {
    if (this.written >= this.committed) return Promise.resolve();
    return new Promise((resolve) => this.flushers.push({ target: this.committed, resolve }));
  }

  /**
   * Stops taking reservations, waits for the ones outstanding to be committed and for every event to be
   * written, within `closeTimeoutMs`; rejects with AUDIT_UNFLUSHED if events remain.
   */
  close(): Promise<void> {
    this.closed ??= this.shut();
    return this.closed;
  }

  private async shut(): Promise<void> {
    this.closing = true;
    this.closeDeadlineMs = Date.now() + this.limits.closeTimeoutMs;
    const waiters = this.waiters.splice(this.waitersHead);
    this.waiters.length = 0;
    this.waitersHead = 0;
    for (const w of waiters) {
      if (w.expired) continue;
      if (w.timer !== null) clearTimeout(w.timer);
      w.reject(this.unavailable('the audit writer is closing'));
    }
    this.waiting = 0;
    let pause = 1;
    while ((this.used > 0 || this.running) && Date.now() < this.closeDeadlineMs) {
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
    }
    const left = this.used;
    if (left > 0) {
      const why = this.lastFailure === null ? '' : `: ${this.lastFailure.message}`;
      throw new AuditError(
        AuditErrorCode.Unflushed,
        `${left} audit events were not written within ${this.limits.closeTimeoutMs} ms${why}`,
        { cause: this.lastFailure ?? undefined },
      );
    }
  }

  private unavailable(why: string): AuditError {
    this.refused++;
    return new AuditError(AuditErrorCode.Unavailable, why);
  }

  private ticket(): Ticket {
    this.reserved++;
    return new QueueTicket(this.accept);
  }

  /** A ticket's event, committed: one function for every ticket (a ticket is taken per audited request). */
  private readonly accept = (event: AuditEventInput): void => {
    this.reserved--;
    this.queue.push(event);
    this.committed++;
    this.kick();
  };

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // The loop starts on a later turn, so that the events of this one share its first batch.
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    let delay: number = AUDIT_LIMITS.retryDelayMsMin;
    let skipWritten = false;
    while (this.queue.length > 0) {
      const short = this.queue.length < this.limits.batchEventsMax;
      if (this.limits.lingerMs > 0 && short && !this.closing && this.flushers.length === 0) {
        await sleep(this.limits.lingerMs);
      }
      const batch = this.queue.slice(0, this.limits.batchEventsMax);
      try {
        await this.sink.append(batch, skipWritten);
      } catch (e) {
        const first = this.lastFailure === null;
        this.lastFailure = e instanceof Error ? e : new Error(message(e));
        this.failedBatches++;
        if (first) this.onError(this.lastFailure);
        // The batch may have been written before the failure was seen: the retry leaves out what was.
        skipWritten = true;
        if (this.closing && Date.now() >= this.closeDeadlineMs) break;
        await sleep(delay);
        delay = Math.min(delay * 2, AUDIT_LIMITS.retryDelayMsMax);
        continue;
      }
      this.queue.splice(0, batch.length);
      this.written += batch.length;
      this.batches++;
      this.lastFailure = null;
      skipWritten = false;
      delay = AUDIT_LIMITS.retryDelayMsMin;
      this.wake();
    }
    this.running = false;
  }

  /** Hands freed room to waiters, oldest first, and resolves the flushes that are done. */
  private wake(): void {
    const waiters = this.waiters;
    let head = this.waitersHead;
    while (head < waiters.length && this.used < this.limits.queueCapacity) {
      const w = waiters[head++];
      if (w.expired) continue;
      this.waiting--;
      if (w.timer !== null) clearTimeout(w.timer);
      w.resolve(this.ticket());
    }
    if (head === waiters.length) {
      waiters.length = 0;
      head = 0;
    } else if (head >= 1024 && head * 2 >= waiters.length) {
      // Half or more of the array is taken: drop that prefix, once per as many waiters as are left.
      waiters.splice(0, head);
      head = 0;
    }
    this.waitersHead = head;
    for (let i = this.flushers.length - 1; i >= 0; i--) {
      const f = this.flushers[i];
      if (this.written >= f.target) {
        this.flushers.splice(i, 1);
        f.resolve();
      }
    }
  }
}
