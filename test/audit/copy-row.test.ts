/**
 * The audit projection's COPY row read straight off a line's canonical JSON (src/audit/copy-row.ts) against
 * the general way (the line parsed into its event, its details written again): the same text for every line
 * it takes, on generated events (strings with escapes, quotes, tabs, line breaks and non-ASCII, nulls, the
 * three results, nested or numeric details, which it leaves to the general way), and null for lines in
 * another form.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalEventJson, makeEvent, type AuditEventInput } from '../../src/audit/index.js';
import { copyRowOfCanonical, copyRowOfEvent } from '../../src/audit/copy-row.js';
import { sampleEvent } from './helpers.js';

const HASH = 'ab'.repeat(32);
const lineOf = (seq: number, json: string) => ({ seq, hash: HASH, json, offset: 0, next: 0 });

/** Text of every kind the columns may hold: ASCII, COPY's and JSON's special characters, non-ASCII. */
const text = fc.string({
  unit: fc.constantFrom(
    'a',
    'Z',
    '0',
    ' ',
    '"',
    '\\',
    '\t',
    '\n',
    '\r',
    '\u0001',
    '\u007f',
    'é',
    '€',
    '😀',
    ':',
    '{',
  ),
  maxLength: 12,
});
const textOrNull = fc.option(text, { nil: null });
const detailValue = fc.oneof(
  text,
  fc.boolean(),
  fc.constant(null),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.dictionary(text, text, { maxKeys: 2 }),
  fc.array(text, { maxLength: 2 }),
);
const event: fc.Arbitrary<AuditEventInput> = fc
  .record({
    id: text.filter((s) => s.length > 0),
    timeUs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    actor: fc.record({ id: textOrNull, role: textOrNull, ip: textOrNull }),
    action: text,
    target: fc.record({ kind: text, id: textOrNull }),
    result: fc.oneof(
      fc.constant({ status: 'ok' as const, code: null }),
      fc.record({ status: fc.constantFrom('refused' as const, 'failed' as const), code: textOrNull }),
    ),
    requestId: textOrNull,
    details: fc.dictionary(text, detailValue, { maxKeys: 5 }),
  })
  .map((e) => makeEvent(e));

describe('audit COPY row off the canonical JSON', () => {
  it('is the general way row for every line it takes', () => {
    fc.assert(
      fc.property(event, fc.integer({ min: 1, max: 1e12 }), (e, seq) => {
        const line = lineOf(seq, canonicalEventJson(seq, e));
        const fast = copyRowOfCanonical(seq, HASH, line.json);
        if (fast !== null) assert.equal(fast, copyRowOfEvent(line.seq, line.hash, line.json));
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the lines of events whose details are flat strings, integers, booleans and nulls', () => {
    fc.assert(
      fc.property(
        event,
        fc.dictionary(text, fc.oneof(text, fc.boolean(), fc.constant(null), fc.maxSafeInteger()), {
          maxKeys: 8,
        }),
        (e, details) => {
          const flat = makeEvent({ ...e, details });
          // Keys and values with escapes in JSON (quotes, backslashes, control characters) go the general way.
          const escapes = Object.entries(flat.details).some(
            ([k, v]) =>
              JSON.stringify(k).includes('\\') || (typeof v === 'string' && JSON.stringify(v).includes('\\')),
          );
          const line = lineOf(7, canonicalEventJson(7, flat));
          const fast = copyRowOfCanonical(7, HASH, line.json);
          if (!escapes) assert.notEqual(fast, null);
          if (fast !== null) assert.equal(fast, copyRowOfEvent(line.seq, line.hash, line.json));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reads a WebSocket placement as the general way does', () => {
    const e = makeEvent({
      id: 'd136a076-8286-4eae-8411-7e0dba3fc4ca',
      timeUs: 1_796_083_200_000_000,
      actor: { id: 'key:3f2a9c', role: 'trader', ip: '127.0.0.1' },
      action: 'order.place',
      target: { kind: 'account', id: '1' },
      result: { status: 'ok', code: null },
      requestId: '0',
      details: {
        client_order_id: 'c-0',
        order_id: '1000',
        price: '65000.00',
        side: 'sell',
        symbol: 'BTC-USDT',
      },
    });
    const line = lineOf(1, canonicalEventJson(1, e));
    assert.equal(
      copyRowOfCanonical(1, HASH, line.json),
      '1\td136a076-8286-4eae-8411-7e0dba3fc4ca\t1796083200000000\tkey:3f2a9c\ttrader\t127.0.0.1\torder.place\t' +
        'account\t1\tok\t\\N\t0\t{"client_order_id":"c-0","order_id":"1000","price":"65000.00","side":"sell",' +
        `"symbol":"BTC-USDT"}\t${HASH}\n`,
    );
    assert.equal(copyRowOfCanonical(1, HASH, line.json), copyRowOfEvent(line.seq, line.hash, line.json));
  });

  it('gives null for lines in another form, which the general way then reads', () => {
    const flat = makeEvent({ ...sampleEvent(3), details: { side: 'buy', symbol: 'BTC-USDT' } });
    const json = canonicalEventJson(3, flat);
    assert.notEqual(copyRowOfCanonical(3, HASH, json), null);
    const others = [
      JSON.stringify(JSON.parse(json), null, 1), // white space
      json.replace('"v":1}', '"v":2}'), // another version of the form
      json.replace('{"action":', '{"zz":0,"action":'), // a key out of order
      json.replace(/"timeUs":(\d+)/, '"timeUs":$1.0'), // a number in another form
      json.replace('"side":"buy"', '"side":1.5'), // a fraction in the details
      json.replace('"status":"', '"status":"x'), // not a result
      json + ' ', // something after the object
      json.slice(0, -1), // cut short
    ];
    for (const other of others) assert.equal(copyRowOfCanonical(3, HASH, other), null, other);
    // Nested details (sampleEvent's) are the general way's too.
    assert.equal(copyRowOfCanonical(3, HASH, canonicalEventJson(3, sampleEvent(3))), null);
  });
});
