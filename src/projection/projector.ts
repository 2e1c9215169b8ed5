/**
 * The query tables as a projection of the journal (docs/architecture.md#query-tables-srcprojection). The journal is the
 * backlog: the projector follows it (JournalTail) up to the last command the engine has made durable,
 * executes each command in a core of its own (the same deterministic core, so the same records as the
 * engine's, and a chart of ledger accounts to say whose a balance is), maps the records to rows (rows.ts) and
 * writes each batch in one transaction with its checkpoint (sql.ts).
 *
 * It never touches the order path: the engine only tells it how far the journal is durable (a number per
 * batch), and everything else runs later, on its own loop, at low priority (a bounded share of the thread
 * while it is busy, more while it is idle), a batch at a time, so its memory is a batch plus its core. When
 * the database fails (down, circuit open) it keeps the batch it built and retries it, doubling the pause: the
 * journal holds everything after the checkpoint, so it falls behind and catches up when the database returns.
 *
 * At start it reads the checkpoint and the orders live at it, rebuilds its core up to the checkpoint (from the
 * newest engine snapshot at or before it, then the journal) and goes on from there: a crash or a stop at any
 * point, even between a commit and its answer, leaves the tables exactly as an uninterrupted run would.
 */
import { ExchangeCore, decodeCoreSnapshot, type CoreOptions } from '../core/index.js';
import { JournalTail, SnapshotStore, executeByKind, readOnlyFs } from '../journal/index.js';
import { PacedLoop } from '../ops/index.js';
import type { Store } from '../store/index.js';
import { PROJECTION_LIMITS, type ProjectionLimits } from './limits.js';
import { RowMapper, rowCount, type RowBatch } from './rows.js';
import { CheckpointConflict, loadLiveOrders, readCheckpoint, writeBatch } from './sql.js';

export interface ProjectorOptions {
  /** The data directory (journal and snapshots). */
  readonly dir: string;
  readonly store: Store;
  /** The checkpoint's name (one projector writes one set of tables; default `query_tables`). */
  readonly name?: string;
  /** The last durable command when the projector starts (the engine's recovery). */
  readonly durableSeq: number;
  /** The core's options (the engine's), for snapshots and books. */
  readonly core?: CoreOptions;
  /** Told of a failure once per run of failures (the tables fall behind, the loop retries). */
  readonly onError?: (e: Error) => void;
  /** Overrides of the pacing (tests shrink batches). */
  readonly limits?: Partial<ProjectionLimits>;
}

export interface ProjectorStats {
  /** The last command the tables hold. */
  readonly projectedSeq: number;
  /** Durable commands not yet in the tables. */
  readonly backlog: number;
  /** When the oldest of them was made durable (epoch µs, as far as known), or null when none waits. */
  readonly oldestUs: number | null;
  /** Rows written (inserted or updated) and batches committed by this process. */
  readonly rows: number;
  readonly batches: number;
  /** The last failure, until a batch commits again. */
  readonly failure: Error | null;
  /** How the core was last rebuilt up to the checkpoint: the snapshot it started from (0: none), commands replayed. */
  readonly rebuild: { readonly snapshotSeq: number; readonly replayed: number } | null;
}

export class QueryTableProjector {
  readonly name: string;
  private readonly limits: ProjectionLimits;
  private durable: number;
  private projected = 0;
  private located = false;
  private core: ExchangeCore | null = null;
  private mapper: RowMapper | null = null;
  private tail: JournalTail;
  /** A batch built (its commands executed) and not yet committed: retried as it is. */
  private pending: RowBatch | null = null;
  /** Durable batches not yet projected: [last seq, time made durable (µs)], oldest first. */
  private readonly lagQueue: [number, number][] = [];
  private rows = 0;
  private batches = 0;
  private failure: Error | null = null;
  private rebuild: ProjectorStats['rebuild'] = null;
  private fatal: Error | null = null;
  private readonly loop: PacedLoop;

  constructor(private readonly options: ProjectorOptions) {
    this.name = options.name ?? 'query_tables';
    this.limits = { ...PROJECTION_LIMITS, ...options.limits };
    this.durable = options.durableSeq;
    this.tail = new JournalTail(options.dir, readOnlyFs());
    this.loop = new PacedLoop({
      retryDelayMsMin: this.limits.retryDelayMsMin,
      retryDelayMsMax: this.limits.retryDelayMsMax,
      onError: (e) => {
        if (e instanceof CheckpointConflict) this.fatal = e;
        options.onError?.(e);
      },
    });
    // What the journal held at start waits since the start, as far as this process can tell.
    if (options.durableSeq > 0) this.lagQueue.push([options.durableSeq, Date.now() * 1000]);
  }

  /** The engine made commands up to `lastSeq` durable at `timeUs` (called from its subscription). */
  noteDurable(lastSeq: number, timeUs: number): void {
    if (lastSeq <= this.durable) return;
    this.durable = lastSeq;
    const q = this.lagQueue;
    if (q.length < this.limits.lagEntriesMax) q.push([lastSeq, timeUs]);
    else q[q.length - 1][0] = lastSeq;
  }

