/**
 * A PostgreSQL connection lost in the middle of a transaction (the server terminates its backend): the
 * transaction fails with the error, the process goes on (no uncaught 'error' event from the checked-out
 * client), and the store keeps working on a new connection.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { openPostgresStore } from '../../src/store/index.js';
import { TEST_DATABASE_URL } from './helpers.js';

describe('PostgreSQL store, connection lost mid-transaction', () => {
  it('rejects the transaction, raises nothing uncaught, and serves the next call', async () => {
    const store = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null, poolSize: 2 });
    const admin = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => {
      uncaught.push(e);
    };
    process.on('uncaughtException', onUncaught);
    try {
      await assert.rejects(
        store.transaction(async (tx) => {
          const [row] = await tx.query('SELECT pg_backend_pid() AS pid');
          await admin.query('SELECT pg_terminate_backend($1)', [Number(row.pid)]);
          await tx.query('SELECT pg_sleep(0.2)');
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(uncaught, [], 'no uncaught exception');
      assert.deepEqual(await store.query('SELECT 1 AS one'), [{ one: 1 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await store.close();
      await admin.close();
    }
  });
});
