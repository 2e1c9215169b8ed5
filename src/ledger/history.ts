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

/**
 * Decodes the entry whose header is record `i` (its continuation records follow it) into objects of its own:
 * EntryDecoder's reading, copied out.
 */
export function decodeEntry(data: Float64Array, i: number): LedgerEntry {
  const e = scratchDecoder.decode(data, i);
  return {
    entryId: e.entryId,
    timeUs: e.timeUs,
    kind: e.kind,
    ref: e.ref,
    ref2: e.ref2,
    lines: e.lines.map((l) => ({ account: l.account, amount: l.amount })),
  };
}

/**
 * The ledger's records read back as entries, into objects reused from one entry to the next (the entry, an
 * array of lines per line count, the lines in it): for a reader that copies what it keeps of an entry before it
 * decodes the next (the gateway's views, on every trade and hold), so that decoding allocates nothing once
 * warm. `decodeEntry` is this reading copied into objects of the caller's.
 */
export class EntryDecoder {
  private readonly entry: LedgerEntry = {
    entryId: 0,
    timeUs: 0,
    kind: EntryKind.Deposit,
    ref: 0,
    ref2: 0,
    lines: [],
  };
  /** Arrays of lines by their length, each with its own line objects. */
  private readonly byLength: LedgerLine[][] = [];

  /** The entry whose header is record `i`, valid until the next call. */
  decode(data: Float64Array, i: number): Readonly<LedgerEntry> {
    const o = i * RECORD_STRIDE;
    const type = data[o];
    if (type === RecordType.HoldPosted) {
      const kind = data[o + E_KIND] as EntryKind;
      const available = data[o + H_AVAILABLE];
      const amount = data[o + H_AMOUNT];
      const lines = this.lines(2);
      put(lines[0], kind === EntryKind.Hold ? available : available + 1, amount);
      put(lines[1], kind === EntryKind.Hold ? available + 1 : available, -amount);
      return this.fill(data[o + E_ENTRY_ID], data[o + E_TIME], kind, data[o + E_REF], 0, lines);
    }
    if (type === RecordType.SettlementPosted) {
      const buyerQuote = data[o + S_BUYER_QUOTE];
      const sellerBase = data[o + S_SELLER_BASE];
      const feeIncome = data[o + S_FEE_INCOME];
      // The lines of decodeSettlement, in its order; those of no amount are left out.
      const release = data[o + S_RELEASE];
      const refund = -data[o + S_REFUND];
      const sellerNet = -data[o + S_SELLER_NET];
      const base = data[o + S_BASE];
      const income = -data[o + S_INCOME];
      const rebates = data[o + S_REBATES];
      const n =
        (release !== 0 ? 1 : 0) +
        (refund !== 0 ? 1 : 0) +
        (sellerNet !== 0 ? 1 : 0) +
        (base !== 0 ? 2 : 0) +
        (income !== 0 ? 1 : 0) +
        (rebates !== 0 ? 1 : 0);
      const lines = this.lines(n);
      let k = 0;
      if (release !== 0) put(lines[k++], buyerQuote + 1, release);
      if (refund !== 0) put(lines[k++], buyerQuote, refund);
      if (sellerNet !== 0) put(lines[k++], data[o + S_SELLER_QUOTE], sellerNet);
      if (base !== 0) {
        put(lines[k++], sellerBase + 1, base);
        put(lines[k++], data[o + S_BUYER_BASE], -base);
      }
      if (income !== 0) put(lines[k++], feeIncome, income);
      if (rebates !== 0) put(lines[k++], feeIncome + 1, rebates);
      return this.fill(
        data[o + S_ENTRY_ID],
        data[o + S_TIME],
        EntryKind.Settlement,
        data[o + S_BUY_ORDER],
        data[o + S_SELL_ORDER],
        lines,
      );
    }
    if (type !== RecordType.EntryPosted) throw new Error(`record ${i} is not an entry`);
    const id = data[o + E_ENTRY_ID];
    const n = data[o + E_LINE_COUNT];
    const lines = this.lines(n);
    let k = 0;
    for (let h = 0; h < n && h < ENTRY_HEADER_LINES; h++) {
      put(lines[k++], data[o + E_FIRST_LINE + 2 * h], data[o + E_FIRST_LINE + 2 * h + 1]);
    }
    let c = o;
    for (let start = ENTRY_HEADER_LINES; start < n; start += ENTRY_LINES_PER_RECORD) {
      c += RECORD_STRIDE;
      if (data[c] !== RecordType.EntryLines || data[c + L_ENTRY_ID] !== id) {
        throw new Error(`entry ${id}: continuation record missing`);
      }
      for (let h = 0; h < ENTRY_LINES_PER_RECORD && start + h < n; h++) {
        put(lines[k++], data[c + L_FIRST_LINE + 2 * h], data[c + L_FIRST_LINE + 2 * h + 1]);
      }
    }
    return this.fill(
      id,
      data[o + E_TIME],
      data[o + E_KIND] as EntryKind,
      data[o + E_REF],
      data[o + E_REF2],
      lines,
    );
  }

  private fill(
    entryId: number,
    timeUs: number,
    kind: EntryKind,
    ref: number,
    ref2: number,
    lines: LedgerLine[],
  ): LedgerEntry {
    const e = this.entry;
    e.entryId = entryId;
    e.timeUs = timeUs;
    e.kind = kind;
    e.ref = ref;
    e.ref2 = ref2;
    e.lines = lines;
    return e;
  }

  /** The array of `n` lines (made once per length). */
  private lines(n: number): LedgerLine[] {
    let lines = this.byLength[n];
    if (lines === undefined) {
      lines = [];
      for (let k = 0; k < n; k++) lines.push({ account: 0, amount: 0 });
      this.byLength[n] = lines;
    }
    return lines;
  }
}

/** decodeEntry's decoder (its result is copied out before the next call). */
const scratchDecoder = new EntryDecoder();

function put(line: LedgerLine, account: number, amount: number): void {
  line.account = account;
  line.amount = amount;
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
