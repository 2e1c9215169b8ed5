/**
 * An outbox between a producer that must never wait (the venue's engine listener, the market data pipeline)
 * and a transport that may be slow or away (NATS JetStream): messages are queued in memory, each tagged with
 * the journal sequence number of the command that made it (`mark(seq)` after a command's messages), and
 * published asynchronously, at most `inFlightMax` at a time, in queue order.
 *
 * - **Progress** is the highest sequence number all of whose messages (and those of every command before it)
 *   the transport has stored. The owner saves it; after a restart, the journal's replay offers again only the
 *   messages of the commands after it. A message the transport stored but whose progress was not saved yet is
 *   published again after a restart: a duplicate the transport drops by `event_id` within its window.
 * - **Failures** (the server away, a timeout) put the message back; sending stops, and after a back-off it
 *   starts again from the oldest message not stored (those after it that were stored come back as
 *   duplicates). Nothing is dropped for a failure: the outbox retries forever.
 * - **Bounded**: past `entriesMax` queued messages an offer is refused and counted (`dropped`), and the
 *   progress stops at the last command before it, so that the next start publishes the lost messages from the
 *   journal. `health()` says so.
 * - **No transport yet** (`publisher` null: not connected): messages wait, within the bound.
 */
import type { Envelope } from './envelope.js';

export interface OutboxPublisher {
  /** Resolves once the transport stored the message (`duplicate`: it had it already, by `event_id`). */
  publishAsync(topic: string, message: Envelope): Promise<{ duplicate: boolean }>;
}

export interface OutboxLimits {
  /** Messages queued (not yet stored) at most; past it offers are refused (dropped, counted). */
  readonly entriesMax: number;
  /** Publishes waiting for the transport at once. */
  readonly inFlightMax: number;
  /** Delays before sending again after a failure, by failures in a row (the last repeats). */
  readonly retryMs: readonly number[];
}

export const OUTBOX_DEFAULTS: Readonly<OutboxLimits> = Object.freeze({
  entriesMax: 200_000,
  inFlightMax: 256,
  retryMs: Object.freeze([100, 500, 1_000, 2_000, 5_000]),
});

export interface OutboxStats {
  /** Messages queued and not yet stored (in flight included). */
  queued: number;
  inFlight: number;
  /** Stored by the transport, and of the answers those that were duplicates. */
  published: number;
  duplicates: number;
  /** Publishes that failed (each retried). */
  failures: number;
  /** Offers refused because the queue was full. */
  dropped: number;
  /** Every command up to this sequence number has all its messages stored. */
  progressSeq: number;
  /** The last command marked (its messages offered). */
  markedSeq: number;
  /** When the oldest queued message was offered (epoch µs), or null. */
  oldestQueuedUs: number | null;
  /** The most messages queued at once so far. */
  queuedPeak: number;
}

