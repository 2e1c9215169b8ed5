/**
 * TextBytes against the strings it stands for: `text` as the string itself, `json` as JSON.stringify, `int`
 * as String, for arbitrary strings (lone surrogates, control characters, quotes, long texts) and numbers; read
 * out as a string and as UTF-8 bytes.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TextBytes } from '../../src/collections/index.js';

const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', '\u2028', 'é', '😀', 'a'),
);
const oddString = fc.oneof(
  fc.string({ unit: codeUnit, maxLength: 40 }),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: codeUnit, minLength: 60, maxLength: 400 }),
);
const piece = fc.oneof(
  oddString.map((s) => ({ kind: 'text' as const, s })),
  oddString.map((s) => ({ kind: 'json' as const, s })),
  fc
    .oneof(fc.integer(), fc.maxSafeInteger(), fc.double(), fc.constantFrom(-0, 2 ** 53, 10 ** 15, 9))
    .map((n) => ({ kind: 'int' as const, n })),
);

describe('TextBytes', () => {
  it('writes the text its pieces join to, as a string and as UTF-8, with its length in code units', () => {
    const w = new TextBytes(8);
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        w.reset();
        let expected = '';
        for (const p of pieces) {
          if (p.kind === 'text') {
            w.text(p.s);
            expected += p.s;
          } else if (p.kind === 'json') {
            w.json(p.s);
            expected += JSON.stringify(p.s);
          } else {
            w.int(p.n);
            expected += String(p.n);
          }
        }
        assert.equal(w.units, expected.length);
        assert.deepStrictEqual(Buffer.from(w.bytes()), Buffer.from(expected, 'utf8'));
        assert.equal(w.length, Buffer.byteLength(expected));
        assert.equal(w.toString(), Buffer.from(expected, 'utf8').toString('utf8'));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes null, booleans and the bounds of the safe integers', () => {
    const w = new TextBytes(4);
    w.jsonOrNull(null);
    w.bool(true);
    w.bool(false);
    w.int(Number.MAX_SAFE_INTEGER);
    w.int(Number.MIN_SAFE_INTEGER);
    w.int(-0);
    w.jsonOrNull('x');
    assert.equal(w.toString(), `nulltruefalse${Number.MAX_SAFE_INTEGER}${Number.MIN_SAFE_INTEGER}0"x"`);
    assert.equal(w.reset().toString(), '');
  });
});
