/**
 * The stores every contract test runs against: PGlite in memory, and a real PostgreSQL (TEST_DATABASE_URL,
 * else the local server CI starts). Each `fresh()` gives an empty schema of its own: a new schema on
 * PostgreSQL (dropped by `cleanup`), and on the one shared PGlite instance a new schema set as its search
 * path (a PGlite start-up takes seconds, a schema a millisecond). Tests never depend on what others left.
 */
import { randomBytes } from 'node:crypto';
import { openPgliteStore, openPostgresStore, type Store } from '../../src/store/index.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface StoreFactory {
  readonly name: 'pglite' | 'pglite-worker' | 'postgres';
  /** A store on an empty schema of its own; close it when done (the schema stays until cleanup). */
  fresh(): Promise<Store>;
  /** Drops every schema this factory made and closes what it holds. */
  cleanup(): Promise<void>;
}

const schemaName = (): string => `rialto_test_${process.pid}_${randomBytes(4).toString('hex')}`;

/** PGlite in memory, on the caller's thread or (`thread: 'worker'`, as the venue runs it) a worker's. */
export function pgliteFactory(thread: 'caller' | 'worker' = 'caller'): StoreFactory {
  let shared: Store | null = null;
  return {
    name: thread === 'worker' ? 'pglite-worker' : 'pglite',
    async fresh() {
      shared ??= await openPgliteStore({ dir: null, create: true, thread });
      const schema = schemaName();
      await shared.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
      const db = shared;
      // A view of the shared instance whose close leaves it open for the next test.
      return {
        kind: db.kind,
        query: (sql, params) => db.query(sql, params),
        exec: (sql) => db.exec(sql),
        transaction: (work) => db.transaction(work),
        listen: (channel, handler) => db.listen(channel, handler),
        close: () => Promise.resolve(),
      };
    },
    async cleanup() {
      await shared?.close();
      shared = null;
    },
  };
}

export function postgresFactory(): StoreFactory {
  const schemas: string[] = [];
  const opened: Store[] = [];
  return {
    name: 'postgres',
    async fresh() {
      const schema = schemaName();
      const admin = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
      await admin.exec(`CREATE SCHEMA ${schema}`);
      await admin.close();
      schemas.push(schema);
      const store = await openPostgresStore({ url: TEST_DATABASE_URL, schema, poolSize: 4 });
      opened.push(store);
      return store;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      if (schemas.length === 0) return;
      const admin = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
      for (const schema of schemas) await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
      schemas.length = 0;
    },
  };
}

export const storeFactories = (): StoreFactory[] => [pgliteFactory(), postgresFactory()];