/** A queued message (`message` set) or a command's end (`message` null, `seq` set). */
interface Entry {
  readonly topic: string;
  readonly message: Envelope | null;
  readonly seq: number;
  readonly atUs: number;
  /** 0 queued, 1 in flight, 2 stored. */
  state: 0 | 1 | 2;
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class Outbox {
  private readonly o: OutboxLimits;
  private entries: Entry[] = [];
  /** The oldest entry not stored (everything before it is). */
  private base = 0;
  /** The next entry to send. */
  private head = 0;
  private inFlight = 0;
  private queuedMessages = 0;
  private queuedPeak = 0;
  private failuresInRow = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private publisher: OutboxPublisher | null = null;
  private idle: (() => void)[] = [];
  private readonly s = { published: 0, duplicates: 0, failures: 0, dropped: 0 };
  private progress: number;
  private marked: number;
  /** Once something was dropped, the progress may not pass the command before it. */
  private frozen = false;
  private closed = false;
  /** The last failure, for readiness and logs; null once a publish succeeds. */
  lastError: string | null = null;
  /** False while the journal's replay offers commands already published (their offers are ignored). */
  accepting = true;

  constructor(
    /** The progress saved by the last run: commands up to it need nothing published. */
    progressSeq: number,
    limits: Partial<OutboxLimits> = {},
    private readonly nowUs: () => number = () => Date.now() * 1000,
  ) {
    this.o = { ...OUTBOX_DEFAULTS, ...limits };
    const ok = (n: number): boolean => Number.isSafeInteger(n) && n >= 1;
    if (!ok(this.o.entriesMax) || !ok(this.o.inFlightMax)) throw new Error('outbox: bad limits');
    if (this.o.retryMs.length === 0 || this.o.retryMs.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw new Error('outbox: bad retryMs');
    this.progress = progressSeq;
    this.marked = progressSeq;
  }

  /** The transport to publish through (null: away; messages wait). */
  setPublisher(p: OutboxPublisher | null): void {
    this.publisher = p;
    this.pump();
  }

  get progressSeq(): number {
    return this.progress;
  }

  /** Messages queued and not yet stored (in flight included): what a producer that can wait paces itself by. */
  get backlog(): number {
    return this.queuedMessages;
  }

  /** Queues a message of the command being marked next; false when it was refused (the queue is full). */
  offer(topic: string, message: Envelope): boolean {
    if (!this.accepting || this.closed) return false;
    if (this.queuedMessages >= this.o.entriesMax) {
      this.s.dropped++;
      this.frozen = true;
      return false;
    }
    this.entries.push({ topic, message, seq: 0, atUs: this.nowUs(), state: 0 });
    if (++this.queuedMessages > this.queuedPeak) this.queuedPeak = this.queuedMessages;
    this.pump();
    return true;
  }

  /** Every message of the commands up to `seq` has been offered. */
  mark(seq: number): void {
    if (!this.accepting || this.frozen || seq <= this.marked) return;
    this.marked = seq;
    this.entries.push({ topic: '', message: null, seq, atUs: 0, state: 2 });
    this.advance();
  }

  stats(): OutboxStats {
    let oldest: number | null = null;
    for (let i = this.base; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.message !== null && e.state !== 2) {
        oldest = e.atUs;
        break;
      }
    }
    return {
      ...this.s,
      queued: this.queuedMessages,
      inFlight: this.inFlight,
      progressSeq: this.progress,
      markedSeq: this.marked,
      oldestQueuedUs: oldest,
      queuedPeak: this.queuedPeak,
    };
  }

  /** 'ok', or what is wrong (dropped messages wait for the next start; failures are retried). */
  health(): string {
    if (this.s.dropped > 0)
      return `${this.s.dropped} messages dropped (the outbox was full); the next start publishes them from the journal`;
    return 'ok';
  }

  /** Resolves once every message queued so far is stored, or after `timeoutMs` (false then). */
  async flushed(timeoutMs: number): Promise<boolean> {
    if (this.queuedMessages === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = new Promise<true>((resolve) => this.idle.push(() => resolve(true)));
    try {
      return await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Takes no more offers and stops retrying; what is queued stays unpublished (the journal has it). */
  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private pump(): void {
    const p = this.publisher;
    if (p === null || this.retryTimer !== null || this.closed) return;
    while (this.inFlight < this.o.inFlightMax && this.head < this.entries.length) {
      const i = this.head++;
      const e = this.entries[i];
      if (e.state !== 0) continue;
      e.state = 1;
      this.inFlight++;
      const message = e.message as Envelope;
      p.publishAsync(e.topic, message).then(
        (r) => this.stored(e, r.duplicate),
        (err: unknown) => this.failed(e, err),
      );
    }
  }

  private stored(e: Entry, duplicate: boolean): void {
    this.inFlight--;
    e.state = 2;
    this.queuedMessages--;
    this.failuresInRow = 0;
    this.lastError = null;
    if (duplicate) this.s.duplicates++;
    else this.s.published++;
    this.advance();
    this.pump();
  }

  private failed(e: Entry, err: unknown): void {
    this.inFlight--;
    e.state = 0;
    this.s.failures++;
    this.lastError = describe(err);
    if (this.retryTimer === null && !this.closed) {
      const d = this.o.retryMs[Math.min(this.failuresInRow, this.o.retryMs.length - 1)];
      this.failuresInRow++;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        // Again from the oldest message not stored, in order.
        this.head = this.base;
        this.pump();
      }, d);
      this.retryTimer.unref();
    }
  }

  /** Moves past the stored entries, the progress past their commands' marks; wakes `flushed` waiters. */
  private advance(): void {
    const list = this.entries;
    let i = this.base;
    while (i < list.length && list[i].state === 2) {
      const e = list[i];
      if (e.message === null) this.progress = e.seq;
      i++;
    }
    this.base = i;
    if (this.head < i) this.head = i;
    // Drop what is behind, now and then, so the array does not grow without end.
    if (i > 4096 && i * 2 > list.length) {
      this.entries = list.slice(i);
      this.head -= i;
      this.base = 0;
    }
    if (this.queuedMessages === 0 && this.idle.length > 0) {
      const waiting = this.idle;
      this.idle = [];
      for (const w of waiting) w();
    }
  }
}
