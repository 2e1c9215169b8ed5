/**
 * The client order id table (typed arrays and an arena, src/gateway/trading/client-order-table.ts) against a
 * model of two Maps, as ClientOrders kept them before: random adds, finds and forgets over a few accounts and
 * ids that collide, with ids of every kind of character (lone surrogates included) and longer than an arena
 * chunk; and enough mappings that every one of its tables grows several times. Orders are also forgotten by
 * their id (as ClientOrders does when their retention ends), and the storage given back as it goes (entries
 * leave or move, arena chunks go) never loses what is held: checked with a slack of a few entries, so that
 * every step of the giving back runs within the random sequences.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ClientOrderTable,
  pairHash,
  pairHashOfUnits,
} from '../../../src/gateway/trading/client-order-table.js';

class Model {
  readonly byPair = new Map<string, number>();
  readonly byOrder = new Map<number, string>();
  readonly accountOf = new Map<number, number>();
  add(account: number, client: string, orderId: number): boolean {
    const k = `${account}\u0000${client}`;
    this.byOrder.set(orderId, client);
    this.accountOf.set(orderId, account);
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
  forgetOrder(orderId: number): boolean {
    const client = this.byOrder.get(orderId);
    if (client === undefined) return false;
    this.byOrder.delete(orderId);
    const k = `${this.accountOf.get(orderId) ?? 0}\u0000${client}`;
    if (this.byPair.get(k) === orderId) this.byPair.delete(k);
    return true;
  }
}

describe('ClientOrderTable', () => {
  it('agrees with two Maps through random adds, finds, forgets and forgotten orders, giving storage back', () => {
    const account = fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(2 ** 40 + 1));
    const client = fc.oneof(
      fc.constantFrom('a', 'b', 'ab', 'ba', 'x-1', 'x-2'),
      fc.string({ minLength: 1, maxLength: 64 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
      fc.constant('\ud800'),
      fc.constant('z'.repeat(40_000)),
    );
    const orderId = fc.integer({ min: 1, max: 300 });
    const op = fc.record({
      kind: fc.constantFrom('add', 'add', 'add', 'forget', 'forgetOrder', 'forgetOrder', 'find'),
      account,
      client,
      orderId,
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(op, { maxLength: 400 }), (slack, ops) => {
        const t = new ClientOrderTable(slack);
        const m = new Model();
        for (const o of ops) {
          if (o.kind === 'add') {
            assert.equal(t.add(o.account, o.client, o.orderId), m.add(o.account, o.client, o.orderId));
          } else if (o.kind === 'forget') {
            t.forget(o.account, o.client, o.orderId);
            m.forget(o.account, o.client, o.orderId);
          } else if (o.kind === 'forgetOrder') {
            assert.equal(t.forgetOrder(o.orderId), m.forgetOrder(o.orderId));
          }
          assert.equal(t.find(o.account, o.client), m.byPair.get(`${o.account}\u0000${o.client}`));
          assert.equal(t.size, m.byPair.size);
        }
        for (let id = 1; id <= 300; id++) {
          assert.equal(t.clientOrderIdOf(id), m.byOrder.get(id) ?? null);
          assert.equal(t.hasOrder(id), m.byOrder.has(id));
        }
        // Every pair mapped still answers after all the moving (find reads the entry's characters).
        for (const [k, id] of m.byPair) {
          const [a, c] = [Number(k.slice(0, k.indexOf('\u0000'))), k.slice(k.indexOf('\u0000') + 1)];
          assert.equal(t.find(a, c), id);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('hashes an id read from its code units as it hashes the string', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
        fc.string({ unit: 'binary', maxLength: 70 }),
        fc.nat({ max: 5 }),
        (account, client, offset) => {
          const units = new Uint16Array(offset + client.length);
          for (let k = 0; k < client.length; k++) units[offset + k] = client.charCodeAt(k);
          assert.equal(pairHashOfUnits(account, units, offset, client.length), pairHash(account, client));
        },
      ),
    );
  });

  it('gives back the storage of forgotten orders while a few live ones stay put', () => {
    // 1,000 orders that stay (placed first), then 400,000 each forgotten 1,000 placements later, as the
    // retention of ended orders forgets them: the storage follows what is held, not what was ever added.
    const t = new ClientOrderTable();
    for (let i = 1; i <= 1000; i++) t.add(1, `live-${i}`, i);
    const n = 400_000;
    let most = 0;
    for (let i = 1; i <= n; i++) {
      const id = 1000 + i;
      t.add(2, `gone-${id}`, id);
      if (i > 1000) assert.equal(t.forgetOrder(id - 1000), true);
      most = Math.max(most, t.storage.entries);
    }
    assert.equal(t.size, 2000);
    // Twice what is held plus the slack, and while the 1,000 live entries move from the head to the tail (four
    // entries a placement and its forgetting, one added), a quarter of them more: never 400,000 entries.
    assert.ok(most <= 2 * 2000 + 4096 + 1000 / 4 + 2, `entries stored at most ${most}`);
    assert.ok(t.storage.chunks <= 4, `arena chunks ${t.storage.chunks}`);
    for (let i = 1; i <= 1000; i++) {
      assert.equal(t.find(1, `live-${i}`), i);
      assert.equal(t.clientOrderIdOf(i), `live-${i}`);
    }
    for (let id = 1001; id <= 1000 + n - 1000; id += 997) assert.equal(t.clientOrderIdOf(id), null);
    for (let id = 1000 + n - 999; id <= 1000 + n; id++) assert.equal(t.find(2, `gone-${id}`), id);
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
