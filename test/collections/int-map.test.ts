/** IntMap against a JavaScript Map over random inserts, updates and deletions (backward-shift deletion is subtle). */
import { describe, it } from 'node:test';
import { equal } from 'node:assert/strict';
import { IntMap } from '../../src/collections/index.js';
import { Rng } from '../book/helpers.js';

void describe('IntMap', () => {
  for (const seed of [1, 2, 3]) {
    void it(`agrees with Map over 200,000 random operations (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const m = new IntMap(4);
      const ref = new Map<number, number>();
      // Keys in a narrow range collide and churn; some are large, beyond 32 bits.
      const key = (): number => (rng.chance(0.1) ? 2 ** 40 + rng.int(50) : rng.int(3000));
      for (let i = 0; i < 200_000; i++) {
        const k = key();
        const op = rng.int(3);
        if (op === 0) {
          m.set(k, i);
          ref.set(k, i);
        } else if (op === 1) equal(m.delete(k), ref.delete(k));
        else equal(m.get(k), ref.get(k) ?? -1);
        equal(m.size, ref.size);
      }
      for (const [k, v] of ref) equal(m.get(k), v);
      let n = 0;
      m.forEach(() => n++);
      equal(n, ref.size);
    });
  }
});
