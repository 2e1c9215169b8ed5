/**
 * The ledger's entry history, per ledger account, projected from the durable event records like the other
 * views (the ledger itself keeps balances only). The engine recovers from a snapshot, which holds no history,
 * so the history lives here, where the whole journal is replayed at start. Each settlement is joined to the
 * trade it settles: the core settles the trades of a command in the order their records come, so the k-th
 * settlement of a command is its k-th trade, and the two must name the same buy and sell orders.
 *
 * Bounded: at most `entriesKept` entries, the oldest forgotten first (a query store would keep them all).
 * Entry ids only increase, so each ledger account's list of ids is ascending and forgetting drops its head.
 */
import { Side } from '../../book/index.js';
import type { StreamEvent } from '../../core/index.js';

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

interface IdList {
  ids: number[];
  head: number;
}

/** A compaction of a list's forgotten head happens past this many forgotten ids (and half the list). */
const COMPACT_AFTER = 1024;

interface PendingTrade {
  tradeId: number;
  instrument: number;
  buyOrderId: number;
  sellOrderId: number;
}

export class EntryHistory {
  /** Insertion order is id order: the first key is the oldest entry. */
  private readonly entries = new Map<number, EntryView>();
  private readonly byLedgerAccount = new Map<number, IdList>();
  /** The trades of the command being applied, not yet matched to their settlements. */
  private trades: PendingTrade[] = [];
  private tradesHead = 0;
  private lastId = 0;

  constructor(private readonly entriesKept: number) {
    if (!(Number.isSafeInteger(entriesKept) && entriesKept >= 0))
      throw new RangeError('entriesKept must be 0 or more');
  }

  get size(): number {
    return this.entries.size;
  }

  /** Starts a command: trades of an earlier command are never settled by this one's entries. */
  beginCommand(): void {
    if (this.tradesHead !== this.trades.length) {
      throw new Error(
        `entries: ${this.trades.length - this.tradesHead} trades of a command were not settled`,
      );
    }
    this.trades = [];
    this.tradesHead = 0;
  }

  /** Takes the records it needs (trades and entries) of the command being applied, in their order. */
  apply(e: StreamEvent): void {
    if (e.type === 'TradeExecuted') {
      const takerBuys = e.aggressorSide === Side.Buy;
      this.trades.push({
        tradeId: e.tradeId,
        instrument: e.instrument,
        buyOrderId: takerBuys ? e.takerOrderId : e.makerOrderId,
        sellOrderId: takerBuys ? e.makerOrderId : e.takerOrderId,
      });
      return;
    }
    if (e.type !== 'EntryPosted') return;
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
    this.add({
      entryId: e.entryId,
      timeUs: e.timeUs,
      kind: e.kind,
      ref: e.ref,
      ref2: e.ref2,
      tradeId,
      instrument,
      lines: e.lines.map((l) => ({ ledgerAccount: l.account, amount: l.amount })),
    });
  }

  /**
   * The newest `limit` entries that touch any of `ledgerAccounts`, with ids below `beforeId`, newest first
   * (an entry touching several of them once).
   */
  entriesOf(ledgerAccounts: readonly number[], beforeId: number, limit: number): EntryView[] {
    const found = new Map<number, EntryView>();
    for (const account of ledgerAccounts) {
      const list = this.byLedgerAccount.get(account);
      if (list === undefined) continue;
      let k = lowerBound(list.ids, beforeId, list.head) - 1;
      for (let taken = 0; k >= list.head && taken < limit; k--, taken++) {
        const entry = this.entries.get(list.ids[k]);
        if (entry === undefined) throw new Error(`entries: entry ${list.ids[k]} is listed but not kept`);
        found.set(entry.entryId, entry);
      }
    }
    return [...found.values()].sort((a, b) => b.entryId - a.entryId).slice(0, limit);
  }

  private add(entry: EntryView): void {
    if (entry.entryId <= this.lastId) {
      throw new Error(`entries: entry ${entry.entryId} arrived after ${this.lastId}`);
    }
    this.lastId = entry.entryId;
    if (this.entriesKept === 0) return;
    this.entries.set(entry.entryId, entry);
    for (const account of accountsOf(entry)) {
      let list = this.byLedgerAccount.get(account);
      if (list === undefined) {
        list = { ids: [], head: 0 };
        this.byLedgerAccount.set(account, list);
      }
      list.ids.push(entry.entryId);
    }
    if (this.entries.size > this.entriesKept) this.forgetOldest();
  }

  private forgetOldest(): void {
    const oldest = this.entries.values().next();
    if (oldest.done === true) return;
    const entry = oldest.value;
    this.entries.delete(entry.entryId);
    for (const account of accountsOf(entry)) {
      const list = this.byLedgerAccount.get(account);
      if (list === undefined || list.ids[list.head] !== entry.entryId) {
        throw new Error(`entries: entry ${entry.entryId} is not the oldest of ledger account ${account}`);
      }
      list.head++;
      if (list.head === list.ids.length) this.byLedgerAccount.delete(account);
      else if (list.head > COMPACT_AFTER && list.head * 2 > list.ids.length) {
        list.ids = list.ids.slice(list.head);
        list.head = 0;
      }
    }
  }
}

/** The distinct ledger accounts an entry's lines name. */
function accountsOf(entry: EntryView): number[] {
  const out: number[] = [];
  for (const l of entry.lines) if (!out.includes(l.ledgerAccount)) out.push(l.ledgerAccount);
  return out;
}

/** The first index at or after `from` whose id is not below `x`. */
function lowerBound(ids: readonly number[], x: number, from: number): number {
  let lo = from;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
