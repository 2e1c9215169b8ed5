/**
 * The query store's contract, run against every adapter: the same statements give the same rows with the
 * same JavaScript types, transactions commit and roll back, migrations apply once, in order, and refuse a
 * database they must not touch.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  MIGRATIONS,
  StoreError,
  StoreErrorCode,
  checksum,
  migrate,
  openPgliteStore,
  openPostgresStore,
  type Migration,
  type Store,
} from '../../src/store/index.js';
import { TEST_DATABASE_URL, pgliteFactory, storeFactories } from './helpers.js';

const isCode = (code: StoreErrorCode) => (e: unknown) => e instanceof StoreError && e.code === code;

for (const factory of [...storeFactories(), pgliteFactory('worker')]) {
  describe(`query store contract: ${factory.name}`, () => {
    let store: Store;

    before(async () => {
      store = await factory.fresh();
    });
    after(async () => {
      await store.close();
      await factory.cleanup();
    });

    it('returns values with the same JavaScript types', async () => {
      const [row] = await store.query(
        `SELECT 1::int4 AS i4, 9007199254740993::int8 AS i8, 5::int8 AS small8, 'x'::text AS t, true AS b,
                '2024-01-01T00:00:00Z'::timestamptz AS ts, ARRAY[1, 2]::int4[] AS a4, ARRAY[5]::int8[] AS a8,
                '\\x0102'::bytea AS by, '{"a": 1}'::jsonb AS j, 1.50::numeric AS n, NULL::text AS nul`,
      );
      assert.equal(row.i4, 1);
      assert.equal(row.i8, 9007199254740993n);
      assert.equal(row.small8, 5n, 'int8 is a bigint even when it would fit a number');
      assert.equal(row.t, 'x');
      assert.equal(row.b, true);
      assert.ok(row.ts instanceof Date);
      assert.equal(row.ts.toISOString(), '2024-01-01T00:00:00.000Z');
      assert.deepEqual(row.a4, [1, 2]);
      assert.deepEqual(row.a8, [5n]);
      assert.ok(row.by instanceof Uint8Array);
      assert.deepEqual([...row.by], [1, 2]);
      assert.deepEqual(row.j, { a: 1 });
      assert.equal(row.n, '1.50');
      assert.equal(row.nul, null);
    });

    it('passes parameters of every kind', async () => {
      const when = new Date('2025-06-01T12:00:00.000Z');
      const [row] = await store.query(
        'SELECT $1::text AS t, $2::int4 AS i, $3::int8 AS big, $4::bool AS b, $5::timestamptz AS ts, $6::int4[] AS a, $7::text AS nul',
        ["it's", 42, 2n ** 60n, false, when, [3, 4], null],
      );
      assert.deepEqual(row, { t: "it's", i: 42, big: 2n ** 60n, b: false, ts: when, a: [3, 4], nul: null });
    });

    it('runs several statements with exec, and a statement without rows gives none', async () => {
      await store.exec('CREATE TABLE t_exec (a int); INSERT INTO t_exec VALUES (1), (2);');
      assert.deepEqual(await store.query('UPDATE t_exec SET a = a + 1'), []);
      assert.deepEqual(await store.query('SELECT a FROM t_exec ORDER BY a'), [{ a: 2 }, { a: 3 }]);
    });

    it('commits a transaction and returns its result', async () => {
      await store.exec('CREATE TABLE t_commit (a int)');
      const n = await store.transaction(async (tx) => {
        await tx.query('INSERT INTO t_commit VALUES ($1)', [1]);
        await tx.query('INSERT INTO t_commit VALUES ($1)', [2]);
        return (await tx.query('SELECT count(*)::int AS n FROM t_commit'))[0].n;
      });
      assert.equal(n, 2);
      assert.deepEqual(await store.query('SELECT count(*)::int AS n FROM t_commit'), [{ n: 2 }]);
    });

    it('rolls a transaction back when its work throws, and rethrows', async () => {
      await store.exec('CREATE TABLE t_rollback (a int)');
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.query('INSERT INTO t_rollback VALUES (1)');
          throw new Error('boom');
        }),
        /boom/,
      );
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.query('INSERT INTO t_rollback VALUES (1)');
          await tx.query('SELECT * FROM no_such_table');
        }),
      );
      assert.deepEqual(await store.query('SELECT count(*)::int AS n FROM t_rollback'), [{ n: 0 }]);
      // The store still works after failed transactions.
      assert.deepEqual(await store.query('SELECT 1 AS one'), [{ one: 1 }]);
    });

    it('copies rows with COPY ... FROM STDIN in a transaction (text and binary), counting them', async () => {
      await store.exec('CREATE TABLE t_copy (a int8 PRIMARY KEY, b text)');
      const text = new TextEncoder().encode('1\tone\n2\t\\N\n3\ta\\tb\n');
      // Binary: the signature, flags and extension length, one tuple (two fields), the trailer.
      const binary = new Uint8Array([
        ...new TextEncoder().encode('PGCOPY\n'),
        0xff,
        0x0d,
        0x0a,
        0x00,
        ...new Array<number>(8).fill(0),
        0x00,
        0x02,
        0x00,
        0x00,
        0x00,
        0x08,
        ...[0, 0, 0, 0, 0, 0, 0, 4],
        0x00,
        0x00,
        0x00,
        0x01,
        0x78,
        0xff,
        0xff,
      ]);
      const counts = await store.transaction(async (tx) => {
        assert.ok(tx.copyFrom !== undefined, `${factory.name} has copyFrom`);
        return [
          await tx.copyFrom('COPY t_copy (a, b) FROM STDIN', text),
          await tx.copyFrom('COPY t_copy (a, b) FROM STDIN (FORMAT binary)', binary),
        ];
      });
      assert.deepEqual(counts, [3, 1]);
      assert.deepEqual(await store.query('SELECT a::int4 AS a, b FROM t_copy ORDER BY a'), [
        { a: 1, b: 'one' },
        { a: 2, b: null },
        { a: 3, b: 'a\tb' },
        { a: 4, b: 'x' },
      ]);
      // A row already there fails the whole COPY with the unique violation's code, and nothing is copied.
      await assert.rejects(
        store.transaction((tx) => tx.copyFrom!('COPY t_copy (a, b) FROM STDIN', text)),
        (e) => (e as { code?: unknown }).code === '23505',
      );
      assert.deepEqual(await store.query('SELECT count(*)::int AS n FROM t_copy'), [{ n: 4 }]);
    });

    it('reports a bad statement as an error and keeps working', async () => {
      await assert.rejects(store.query('SELEC 1'));
      await assert.rejects(store.query('SELECT $1::int AS x', ['not a number']));
      assert.deepEqual(await store.query('SELECT 2 AS two'), [{ two: 2 }]);
    });

    describe('migrations', () => {
      it('apply in order on an empty schema, are recorded, and change nothing when run again', async () => {
        const db = await factory.fresh();
        try {
          const first = await migrate(db);
          assert.deepEqual(first, { applied: MIGRATIONS.map((m) => m.version), version: MIGRATIONS.length });
          const again = await migrate(db);
          assert.deepEqual(again, { applied: [], version: MIGRATIONS.length });
          const rows = await db.query(
            'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
          );
          assert.deepEqual(
            rows,
            MIGRATIONS.map((m) => ({ version: m.version, name: m.name, checksum: checksum(m) })),
          );
          assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM api_keys'), [{ n: 0 }]);
        } finally {
          await db.close();
        }
      });

      it('apply only the new ones when the list grows', async () => {
        const db = await factory.fresh();
        try {
          await migrate(db, MIGRATIONS);
          const extra: Migration = {
            version: MIGRATIONS.length + 1,
            name: 'extra',
            sql: 'CREATE TABLE extra (a int);',
          };
          assert.deepEqual(await migrate(db, [...MIGRATIONS, extra]), {
            applied: [extra.version],
            version: extra.version,
          });
          assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM extra'), [{ n: 0 }]);
        } finally {
          await db.close();
        }
      });

      it('leave nothing behind when one fails', async () => {
        const db = await factory.fresh();
        try {
          const broken: Migration[] = [
            { version: 1, name: 'good', sql: 'CREATE TABLE good (a int);' },
            { version: 2, name: 'bad', sql: 'CREATE TABLE bad (a no_such_type);' },
          ];
          await assert.rejects(migrate(db, broken));
          const tables = await db.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('good', 'schema_migrations')",
          );
          assert.deepEqual(tables, []);
        } finally {
          await db.close();
        }
      });

      it('refuse a database migrated by a newer version, or whose migration was edited', async () => {
        const db = await factory.fresh();
        try {
          const extra: Migration = { version: 2, name: 'newer', sql: 'CREATE TABLE newer (a int);' };
          const base: Migration[] = [{ version: 1, name: 'one', sql: 'CREATE TABLE one (a int);' }];
          await migrate(db, [...base, extra]);
          await assert.rejects(migrate(db, base), (e) => {
            assert.ok(isCode(StoreErrorCode.SchemaMismatch)(e));
            assert.match((e as Error).message, /migration 2 \(newer\).*newer version/);
            return true;
          });
          const edited: Migration[] = [{ ...base[0], sql: 'CREATE TABLE one (a bigint);' }, extra];
          await assert.rejects(migrate(db, edited), /migration 1 \(one\) in the database differs/);
        } finally {
          await db.close();
        }
      });

      it('refuse a list with a gap in its versions', async () => {
        const db = await factory.fresh();
        try {
          await assert.rejects(migrate(db, [{ version: 2, name: 'two', sql: 'SELECT 1;' }]), /expected 1/);
        } finally {
          await db.close();
        }
      });
    });

    it('refuses use after close', async () => {
      const db =
        factory.name !== 'postgres'
          ? await openPgliteStore({
              dir: null,
              create: true,
              thread: factory.name === 'pglite' ? 'caller' : 'worker',
            })
          : await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
      await db.close();
      await db.close(); // idempotent
      await assert.rejects(db.query('SELECT 1'), isCode(StoreErrorCode.Closed));
    });
  });
}

describe('query store: opening', () => {
  it('PostgreSQL: an unreachable server is STORE_UNAVAILABLE with the reason, not a hang', async () => {
    await assert.rejects(
      openPostgresStore({
        url: 'postgres://postgres@127.0.0.1:1/test',
        schema: null,
        connectTimeoutMs: 2000,
      }),
      (e) => isCode(StoreErrorCode.Unavailable)(e) && /cannot reach PostgreSQL/.test((e as Error).message),
    );
  });

  it('PostgreSQL: concurrent migrations of one schema apply each migration once', async () => {
    const [factory] = storeFactories().filter((f) => f.name === 'postgres');
    const a = await factory.fresh();
    try {
      const [schema] = (await a.query('SELECT current_schema() AS s')).map((r) => String(r.s));
      const b = await openPostgresStore({ url: TEST_DATABASE_URL, schema });
      try {
        const reports = await Promise.all([migrate(a), migrate(b)]);
        const applied = reports.flatMap((r) => r.applied).sort();
        assert.deepEqual(
          applied,
          MIGRATIONS.map((m) => m.version),
        );
      } finally {
        await b.close();
      }
    } finally {
      await factory.cleanup();
    }
  });

  it('PGlite: keeps its files in the folder given, and a reopened store finds the data', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'rialto-pglite-')), 'pglite');
    try {
      const db = await openPgliteStore({ dir, create: true });
      await migrate(db);
      await db.exec("CREATE TABLE kept (a text); INSERT INTO kept VALUES ('x');");
      await db.close();
      assert.ok(existsSync(join(dir, 'PG_VERSION')));
      const again = await openPgliteStore({ dir, create: false });
      try {
        assert.deepEqual(await again.query('SELECT a FROM kept'), [{ a: 'x' }]);
        assert.deepEqual(await migrate(again), { applied: [], version: MIGRATIONS.length });
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });

  it('PGlite: a missing folder is STORE_UNAVAILABLE unless asked to create it', async () => {
    await assert.rejects(
      openPgliteStore({ dir: '/nonexistent/rialto-pglite', create: false }),
      isCode(StoreErrorCode.Unavailable),
    );
  });
});
