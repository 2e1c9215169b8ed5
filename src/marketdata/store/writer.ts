/**
 * The market data writer: a bounded queue between the pipeline's topics (enriched ticks, bars) and the store,
 * written in batches by one loop, so that the pipeline never waits for the database.
 *
 * Messages become rows as they are offered (a message that is not a tick or a bar is refused there, counted
 * and remembered, never half written). One loop takes up to `batchRowsMax` rows, in order, and writes them in
 * one transaction with the feed's progress: the journal sequence number (`mark`) up to which every row was
 * offered. A batch that fails stays at the head of the queue and is retried with a doubling delay; meanwhile
 * `failure` says why (readiness shows it). Writes are idempotent, so a retry of a batch that was in fact
 * committed changes nothing.
 *
 * When the queue is full (the database is slow or down for long), an offer is refused and counted as
 * dropped, never silently: `dropped` counts the rows, readiness fails, and the progress stops advancing, so
 * that the next start replays the journal from the last progress written and writes what was dropped.
 */
import { performance } from 'node:perf_hooks';
import type { Bus, Envelope } from '../../bus/index.js';
import { TOPICS, barsTopic } from '../pipeline/topics.js';
import { mdWriterLimits, type MdWriterLimits } from './limits.js';
import { barRowOf, tickRowOf, type BarRow, type TickRow } from './rows.js';
import type { MarketDataStore, WriteResult } from './sql.js';

export interface MdWriterStats {
  readonly queued: number;
  readonly ticksWritten: number;
  /** Ticks that were in the store already (a redelivery, a replay): skipped. */
  readonly ticksExisting: number;
  readonly barsWritten: number;
  readonly barsExisting: number;
  readonly batches: number;
  readonly failedBatches: number;
  /** Rows refused because the queue was full. */
  readonly dropped: number;
  /** Messages refused because they are not a tick or bar (see `lastRejection`). */
  readonly rejected: number;
  /** The journal sequence number written through (0: none). */
  readonly progressSeq: number;
}

export interface MdWriterOptions {
  readonly limits?: Partial<MdWriterLimits>;
  /** The feed whose progress `mark` records (md_progress.feed); null: marks are ignored. */
  readonly feed?: string | null;
  /** Told once per run of failures (the first failed batch after a success). */
  readonly onError?: (e: Error) => void;
  /** Each committed batch's bars' latencies from offer to commit, in ms (the benchmark's p99). */
  readonly onBarsWritten?: (latenciesMs: readonly number[]) => void;
}

type Item = TickRow | BarRow | number;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** PostgreSQL's "no partition of relation ... found for row": a partition was dropped under us. */
const NO_PARTITION = '23514';

export class MarketDataWriter {
  readonly limits: MdWriterLimits;
  /** Offers are ignored while false (the start-up replay of data already written). */
  accepting = true;
  private readonly queue: Item[] = [];
  private head = 0;
  /** Items at the head that the batch being written took (they leave the queue when it commits). */
  private taken = 0;
  /** Rows (not marks) in the queue. */
  private rows = 0;
  private readonly barOfferedMs: number[] = [];
  private barHead = 0;
  private s = {
    ticksWritten: 0,
    ticksExisting: 0,
    barsWritten: 0,
    barsExisting: 0,
    batches: 0,
    failedBatches: 0,
    dropped: 0,
    rejected: 0,
    progressSeq: 0,
  };
  private lastFailure: Error | null = null;
  private rejection: string | null = null;
  private running = false;
  private closing = false;
  private closed: Promise<void> | null = null;
  private closeDeadlineMs = 0;
  private roomWaiters: { fits: () => boolean; resolve: () => void }[] = [];
  private flushWaiters: (() => void)[] = [];

  constructor(
    private readonly store: MarketDataStore,
    private readonly options: MdWriterOptions = {},
  ) {
    this.limits = mdWriterLimits(options.limits);
  }

  /** Subscribes to the enriched ticks and the bars of `intervals`; returns a function that stops it. */
  attach(bus: Bus, intervals: readonly string[]): () => void {
    const offs = [
      bus.subscribe(TOPICS.enriched, (m) => void this.offerTick(m)),
      ...intervals.map((i) => bus.subscribe(barsTopic(i), (m) => void this.offerBar(m))),
    ];
    return () => offs.forEach((off) => off());
  }

  stats(): MdWriterStats {
    return { queued: this.rows, ...this.s };
  }

  /** Why the last batch failed, while the writer is failing; null after a success. */
  get failure(): Error | null {
    return this.lastFailure;
  }

  /** The reason the last refused message was refused, or null. */
  get lastRejection(): string | null {
    return this.rejection;
  }

  /** 'ok', or what is wrong (for readiness). */
  health(): string {
    if (this.lastFailure !== null) return `failing: ${this.lastFailure.message}`;
    if (this.s.dropped > 0) {
      return `${this.s.dropped} rows dropped (queue full); the next start writes them from the journal`;
    }
    return 'ok';
  }

  offerTick(message: Envelope): boolean {
    return this.offer(message, tickRowOf);
  }

  offerBar(message: Envelope): boolean {
    return this.offer(message, barRowOf);
  }

  /** Every row of journal records up to `seq` has been offered: the progress may advance to it. */
  mark(seq: number): void {
    if (this.options.feed == null || !this.accepting || this.s.dropped > 0) return;
    const last = this.queue.length - 1;
    // Consecutive marks collapse into one, so marks never outnumber rows; not one the batch being written took.
    if (last >= this.head + this.taken && typeof this.queue[last] === 'number') this.queue[last] = seq;
    else this.queue.push(seq);
    this.kick();
  }

