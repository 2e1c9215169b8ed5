/**
 * Messages between the engine (main thread: network, callers) and its worker (the core and the journal).
 * Commands go over in batches of journal records, framed on the main thread (journal/record.ts) in one
 * transferred buffer, which the worker stamps and journals as they are; events come back as one transferred
 * Float64Array per batch, the core's fixed-width records, with `ends[i]` the record count after command i.
 */
import type {
  AccountView,
  AssetInfo,
  BalanceSheet,
  BalanceView,
  IncomeStatement,
  PositionReport,
  TrialBalance,
} from '../core/index.js';
import type { DurabilityPolicy, JournalNotice } from '../journal/index.js';

export interface EngineConfig {
  /** Directory of the journal and the snapshots; created if missing. */
  dir: string;
  /** Default { fsync: 'batch' }: a command is acknowledged only once its batch is fsynced. */
  durability?: DurabilityPolicy;
  /** Journal segment size in bytes (default 64 MiB). */
  segmentBytes?: number;
  /** A snapshot after this many commands since the last (default 1,000,000; 0: never by count). */
  snapshotEveryCommands?: number;
  /** A snapshot when this many milliseconds passed since the last and commands arrived (default 300,000; 0: never by time). */
  snapshotEveryMs?: number;
  /** Snapshots kept on disk (default 3). */
  snapshotsKept?: number;
  /**
   * Commands the main thread gathers before it sends a batch without waiting for the end of the turn (default
   * 256; see limits.ts).
   */
  flushCommands?: number;
  /**
   * Gives each durable batch its commands' framed records as well (`DurableBatch.records`): a copy per batch
   * on the main thread, for an engine that serves remote gateways (default false: nothing is copied).
   */
  publishRecords?: boolean;
  /** Order slots each new book allocates up front. */
  bookCapacityOrders?: number;
  /**
   * Set by Engine.start, which takes the data directory's lock on the main thread (so that it is released
   * whatever becomes of the worker): the host checks the lock is this one instead of taking its own.
   */
  lockToken?: string;
}

export interface ErrorInfo {
  code: string;
  message: string;
  file?: string;
  offset?: number;
}

export interface RecoveryReport {
  /** The snapshot recovery started from (0 and '' for a full replay). */
  snapshotSeq: number;
  snapshotFile: string;
  /** Snapshots that did not verify or decode, newest first, with why. */
  rejectedSnapshots: { file: string; reason: string }[];
  /** Journal records replayed after the snapshot. */
  replayed: number;
  /** The last sequence number in the journal. */
  lastSeq: number;
  /** Repairs made (a torn tail cut). */
  notices: JournalNotice[];
  ms: number;
}

export type EngineQuery = 'stateHash' | 'stats' | 'highestOrderId' | 'checkpoint';

/** The core's state hash with the sequence number it follows (what a remote follower compares with its own). */
export interface Checkpoint {
  seq: number;
  stateHash: string;
}

/**
 * Reports read from the core on the worker and answered once everything executed before them is durable,
 * so that no answer shows a command the journal could still lose. Each answer is plain data (structured
 * clone) and bounded: one account, one page of accounts, or one row per asset and instrument.
 */
export type ReportQuery =
  | { kind: 'account'; accountId: number }
  | { kind: 'accounts'; afterId: number; limit: number }
  | { kind: 'venue' }
  | { kind: 'statements' };

/** One asset of an account: minor units, and the ledger account numbers its entries name. */
export interface AccountBalance extends BalanceView {
  /** The customer's available ledger account for the asset; its held account is the next number. */
  ledgerAvailable: number;
  ledgerHeld: number;
}

export interface AccountReport {
  account: AccountView;
  balances: AccountBalance[];
  positions: PositionReport[];
  /** The venue's assets (codes and decimals), to show the amounts with. */
  assets: AssetInfo[];
}

export interface AccountsPage {
  accounts: Omit<AccountView, 'limits'>[];
  /** Accounts in the venue. */
  total: number;
}

export interface InstrumentState {
  instrument: number;
  symbol: string;
  baseAsset: number;
  quoteAsset: number;
  halted: boolean;
}

export interface VenueReport {
  killSwitch: boolean;
  /** Accounts whose own kill switch is set. */
  accountKillSwitches: number;
  instruments: InstrumentState[];
  assets: AssetInfo[];
}

export interface Statements {
  /** The venue's assets (codes and decimals), to show the amounts with. */
  assets: AssetInfo[];
  trialBalance: TrialBalance;
  balanceSheets: BalanceSheet[];
  incomeStatements: IncomeStatement[];
}

/** The answer each report query gets. */
export type ReportAnswer<Q extends ReportQuery> = Q extends { kind: 'account' }
  ? AccountReport | null
  : Q extends { kind: 'accounts' }
    ? AccountsPage
    : Q extends { kind: 'venue' }
      ? VenueReport
      : Statements;

export type ToWorker =
  | { type: 'submit'; batch: number; records: Uint8Array; count: number }
  | { type: 'query'; id: number; query: EngineQuery }
  | { type: 'report'; id: number; report: ReportQuery }
  | { type: 'snapshot'; id: number }
  | { type: 'close'; id: number };

export type FromWorker =
  // `nextExpiryUs` and `riskSweepDue`: when the core wants time advanced (Core.nextExpiryUs, Core.riskSweepDue),
  // after recovery and after each batch.
  | { type: 'ready'; recovery: RecoveryReport; nextExpiryUs: number; riskSweepDue: boolean }
  | { type: 'startFailed'; error: ErrorInfo }
  | {
      type: 'done';
      batch: number;
      firstSeq: number;
      timeUs: number;
      events: Float64Array;
      ends: Int32Array;
      nextExpiryUs: number;
      riskSweepDue: boolean;
    }
  | { type: 'refused'; batch: number; error: ErrorInfo }
  | { type: 'failed'; error: ErrorInfo }
  | { type: 'answer'; id: number; value?: unknown; error?: ErrorInfo };

export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) {
    const x = e as Error & { code?: unknown; file?: unknown; offset?: unknown };
    const info: ErrorInfo = {
      code: typeof x.code === 'string' ? x.code : 'ENGINE_ERROR',
      message: e.message,
    };
    if (typeof x.file === 'string') info.file = x.file;
    if (typeof x.offset === 'number') info.offset = x.offset;
    return info;
  }
  return { code: 'ENGINE_ERROR', message: String(e) };
}
