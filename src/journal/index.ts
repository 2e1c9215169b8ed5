/**
 * The durable journal's storage layer: the sequencer and group-commit writer, segment files of checksummed
 * records, the recovery scan, the command codec and atomic snapshots. Pure infrastructure: it knows the core's
 * command types and node's file system, nothing else of ours. Format: docs/journal-format.md.
 */
export { openJournal, type JournalOptions, type ReplayRequest, type OpenedJournal } from './journal.js';
export {
  JournalWriter,
  DEFAULT_DURABILITY,
  SYNC_SECONDS_BUCKETS,
  syncBucketOf,
  type DurabilityPolicy,
  type AppendResult,
  type WriterStats,
} from './writer.js';
export {
  JournalReader,
  type RecordVisitor,
  type ScanResult,
  type SegmentFile,
  type SegmentSummary,
  type SegmentVisitor,
  type TornTail,
} from './reader.js';
export { JournalTail } from './tail.js';
export {
  SnapshotStore,
  type SnapshotStoreOptions,
  type SnapshotLoad,
  type LoadedSnapshot,
  type SnapshotRejection,
} from './snapshots.js';
export {
  encodeCommand,
  decodeCommand,
  commandBytes,
  COMMAND_BYTES_MAX,
  COMMAND_KIND,
} from './command-codec.js';
export { executeByKind, type CommandExecutor } from './dispatch.js';
export { frameCommand, stampRecord, decodeFramedCommands, RECORD_BYTES_MAX } from './record.js';
export { crc32c, crc32cOf, crc32cUpdate } from './crc32c.js';
export {
  JournalError,
  JournalErrorCode,
  JournalNoticeCode,
  type JournalNotice,
  type NoticeSink,
} from './errors.js';
export { blockingNodeFs, nodeFs, readOnlyFs, type JournalFs, type OpenMode } from './fs-port.js';
export { JOURNAL_LIMITS } from './limits.js';
export { segmentFileName, snapshotFileName } from './format.js';
export { DirLock, LOCK_FILE_NAME, readLockHolder, type LockHolder } from './dir-lock.js';
