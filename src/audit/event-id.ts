/**
 * Audit event ids: UUIDs of version 7 (RFC 9562, section 5.7): the Unix time in milliseconds in the first 48
 * bits, then random bits. Ids made later sort after the earlier ones (to the millisecond), so each new row of
 * `audit_events` lands at the right edge of its unique index on event_id instead of at a random place: a
 * random (version 4) id cost PGlite a B-tree insertion somewhere in the index for every projected event,
 * about a fifth of its work per row (docs/performance.md). The ids stay unique as version 4 ids are: 74
 * random bits per millisecond.
 */
import { randomFillSync } from 'node:crypto';

/** The ASCII codes of the two lower-case hex digits of each byte value, high digit first. */
const HEX_CODES = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  HEX_CODES[2 * i] = '0123456789abcdef'.charCodeAt(i >>> 4);
  HEX_CODES[2 * i + 1] = '0123456789abcdef'.charCodeAt(i & 15);
}

/**
 * The id's 36 characters are written here and read out as one string: joining 21 pieces made a string per
 * piece (about 450 bytes an id, for the one that remained).
 */
const text = Buffer.alloc(36, 0x2d);
/** Where each of the 16 bytes' two digits go in the text (the dashes stay where they are). */
const AT: readonly number[] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

function putHex(i: number, byte: number): void {
  const at = AT[i];
  text[at] = HEX_CODES[2 * byte];
  text[at + 1] = HEX_CODES[2 * byte + 1];
}

/** Random bytes drawn in blocks (one system call per 256 ids rather than one per id). */
const POOL_BYTES = 10 * 256;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;

/** A version 7 UUID for the time `nowMs` (milliseconds since the Unix epoch; the clock's by default). */
export function auditEventId(nowMs: number = Date.now()): string {
  if (poolAt + 10 > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const r = poolAt;
  poolAt += 10;
  // 48 bits of milliseconds: the upper 16 and the lower 32, each exact in a double.
  const ms = Math.max(0, Math.floor(nowMs));
  const high = Math.floor(ms / 2 ** 32) & 0xffff;
  const low = ms >>> 0;
  putHex(0, high >>> 8);
  putHex(1, high & 0xff);
  putHex(2, low >>> 24);
  putHex(3, (low >>> 16) & 0xff);
  putHex(4, (low >>> 8) & 0xff);
  putHex(5, low & 0xff);
  putHex(6, 0x70 | (pool[r] & 0x0f)); // version 7
  putHex(7, pool[r + 1]);
  putHex(8, 0x80 | (pool[r + 2] & 0x3f)); // variant 10
  for (let i = 3; i < 10; i++) putHex(6 + i, pool[r + i]);
  return text.toString('latin1', 0, 36);
}
