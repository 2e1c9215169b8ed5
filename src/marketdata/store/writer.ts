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
import type { MarketDataPipeline } from '../pipeline/pipeline.js';
import type { TickSlot } from '../pipeline/tick.js';
import { TICK_ID_SUFFIX, TOPICS, barsTopic } from '../pipeline/topics.js';
import { TickCopyBuffer } from './copy.js';
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

/**
 * Rows offered in order, up to `batchRowsMax`, written in one transaction: the ticks encoded for a binary COPY
 * as they come (both stores take COPY, PGlite from its /dev/blob: it costs the database a fraction of an INSERT
 * of the same rows as array literals, and this thread less to encode); `seq` is the last mark made while it
 * was the last.
 */
class PendingBatch {
  rows = 0;
  readonly bars: BarRow[] = [];
  readonly barOfferedMs: number[] = [];
  seq = -1;
  constructor(readonly ticks: TickCopyBuffer) {}
}

/** A batch being written: its result or error, and when its statements are done (or it ended). */
interface Flight {
  readonly outcome: Promise<WriteResult | Error>;
  readonly wrote: Promise<void>;
}

const DONE = Promise.resolve();
const FULL = Symbol('full');
const SPARE_BUFFERS_MAX = 4;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** PostgreSQL's "no partition of relation ... found for row": a partition was dropped under us. */
const NO_PARTITION = '23514';

export class MarketDataWriter {
  readonly limits: MdWriterLimits;
  /** Offers are ignored while false (the start-up replay of data already written). */
  accepting = true;
  /** Oldest first; the first `taken` are being written (they leave when they commit). */
  private readonly batches: PendingBatch[] = [];
  private taken = 0;
  /** Rows in the batches. */
  private rows = 0;
  /** Batches written at once: `writesInFlight` on PostgreSQL, one on PGlite (one connection). */
  private readonly connections: number;
  /** How long a short batch waits for more rows: `lingerMs`, or `pgliteLingerMs` on PGlite. */
  private readonly lingerMs: number;
  /** Ends the loop's wait for more rows early (a flush, a close, a full batch); null while it is not waiting. */
  private endLinger: (() => void) | null = null;
  /** Buffers of committed batches, for the next ones (a batch's buffer grows to its size once, not per batch). */
  private readonly spareBuffers: TickCopyBuffer[] = [];
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
  /** Wakes the loop when a batch fills while a write could start beside the one in flight. */
  private onFull: ((full: typeof FULL) => void) | null = null;

  constructor(
    private readonly store: MarketDataStore,
    private readonly options: MdWriterOptions = {},
  ) {
    this.limits = mdWriterLimits(options.limits);
    const postgres = store.store.kind === 'postgres';
    this.connections = postgres ? this.limits.writesInFlight : 1;
    this.lingerMs = postgres ? this.limits.lingerMs : this.limits.pgliteLingerMs;
  }

  /** Subscribes to the enriched ticks and the bars of `intervals`; returns a function that stops it. */
  attach(bus: Bus, intervals: readonly string[]): () => void {
    const offs = [
      bus.subscribe(TOPICS.enriched, (m) => void this.offerTick(m)),
      ...intervals.map((i) => bus.subscribe(barsTopic(i), (m) => void this.offerBar(m))),
    ];
    return () => offs.forEach((off) => off());
  }

