/**
 * The views' typed-array storage: the id index agrees with a Map through random sets and deletes (deletion
 * shifts runs back, so lookups after many deletes are the test), and the ring keeps its rows in order across
 * its chunks as it grows and forgets its head.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IdIndex, Ring } from '../../src/collections/index.js';

describe('IdIndex', () => {
  it('agrees with a Map through random sets and deletes, ids small, sequential and beyond 2^32', () => {
    const id = fc.oneof(
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.integer({ min: 2 ** 32 - 8, max: 2 ** 32 + 8 }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    );
    const op = fc.oneof(
      fc.record({ del: fc.constant(false), id, value: fc.double({ noNaN: true }) }),
      fc.record({ del: fc.constant(true), id, value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const index = new IdIndex();
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.del) assert.equal(index.delete(o.id), model.delete(o.id));
          else {
            index.set(o.id, o.value);
            model.set(o.id, o.value);
          }
        }
        assert.equal(index.size, model.size);
        for (const o of ops) assert.equal(index.get(o.id), model.get(o.id));
        for (const [k, v] of model) assert.equal(index.get(k), v);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses ids that are not positive safe integers', () => {
    const index = new IdIndex();
    for (const bad of [0, -1, 1.5, NaN, 2 ** 53]) assert.throws(() => index.set(bad, 1), RangeError);
    assert.equal(index.get(0), undefined);
  });
});

describe('Ring', () => {
  it('keeps rows in order across its chunks while it grows and forgets its head', () => {
    const ring = new Ring(3);
    let forgotten = 0;
    for (let n = 0; n < 20_000; n++) {
      const p = ring.push();
      assert.equal(p, n);
      ring.put(p, 0, n);
      ring.put(p, 1, -n);
      ring.put(p, 2, n * 0.5);
      if (n % 3 === 0) {
        ring.head++;
        forgotten++;
      }
    }
    assert.equal(ring.length, 20_000 - forgotten);
    for (let p = ring.head; p < ring.tail; p++) {
      assert.deepEqual([ring.get(p, 0), ring.get(p, 1), ring.get(p, 2)], [p, -p, p * 0.5]);
    }
    ring.put(ring.head, 1, 42);
    assert.equal(ring.get(ring.head, 1), 42);
  });

  it('forgets everything and starts again at the same positions', () => {
    const ring = new Ring(1);
    for (let n = 0; n < 10_000; n++) ring.put(ring.push(), 0, n);
    ring.head = ring.tail;
    assert.equal(ring.length, 0);
    const p = ring.push();
    ring.put(p, 0, 7);
    assert.deepEqual([p, ring.get(p, 0), ring.length], [10_000, 7, 1]);
    assert.throws(() => (ring.head = ring.tail + 1), RangeError);
  });
});
