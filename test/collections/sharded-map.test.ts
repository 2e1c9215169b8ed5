/**
 * ShardedMap against a JavaScript Map over random operations, with integer keys and a shard function of
 * strings; and its shards share sequential order ids (the keys the venue gives it) evenly, since the size of
 * the fullest shard bounds what one growth rehashes.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ShardedMap, intShardedMap } from '../../src/collections/index.js';

function agreesWithMap<K>(make: () => ShardedMap<K, number>, key: fc.Arbitrary<K>): void {
  const op = fc.record({ kind: fc.constantFrom('set', 'delete', 'get', 'has'), key, value: fc.integer() });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 2000 }), (ops) => {
      const m = make();
      const model = new Map<K, number>();
      for (const o of ops) {
        if (o.kind === 'set') {
          assert.equal(m.set(o.key, o.value), m);
          model.set(o.key, o.value);
        } else if (o.kind === 'delete') assert.equal(m.delete(o.key), model.delete(o.key));
        else if (o.kind === 'get') assert.equal(m.get(o.key), model.get(o.key));
        else assert.equal(m.has(o.key), model.has(o.key));
        assert.equal(m.size, model.size);
      }
      const seen = new Map(m.entries());
      assert.deepEqual(seen, model);
      assert.equal([...m].length, model.size);
      m.clear();
      assert.equal(m.size, 0);
      assert.equal([...m].length, 0);
    }),
    { numRuns: 100 },
  );
}

describe('ShardedMap', () => {
  it('agrees with a Map, integer keys small, large and beyond 2^32', () => {
    agreesWithMap(
      () => intShardedMap<number>(),
      fc.oneof(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 2 ** 32 - 4, max: 2 ** 32 + 4 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      ),
    );
  });

  it('agrees with a Map, string keys with and without non-ASCII characters (sharded by length and first unit)', () => {
    agreesWithMap(
      () => new ShardedMap<string, number>((k) => k.length * 31 + (k.charCodeAt(0) || 0)),
      fc.oneof(fc.constantFrom('', 'a', '1:a'), fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme' })),
    );
  });

  it('shares sequential order ids evenly among its shards', () => {
    const n = 256 * 1024;
    const byId = intShardedMap<number>();
    for (let i = 1; i <= n; i++) byId.set(1_000_000 + i, i);
    assert.equal(byId.size, n);
    // 1,024 entries a shard on average; the fullest within a fifth of it.
    assert.ok(byId.largestShardSize <= 1.2 * 1024, `fullest shard of ids: ${byId.largestShardSize}`);
  });
});
