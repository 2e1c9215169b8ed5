/**
 * Snapshots of the whole exchange core, for recovery: the bytes of `encodeCoreSnapshot` restore, through
 * `decodeCoreSnapshot`, a core that executes the commands that follow exactly as the original would (the same
 * records byte for byte, the same state hash). The payload is the core's raw state, each part written by the
 * class that owns it (`writeSnapshot` / `readSnapshot`), framed here:
 *
 *   magic "RLCS" | u32 version | u32 total length | core state ... | u32 CRC-32 of everything before it
 *
 * All integers little-endian. The checksum catches corruption before any of it is parsed; the parts then check
 * their own structure as they read, so malformed input throws a SnapshotError and never yields a core. Files,
 * their atomic writes and the journal position a snapshot belongs to are the journal's.
 */
import { crc32 } from 'node:zlib';
import { SnapshotError, SnapshotReader, SnapshotWriter } from '../collections/index.js';
import { ExchangeCore, type CoreOptions } from './core.js';

/** The payload format; a reader accepts only its own. Bump it with any change to what a part writes. */
export const CORE_SNAPSHOT_VERSION = 2;
const MAGIC = 'RLCS';
/** Magic, version and total length. */
const HEADER_BYTES = 12;
const CHECKSUM_BYTES = 4;

/** The core's state, between commands, as bytes. */
export function encodeCoreSnapshot(core: ExchangeCore): Uint8Array {
  const w = new SnapshotWriter();
  w.tag(MAGIC);
  w.u32(CORE_SNAPSHOT_VERSION);
  w.u32(0); // the total length, set below
  core.writeSnapshot(w);
  w.u32(0); // the checksum, set below
  const out = w.bytes().slice();
  const view = new DataView(out.buffer);
  view.setUint32(8, out.length, true);
  const body = out.length - CHECKSUM_BYTES;
  view.setUint32(body, crc32(out.subarray(0, body)), true);
  return out;
}

/**
 * A new core holding the state in `bytes` (from encodeCoreSnapshot). `options` size only what the core creates
 * from now on (the books of instruments defined later): restored books and the event buffer keep the sizes
 * they had. Throws a SnapshotError for bytes that are truncated, corrupted, of another version or
 * inconsistent; never returns a partly restored core.
 */
export function decodeCoreSnapshot(bytes: Uint8Array, options: CoreOptions = {}): ExchangeCore {
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES)
    throw new SnapshotError(`truncated: ${bytes.length} bytes is shorter than the header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== MAGIC) throw new SnapshotError(`not a core snapshot (magic ${JSON.stringify(magic)})`);
  const version = view.getUint32(4, true);
  if (version !== CORE_SNAPSHOT_VERSION)
    throw new SnapshotError(`version ${version}; this build reads version ${CORE_SNAPSHOT_VERSION}`);
  const length = view.getUint32(8, true);
  if (length !== bytes.length)
    throw new SnapshotError(
      `${length < bytes.length ? 'trailing bytes' : 'truncated'}: ${bytes.length} bytes of ${length}`,
    );
  const body = bytes.length - CHECKSUM_BYTES;
  const stored = view.getUint32(body, true);
  const computed = crc32(bytes.subarray(0, body));
  if (stored !== computed)
    throw new SnapshotError(`corrupted: checksum ${hex(computed)} where ${hex(stored)} was written`);
  // The reader starts at byte 0, so that the positions its errors name are the snapshot's own.
  const r = new SnapshotReader(bytes.subarray(0, body));
  r.tag(MAGIC);
  r.u32();
  r.u32();
  const core = new ExchangeCore(options);
  try {
    core.readSnapshot(r);
  } catch (e) {
    // A check the parts do not make themselves (an allocation, a lookup) still says it was the snapshot.
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError(`malformed near byte ${r.offset}: ${e instanceof Error ? e.message : String(e)}`);
  }
  r.end();
  return core;
}

function hex(x: number): string {
  return x.toString(16).padStart(8, '0');
}
