/**
 * The audit trail: events (who, what, when, on what, result) in a SHA-256 hash chain in an append-only file of
 * the data directory, written by a bounded queue in groups, projected into the query store's `audit_events`,
 * and checked link by link. docs/audit.md describes the form.
 */
export { auditEventId } from './event-id.js';
export {
  CANONICAL_VERSION,
  GENESIS_HASH,
  canonicalBytes,
  canonicalEventJson,
  writeCanonicalEventJson,
  canonicalObject,
  chainDigestOf,
  canonicalJson,
  chainEvents,
  chainHash,
  DetailShape,
  makeEvent,
  makeFixedEvent,
  toDetails,
  type Actor,
  type AuditEventInput,
  type AuditRecord,
  type DetailObject,
  type DetailScalar,
  type DetailValue,
  type Outcome,
  type ResultStatus,
  type Target,
} from './event.js';
export {
  ChainChecker,
  describeBreak,
  verifyChain,
  verifySource,
  type ChainBreak,
  type ChainReport,
  type ChainSource,
} from './chain.js';
export { AuditInbox, AuditLog, recordOfRow } from './log.js';
export {
  AUDIT_CHECKPOINT_NAME,
  AUDIT_FILE_NAME,
  AuditFile,
  AuditFileError,
  AuditFileReader,
  auditCheckpointOf,
  auditFilePath,
  auditLineText,
  eventOfJson,
  findAuditLine,
  recordOfLine,
  scanAuditFile,
  type AuditCopyGroup,
  type AuditCopyReceiver,
  type AuditFileEnd,
  type AuditFileHandle,
  type AuditFileOptions,
  type AuditFilePoint,
  type AuditLine,
  type ChainHead,
} from './file.js';
export {
  AuditProjection,
  seedFromTable,
  type AuditProjectionOptions,
  type AuditProjectionSources,
} from './projection.js';
export {
  AuditError,
  AuditErrorCode,
  AuditWriter,
  type AuditSink,
  type AuditWriterStats,
  type Ticket,
} from './writer.js';
export { AUDIT_LIMITS, writerLimits, type WriterLimits } from './limits.js';
export {
  compareTable,
  tailAuditFile,
  verifyAuditFile,
  type FileVerification,
  type TableComparison,
} from './verify.js';
