/**
 * The client order id table (typed arrays and an arena, src/gateway/trading/client-order-table.ts) against a
 * model of two Maps, as ClientOrders kept them before: random adds, finds and forgets over a few accounts and
 * ids that collide, with ids of every kind of character (lone surrogates included) and longer than an arena
 * chunk; and enough mappings that every one of its tables grows several times.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ClientOrderTable, pairHash } from '../../../src/gateway/trading/client-order-table.js';

class Model {
  readonly byPair = new Map<string, number>();
  readonly byOrder = new Map<number, string>();
  add(account: number, client: string, orderId: number): boolean {
    const k = `${account}\u0000${client}`;
    this.byOrder.set(orderId, client);
    if (this.byPair.has(k)) return false;
    this.byPair.set(k, orderId);
    return true;
  }
  forget(account: number, client: string, orderId: number): void {
    const k = `${account}\u0000${client}`;
    if (this.byPair.get(k) !== orderId) return;
    this.byPair.delete(k);
    this.byOrder.delete(orderId);
  }
}

describe('ClientOrderTable', () => {
  it('agrees with two Maps through random adds, finds and forgets', () => {
    const account = fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(2 ** 40 + 1));
    const client = fc.oneof(
      fc.constantFrom('a', 'b', 'ab', 'ba', 'x-1', 'x-2'),
      fc.string({ minLength: 1, maxLength: 64 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
      fc.constant('\ud800'),
      fc.constant('z'.repeat(40_000)),
    );
    const orderId = fc.integer({ min: 1, max: 300 });
    const op = fc.record({ kind: fc.constantFrom('add', 'add', 'forget', 'find'), account, client, orderId });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const t = new ClientOrderTable();
        const m = new Model();
        for (const o of ops) {
          if (o.kind === 'add') {
            assert.equal(t.add(o.account, o.client, o.orderId), m.add(o.account, o.client, o.orderId));
          } else if (o.kind === 'forget') {
            t.forget(o.account, o.client, o.orderId);
            m.forget(o.account, o.client, o.orderId);
          }
          assert.equal(t.find(o.account, o.client), m.byPair.get(`${o.account}\u0000${o.client}`));
          assert.equal(t.size, m.byPair.size);
        }
        for (let id = 1; id <= 300; id++) {
          assert.equal(t.clientOrderIdOf(id), m.byOrder.get(id) ?? null);
          assert.equal(t.hasOrder(id), m.byOrder.has(id));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('holds 300,000 mappings, finds each, and forgets every third', () => {
    const t = new ClientOrderTable();
    const n = 300_000;
    for (let i = 1; i <= n; i++) assert.equal(t.add(1 + (i % 7), `cl-${i}`, i), true);
    assert.equal(t.size, n);
    for (let i = 1; i <= n; i += 3) t.forget(1 + (i % 7), `cl-${i}`, i);
    for (let i = 1; i <= n; i++) {
      const kept = (i - 1) % 3 !== 0;
      assert.equal(t.find(1 + (i % 7), `cl-${i}`), kept ? i : undefined);
      assert.equal(t.find(1 + ((i + 1) % 7), `cl-${i}`), undefined, 'another account');
      assert.equal(t.clientOrderIdOf(i), kept ? `cl-${i}` : null);
    }
    assert.equal(t.size, n - Math.ceil(n / 3));
  });

  it('tells apart pairs whose hashes are equal: same id and other accounts, same account and other ids', () => {
    const collision = (key: (i: number) => [number, string]): [[number, string], [number, string]] => {
      const seen = new Map<number, number>();
      for (let i = 1; i < 2_000_000; i++) {
        const [a, c] = key(i);
        const h = pairHash(a, c);
        const j = seen.get(h);
        if (j !== undefined) return [key(j), [a, c]];
        seen.set(h, i);
      }
      throw new Error('no collision found');
    };
    // For one id, accounts below 2^32 never collide (their mixing is a bijection), so the pair is made from
    // it: an account beyond 2^32 whose low half times the multiplier, xored with its high half (1), gives what
    // account 1's does.
    const G = 0x9e3779b1;
    let inverse = G;
    for (let k = 0; k < 5; k++) inverse = Math.imul(inverse, 2 - Math.imul(G, inverse));
    const byAccount: [[number, string], [number, string]] = [
      [1, 'same'],
      [(Math.imul(G ^ 1, inverse) >>> 0) + 2 ** 32, 'same'],
    ];
    const byClient = collision((i) => [7, `id-${String(i).padStart(7, '0')}`]);
    for (const [[a1, c1], [a2, c2]] of [byAccount, byClient]) {
      assert.equal(pairHash(a1, c1), pairHash(a2, c2));
      const t = new ClientOrderTable();
      assert.equal(t.add(a1, c1, 1), true);
      assert.equal(t.find(a2, c2), undefined);
      assert.equal(t.add(a2, c2, 2), true);
      assert.equal(t.find(a1, c1), 1);
      assert.equal(t.find(a2, c2), 2);
      t.forget(a1, c1, 1);
      assert.equal(t.find(a1, c1), undefined);
      assert.equal(t.find(a2, c2), 2);
    }
  });
});
