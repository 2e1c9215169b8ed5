/**
 * The ledger's entry history, per ledger account, projected from the durable event records like the other
 * views (the ledger itself keeps balances only). The engine recovers from a snapshot, which holds no history,
 * so the history lives here, where the whole journal is replayed at start. Each settlement is joined to the
 * trade it settles: the core settles the trades of a command in the order their records come, so the k-th
 * settlement of a command is its k-th trade, and the two must name the same buy and sell orders.
 *
 * Bounded: at most `entriesKept` entries, the oldest forgotten first (a query store would keep them all).
 * Entry ids only increase, so each ledger account's list of ids is ascending and forgetting drops its head.
 *
 * Kept in columns (typed arrays in rings, docs/performance.md): hundreds of thousands of entries as objects,
 * each with its lines and their boxed numbers, made the old generation large and every full garbage collection
 * of the venue's main thread long. An entry becomes an `EntryView` object only when a caller reads it.
 */
import type { LedgerEntry } from '../../core/index.js';
import { Ring } from '../../collections/index.js';

export interface EntryLineView {
  readonly ledgerAccount: number;
  /** Signed minor units: a debit positive, a credit negative. */
  readonly amount: number;
}

export interface EntryView {
  readonly entryId: number;
  readonly timeUs: number;
  /** The ledger's EntryKind: deposit 1, withdrawal 2, hold 3, release 4, settlement 5. */
  readonly kind: number;
  /** Deposit and withdrawal: the account and the payment's reference; hold and release: the order and 0;
   *  settlement: the buy order and the sell order. */
  readonly ref: number;
  readonly ref2: number;
  /** The trade a settlement settles, else 0 (trade ids are per instrument). */
  readonly tradeId: number;
  /** The instrument of that trade, else -1. */
  readonly instrument: number;
  readonly lines: readonly EntryLineView[];
}

const SETTLEMENT = 5;

// An entry's row.
const E_ID = 0;
const E_TIME = 1;
const E_KIND = 2;
const E_REF = 3;
const E_REF2 = 4;
const E_TRADE = 5;
const E_INSTRUMENT = 6;
/** The absolute position of its first line in the line ring, and how many lines it has. */
const E_LINE = 7;
const E_LINES = 8;
const ENTRY_WIDTH = 9;
// A line's row.
const L_ACCOUNT = 0;
const L_AMOUNT = 1;
const LINE_WIDTH = 2;

/** One ledger account's entries: absolute entry positions, ascending, in a growable typed array. */
interface PositionList {
  pos: Float64Array;
  head: number;
  length: number;
}

/** A compaction of a list's forgotten head happens past this many forgotten positions (and half the list). */
const COMPACT_AFTER = 1024;

interface PendingTrade {
  tradeId: number;
  instrument: number;
  buyOrderId: number;
  sellOrderId: number;
}

export class EntryHistory {
  /** Entries in id order: the oldest kept at `head`. */
  private readonly rows = new Ring(ENTRY_WIDTH);
  private readonly lines = new Ring(LINE_WIDTH);
  private readonly byLedgerAccount = new Map<number, PositionList>();
  /** The trades of the command being applied, not yet matched to their settlements. */
  private trades: PendingTrade[] = [];
  private tradesHead = 0;
  private lastId = 0;
  /** The distinct ledger accounts of the entry being added (reused). */
  private readonly touched: number[] = [];

  constructor(private readonly entriesKept: number) {
    if (!(Number.isSafeInteger(entriesKept) && entriesKept >= 0))
      throw new RangeError('entriesKept must be 0 or more');
  }

  get size(): number {
    return this.rows.length;
  }

  /** Starts a command: trades of an earlier command are never settled by this one's entries. */
  beginCommand(): void {
    if (this.tradesHead !== this.trades.length) {
      throw new Error(
        `entries: ${this.trades.length - this.tradesHead} trades of a command were not settled`,
      );
    }
    if (this.trades.length !== 0) this.trades = [];
    this.tradesHead = 0;
  }

  /** A trade of the command being applied, in order: its settlement follows among the command's entries. */
  trade(tradeId: number, instrument: number, buyOrderId: number, sellOrderId: number): void {
    this.trades.push({ tradeId, instrument, buyOrderId, sellOrderId });
  }

