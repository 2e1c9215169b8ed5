/**
 * The query tables (orders, trades, ledger entries and postings, ledger accounts, balances, accounts,
 * instruments, assets) as a projection of the journal into the query store, idempotent by sequence number.
 */
export { QueryTableProjector, type ProjectorOptions, type ProjectorStats } from './projector.js';
export { PROJECTION_LIMITS, type ProjectionLimits } from './limits.js';
export {
  RowMapper,
  rowCount,
  LIVE_STATUSES,
  type RowBatch,
  type OrderRow,
  type OrderStatus,
  type TradeRow,
  type EntryRow,
  type PostingRow,
  type BalanceRow,
  type LedgerAccountRow,
  type AccountRow,
  type InstrumentRow,
  type AssetRow,
} from './rows.js';
export { CheckpointConflict, loadLiveOrders, readCheckpoint, writeBatch } from './sql.js';
