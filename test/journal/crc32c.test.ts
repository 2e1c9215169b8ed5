/** CRC32C against published check values, a bit-at-a-time reference, and its own incremental form. */
import { describe, it } from 'node:test';
import { equal } from 'node:assert/strict';
import fc from 'fast-check';
import { crc32c, crc32cUpdate } from '../../src/journal/index.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The definition, one bit at a time: slow and obviously right. */
function reference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  void it('gives the standard check value and the RFC 3720 test vectors', () => {
    equal(crc32c(ascii('123456789')), 0xe3069283);
    equal(crc32c(new Uint8Array(0)), 0);
    equal(crc32c(ascii('a')), 0xc1d04330);
    equal(crc32c(ascii('The quick brown fox jumps over the lazy dog')), 0x22620404);
    // RFC 3720 (iSCSI), appendix B.4.
    equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });

  void it('agrees with the bit-at-a-time definition on any bytes and any sub-range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        equal(crc32c(bytes, start, end), reference(bytes.subarray(start, end)));
      }),
      { numRuns: 500 },
    );
  });

  void it('continues incrementally: crc32cUpdate(crc32c(a), b) is crc32c(a + b)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
        const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort(
          (x, y) => x - y,
        );
        let crc = 0;
        let from = 0;
        for (const p of [...points, bytes.length]) {
          crc = crc32cUpdate(crc, bytes, from, p);
          from = p;
        }
        equal(crc, crc32c(bytes));
      }),
      { numRuns: 500 },
    );
  });
});
