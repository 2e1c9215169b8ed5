/**
 * Client order ids in the store, written in groups: the mappings asked for together go to the store as one
 * INSERT, each caller hears of its own row, and a pair already taken (in the store or earlier in the same
 * group) is refused. On PGlite and PostgreSQL alike.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { CLIENT_ORDER_BATCH_ROWS_MAX, ClientOrders } from '../../../src/gateway/trading/client-orders.js';
import { migrate, type Store } from '../../../src/store/index.js';
import { storeFactories } from '../../store/helpers.js';

/** The store, counting the INSERTs into client_orders that reach it. */
function counting(store: Store): { store: Store; inserts: () => number } {
  let inserts = 0;
  const counted: Store = {
    kind: store.kind,
    query: (sql, params) => {
      if (sql.includes('INSERT INTO client_orders')) inserts++;
      return store.query(sql, params);
    },
    exec: (sql) => store.exec(sql),
    transaction: (work) => store.transaction(work),
    close: () => store.close(),
  };
  return { store: counted, inserts: () => inserts };
}

for (const factory of storeFactories()) {
  describe(`client order ids, grouped writes: ${factory.name}`, () => {
    let base: Store;
    before(async () => {
      base = await factory.fresh();
      await migrate(base);
    });
    after(async () => {
      await base.close();
      await factory.cleanup();
    });

    it('writes the mappings asked for together in one INSERT, each caller hearing of its own row', async () => {
      const { store, inserts } = counting(base);
      const orders = await ClientOrders.open(store, 0);
      const asked = Array.from({ length: 50 }, (_, i) => orders.record(1 + (i % 3), `c-${i}`, 100 + i));
      assert.deepEqual(await Promise.all(asked), new Array<boolean>(50).fill(true));
      assert.equal(inserts(), 1);
      for (let i = 0; i < 50; i++) {
        assert.equal(orders.find(1 + (i % 3), `c-${i}`), 100 + i);
        assert.equal(orders.clientOrderIdOf(100 + i), `c-${i}`);
      }
      const rows = await base.query('SELECT count(*)::int AS n FROM client_orders');
      assert.equal(rows[0].n, 50);
    });

    it('refuses a pair already in the store, and the second of a pair asked twice in one group', async () => {
      const orders = await ClientOrders.open(base, 1_000);
      const [taken, fresh, first, twice] = await Promise.all([
        orders.record(1, 'c-0', 500),
        orders.record(1, 'c-new', 501),
        orders.record(2, 'dup', 502),
        orders.record(2, 'dup', 503),
      ]);
      assert.deepEqual([taken, fresh, first, twice], [false, true, true, false]);
      assert.equal(orders.find(1, 'c-0'), 100, 'the first mapping stands');
      assert.equal(orders.find(2, 'dup'), 502);
      assert.equal(orders.clientOrderIdOf(500), null);
      assert.equal(orders.clientOrderIdOf(503), null);
    });

    it('splits a group larger than the bound into several INSERTs, and survives a reopen', async () => {
      const { store, inserts } = counting(base);
      const orders = await ClientOrders.open(store, 1_000_000);
      const n = CLIENT_ORDER_BATCH_ROWS_MAX + 10;
      const asked = Array.from({ length: n }, (_, i) => orders.record(9, `big-${i}`, 10_000 + i));
      assert.ok((await Promise.all(asked)).every((r) => r));
      assert.equal(inserts(), 2);
      const reopened = await ClientOrders.open(base, 1_000_000);
      assert.equal(reopened.find(9, `big-${n - 1}`), 10_000 + n - 1);
    });

    it('fails every caller of a group whose INSERT fails, and records none of them', async () => {
      const orders = await ClientOrders.open(base, 1_000_000);
      // Order ids are unique in the table: a group reusing one fails whole.
      const results = await Promise.allSettled([orders.record(3, 'x-1', 900), orders.record(3, 'x-2', 100)]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'rejected'],
      );
      assert.equal(orders.find(3, 'x-1'), undefined);
      assert.equal(await orders.record(3, 'x-1', 901), true, 'the pair is free after the failure');
    });
  });
}
