/**
 * The on-disk layout of journal segments and snapshots, written down in docs/journal-format.md. Everything is
 * little-endian. Sequence numbers, times and lengths above 2^32 are float64 holding an exact integer (at most
 * 2^53), the same numbers the core uses, so no BigInt is needed on either side.
 *
 * Segment: a 32-byte header, then records back to back.
 *   header: u32 magic "RJNL" | u16 format version | u16 header bytes (32) | f64 first sequence number |
 *           f64 time floor (µs: the time of the record before this segment, 0 for none) | 4 bytes zero |
 *           u32 CRC32C of the 28 bytes before it
 *   record: u32 payload bytes | u32 CRC32C of the payload | payload
 *   payload: f64 sequence number | f64 time (µs) | command (command-codec.ts)
 *
 * Snapshot: a 32-byte header, then the payload.
 *   header: u32 magic "RSNP" | u16 format version | u16 header bytes (32) | f64 sequence number covered |
 *           f64 payload bytes | u32 CRC32C of the payload | u32 CRC32C of the 28 bytes before it
 */
import { crc32c } from './crc32c.js';

/** "RJNL" read as a little-endian u32. */
export const SEGMENT_MAGIC = 0x4c4e4a52;
/** "RSNP" read as a little-endian u32. */
export const SNAPSHOT_MAGIC = 0x504e5352;
export const SEGMENT_VERSION = 1;
export const SNAPSHOT_VERSION = 1;
export const HEADER_BYTES = 32;
/** Offset of the header's own checksum, which covers every byte before it. */
const HEADER_CRC_AT = 28;

/** u32 payload length + u32 payload CRC32C. */
export const FRAME_BYTES = 8;
/** f64 seq + f64 timeUs at the start of every payload. */
export const RECORD_HEAD_BYTES = 16;
/** A payload holds at least the head and a command's kind byte. */
export const PAYLOAD_BYTES_MIN = RECORD_HEAD_BYTES + 1;

const SEQ_DIGITS = 20;
const SEGMENT_NAME = /^journal-(\d{20})\.seg$/;
const SNAPSHOT_NAME = /^snapshot-(\d{20})\.snap$/;

/** journal-<first seq, 20 digits>.seg: names sort in sequence order. */
export function segmentFileName(firstSeq: number): string {
  return `journal-${String(firstSeq).padStart(SEQ_DIGITS, '0')}.seg`;
}

export function snapshotFileName(seq: number): string {
  return `snapshot-${String(seq).padStart(SEQ_DIGITS, '0')}.snap`;
}

/** The sequence number in a segment's name, or -1 when the name is not a segment's. */
export function parseSegmentFileName(name: string): number {
  return parseSeq(SEGMENT_NAME.exec(name));
}

export function parseSnapshotFileName(name: string): number {
  return parseSeq(SNAPSHOT_NAME.exec(name));
}

function parseSeq(match: RegExpExecArray | null): number {
  if (match === null) return -1;
  const seq = Number(match[1]);
  return Number.isSafeInteger(seq) ? seq : -1;
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Writes a segment header at `at`. The time floor carries the previous segment's last time into this one, so
 * that a segment with no records yet (or none left after a torn tail) still tells the writer where times stand.
 */
export function writeSegmentHeader(
  bytes: Uint8Array,
  at: number,
  firstSeq: number,
  timeFloorUs: number,
): void {
  const v = viewOf(bytes);
  bytes.fill(0, at, at + HEADER_BYTES);
  v.setUint32(at, SEGMENT_MAGIC, true);
  v.setUint16(at + 4, SEGMENT_VERSION, true);
  v.setUint16(at + 6, HEADER_BYTES, true);
  v.setFloat64(at + 8, firstSeq, true);
  v.setFloat64(at + 16, timeFloorUs, true);
  v.setUint32(at + HEADER_CRC_AT, crc32c(bytes, at, at + HEADER_CRC_AT), true);
}

/**
 * What a header says, or why it is not a valid one. `word` is the f64 at offset 16: a segment's time floor, a
 * snapshot's payload length.
 */
export type HeaderCheck =
  | { ok: true; seq: number; word: number; payloadCrc: number }
  | { ok: false; version: boolean; problem: string };

/**
 * Checks a segment or snapshot header at `at` (the caller has made sure 32 bytes are there). `version` in a
 * failure says the header is intact but of another format version, which is not corruption.
 */
export function checkHeader(bytes: Uint8Array, at: number, magic: number, version: number): HeaderCheck {
  const v = viewOf(bytes);
  if (v.getUint32(at, true) !== magic) return { ok: false, version: false, problem: 'bad magic number' };
  if (v.getUint32(at + HEADER_CRC_AT, true) !== crc32c(bytes, at, at + HEADER_CRC_AT)) {
    return { ok: false, version: false, problem: 'header checksum mismatch' };
  }
  const found = v.getUint16(at + 4, true);
  if (found !== version) {
    return { ok: false, version: true, problem: `format version ${found}, this build reads ${version}` };
  }
  if (v.getUint16(at + 6, true) !== HEADER_BYTES)
    return { ok: false, version: false, problem: 'bad header size' };
  const seq = v.getFloat64(at + 8, true);
  if (!Number.isSafeInteger(seq) || seq < 0)
    return { ok: false, version: false, problem: 'bad sequence number' };
  const word = v.getFloat64(at + 16, true);
  if (!Number.isSafeInteger(word) || word < 0) {
    return {
      ok: false,
      version: false,
      problem: magic === SEGMENT_MAGIC ? 'bad time floor' : 'bad payload length',
    };
  }
  if (magic === SEGMENT_MAGIC) {
    if (v.getUint32(at + 24, true) !== 0)
      return { ok: false, version: false, problem: 'reserved bytes not zero' };
    return { ok: true, seq, word, payloadCrc: 0 };
  }
  return { ok: true, seq, word, payloadCrc: v.getUint32(at + 24, true) };
}

export function writeSnapshotHeader(bytes: Uint8Array, seq: number, payload: Uint8Array): void {
  const v = viewOf(bytes);
  bytes.fill(0, 0, HEADER_BYTES);
  v.setUint32(0, SNAPSHOT_MAGIC, true);
  v.setUint16(4, SNAPSHOT_VERSION, true);
  v.setUint16(6, HEADER_BYTES, true);
  v.setFloat64(8, seq, true);
  v.setFloat64(16, payload.length, true);
  v.setUint32(24, crc32c(payload), true);
  v.setUint32(HEADER_CRC_AT, crc32c(bytes, 0, HEADER_CRC_AT), true);
}
