/**
 * How committed entries appear in the event stream: fixed records of 16 numbers, like the book's events, so
 * that posting allocates nothing. A general entry is one EntryPosted record carrying up to four lines,
 * followed by EntryLines records of up to seven lines each; a line is (ledger account, signed amount, debit
 * positive). The order path's two entry shapes have compact records whose lines follow from their fields:
 * HoldPosted (a hold or its release) and SettlementPosted (a trade). history.ts expands all three into lines.
 *
 * Record type numbers are shared with the book's events (1-12) and the core's (32-63); the ledger owns 40-47.
 */
export const RecordType = { EntryPosted: 40, EntryLines: 41, HoldPosted: 42, SettlementPosted: 43 } as const;

export const E_ENTRY_ID = 1;
export const E_TIME = 2;
export const E_KIND = 3;
export const E_REF = 4;
export const E_REF2 = 5;
export const E_LINE_COUNT = 6;
export const E_FIRST_LINE = 8;
export const ENTRY_HEADER_LINES = 4;

export const L_ENTRY_ID = 1;
export const L_FIRST_LINE = 2;
export const ENTRY_LINES_PER_RECORD = 7;

/** Lines one entry may have: a header and one continuation record. A settlement needs at most eight. */
export const ENTRY_LINES_MAX = ENTRY_HEADER_LINES + ENTRY_LINES_PER_RECORD;

/** Numbers per record, equal to the book's EVENT_STRIDE: entries and events share one buffer. */
export const RECORD_STRIDE = 16;

// HoldPosted: E_ENTRY_ID, E_TIME, E_KIND (Hold or Release), E_REF (the order), then:
/** The customer's available account; the held account is the next one. */
export const H_AVAILABLE = 5;
export const H_AMOUNT = 6;

// SettlementPosted: customer accounts are available accounts (held is +1); fee income's next is rebate expense.
export const S_ENTRY_ID = 1;
export const S_TIME = 2;
export const S_BUY_ORDER = 3;
export const S_SELL_ORDER = 4;
export const S_BUYER_QUOTE = 5;
export const S_RELEASE = 6;
export const S_REFUND = 7;
export const S_SELLER_QUOTE = 8;
export const S_SELLER_NET = 9;
export const S_SELLER_BASE = 10;
export const S_BASE = 11;
export const S_BUYER_BASE = 12;
export const S_FEE_INCOME = 13;
export const S_INCOME = 14;
export const S_REBATES = 15;
