/** The market data store: day-partitioned tick and bar tables, and the bounded writer that fills them. */
export {
  MdStoreError,
  MdStoreErrorCode,
  TIME_US_MAX,
  barRowOf,
  tickRowOf,
  type BarRow,
  type TickRow,
} from './rows.js';
export {
  DAY_US,
  MarketDataStore,
  dayText,
  type StoredBar,
  type StoredTick,
  type WriteBatch,
  type WriteOrder,
  type WriteResult,
} from './sql.js';
export { TickCopyBuffer, slotRow } from './copy.js';
export { MD_WRITER_DEFAULTS, mdWriterLimits, type MdWriterLimits } from './limits.js';
export { MarketDataWriter, type MdWriterOptions, type MdWriterStats } from './writer.js';