  /**
   * Resolves when the queue has room for `rows` more (at least half of it is kept free): a bulk producer's
   * back-pressure, asked before each chunk it offers.
   */
  waitForRoom(rows: number): Promise<void> {
    const room = Math.max(rows, this.limits.queueRowsMax / 2);
    if (room > this.limits.queueRowsMax) throw new Error(`md writer: ${rows} rows never fit the queue`);
    const fits = (): boolean => this.rows + room <= this.limits.queueRowsMax;
    if (fits()) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ fits, resolve }));
  }

  /** Resolves once everything offered before the call is written (never, while the store is down). */
  flush(): Promise<void> {
    if (this.queue.length === this.head && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  /** Writes what is queued within `closeTimeoutMs`; rejects naming the rows left if it cannot. */
  close(): Promise<void> {
    this.closed ??= this.shut();
    return this.closed;
  }

  private offer(message: Envelope, rowOf: (e: Envelope) => TickRow | BarRow): boolean {
    if (!this.accepting) return false;
    if (this.closing) {
      this.s.dropped++;
      return false;
    }
    let row: TickRow | BarRow;
    try {
      row = rowOf(message);
    } catch (e) {
      this.s.rejected++;
      this.rejection = asError(e).message;
      return false;
    }
    if (this.rows >= this.limits.queueRowsMax) {
      this.s.dropped++;
      return false;
    }
    this.queue.push(row);
    this.rows++;
    if (rowOf === barRowOf) this.barOfferedMs.push(performance.now());
    this.kick();
    return true;
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // The loop starts on a later turn, so that this turn's rows share its first batch.
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    let delay = this.limits.retryDelayMsMin;
    while (this.queue.length > this.head) {
      if (this.rows < this.limits.batchRowsMax && !this.closing && this.flushWaiters.length === 0) {
        await sleep(this.limits.lingerMs);
      }
      const taken = this.take();
      this.taken = taken.count;
      try {
        const result = await this.store.write(taken.batch);
        this.taken = 0;
        this.committed(taken, result);
        delay = this.limits.retryDelayMsMin;
      } catch (e) {
        this.taken = 0;
        const first = this.lastFailure === null;
        this.lastFailure = asError(e);
        this.s.failedBatches++;
        if ((e as { code?: unknown }).code === NO_PARTITION) this.store.forgetDays();
        if (first) this.options.onError?.(this.lastFailure);
        if (this.closing && Date.now() >= this.closeDeadlineMs) break;
        await sleep(delay);
        delay = Math.min(delay * 2, this.limits.retryDelayMsMax);
      }
    }
    this.running = false;
    this.wake();
  }

  /** The head of the queue, up to `batchRowsMax` rows and the marks among them (left in the queue). */
  private take(): {
    count: number;
    batch: { ticks: TickRow[]; bars: BarRow[]; progress: { feed: string; seq: number } | null };
  } {
    const ticks: TickRow[] = [];
    const bars: BarRow[] = [];
    let seq = -1;
    let i = this.head;
    const end = this.queue.length;
    while (i < end && ticks.length + bars.length < this.limits.batchRowsMax) {
      const item = this.queue[i++];
      if (typeof item === 'number') seq = item;
      else if ('interval' in item) bars.push(item);
      else ticks.push(item);
    }
    // A mark right after the last row taken belongs to this batch too.
    if (i < end && typeof this.queue[i] === 'number') seq = this.queue[i++] as number;
    const feed = this.options.feed ?? null;
    const progress = seq >= 0 && feed !== null ? { feed, seq } : null;
    return { count: i - this.head, batch: { ticks, bars, progress } };
  }

  private committed(
    taken: { count: number; batch: { ticks: TickRow[]; bars: BarRow[]; progress: { seq: number } | null } },
    r: WriteResult,
  ): void {
    const { batch } = taken;
    this.head += taken.count;
    this.rows -= batch.ticks.length + batch.bars.length;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    const s = this.s;
    s.ticksWritten += r.ticksWritten;
    s.ticksExisting += r.ticksExisting;
    s.barsWritten += r.barsWritten;
    s.barsExisting += r.barsExisting;
    s.batches++;
    if (batch.progress !== null) s.progressSeq = Math.max(s.progressSeq, batch.progress.seq);
    this.lastFailure = null;
    this.barsCommitted(batch.bars.length);
    this.wake();
  }

  private barsCommitted(n: number): void {
    if (n === 0) return;
    const now = performance.now();
    const offered = this.barOfferedMs;
    if (this.options.onBarsWritten !== undefined) {
      const lat = new Array<number>(n);
      for (let k = 0; k < n; k++) lat[k] = now - offered[this.barHead + k];
      this.options.onBarsWritten(lat);
    }
    this.barHead += n;
    if (this.barHead > 4096 && this.barHead * 2 > offered.length) {
      offered.splice(0, this.barHead);
      this.barHead = 0;
    }
  }

  private wake(): void {
    if (this.roomWaiters.length > 0) {
      const waiting = this.roomWaiters;
      this.roomWaiters = waiting.filter((w) => !w.fits());
      for (const w of waiting) if (w.fits()) w.resolve();
    }
    if (this.queue.length === this.head) for (const w of this.flushWaiters.splice(0)) w();
  }

  private async shut(): Promise<void> {
    this.closeDeadlineMs = Date.now() + this.limits.closeTimeoutMs;
    this.closing = true;
    let pause = 1;
    while ((this.queue.length > this.head || this.running) && Date.now() < this.closeDeadlineMs) {
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
    }
    if (this.rows > 0) {
      const why = this.lastFailure === null ? '' : `: ${this.lastFailure.message}`;
      throw new Error(
        `${this.rows} market data rows were not written within ${this.limits.closeTimeoutMs} ms${why}`,
      );
    }
  }
}
