/**
 * Events of a fixed details shape (`makeFixedEvent`, the WebSocket orders' path) against the generic path
 * (`makeEvent`): the same event field for field and the same canonical JSON byte for byte, for arbitrary
 * inputs, odd strings included (control characters, quotes, backslashes, lone surrogates, long texts).
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TextBytes } from '../../src/collections/index.js';
import {
  AUDIT_LIMITS,
  DetailShape,
  canonicalEventJson,
  chainEvents,
  GENESIS_HASH,
  makeEvent,
  makeFixedEvent,
  writeCanonicalEventJson,
  type DetailScalar,
  type Outcome,
} from '../../src/audit/index.js';

/** Any UTF-16 code unit, lone surrogates and control characters included, and the characters JSON escapes. */
const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', '\u2028', 'é', '😀', 'a'),
);
const oddString = fc.oneof(
  fc.string({ unit: codeUnit, maxLength: 40 }),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: codeUnit, minLength: 200, maxLength: 400 }),
);
const scalar: fc.Arbitrary<DetailScalar> = fc.oneof(
  oddString,
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(-0, 2 ** 53, Number.NaN, Infinity, -Infinity),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const textOrNull = fc.oneof(oddString, fc.constant(null));
const outcome: fc.Arbitrary<Outcome> = fc.oneof(
  fc.constant<Outcome>({ status: 'ok', code: null }),
  fc.record({ status: fc.constantFrom('ok', 'refused', 'failed'), code: textOrNull }),
);
/** Keys as a shape takes them: clean and distinct (`é`, `Z` and `a` sort by code units). */
const cleanKey = fc.oneof(
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((k) => k !== '__proto__' && ![...k].some((c) => c < ' ' || c === '\u007f')),
  fc.constantFrom('symbol', 'side', 'order_id', 'transport', 'é', 'Z', 'a', '10', '2', 'constructor'),
);
const shapeAndValues = fc
  .uniqueArray(cleanKey, { maxLength: 10 })
  .chain((keys) =>
    fc.tuple(fc.constant(keys), fc.array(scalar, { minLength: keys.length, maxLength: keys.length })),
  );
const input = fc.record({
  id: oddString,
  timeUs: fc.maxSafeNat(),
  actor: fc.record({ id: textOrNull, role: textOrNull, ip: textOrNull }),
  action: oddString,
  target: fc.record({ kind: oddString, id: textOrNull }),
  result: outcome,
  requestId: textOrNull,
  shaped: shapeAndValues,
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
});

type Input = typeof input extends fc.Arbitrary<infer T> ? T : never;

function both(x: Input) {
  const [keys, values] = x.shaped;
  const base = {
    id: x.id,
    timeUs: x.timeUs,
    actor: x.actor,
    action: x.action,
    target: x.target,
    result: x.result,
    requestId: x.requestId,
  };
  const details: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) details[keys[i]] = values[i];
  return {
    fixed: makeFixedEvent({ ...base, shape: new DetailShape(keys), values }),
    generic: makeEvent({ ...base, details }),
  };
}

describe('audit events of a fixed details shape', () => {
  it('equal the generic path: the same fields and the same canonical bytes, for any input', () => {
    fc.assert(
      fc.property(input, (x) => {
        const { fixed, generic } = both(x);
        assert.equal(canonicalEventJson(x.seq, fixed), canonicalEventJson(x.seq, generic));
        assert.deepStrictEqual({ ...fixed }, { ...generic });
        // Written as bytes (the audit file's group): the UTF-8 of the same text, after what was there.
        const w = new TextBytes(16);
        w.text('x\n');
        writeCanonicalEventJson(w, x.seq, fixed);
        assert.deepStrictEqual(
          Buffer.from(w.bytes()),
          Buffer.from('x\n' + canonicalEventJson(x.seq, generic), 'utf8'),
        );
        // A copy (as a chained record is) is an ordinary event, written the generic way: the same bytes.
        assert.equal(canonicalEventJson(x.seq, { ...fixed }), canonicalEventJson(x.seq, generic));
      }),
      { numRuns: 3000 },
    );
  });

  it('equal the generic path for events of one actor object (whose cleaning and JSON start are kept)', () => {
    fc.assert(
      fc.property(fc.array(input, { minLength: 2, maxLength: 6 }), (xs) => {
        const actor = xs[0].actor;
        for (const x of xs) {
          const { fixed, generic } = both({ ...x, actor });
          assert.equal(canonicalEventJson(x.seq, fixed), canonicalEventJson(x.seq, generic));
          assert.deepStrictEqual({ ...fixed }, { ...generic });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('chain to the same hashes as the generic events', () => {
    fc.assert(
      fc.property(fc.array(input, { minLength: 1, maxLength: 5 }), (xs) => {
        const pairs = xs.map(both);
        const fixed = chainEvents(
          0,
          GENESIS_HASH,
          pairs.map((p) => p.fixed),
        );
        const generic = chainEvents(
          0,
          GENESIS_HASH,
          pairs.map((p) => p.generic),
        );
        assert.deepStrictEqual(
          fixed.map((r) => r.hash),
          generic.map((r) => r.hash),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('truncate details too long for the chain as the generic path does', () => {
    const shape = new DetailShape(['note', 'side']);
    const base = {
      id: 'e1',
      timeUs: 1,
      actor: { id: null, role: null, ip: null },
      action: 'order.place',
      target: { kind: 'order', id: null },
      result: { status: 'ok', code: null } as const,
      requestId: null,
    };
    const long = 'x'.repeat(AUDIT_LIMITS.fieldCharsMax);
    const values = [long, 'buy'];
    const many = new DetailShape(Array.from({ length: 20 }, (_, i) => `k${i}`));
    const fixed = makeFixedEvent({ ...base, shape: many, values: many.keys.map(() => long) });
    assert.equal(fixed.details.truncated, true, 'twenty fields of 256 characters pass detailsCharsMax');
    const generic = makeEvent({ ...base, details: Object.fromEntries(many.keys.map((k) => [k, long])) });
    assert.equal(canonicalEventJson(7, fixed), canonicalEventJson(7, generic));
    assert.deepStrictEqual(makeFixedEvent({ ...base, shape, values }).details, { note: long, side: 'buy' });
  });

  it('refuse shapes with unclean or repeated keys, and values that do not fit the shape', () => {
    assert.throws(() => new DetailShape(['a', 'a']), /repeat/);
    assert.throws(() => new DetailShape(['a\n']), /not clean/);
    assert.throws(() => new DetailShape(['__proto__']), /not a detail key/);
    assert.throws(() => new DetailShape(['x'.repeat(AUDIT_LIMITS.fieldCharsMax + 1)]), /not clean/);
    const base = {
      id: 'e1',
      timeUs: 1,
      actor: { id: null, role: null, ip: null },
      action: 'order.cancel',
      target: { kind: 'order', id: '1' },
      result: { status: 'ok', code: null } as const,
      requestId: null,
    };
    assert.throws(() => makeFixedEvent({ ...base, shape: new DetailShape(['a']), values: [] }), RangeError);
    assert.throws(
      () => makeFixedEvent({ ...base, timeUs: -1, shape: new DetailShape([]), values: [] }),
      RangeError,
    );
  });
});
