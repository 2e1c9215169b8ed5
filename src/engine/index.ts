/**
 * The runtime that hosts the core and the journal: a worker thread that sequences, journals and executes
 * commands, and the main thread's handle on it. Recovery, group commit and snapshots live here.
 */
export {
  Engine,
  EngineError,
  Receipt,
  type BatchListener,
  type CommandResult,
  type DurableBatch,
} from './engine.js';
export { ENGINE_LIMITS, EngineErrorCode } from './limits.js';
export { errorInfo as errorInfoOf } from './protocol.js';
export {
  EngineHost,
  ENGINE_DEFAULTS,
  RefusedBatch,
  wallClockUs,
  type BatchOutcome,
  type EngineHostOptions,
} from './host.js';
export {
  recoverState,
  loadCoreSnapshot,
  decodeCoreOrWhyNot,
  type RecoverOptions,
  type RecoveredState,
  type CoreSnapshotLoad,
} from './recover.js';
export type { EnginePort, EngineStats } from './port.js';
export type {
  Checkpoint,
  EngineConfig,
  RecoveryReport,
  ReportQuery,
  ReportAnswer,
  AccountBalance,
  AccountReport,
  AccountsPage,
  InstrumentState,
  VenueReport,
  Statements,
} from './protocol.js';
