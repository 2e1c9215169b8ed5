/**
 * The `audit_events` table as a projection of the audit file: the file's lines after the table's head,
 * written as rows in batches (one multi-row INSERT each), idempotent by sequence, off the order path. It may
 * lag: it runs at low priority, taking a bounded share of the venue's thread (PGlite runs its SQL there) and
 * more of it only while the thread is otherwise idle, and it catches up from the file after a restart. On
 * PostgreSQL (`sharesThread: false`) the SQL runs elsewhere, and it takes full batches at once. The
 * file stays the truth: `rialto audit verify` reads it, and `--table` checks the table against it.
 *
 * A venue's file, appended on its worker, hands each durable group over as its rows' COPY text
 * (`takeCopyText`): while the next line to project is the first of a group held so, the projection writes the
 * held text as it is, and the venue's thread touches no line. It reads the file for everything else: after a
 * start (from the table's head), groups not handed over (dropped while `projectionHandedBytesMax` of text was
 * held, the store being slow or down), and the rest of a group it has already read part of. Either way a batch
 * is the same rows, written the same way (log.ts), so the guarantees do not depend on where the text came from.
 *
 * It also chains the inbox (`AuditInbox`, PostgreSQL only) into the file, at a moment when the table holds
 * every line of the file, so that an inbox event chained before a crash, and not removed from the inbox yet, is
 * found in the table by its id and not chained twice.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { AuditEventInput } from './event.js';
import {
  AuditFileReader,
  findAuditLine,
  type AuditCopyGroup,
  type AuditCopyReceiver,
  type AuditFile,
  type AuditLine,
} from './file.js';
import { AUDIT_LIMITS } from './limits.js';
import type { AuditInbox, AuditLog } from './log.js';
import { PacedLoop } from '../ops/index.js';

export interface AuditProjectionOptions {
  /** The last event durable in the file (lines after it may be a group being written). */
  readonly durableSeq: () => number;
  /** Chains inbox events into the file (the venue's audit writer); with `inbox` only. */
  readonly chain?: (events: readonly AuditEventInput[]) => Promise<void>;
  readonly inbox?: AuditInbox | null;
  /** Told of a failure once per run of failures (the table is left behind, the loop retries). */
  readonly onError?: (e: Error) => void;
  /**
   * Whether the store runs its SQL on the venue's thread (PGlite: true, the default). With PostgreSQL
   * (false) a batch costs the venue's thread only its rows' encoding, and its time is mostly waiting for the
   * database: the projection then always takes full batches with the shortest pause, so that under a steady
   * load it keeps up, and catches up after an outage, rather than falling further behind.
   */
  readonly sharesThread?: boolean;
  /** Handed-over COPY text held at most (bytes); default `projectionHandedBytesMax`. */
  readonly handedBytesMax?: number;
}

/** Where a projection's rows came from, counted since it started. */
export interface AuditProjectionSources {
  /** Rows written from COPY text the file's worker handed over. */
  readonly handedRows: number;
  /** Rows written from lines read back from the file. */
  readonly fileRows: number;
  /**
   * Groups handed over and dropped: no room, read from the file meanwhile, or larger than a batch where the
   * SQL shares the venue's thread.
   */
  readonly droppedGroups: number;
}

export class AuditProjection implements AuditCopyReceiver {
  /** Where the next line to project starts in the file, and its number. */
  private offset = 0;
  private nextSeq = 1;
  private located = false;
  /** Groups handed over and not yet projected, in the file's order, and their text's bytes. */
  private handed: AuditCopyGroup[] = [];
  private handedBytes = 0;
  private handedRows = 0;
  private fileRows = 0;
  private droppedGroups = 0;
  private closed = false;
  private readonly handedBytesMax: number;
  /** Runs the steps one at a time (the loop's and catchUp's). */
  private readonly loop: PacedLoop;
  private inboxChained = 0;
  /** The file, open for reading while the projection runs. */
  private handle: FileHandle | null = null;

  constructor(
    private readonly log: AuditLog,
    private readonly path: string,
    private readonly options: AuditProjectionOptions,
  ) {
    this.handedBytesMax = options.handedBytesMax ?? AUDIT_LIMITS.projectionHandedBytesMax;
    if (!Number.isSafeInteger(this.handedBytesMax) || this.handedBytesMax < 0)
      throw new RangeError(`handedBytesMax must be a whole number of bytes, not ${this.handedBytesMax}`);
    this.loop = new PacedLoop({
      retryDelayMsMin: AUDIT_LIMITS.retryDelayMsMin,
      retryDelayMsMax: AUDIT_LIMITS.retryDelayMsMax,
      onError: options.onError,
    });
  }

