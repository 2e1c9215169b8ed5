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
export { CoreReject, coreRejectName } from './codes.js';
export { CoreEventType, KillReason, F_INSTRUMENT, decodeStream, decodeRecord } from './events.js';
export type { CoreEvent, StreamEvent } from './events.js';
export { MarkMethod, INSTRUMENT_DEFAULTS, INSTRUMENT_LIMITS, type InstrumentSpec } from './instruments.js';
export { encodeCoreSnapshot, decodeCoreSnapshot, CORE_SNAPSHOT_VERSION } from './snapshot.js';
export { SnapshotError } from '../collections/index.js';
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
