/**
 * The audit trail: events (who, what, when, on what, result) in a SHA-256 hash chain in the query store,
 * written by a bounded queue in batches, and checked link by link. docs/audit.md describes the form.
 */
export {
  CANONICAL_VERSION,
  GENESIS_HASH,
  canonicalBytes,
  canonicalObject,
  canonicalJson,
  chainEvents,
  chainHash,
  makeEvent,
  toDetails,
  type Actor,
  type AuditEventInput,
  type AuditRecord,
  type DetailObject,
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
export { AuditLog, recordOfRow, type ChainHead } from './log.js';
export {
  AuditError,
  AuditErrorCode,
  AuditWriter,
  type AuditSink,
  type AuditWriterStats,
  type Ticket,
} from './writer.js';
export { AUDIT_LIMITS, writerLimits, type WriterLimits } from './limits.js';