  /** The last event in the table (as far as this projection knows). */
  get projectedSeq(): number {
    return this.nextSeq - 1;
  }

  /** Events durable in the file and not yet in the table. */
  get lag(): number {
    return Math.max(0, this.options.durableSeq() - this.projectedSeq);
  }

  /** Where the rows written came from. */
  get sources(): AuditProjectionSources {
    return { handedRows: this.handedRows, fileRows: this.fileRows, droppedGroups: this.droppedGroups };
  }

  /** Room for another group's text: held text below `projectionHandedBytesMax`. */
  wantsCopyText(): boolean {
    return !this.closed && this.handedBytes < this.handedBytesMax;
  }

  /** Holds a durable group's text until the projection gets to it; drops it when that would pass the bound. */
  takeCopyText(group: AuditCopyGroup): void {
    const last = this.handed[this.handed.length - 1];
    const inOrder = last === undefined || group.firstSeq >= last.firstSeq + last.count;
    if (this.closed || !inOrder || this.handedBytes + group.text.byteLength > this.handedBytesMax) {
      this.droppedGroups++;
      return;
    }
    this.handed.push(group);
    this.handedBytes += group.text.byteLength;
  }

  /** Inbox events chained into the file by this projection. */
  get inboxEventsChained(): number {
    return this.inboxChained;
  }

  /** Starts the background loop. */
  start(): void {
    const sharesThread = this.options.sharesThread ?? true;
    this.loop.start({
      // How busy the thread was with other work while this projection waited: the share it takes follows.
      step: async (utilization) => {
        const idle = !sharesThread || utilization < AUDIT_LIMITS.projectionBusyUtilization;
        const rows = !sharesThread
          ? AUDIT_LIMITS.projectionBatchRowsOffThread
          : idle
            ? AUDIT_LIMITS.projectionBatchRowsIdle
            : AUDIT_LIMITS.projectionBatchRowsBusy;
        const projected = await this.loop.serial(() => this.step(rows));
        if (projected === 0 && this.options.inbox) await this.loop.serial(() => this.drainInbox());
        const behind = Math.max(0, this.options.durableSeq() - this.nextSeq + 1);
        return { projected, idle, rows, behind };
      },
      pauseMs: ({ projected, idle, rows, behind }, took) => {
        if (projected === 0) return AUDIT_LIMITS.projectionIdleMs;
        const share = idle ? AUDIT_LIMITS.projectionShareIdle : AUDIT_LIMITS.projectionShareBusy;
        const pause = sharesThread ? (took * (1 - share)) / share : offThreadPauseMs(behind, rows);
        return Math.min(
          AUDIT_LIMITS.projectionPauseMsMax,
          Math.max(AUDIT_LIMITS.projectionPauseMsMin, pause),
        );
      },
    });
  }

  /** Projects until the table holds every event durable now (and chains the inbox); for tests and tools. */
  async catchUp(): Promise<void> {
    const target = this.options.durableSeq();
    while (this.projectedSeq < target) {
      if ((await this.loop.serial(() => this.step(AUDIT_LIMITS.projectionBatchRowsIdle))) === 0) break;
    }
    await this.loop.serial(() => this.drainInbox());
  }

  /** Stops the loop after its current step; what is left is projected at the next start. */
  async close(): Promise<void> {
    this.closed = true;
    await this.loop.close();
    this.handed = [];
    this.handedBytes = 0;
    await this.handle?.close();
    this.handle = null;
  }

  /** Finds the line after the table's head in the file (once). */
  private async locate(): Promise<void> {
    const head = await this.log.head();
    const durable = this.options.durableSeq();
    if (head.seq > durable) {
      throw new Error(
        `audit_events holds event ${head.seq} but the audit file ends at event ${durable}: ` +
          'the table is not a projection of this file (rialto audit verify --table)',
      );
    }
    if (head.seq > 0) {
      // Found by bisecting the file, not by reading it from the start: at a restart the table's head is
      // usually near the file's end, and the file holds every request the venue ever answered.
      const found = await findAuditLine(this.path, head.seq);
      if (found !== null) this.offset = found.next;
    }
    this.nextSeq = head.seq + 1;
    this.located = true;
  }

