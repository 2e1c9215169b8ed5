/**
 * The journal's errors and notices, created in one place. An error has a stable `code` that callers branch on
 * (the messages may change; the codes do not). A notice reports something recovery repaired on its own, such
 * as a torn record at the end of the journal, so that it is logged instead of passing silently.
 */

export const JournalErrorCode = {
  /** The writer stopped after a write or sync failed; no further command is accepted. */
  Failed: 'JOURNAL_FAILED',
  /** A record, segment or snapshot that should be valid is not; the message names the file and offset. */
  Corrupt: 'JOURNAL_CORRUPT',
  /** Records asked for are not in the journal (before its first segment, or past its end). */
  Missing: 'JOURNAL_MISSING',
  /** A file written by a format version this build does not read. */
  Version: 'JOURNAL_VERSION',
  /** Command bytes that do not decode: wrong kind, wrong length, an invalid flag, string or mask. */
  CommandMalformed: 'JOURNAL_COMMAND_MALFORMED',
  /** A command the codec cannot record faithfully (an unknown key, a string too long, a wrong type). */
  CommandUnencodable: 'JOURNAL_COMMAND_UNENCODABLE',
  /** More bytes wait for the next batch than the writer's bound allows; the caller should slow down. */
  Busy: 'JOURNAL_BUSY',
  /** The writer was closed. */
  Closed: 'JOURNAL_CLOSED',
  /** An option or an argument out of its range (including a clock that returns a non-integer). */
  InvalidArgument: 'JOURNAL_INVALID_ARGUMENT',
  /** Another live process (or another engine in this one) holds the data directory's LOCK file. */
  DataDirLocked: 'DATA_DIR_LOCKED',
  /** A write was attempted through a read-only file-system port (a bug in a read-only path). */
  ReadOnly: 'JOURNAL_READ_ONLY',
} as const;
export type JournalErrorCode = (typeof JournalErrorCode)[keyof typeof JournalErrorCode];

export interface JournalErrorDetails {
  /** The file the problem is in, when there is one. */
  file?: string;
  /** The byte offset in that file. */
  offset?: number;
  cause?: unknown;
}

export class JournalError extends Error {
  override readonly name = 'JournalError';
  readonly code: JournalErrorCode;
  readonly file: string | undefined;
  readonly offset: number | undefined;

  constructor(code: JournalErrorCode, message: string, details: JournalErrorDetails = {}) {
    const where =
      details.file === undefined
        ? ''
        : ` (${details.file}${details.offset === undefined ? '' : ` at byte ${details.offset}`})`;
    super(`${code}: ${message}${where}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.file = details.file;
    this.offset = details.offset;
  }
}

export const JournalNoticeCode = {
  /** A torn or incomplete record at the very end of the last segment was cut off. */
  TailTruncated: 'JOURNAL_TAIL_TRUNCATED',
  /** A last segment whose header never became durable (a crash while it was created) was removed. */
  SegmentRemoved: 'JOURNAL_SEGMENT_REMOVED',
  /** A snapshot that does not verify was passed over for an older one (or for a full replay). */
  SnapshotRejected: 'SNAPSHOT_REJECTED',
  /** A temporary snapshot file left by a crash during a snapshot write was removed. */
  SnapshotTempRemoved: 'SNAPSHOT_TEMP_REMOVED',
} as const;
export type JournalNoticeCode = (typeof JournalNoticeCode)[keyof typeof JournalNoticeCode];

export interface JournalNotice {
  code: JournalNoticeCode;
  file: string;
  /** Where in the file it starts (0 for a whole file). */
  offset: number;
  /** Bytes cut or removed (0 when none). */
  bytes: number;
  message: string;
}

export type NoticeSink = (notice: JournalNotice) => void;

/** Crashes on a broken invariant: a bug, not an expected failure, so it is a plain Error and never caught. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`journal invariant broken: ${message}`);
}

/** The errno code of a node error (ENOSPC, EIO, ENOENT), or ''. */
export function errnoCode(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return '';
}

export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
