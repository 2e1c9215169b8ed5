/**
 * Every bound of the journal in one place, checked against each other when the module loads. Options that
 * callers may set (segment size, pending bytes, sync interval, snapshots kept) are validated against these.
 */
import { assert } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const JOURNAL_LIMITS = Object.freeze({
  /** Bytes of one encoded command, at most: a defineInstrument with every field and a 255-byte symbol is under 400. */
  commandBytesMax: 512,
  /** UTF-8 bytes of a string field (asset code, symbol); the core allows 32 characters. */
  stringBytesMax: 255,
  /** Bytes of a record's payload (sequence number, time, command). Anything longer is corruption. */
  recordPayloadBytesMax: 16 + 512,
  segmentBytesDefault: 64 * MiB,
  /** Small segments only make sense in tests (rolling); below this a segment would hold a handful of records. */
  segmentBytesMin: 4 * KiB,
  segmentBytesMax: 1 * GiB,
  /** Encoded bytes waiting for the next batch while one is being written; appends beyond it are refused (busy). */
  pendingBytesDefault: 64 * MiB,
  pendingBytesMin: 64 * KiB,
  pendingBytesMax: 512 * MiB,
  intervalMsMin: 1,
  intervalMsMax: 10_000,
  /** A segment file is read whole; a batch may overrun the segment size once, by at most the pending bytes. */
  segmentFileBytesMax: 1 * GiB + 512 * MiB,
  snapshotsKeptDefault: 3,
  snapshotsKeptMax: 1000,
  /** A snapshot is read whole into one buffer. */
  snapshotBytesMax: 2 * GiB - 1,
});

const L = JOURNAL_LIMITS;
assert(L.recordPayloadBytesMax === 16 + L.commandBytesMax, 'a payload is 16 bytes of header plus a command');
assert(L.stringBytesMax + 16 * 8 < L.commandBytesMax, 'the largest command fits commandBytesMax');
assert(L.segmentBytesMin > 32 + 8 + L.recordPayloadBytesMax, 'a segment holds at least one record');
assert(
  L.segmentBytesMin <= L.segmentBytesDefault && L.segmentBytesDefault <= L.segmentBytesMax,
  'segment sizes',
);
assert(
  L.pendingBytesMin <= L.pendingBytesDefault && L.pendingBytesDefault <= L.pendingBytesMax,
  'pending sizes',
);
assert(L.pendingBytesMin > 8 + L.recordPayloadBytesMax, 'one record fits the pending bytes');
assert(
  L.segmentFileBytesMax >= L.segmentBytesMax + L.pendingBytesMax,
  'a full segment plus a batch is readable',
);
assert(L.snapshotsKeptDefault >= 1 && L.snapshotsKeptDefault <= L.snapshotsKeptMax, 'snapshots kept');