  /**
   * Takes the enriched ticks of a pipeline in this process from the pipeline itself (`onEnriched`: the rows
   * its enriched messages would make, without making the messages), and the bars from its bus; returns a
   * function that stops it. The enriched topic is not read then.
   */
  attachPipeline(pipeline: MarketDataPipeline, bus: Bus): () => void {
    const offs = [
      pipeline.onEnriched((t) => void this.offerSlot(t)),
      ...pipeline.barIntervals.map((i) => bus.subscribe(barsTopic(i), (m) => void this.offerBar(m))),
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
    if (!this.admits()) return false;
    let row: TickRow;
    try {
      row = tickRowOf(message);
    } catch (e) {
      return this.reject(asError(e).message);
    }
    const b = this.open();
    b.ticks.addRow(row);
    return this.added(b);
  }

  /** The pipeline's enriched tick (see `attachPipeline`), refused as `offerTick` refuses its message. */
  offerSlot(t: Readonly<TickSlot>): boolean {
    if (!this.admits()) return false;
    const b = this.open();
    const why = b.ticks.addSlot(t, TICK_ID_SUFFIX.enriched);
    return why === null ? this.added(b) : this.reject(`message ${JSON.stringify(t.eventId)}: ${why}`);
  }

  offerBar(message: Envelope): boolean {
    if (!this.admits()) return false;
    let row: BarRow;
    try {
      row = barRowOf(message);
    } catch (e) {
      return this.reject(asError(e).message);
    }
    const b = this.open();
    b.bars.push(row);
    b.barOfferedMs.push(performance.now());
    return this.added(b);
  }

  /** Every row of journal records up to `seq` has been offered: the progress may advance to it. */
  mark(seq: number): void {
    if (this.options.feed == null || !this.accepting || this.s.dropped > 0) return;
    // Not into a batch being written: the mark then goes with the next one.
    const last = this.batches.length > this.taken ? this.batches[this.batches.length - 1] : null;
    if (last !== null) last.seq = seq;
    else {
      const b = this.newBatch();
      b.seq = seq;
    }
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
    if (this.batches.length === 0 && !this.running) return Promise.resolve();
    const flushed = new Promise<void>((resolve) => this.flushWaiters.push(resolve));
    this.endLinger?.();
    return flushed;
  }

  /** Writes what is queued within `closeTimeoutMs`; rejects naming the rows left if it cannot. */
  close(): Promise<void> {
    this.closed ??= this.shut();
    return this.closed;
  }

  /** Whether an offer may go in; counts it dropped when not (closing, or the queue full). */
  private admits(): boolean {
    if (!this.accepting) return false;
    if (this.closing || this.rows >= this.limits.queueRowsMax) {
      this.s.dropped++;
      return false;
    }
    return true;
  }

  private reject(why: string): false {
    this.s.rejected++;
    this.rejection = why;
    return false;
  }

  /** The batch that takes the next row: the last one, unless it is full or being written. */
  private open(): PendingBatch {
    const n = this.batches.length;
    if (n > this.taken) {
      const last = this.batches[n - 1];
      if (last.rows < this.limits.batchRowsMax) return last;
    }
    return this.newBatch();
  }

  private newBatch(): PendingBatch {
    const b = new PendingBatch(this.spareBuffers.pop() ?? new TickCopyBuffer());
    this.batches.push(b);
    return b;
  }

  private added(b: PendingBatch): true {
    if (++b.rows === this.limits.batchRowsMax) {
      this.endLinger?.();
      if (this.onFull !== null) {
        this.onFull(FULL);
        this.onFull = null;
      }
    }
    this.rows++;
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
    const inFlightMax = this.connections;
    const flights: Flight[] = [];
    while (this.batches.length > 0) {
      if (
        flights.length === 0 &&
        this.rows < this.limits.batchRowsMax &&
        !this.closing &&
        this.flushWaiters.length === 0
      ) {
        await this.linger();
      }
      // The head batch, and behind it as many full ones as may be in flight.
      while (
        this.taken < this.batches.length &&
        flights.length < inFlightMax &&
        (flights.length === 0 ||
          this.batches[this.taken].rows >= this.limits.batchRowsMax ||
          this.closing ||
          this.flushWaiters.length > 0)
      ) {
        flights.push(this.startWrite(this.batches[this.taken], flights[flights.length - 1] ?? null));
        this.taken++;
      }
      // A batch that fills meanwhile starts at once when there is room in flight.
      if (flights.length < inFlightMax) {
        const full = new Promise<typeof FULL>((r) => (this.onFull = r));
        if ((await Promise.race([flights[0].outcome, full])) === FULL) continue;
        this.onFull = null;
      }
      const outcome = await flights[0].outcome;
      flights.shift();
      if (!(outcome instanceof Error)) {
        this.taken--;
        this.committed(this.batches[0], outcome);
        delay = this.limits.retryDelayMsMin;
        continue;
      }
      // Those behind it roll back (they commit only after it); all are written again, in order.
      for (const f of flights) await f.outcome;
      flights.length = 0;
      this.taken = 0;
      const first = this.lastFailure === null;
      this.lastFailure = outcome;
      this.s.failedBatches++;
      if ((outcome as { code?: unknown }).code === NO_PARTITION) this.store.forgetDays();
      if (first) this.options.onError?.(this.lastFailure);
      if (this.closing && Date.now() >= this.closeDeadlineMs) break;
      await sleep(delay);
      delay = Math.min(delay * 2, this.limits.retryDelayMsMax);
    }
    this.running = false;
    this.wake();
  }

  /** Waits `lingerMs` for more rows, or until `endLinger` is called. */
  private linger(): Promise<void> {
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.endLinger = null;
        resolve();
      };
      const timer = setTimeout(end, this.lingerMs);
      this.endLinger = end;
    });
  }

  /** Starts writing `b` behind `before` (the write in flight ahead of it, if any). */
  private startWrite(b: PendingBatch, before: Flight | null): Flight {
    let written: () => void = () => undefined;
    const wrote = new Promise<void>((r) => (written = r));
    const feed = this.options.feed ?? null;
    const order = {
      start: before === null ? DONE : before.wrote,
      commit:
        before === null
          ? DONE
          : before.outcome.then((o) => {
              if (o instanceof Error) throw new Error('the batch before it failed', { cause: o });
            }),
      written,
    };
    // Unhandled when this write fails before it waits for the commit before it.
    order.commit.catch(() => undefined);
    const outcome = this.store
      .write(
        { ticks: b.ticks, bars: b.bars, progress: b.seq >= 0 && feed !== null ? { feed, seq: b.seq } : null },
        order,
      )
      .then(
        (r) => r,
        (e: unknown) => asError(e),
      );
    void outcome.then(() => written());
    return { outcome, wrote: Promise.race([wrote, outcome.then(() => undefined)]) };
  }

  private committed(b: PendingBatch, r: WriteResult): void {
    this.batches.shift();
    if (this.spareBuffers.length < SPARE_BUFFERS_MAX) {
      b.ticks.reset();
      this.spareBuffers.push(b.ticks);
    }
    this.rows -= b.rows;
    const s = this.s;
    s.ticksWritten += r.ticksWritten;
    s.ticksExisting += r.ticksExisting;
    s.barsWritten += r.barsWritten;
    s.barsExisting += r.barsExisting;
    s.batches++;
    if (b.seq >= 0 && this.options.feed != null) s.progressSeq = Math.max(s.progressSeq, b.seq);
    this.lastFailure = null;
    const n = b.barOfferedMs.length;
    if (n > 0 && this.options.onBarsWritten !== undefined) {
      const now = performance.now();
      this.options.onBarsWritten(b.barOfferedMs.map((t) => now - t));
    }
    this.wake();
  }

  private wake(): void {
    if (this.roomWaiters.length > 0) {
      const waiting = this.roomWaiters;
      this.roomWaiters = waiting.filter((w) => !w.fits());
      for (const w of waiting) if (w.fits()) w.resolve();
    }
    if (this.batches.length === 0) for (const w of this.flushWaiters.splice(0)) w();
  }

  private async shut(): Promise<void> {
    this.closeDeadlineMs = Date.now() + this.limits.closeTimeoutMs;
    this.closing = true;
    this.endLinger?.();
    let pause = 1;
    while ((this.batches.length > 0 || this.running) && Date.now() < this.closeDeadlineMs) {
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
