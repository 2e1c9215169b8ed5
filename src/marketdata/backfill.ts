/**
 * Publishing the venue's history to JetStream after the start, from the journal, while the venue runs: what a
 * first start with NATS has never published (everything), and what an earlier run could not (a crash before
 * its progress was saved, an outage longer than its outbox held).
 *
 * The live outboxes start at the start's last sequence number, so new commands are published at once; the
 * history (the commands after the saved progress, up to that number) goes through outboxes of its own, fed by
 * this loop: the journal read a chunk at a time (`JournalTail`) through a core of its own (the journal holds
 * commands; their events are the core's), each command's records handed to the parts (the venue events; the
 * market data pipeline, a second instance rebuilt from the first command so that its ticks and bars are the
 * ones the venue's own pipeline made, with the same ids). It is paced by the outboxes: a chunk is read only
 * while each holds fewer than `roomBelow` messages, so memory stays bounded whatever the journal's length, and
 * each chunk is one short turn of the event loop, so orders never wait for it.
 *
 * Progress: a feed's saved progress stays at its history outbox's until the history is stored, then follows
 * the live outbox (MarketDataTransports.saveAll). A stop leaves the rest to the next start.
 */
import type { Outbox } from '../bus/index.js';
import { ExchangeCore, type Command } from '../core/index.js';
import { JournalTail, executeByKind, readOnlyFs, type JournalFs } from '../journal/index.js';

/** One command's records, as the replay and the engine's batches give them. */
export type CommandRecords = (seq: number, timeUs: number, events: Float64Array, count: number) => void;

export interface BackfillPart {
  /** Where this part's messages go; its progress is where its history starts (commands through it are stored). */
  readonly outbox: Outbox;
  /** Every command from the first, in order: the part offers only those after its outbox's first progress. */
  readonly command: CommandRecords;
}

export interface BackfillLimits {
  /** Commands read per turn of the event loop. */
  readonly commandsPerTurn: number;
  /** A chunk is read only while every part's outbox holds fewer messages than this. */
  readonly roomBelow: number;
  /** How long to wait for room before looking again. */
  readonly waitMs: number;
}

export const BACKFILL_DEFAULTS: Readonly<BackfillLimits> = Object.freeze({
  commandsPerTurn: 1_000,
  roomBelow: 50_000,
  waitMs: 20,
});

export interface BackfillStats {
  /** The last command to publish (the start's last sequence number). */
  readonly throughSeq: number;
  /** The next command to read (throughSeq + 1 once everything was read). */
  readonly nextSeq: number;
  /** Read and handed to the parts, and stored by every part's outbox. */
  readonly done: boolean;
  /** Why the loop stopped early (a journal error), or null. */
  readonly failure: string | null;
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class JournalBackfill {
  private readonly o: BackfillLimits;
  private nextSeq = 1;
  private closed = false;
  private failure: string | null = null;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly dir: string,
    /** The last command to publish. */
    readonly throughSeq: number,
    private readonly parts: readonly BackfillPart[],
    limits: Partial<BackfillLimits> = {},
    private readonly io: JournalFs = readOnlyFs(),
  ) {
    this.o = { ...BACKFILL_DEFAULTS, ...limits };
    const ok = (n: number): boolean => Number.isSafeInteger(n) && n >= 1;
    if (!ok(this.o.commandsPerTurn) || !ok(this.o.roomBelow) || !ok(this.o.waitMs))
      throw new Error('backfill: bad limits');
  }

  /** Starts the loop in the background (once); it ends when everything was read, at `close`, or on an error. */
  start(): void {
    this.running ??= this.run().catch((e: unknown) => {
      this.failure = describe(e);
    });
  }

  /** True once every command was read and every part's outbox stored its messages. */
  get done(): boolean {
    return this.nextSeq > this.throughSeq && this.parts.every((p) => p.outbox.progressSeq >= this.throughSeq);
  }

  stats(): BackfillStats {
    return { throughSeq: this.throughSeq, nextSeq: this.nextSeq, done: this.done, failure: this.failure };
  }

  /** 'ok', or why the history is not being published. */
  health(): string {
    return this.failure === null
      ? 'ok'
      : `history not published: ${this.failure}; the next start tries again`;
  }

  /** Resolves once everything was read (the outboxes may still be publishing), or the loop stopped. */
  async read(): Promise<void> {
    await this.running;
  }

  /** Stops reading; what was not offered yet is left to the next start. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    if (this.throughSeq < 1) return;
    const tail = new JournalTail(this.dir, this.io);
    await tail.seek(1);
    const core = new ExchangeCore();
    const visit = (seq: number, timeUs: number, command: Command, kind: number): void => {
      core.events.clear();
      executeByKind(core, command, kind);
      for (const p of this.parts) p.command(seq, timeUs, core.events.data, core.events.count);
      this.nextSeq = seq + 1;
    };
    while (!this.closed && this.nextSeq <= this.throughSeq) {
      if (this.parts.some((p) => p.outbox.backlog >= this.o.roomBelow)) {
        await this.sleep(this.o.waitMs);
        continue;
      }
      const n = await tail.read(this.throughSeq, this.o.commandsPerTurn, visit);
      if (n === 0) throw new Error(`the journal ends before command ${this.nextSeq}`);
      // One chunk per turn: the engine's batches and the requests go in between.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    core.events.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
