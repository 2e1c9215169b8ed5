/**
 * IdSet against a JavaScript Set over random operations, before and across its split into parts; and once
 * split, sequential order ids (what the views give it) spread over its parts evenly, since the fullest part
 * bounds what one growth rehashes.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IdSet } from '../../src/collections/index.js';

describe('IdSet', () => {
  it('agrees with a Set, small ids and ids beyond 2^32, splitting on the way', () => {
    const id = fc.oneof(
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 2 ** 32 - 4, max: 2 ** 32 + 4 }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    );
    const op = fc.record({ kind: fc.constantFrom('add', 'add', 'delete', 'has'), id });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(op, { maxLength: 1500 }), (splitAt, ops) => {
        const s = new IdSet(splitAt);
        const model = new Set<number>();
        let peak = 0;
        for (const o of ops) {
          if (o.kind === 'add') {
            const added = !model.has(o.id);
            model.add(o.id);
            assert.equal(s.add(o.id), added);
          } else if (o.kind === 'delete') assert.equal(s.delete(o.id), model.delete(o.id));
          else assert.equal(s.has(o.id), model.has(o.id));
          assert.equal(s.size, model.size);
          peak = Math.max(peak, model.size);
        }
        assert.deepEqual(new Set(s), model);
        assert.equal([...s.values()].length, model.size);
        // Split exactly when it once held more than its bound, and stays split however small it gets again.
        assert.equal(s.split, peak > splitAt);
      }),
      { numRuns: 150 },
    );
  });

  it('splits once past its bound, and not before', () => {
    const s = new IdSet(100);
    for (let i = 1; i <= 100; i++) s.add(i);
    assert.equal(s.split, false);
    assert.equal(s.largestPartSize, 100);
    s.add(101);
    assert.equal(s.split, true);
    assert.equal(s.size, 101);
    for (let i = 1; i <= 101; i++) assert.ok(s.has(i), `id ${i} kept across the split`);
    for (let i = 1; i <= 101; i++) assert.equal(s.delete(i), true);
    assert.equal(s.size, 0);
    assert.equal(s.split, true);
    assert.equal(s.add(7), true);
    assert.deepEqual([...s], [7]);
  });

  it('shares sequential order ids evenly among its parts', () => {
    const n = 256 * 1024;
    const s = new IdSet();
    for (let i = 1; i <= n; i++) s.add(5_000_000 + i);
    assert.equal(s.size, n);
    // 64 parts: 4,096 each if even; a growth then rehashes at most about that, not the quarter million.
    assert.ok(s.largestPartSize < (n / 64) * 1.25, `fullest part ${s.largestPartSize}`);
  });

  it('refuses a bound below 1', () => {
    assert.throws(() => new IdSet(0), RangeError);
    assert.throws(() => new IdSet(1.5), RangeError);
  });
});
