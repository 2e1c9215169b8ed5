/** The exchange core: commands in, records out; composes the books, the ledger and the risk gate. */
export { ExchangeCore, CORE_LIMITS, protectionPrice } from './core.js';
export type { CoreOptions, AssetInfo, BalanceView, PositionReport, AccountView } from './core.js';
export { AccountType, AccountStatus, CommandCode } from './commands.js';
export type {
  Command,
  CommandName,
  AddAsset,
  CreateAccount,
  SetAccountStatus,
  Deposit,
  Withdraw,
  DefineInstrument,
  PlaceOrder,
  CancelOrder,
  AmendOrder,
  MassCancel,
  AdvanceTime,
  SetRiskLimits,
  SetTradingStatus,
  KillSwitch,
  ResetKillSwitch,
} from './commands.js';
export { CoreReject, coreRejectName, rejectCodeName } from './codes.js';
export { CoreEventType, KillReason, F_INSTRUMENT, C_A, C_B, decodeStream, decodeRecord } from './events.js';
export type { CoreEvent, StreamEvent } from './events.js';
export { MarkMethod, INSTRUMENT_DEFAULTS, INSTRUMENT_LIMITS, type InstrumentSpec } from './instruments.js';
export { encodeCoreSnapshot, decodeCoreSnapshot, CORE_SNAPSHOT_VERSION } from './snapshot.js';
export { SnapshotError } from '../collections/index.js';
// A trade's settlement record, for projections that show what each side paid and received (fees included).
export {
  LedgerRecordType,
  S_BUY_ORDER,
  S_SELL_ORDER,
  S_RELEASE,
  S_REFUND,
  S_SELLER_NET,
} from '../ledger/index.js';
// An entry's records decoded into reused objects (the views copy what they keep of it at once).
export { EntryDecoder, type LedgerEntry } from '../ledger/index.js';
// The venue's statements read the core's ledger; callers outside the core reach them through here.
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
} from '../ledger/index.js';
