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
  // Halves of surrogate pairs at a piece's ends, so that pairs cross from one piece to the next.
  fc.constantFrom('\ud83d', '\ude00', '\ud800x', 'x\udc00', 'a\ud83d', '\ude00b', '\udbff', '\udfff'),
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

  it('joins a surrogate pair split between two pieces into one character, and writes a lone half as U+FFFD', () => {
    const w = new TextBytes(4);
    const bytes = (...parts: (string | ((t: TextBytes) => void))[]): string => {
      w.reset();
      for (const p of parts) {
        if (typeof p === 'string') w.text(p);
        else p(w);
      }
      assert.equal(w.length, w.bytes().length, 'length counts a held-back half');
      return Buffer.from(w.bytes()).toString('hex');
    };
    assert.equal(bytes('\ud800', '\udc00'), 'f0908080');
    assert.equal(bytes('a\ud83d', '\ude00b'), Buffer.from('a\ud83d\ude00b').toString('hex'));
    assert.equal(bytes('\ud83d', '', '\ude00'), Buffer.from('\ud83d\ude00').toString('hex'));
    // A half left alone: at the end, before a JSON string, before a number, before a second high half.
    assert.equal(bytes('\ud800'), 'efbfbd');
    assert.equal(
      bytes('\ud800', (t) => t.json('x')),
      'efbfbd227822',
    );
    assert.equal(
      bytes('\ud800', (t) => t.int(7)),
      'efbfbd37',
    );
    assert.equal(bytes('\ud800', '\ud800', '\udc00'), 'efbfbdf0908080');
    w.reset();
    w.text('\ud83d');
    w.text('\ude00');
    assert.equal(w.toString(), '\ud83d\ude00');
    assert.equal(w.units, 2);
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
