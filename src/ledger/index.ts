/** The double-entry ledger: accounts, entries, holds, positions and the venue's statements. Pure. */
export { Ledger, LEDGER_LIMITS, type EntrySink, type LedgerAccountInfo } from './ledger.js';
export {
  AccountClass,
  LedgerAccountKind,
  EntryKind,
  classOfKind,
  isDebitNormal,
  kindName,
  entryKindName,
} from './chart.js';
export {
  RecordType as LedgerRecordType,
  RECORD_STRIDE,
  S_BUY_ORDER,
  S_SELL_ORDER,
  S_RELEASE,
  S_REFUND,
  S_SELLER_NET,
} from './records.js';
export {
  LedgerHistory,
  decodeEntry,
  EntryDecoder,
  isEntryRecord,
  isEntryContinuation,
  HISTORY_LIMITS,
  type LedgerEntry,
  type LedgerLine,
} from './history.js';
export {
  trialBalance,
  balanceSheet,
  incomeStatement,
  venueStatements,
  type VenueStatements,
  type TrialBalance,
  type TrialBalanceRow,
  type BalanceSheet,
  type IncomeStatement,
} from './statements.js';
export { Positions, POSITION_LIMITS, type PositionView } from './positions.js';
export { PPM, feeOf, isPositiveAmount, mulExact, addExact, mulDivFloor } from './money.js';
export { LedgerReject, ledgerRejectName } from './codes.js';
