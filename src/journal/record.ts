/**
 * One journal record in memory, as the writer puts it on disk (format.ts): u32 payload bytes, u32 CRC32C of
 * the payload, then the payload: f64 sequence number, f64 time, the encoded command.
 *
 * Framing and stamping are two steps so that the encoding can happen where the command arrives (the engine's
 * main thread frames each submitted command, checking it can be journaled at all) while the sequence number,
 * the time and the checksum over them are set by the sequencer, in the writer, when the record joins a batch.
 */
import type { Command } from '../core/index.js';
import { COMMAND_BYTES_MAX, commandKindAt, decodeCommand, encodeCommand } from './command-codec.js';
import { crc32cOf } from './crc32c.js';
import { JournalError, JournalErrorCode, assert } from './errors.js';
import { FRAME_BYTES, PAYLOAD_BYTES_MIN, RECORD_HEAD_BYTES, viewOf } from './format.js';
import { JOURNAL_LIMITS } from './limits.js';

/** Bytes one framed record may take: frameCommand needs this much room after `at`. */
export const RECORD_BYTES_MAX = FRAME_BYTES + RECORD_HEAD_BYTES + COMMAND_BYTES_MAX;

/**
 * Writes `command` as a record at out[at...] with its length set and its sequence number, time and checksum
 * left for stampRecord; returns the offset after it. Throws JOURNAL_COMMAND_UNENCODABLE (having written
 * garbage past `at`, which the caller discards) for a command the codec cannot give back as it is.
 */
export function frameCommand(command: Command, out: Uint8Array, at: number): number {
  assert(at + RECORD_BYTES_MAX <= out.length, 'frameCommand needs RECORD_BYTES_MAX bytes of room');
  const p = at + FRAME_BYTES;
  const end = encodeCommand(command, out, p + RECORD_HEAD_BYTES);
  const length = end - p;
  // The reader checks the same two bounds on every record it reads back.
  assert(length >= PAYLOAD_BYTES_MIN, 'a record holds its head and a kind byte');
  assert(length <= JOURNAL_LIMITS.recordPayloadBytesMax, 'a record fits the payload limit');
  out[at] = length & 0xff;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = (length >>> 16) & 0xff;
  out[at + 3] = length >>> 24;
  return end;
}

/** Sets the sequence number and time of the record in bytes[at, end) and its checksum over them. */
export function stampRecord(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  end: number,
  seq: number,
  timeUs: number,
): void {
  const p = at + FRAME_BYTES;
  view.setFloat64(p, seq, true);
  view.setFloat64(p + 8, timeUs, true);
  view.setUint32(at + 4, crc32cOf(bytes, view, p, end), true);
}

/**
 * The commands of `count` records framed by frameCommand, back to back in `records` (stamped or not; the
 * commands' times are left 0). When `kinds` is given, kinds[i] is set to commands[i]'s kind byte (for
 * executeByKind); it must hold `count`. Throws JOURNAL_INVALID_ARGUMENT for bytes that are not `count` such records and
 * JOURNAL_COMMAND_MALFORMED for a command that does not decode.
 */
export function decodeFramedCommands(
  records: Uint8Array,
  count: number,
  kinds: Uint8Array | null = null,
): Command[] {
  if (kinds !== null && kinds.length < count) {
    throw new JournalError(
      JournalErrorCode.InvalidArgument,
      `room for ${kinds.length} kinds, ${count} records`,
    );
  }
  const view = viewOf(records);
  const commands = new Array<Command>(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + FRAME_BYTES + PAYLOAD_BYTES_MIN > records.length) {
      throw new JournalError(JournalErrorCode.InvalidArgument, `${count} records announced, ${i} found`);
    }
    const end = at + FRAME_BYTES + view.getUint32(at, true);
    if (end > records.length || end - at - FRAME_BYTES < PAYLOAD_BYTES_MIN) {
      throw new JournalError(JournalErrorCode.InvalidArgument, `record ${i} is not framed`);
    }
    const start = at + FRAME_BYTES + RECORD_HEAD_BYTES;
    commands[i] = decodeCommand(records, start, end, 0);
    if (kinds !== null) kinds[i] = commandKindAt(records, start);
    at = end;
  }
  if (at !== records.length) {
    throw new JournalError(
      JournalErrorCode.InvalidArgument,
      `${records.length - at} bytes after ${count} records`,
    );
  }
  return commands;
}
