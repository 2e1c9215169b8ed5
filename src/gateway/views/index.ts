/** The gateway's read side, projected from the engine's durable events (pure, no I/O). */
export {
  Views,
  type BatchChanges,
  type BookChange,
  type FillView,
  isTerminal,
  type InstrumentStats,
  type Level,
  type OrderStatus,
  type OrderView,
  type TradeView,
  type VenueStats,
  type ViewOptions,
} from './views.js';
export { VIEW_LIMITS } from './limits.js';
export { EntryHistory, type EntryView, type EntryLineView } from './entries.js';
export {
  REPLAY_PROGRESS_MS,
  progressMessage,
  replayJournalInto,
  type ReplayListener,
  type ReplayProgress,
  type ReplayReport,
} from './replay.js';