  stats(): ProjectorStats {
    this.dropProjectedLag();
    const backlog = Math.max(0, this.durable - this.projected);
    return {
      projectedSeq: this.projected,
      backlog,
      oldestUs: backlog === 0 || this.lagQueue.length === 0 ? null : this.lagQueue[0][1],
      rows: this.rows,
      batches: this.batches,
      failure: this.failure,
      rebuild: this.rebuild,
    };
  }

  /** Starts the background loop. */
  start(): void {
    const L = this.limits;
    this.loop.start({
      step: async (utilization) => {
        const idle = utilization < L.busyUtilization;
        const projected = await this.loop.serial(() =>
          this.step(idle ? L.batchCommandsIdle : L.batchCommandsBusy),
        );
        return { projected, idle };
      },
      pauseMs: ({ projected, idle }, took) => {
        if (projected === 0) return L.idleMs;
        const share = idle ? L.shareIdle : L.shareBusy;
        return Math.max(L.pauseMsMin, (took * (1 - share)) / share);
      },
      // Another process writes these tables: going on would fight it for every batch.
      isFatal: (e) => e instanceof CheckpointConflict,
    });
  }

  /** Projects until the tables hold every command durable now; throws what stopped the projector. */
  async catchUp(): Promise<void> {
    const target = this.durable;
    while (this.projected < target) {
      if (this.fatal !== null) throw this.fatal;
      await this.loop.serial(() => this.step(this.limits.batchCommandsIdle));
    }
  }

  /** Stops after the current step; what is not written yet is written by the next start. */
  async close(): Promise<void> {
    await this.loop.close();
  }

  private dropProjectedLag(): void {
    const q = this.lagQueue;
    let k = 0;
    while (k < q.length && q[k][0] <= this.projected) k++;
    if (k > 0) q.splice(0, k);
  }

  /** Reads the checkpoint and the live orders, and rebuilds the core up to the checkpoint (once). */
  private async locate(): Promise<void> {
    const store = this.options.store;
    const checkpoint = await readCheckpoint(store, this.name);
    if (checkpoint > this.durable) {
      throw new CheckpointConflict(
        `the query tables hold command ${checkpoint} but the journal ends at ${this.durable}: ` +
          'they are not a projection of this journal',
      );
    }
    const live = await loadLiveOrders(store);
    const core = await this.coreAt(checkpoint);
    const mapper = new RowMapper(core);
    mapper.restore(checkpoint, live);
    this.core = core;
    this.mapper = mapper;
    this.projected = checkpoint;
    this.located = true;
  }

  /** A core in the state after command `seq`: the newest snapshot at or before it, then the journal. */
  private async coreAt(seq: number): Promise<ExchangeCore> {
    const options = this.options.core ?? {};
    let core: ExchangeCore | null = null;
    let from = 1;
    if (seq > 0) {
      const snapshots = new SnapshotStore({ dir: this.options.dir, fs: readOnlyFs() });
      const usable = (await snapshots.list()).filter((s) => s.seq <= seq).sort((a, b) => b.seq - a.seq);
      for (const s of usable) {
        const loaded = await snapshots.check(s.file, s.seq);
        if (typeof loaded === 'string') continue;
        try {
          core = decodeCoreSnapshot(loaded.payload, options);
        } catch {
          continue;
        }
        from = s.seq + 1;
        break;
      }
    }
    core ??= new ExchangeCore(options);
    const c = core;
    await this.tail.seek(from);
    while (this.tail.nextSeq <= seq) {
      await this.tail.read(seq, this.limits.rebuildChunkCommands, (_seq, _timeUs, command, kind) => {
        c.events.clear();
        executeByKind(c, command, kind);
      });
    }
    c.events.clear();
    this.rebuild = { snapshotSeq: from - 1, replayed: seq - from + 1 };
    return c;
  }

  /** Builds (or takes back) the next batch of at most `max` commands and commits it; resolves with its size. */
  private async step(max: number): Promise<number> {
    if (this.fatal !== null) throw this.fatal;
    if (!this.located) await this.locate();
    let batch = this.pending;
    if (batch === null) {
      if (this.projected >= this.durable) return 0;
      const core = this.core as ExchangeCore;
      const mapper = this.mapper as RowMapper;
      try {
        await this.tail.read(this.durable, max, (seq, timeUs, command, kind) => {
          core.events.clear();
          executeByKind(core, command, kind);
          mapper.command(seq, timeUs, core.events.data, core.events.count);
        });
        core.events.clear();
      } catch (e) {
        // The core, the mapper and the tail may be partway into a command: start again from the checkpoint.
        this.located = false;
        this.core = null;
        this.mapper = null;
        throw e;
      }
      if (mapper.empty) return 0;
      batch = mapper.finish();
      this.pending = batch;
    }
    try {
      await writeBatch(this.options.store, this.name, batch);
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      throw e;
    }
    this.pending = null;
    this.failure = null;
    this.projected = batch.lastSeq;
    this.rows += rowCount(batch);
    this.batches++;
    return batch.lastSeq - batch.firstSeq + 1;
  }
}
