/**
 * Entries decoded from the event stream, and the history of entries per ledger account: a projection. The
 * ledger itself keeps only balances; whoever needs the history (reports, the query store) builds it from the
 * stream, so it can always be rebuilt from the journal.
 */
import { EntryKind } from './chart.js';
import {
  ENTRY_HEADER_LINES,
  ENTRY_LINES_PER_RECORD,
  E_ENTRY_ID,
  E_FIRST_LINE,
  E_KIND,
  E_LINE_COUNT,
  E_REF,
  E_REF2,
  E_TIME,
  H_AMOUNT,
  H_AVAILABLE,
  L_ENTRY_ID,
  L_FIRST_LINE,
  RECORD_STRIDE,
  RecordType,
  S_BASE,
  S_BUYER_BASE,
  S_BUYER_QUOTE,
  S_BUY_ORDER,
  S_ENTRY_ID,
  S_FEE_INCOME,
  S_INCOME,
  S_REBATES,
  S_REFUND,
  S_RELEASE,
  S_SELLER_BASE,
  S_SELLER_NET,
  S_SELLER_QUOTE,
  S_SELL_ORDER,
  S_TIME,
} from './records.js';

export interface LedgerLine {
  account: number;
  /** Signed minor units: a debit is positive, a credit negative. */
  amount: number;
}

export interface LedgerEntry {
  entryId: number;
  timeUs: number;
  kind: EntryKind;
  ref: number;
  ref2: number;
  lines: LedgerLine[];
}

/** Whether record `i` of `data` starts an entry. */
export function isEntryRecord(data: Float64Array, i: number): boolean {
  const type = data[i * RECORD_STRIDE];
  return (
    type === RecordType.EntryPosted || type === RecordType.HoldPosted || type === RecordType.SettlementPosted
  );
}

/** Whether record `i` continues an entry (decodeEntry reads it with its header). */
export function isEntryContinuation(data: Float64Array, i: number): boolean {
  return data[i * RECORD_STRIDE] === RecordType.EntryLines;
}

/** Decodes the entry whose header is record `i`; its continuation records follow it. */
export function decodeEntry(data: Float64Array, i: number): LedgerEntry {
  let o = i * RECORD_STRIDE;
  if (data[o] === RecordType.HoldPosted) return decodeHold(data, o);
  if (data[o] === RecordType.SettlementPosted) return decodeSettlement(data, o);
  if (data[o] !== RecordType.EntryPosted) throw new Error(`record ${i} is not an entry`);
  const id = data[o + E_ENTRY_ID];
  const n = data[o + E_LINE_COUNT];
  const lines: LedgerLine[] = [];
  for (let k = 0; k < n && k < ENTRY_HEADER_LINES; k++) {
    lines.push({ account: data[o + E_FIRST_LINE + 2 * k], amount: data[o + E_FIRST_LINE + 2 * k + 1] });
  }
  for (let start = ENTRY_HEADER_LINES; start < n; start += ENTRY_LINES_PER_RECORD) {
    o += RECORD_STRIDE;
    if (data[o] !== RecordType.EntryLines || data[o + L_ENTRY_ID] !== id) {
      throw new Error(`entry ${id}: continuation record missing`);
    }
    for (let k = 0; k < ENTRY_LINES_PER_RECORD && start + k < n; k++) {
      lines.push({ account: data[o + L_FIRST_LINE + 2 * k], amount: data[o + L_FIRST_LINE + 2 * k + 1] });
    }
  }
  return {
    entryId: id,
    timeUs: data[i * RECORD_STRIDE + E_TIME],
    kind: data[i * RECORD_STRIDE + E_KIND] as EntryKind,
    ref: data[i * RECORD_STRIDE + E_REF],
    ref2: data[i * RECORD_STRIDE + E_REF2],
    lines,
  };
}

function decodeHold(d: Float64Array, o: number): LedgerEntry {
  const kind = d[o + E_KIND] as EntryKind;
  const available = d[o + H_AVAILABLE];
  const amount = d[o + H_AMOUNT];
  const from = kind === EntryKind.Hold ? available : available + 1;
  const to = kind === EntryKind.Hold ? available + 1 : available;
  return {
    entryId: d[o + E_ENTRY_ID],
    timeUs: d[o + E_TIME],
    kind,
    ref: d[o + E_REF],
    ref2: 0,
    lines: [
      { account: from, amount },
      { account: to, amount: -amount },
    ],
  };
}

function decodeSettlement(d: Float64Array, o: number): LedgerEntry {
  const lines: LedgerLine[] = [];
  const line = (account: number, amount: number): void => {
    if (amount !== 0) lines.push({ account, amount });
  };
  const buyerQuote = d[o + S_BUYER_QUOTE];
  const sellerBase = d[o + S_SELLER_BASE];
  const feeIncome = d[o + S_FEE_INCOME];
  line(buyerQuote + 1, d[o + S_RELEASE]);
  line(buyerQuote, -d[o + S_REFUND]);
  line(d[o + S_SELLER_QUOTE], -d[o + S_SELLER_NET]);
  line(sellerBase + 1, d[o + S_BASE]);
  line(d[o + S_BUYER_BASE], -d[o + S_BASE]);
  line(feeIncome, -d[o + S_INCOME]);
  line(feeIncome + 1, d[o + S_REBATES]);
  return {
    entryId: d[o + S_ENTRY_ID],
    timeUs: d[o + S_TIME],
    kind: EntryKind.Settlement,
    ref: d[o + S_BUY_ORDER],
    ref2: d[o + S_SELL_ORDER],
    lines,
  };
}

export const HISTORY_LIMITS = Object.freeze({
  /** Entries kept per ledger account; older ones are dropped (the query store keeps them all). */
  entriesPerAccountMax: 100_000,
});

/** Per-account entry history, built from the entries of the event stream. */
export class LedgerHistory {
  private readonly byAccount = new Map<number, LedgerEntry[]>();
  private readonly byId = new Map<number, LedgerEntry>();
  private lastId = 0;

  /** Adds every entry among `count` records of `data`. */
  addRecords(data: Float64Array, count: number): void {
    for (let i = 0; i < count; i++) if (isEntryRecord(data, i)) this.add(decodeEntry(data, i));
  }

  add(entry: LedgerEntry): void {
    if (entry.entryId <= this.lastId) throw new Error(`entry ${entry.entryId} arrived after ${this.lastId}`);
    this.lastId = entry.entryId;
    this.byId.set(entry.entryId, entry);
    const seen = new Set<number>();
    for (const line of entry.lines) {
      if (seen.has(line.account)) continue;
      seen.add(line.account);
      let list = this.byAccount.get(line.account);
      if (list === undefined) {
        list = [];
        this.byAccount.set(line.account, list);
      }
      list.push(entry);
      if (list.length > HISTORY_LIMITS.entriesPerAccountMax) {
        const dropped = list.shift();
        if (dropped !== undefined && !this.referenced(dropped)) this.byId.delete(dropped.entryId);
      }
    }
  }

  /** The account's entries, oldest first; the last `limit` of them when a limit is given. */
  entriesOf(account: number, limit = Infinity): readonly LedgerEntry[] {
    const list = this.byAccount.get(account) ?? [];
    return limit >= list.length ? list.slice() : list.slice(list.length - limit);
  }

  entry(entryId: number): LedgerEntry | undefined {
    return this.byId.get(entryId);
  }

  get size(): number {
    return this.byId.size;
  }

  private referenced(entry: LedgerEntry): boolean {
    return entry.lines.some((l) => this.byAccount.get(l.account)?.includes(entry) === true);
  }
}