  /**
   * Projects the next batch of at most `rows` durable lines (or one handed-over group larger than that, when
   * the SQL runs off this thread: its cost here is not per row); resolves with how many.
   */
  private async step(rows: number): Promise<number> {
    if (!this.located) await this.locate();
    const durable = this.options.durableSeq();
    if (this.nextSeq > durable) return 0;
    this.dropHandedBehind();
    const first = this.handed[0] as AuditCopyGroup | undefined;
    if (first?.firstSeq === this.nextSeq) {
      if (first.count <= rows || this.options.sharesThread === false) return this.stepHanded(rows);
      // Larger than this thread's batch: read from the file a batch at a time instead.
      this.droppedGroups++;
      this.dropHanded(1);
    }
    // From the file, up to the next group held (so that it starts a batch of its own).
    const next = this.handed[0] as AuditCopyGroup | undefined;
    const upTo = Math.min(durable, next === undefined ? durable : next.firstSeq - 1);
    const lines = (await this.readLines(Math.min(rows, upTo - this.nextSeq + 1))).filter(
      (l) => l.seq <= upTo,
    );
    if (lines.length === 0) return 0;
    await this.log.project(lines);
    const last = lines[lines.length - 1];
    this.offset = last.next;
    this.nextSeq = last.seq + 1;
    this.fileRows += lines.length;
    return lines.length;
  }

  /** Projects the handed-over groups that follow on from the next line, whole, up to `rows` (at least one). */
  private async stepHanded(rows: number): Promise<number> {
    let taken = 0;
    let count = 0;
    while (taken < this.handed.length) {
      const g = this.handed[taken];
      if (g.firstSeq !== this.nextSeq + count || (taken > 0 && count + g.count > rows)) break;
      count += g.count;
      taken++;
    }
    const groups = this.handed.slice(0, taken);
    const text = taken === 1 ? groups[0].text : Buffer.concat(groups.map((g) => g.text));
    const from = { offset: groups[0].offset, seq: groups[0].firstSeq };
    // The lines are read only if a row is in the table already (see log.ts).
    await this.log.projectCopyText(text, async () => {
      const lines = await this.readLines(count, from);
      if (lines.length !== count)
        throw new Error(
          `the audit file has ${lines.length} of events ${from.seq} to ${from.seq + count - 1}`,
        );
      return lines;
    });
    const last = groups[taken - 1];
    this.offset = last.next;
    this.nextSeq = last.firstSeq + last.count;
    this.handedRows += count;
    this.dropHanded(taken);
    return count;
  }

  /** Up to `count` lines of the file from the next line to project (or from `from`). */
  private async readLines(
    count: number,
    from: { offset: number; seq: number } = { offset: this.offset, seq: this.nextSeq },
  ): Promise<AuditLine[]> {
    if (count <= 0) return [];
    this.handle ??= await open(this.path, constants.O_RDONLY);
    const reader = new AuditFileReader(this.path, from.offset, from.seq, this.handle);
    for await (const page of reader.pages(count)) return page;
    return [];
  }

  /** Drops the held groups that start before the next line to project: it was read from the file. */
  private dropHandedBehind(): void {
    let n = 0;
    while (n < this.handed.length && this.handed[n].firstSeq < this.nextSeq) n++;
    if (n > 0) {
      this.droppedGroups += n;
      this.dropHanded(n);
    }
  }

  private dropHanded(n: number): void {
    for (let i = 0; i < n; i++) this.handedBytes -= this.handed[i].text.byteLength;
    this.handed.splice(0, n);
  }

  /**
   * Chains the inbox's events into the file and removes them from the inbox, only while the table holds
   * every durable line (then an event already chained is in the table, and is only removed).
   */
  private async drainInbox(): Promise<void> {
    const { inbox, chain } = this.options;
    if (!inbox || chain === undefined) return;
    if (this.projectedSeq < this.options.durableSeq()) return;
    const events = await inbox.peek(AUDIT_LIMITS.projectionBatchRowsIdle);
    if (events.length === 0) return;
    const present = await this.log.idsPresent(events.map((e) => e.id));
    const todo = events.filter((e) => !present.has(e.id));
    if (todo.length > 0) await chain(todo);
    this.inboxChained += todo.length;
    await inbox.remove(events.map((e) => e.id));
  }
}

/**
 * At the first open of a file after an upgrade from a version that kept the chain in the table only (the file
 * empty, the table not), copies the table into the file, hashes as they are.
 */
export async function seedFromTable(file: AuditFile, log: AuditLog): Promise<void> {
  if (file.head.seq !== 0) return;
  for await (const page of log.pages(AUDIT_LIMITS.verifyPageRows)) await file.importRecords(page);
}

/**
 * The pause after a step when the SQL runs off the venue's thread: none while a full batch is waiting (the
 * events not yet projected, `behind`, make at least `rows`), else the idle pause, so that a steady trickle of
 * events gathers into batches rather than one COPY each. It reads what is left, not what the step took: a step
 * of handed-over groups stops at a group's end below `rows`, and pausing after it whatever was left made the
 * projection fall behind for good at 10,000 orders a second (one batch of under 2,000 rows every 200 ms).
 */
export function offThreadPauseMs(behind: number, rows: number): number {
  return behind >= rows ? 0 : AUDIT_LIMITS.projectionIdleMs;
}