  /** An entry of the command being applied, in order. */
  entry(e: Readonly<LedgerEntry>): void {
    let tradeId = 0;
    let instrument = -1;
    if (e.kind === SETTLEMENT) {
      const t = this.trades[this.tradesHead++];
      if (t === undefined) throw new Error(`entries: settlement ${e.entryId} without a trade`);
      if (t.buyOrderId !== e.ref || t.sellOrderId !== e.ref2) {
        throw new Error(`entries: settlement ${e.entryId} does not settle trade ${t.tradeId}`);
      }
      tradeId = t.tradeId;
      instrument = t.instrument;
    }
    if (e.entryId <= this.lastId) {
      throw new Error(`entries: entry ${e.entryId} arrived after ${this.lastId}`);
    }
    this.lastId = e.entryId;
    if (this.entriesKept === 0) return;
    const p = this.rows.push();
    const rows = this.rows;
    rows.put(p, E_ID, e.entryId);
    rows.put(p, E_TIME, e.timeUs);
    rows.put(p, E_KIND, e.kind);
    rows.put(p, E_REF, e.ref);
    rows.put(p, E_REF2, e.ref2);
    rows.put(p, E_TRADE, tradeId);
    rows.put(p, E_INSTRUMENT, instrument);
    rows.put(p, E_LINE, this.lines.tail);
    rows.put(p, E_LINES, e.lines.length);
    const touched = this.touched;
    touched.length = 0;
    for (const l of e.lines) {
      const at = this.lines.push();
      this.lines.put(at, L_ACCOUNT, l.account);
      this.lines.put(at, L_AMOUNT, l.amount);
      if (!touched.includes(l.account)) touched.push(l.account);
    }
    for (const account of touched) {
      let list = this.byLedgerAccount.get(account);
      if (list === undefined) {
        list = { pos: new Float64Array(16), head: 0, length: 0 };
        this.byLedgerAccount.set(account, list);
      }
      if (list.length === list.pos.length) {
        const bigger = new Float64Array(list.pos.length * 2);
        bigger.set(list.pos);
        list.pos = bigger;
      }
      list.pos[list.length++] = p;
    }
    if (this.rows.length > this.entriesKept) this.forgetOldest();
  }

  /**
   * The newest `limit` entries that touch any of `ledgerAccounts`, with ids below `beforeId`, newest first
   * (an entry touching several of them once).
   */
  entriesOf(ledgerAccounts: readonly number[], beforeId: number, limit: number): EntryView[] {
    // Positions only increase with ids, so the newest entries are the highest positions.
    const found = new Set<number>();
    for (const account of ledgerAccounts) {
      const list = this.byLedgerAccount.get(account);
      if (list === undefined) continue;
      let k = this.lowerBound(list, beforeId) - 1;
      for (let taken = 0; k >= list.head && taken < limit; k--, taken++) found.add(list.pos[k]);
    }
    return [...found]
      .sort((a, b) => b - a)
      .slice(0, limit)
      .map((p) => this.entryAt(p));
  }

  /** The entry at absolute position `p`, as an object. */
  private entryAt(p: number): EntryView {
    if (p < this.rows.head || p >= this.rows.tail)
      throw new Error(`entries: entry at ${p} is listed but not kept`);
    const rows = this.rows;
    const first = rows.get(p, E_LINE);
    const n = rows.get(p, E_LINES);
    const lines: EntryLineView[] = [];
    for (let q = first; q < first + n; q++) {
      lines.push({ ledgerAccount: this.lines.get(q, L_ACCOUNT), amount: this.lines.get(q, L_AMOUNT) });
    }
    return {
      entryId: rows.get(p, E_ID),
      timeUs: rows.get(p, E_TIME),
      kind: rows.get(p, E_KIND),
      ref: rows.get(p, E_REF),
      ref2: rows.get(p, E_REF2),
      tradeId: rows.get(p, E_TRADE),
      instrument: rows.get(p, E_INSTRUMENT),
      lines,
    };
  }

  private forgetOldest(): void {
    const rows = this.rows;
    const p = rows.head;
    const first = rows.get(p, E_LINE);
    const n = rows.get(p, E_LINES);
    const touched = this.touched;
    touched.length = 0;
    for (let q = first; q < first + n; q++) {
      const account = this.lines.get(q, L_ACCOUNT);
      if (!touched.includes(account)) touched.push(account);
    }
    for (const account of touched) {
      const list = this.byLedgerAccount.get(account);
      if (list === undefined || list.pos[list.head] !== p) {
        throw new Error(`entries: entry ${rows.get(p, E_ID)} is not the oldest of ledger account ${account}`);
      }
      list.head++;
      if (list.head === list.length) this.byLedgerAccount.delete(account);
      else if (list.head > COMPACT_AFTER && list.head * 2 > list.length) {
        list.pos.copyWithin(0, list.head, list.length);
        list.length -= list.head;
        list.head = 0;
      }
    }
    rows.head++;
    this.lines.head = first + n;
  }

  /** The first index at or after the list's head whose entry id is not below `x`. */
  private lowerBound(list: PositionList, x: number): number {
    let lo = list.head;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rows.get(list.pos[mid], E_ID) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
