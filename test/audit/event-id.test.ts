/**
 * Audit event ids are version 7 UUIDs: the form of RFC 9562, the time in their first 48 bits, sorted by time,
 * and distinct.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { auditEventId } from '../../src/audit/index.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MAX_MS = 2 ** 48 - 1;

const msOf = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('audit event ids', () => {
  it('are version 7 UUIDs carrying their millisecond', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MS }), (ms) => {
        const id = auditEventId(ms);
        assert.match(id, V7);
        assert.equal(msOf(id), ms);
      }),
      { numRuns: 2_000 },
    );
  });

  it('sort by their time, as texts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MS }), fc.integer({ min: 0, max: MAX_MS }), (a, b) => {
        fc.pre(a !== b);
        const [x, y] = [auditEventId(a), auditEventId(b)];
        assert.equal(x < y, a < b);
      }),
    );
  });

  it('differ from one another, within one millisecond too', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50_000; i++) ids.add(auditEventId(1_796_000_000_000));
    assert.equal(ids.size, 50_000);
    // Now, by default.
    const before = Date.now();
    const id = auditEventId();
    assert.ok(msOf(id) >= before && msOf(id) <= Date.now());
  });
});
