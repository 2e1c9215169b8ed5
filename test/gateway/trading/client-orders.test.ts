/**
 * Client order ids in their log (client-orders.log in the data directory), written in groups: the mappings
 * asked for together go to the file as one append and one sync, each caller hears of its own line, and a pair
 * already taken (earlier, or earlier in the same group) is refused. What was acknowledged survives a reopen;
 * mappings to orders the journal never got are dropped; a torn last line is dropped, a corrupt one in the
 * middle stops the start. Mappings of the store's legacy table are read on PGlite and PostgreSQL alike.
 */
import { strict as assert } from 'node:assert';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CLIENT_ORDER_BATCH_ROWS_MAX,
  CLIENT_ORDER_LOG_FILE,
  ClientOrders,
  type ClientOrderFile,
} from '../../../src/gateway/trading/client-orders.js';
import { migrate, type Store } from '../../../src/store/index.js';
import { storeFactories } from '../../store/helpers.js';
import { tempDir } from '../helpers.js';

const logLines = (dir: string): string[] =>
  readFileSync(join(dir, CLIENT_ORDER_LOG_FILE), 'latin1').split('\n').slice(0, -1);

for (const factory of storeFactories()) {
  describe(`client order ids, their log: ${factory.name}`, () => {
    let store: Store;
    before(async () => {
      store = await factory.fresh();
      await migrate(store);
    });
    after(async () => {
      await store.close();
      await factory.cleanup();
    });

    it('writes the mappings asked for together in one append, each caller hearing of its own', async () => {
      const dir = tempDir();
      const orders = await ClientOrders.open(store, { dir, highestJournaledOrderId: 0 });
      const asked = Array.from({ length: 50 }, (_, i) => orders.record(1 + (i % 3), `c-${i}`, 100 + i));
      assert.deepEqual(await Promise.all(asked), new Array<boolean>(50).fill(true));
      assert.equal(orders.groupsWritten, 1);
      for (let i = 0; i < 50; i++) {
        assert.equal(orders.find(1 + (i % 3), `c-${i}`), 100 + i);
        assert.equal(orders.clientOrderIdOf(100 + i), `c-${i}`);
      }
      assert.equal(logLines(dir).length, 50);
      await orders.close();
    });

    it('refuses a pair already mapped, and the second of a pair asked twice in one group', async () => {
      const dir = tempDir();
      const orders = await ClientOrders.open(store, { dir, highestJournaledOrderId: 0 });
      assert.equal(await orders.record(1, 'c-0', 100), true);
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
      await assert.rejects(orders.record(4, 'other', 100), /order 100 is mapped already/);
      await orders.close();
    });

    it('splits a group larger than the bound, and keeps every acknowledged mapping across a reopen', async () => {
      const dir = tempDir();
      const orders = await ClientOrders.open(store, { dir, highestJournaledOrderId: 0 });
      const n = CLIENT_ORDER_BATCH_ROWS_MAX + 10;
      const asked = Array.from({ length: n }, (_, i) => orders.record(9, `big-${i}`, 10_000 + i));
      assert.ok((await Promise.all(asked)).every((r) => r));
      assert.equal(orders.groupsWritten, 2);
      await orders.close();
      const reopened = await ClientOrders.open(store, { dir, highestJournaledOrderId: 1_000_000 });
      assert.equal(reopened.find(9, `big-${n - 1}`), 10_000 + n - 1);
      assert.equal(reopened.clientOrderIdOf(10_000), 'big-0');
      assert.equal(await reopened.record(9, 'big-0', 99_999), false, 'a retry after a restart is refused');
      await reopened.close();
    });

    it('drops at start the mappings of orders the journal never got, and those forgotten', async () => {
      const dir = tempDir();
      const orders = await ClientOrders.open(store, { dir, highestJournaledOrderId: 0 });
      await Promise.all([
        orders.record(1, 'kept', 10),
        orders.record(1, 'lost', 11),
        orders.record(1, 'gone', 12),
      ]);
      await orders.forget(1, 'gone', 12);
      assert.equal(orders.find(1, 'gone'), undefined);
      await orders.close();
      const reopened = await ClientOrders.open(store, { dir, highestJournaledOrderId: 10 });
      assert.equal(reopened.find(1, 'kept'), 10);
      assert.equal(reopened.find(1, 'lost'), undefined, 'order 11 was never journaled');
      assert.equal(reopened.find(1, 'gone'), undefined, 'a forgotten mapping stays forgotten');
      assert.equal(logLines(dir).length, 1, 'the log is rewritten with what stands');
      assert.equal(await reopened.record(1, 'lost', 13), true, 'the id is free for a retry');
      await reopened.close();
    });

    it('drops a torn last line, and refuses to start on a corrupt line before others', async () => {
      const dir = tempDir();
      const orders = await ClientOrders.open(store, { dir, highestJournaledOrderId: 0 });
      await Promise.all([orders.record(2, 'a', 20), orders.record(2, 'b', 21)]);
      await orders.close();
      const path = join(dir, CLIENT_ORDER_LOG_FILE);
      appendFileSync(path, '1234abcd + 2 22 c');
      const torn = await ClientOrders.open(store, { dir, highestJournaledOrderId: 100 });
      assert.equal(torn.find(2, 'b'), 21);
      assert.equal(torn.find(2, 'c'), undefined);
      await torn.close();
      assert.equal(logLines(dir).length, 2);
      const lines = logLines(dir);
      writeFileSync(path, [lines[0].replace(' 20 ', ' 29 '), lines[1], ''].join('\n'), 'latin1');
      await assert.rejects(
        ClientOrders.open(store, { dir, highestJournaledOrderId: 100 }),
        /line 1 is corrupt/,
      );
    });

    it('fails every caller of a group whose write fails, and every later one', async () => {
      const dir = tempDir();
      const broken: ClientOrderFile = {
        append: () => Promise.reject(new Error('EIO: the disk failed')),
        sync: () => Promise.resolve(),
        close: () => Promise.resolve(),
      };
      const orders = await ClientOrders.open(store, {
        dir,
        highestJournaledOrderId: 0,
        openFile: () => Promise.resolve(broken),
      });
      const results = await Promise.allSettled([orders.record(3, 'x-1', 900), orders.record(3, 'x-2', 901)]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'rejected'],
      );
      assert.equal(orders.find(3, 'x-1'), undefined);
      await assert.rejects(orders.record(3, 'x-3', 902), /EIO/);
    });

    it('reads the mappings earlier versions wrote to the store, dropping those of unjournaled orders', async () => {
      await store.query(
        'INSERT INTO client_orders (account_id, client_order_id, order_id) VALUES ($1, $2, $3), ($4, $5, $6)',
        [5, 'legacy-1', 50, 5, 'legacy-2', 51],
      );
      const dir = tempDir();
      const orders = await ClientOrders.open(store, { dir, highestJournaledOrderId: 50 });
      assert.equal(orders.find(5, 'legacy-1'), 50);
      assert.equal(orders.find(5, 'legacy-2'), undefined);
      assert.equal(await orders.record(5, 'legacy-1', 60), false);
      await orders.close();
    });
  });
}
