/**
 * The embedded adapter: PGlite, PostgreSQL compiled to WebAssembly, in this process, its files in a folder of
 * the data directory. One process may open the folder at a time (PGlite has no locking of its own): the
 * process that holds the data directory's LOCK (the engine's, or a `rialto` tool's) is the one that opens it.
 */
import { existsSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { INT8_OID } from './int8.js';
import { StoreError, StoreErrorCode, type Queryable, type Row, type SqlValue, type Store } from './port.js';

export interface PgliteOptions {
  /** The folder of the database files, or null for a database in memory (tests). */
  dir: string | null;
  /** Creates the folder and a new database when it does not exist; otherwise that is STORE_UNAVAILABLE. */
  create: boolean;
}

type Runner = Pick<Transaction, 'query' | 'exec'>;

function queryable(runner: Runner): Queryable {
  return {
    query: async (sql, params = []) => (await runner.query<Row>(sql, params as SqlValue[])).rows,
    exec: async (sql) => void (await runner.exec(sql)),
  };
}

class PgliteStore implements Store {
  readonly kind = 'pglite';
  private closed = false;
  private readonly direct: Queryable;

  constructor(private readonly db: PGlite) {
    this.direct = queryable(db);
  }

  private open(): void {
    if (this.closed) throw new StoreError(StoreErrorCode.Closed, 'the store is closed');
  }

  async query(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    this.open();
    return this.direct.query(sql, params);
  }

  async exec(sql: string): Promise<void> {
    this.open();
    return this.direct.exec(sql);
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    this.open();
    // PGlite runs one transaction at a time; other statements wait for it, as they would for a lock.
    return this.db.transaction((tx) => work(queryable(tx)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }
}

export async function openPgliteStore(options: PgliteOptions): Promise<Store> {
  const { dir } = options;
  if (dir !== null && !options.create && !existsSync(dir)) {
    throw new StoreError(StoreErrorCode.Unavailable, `no PGlite database at ${dir}`);
  }
  let db: PGlite;
  try {
    // Durability is asked for explicitly: each commit is flushed to the files before it returns.
    db = new PGlite(dir ?? 'memory://', {
      relaxedDurability: false,
      parsers: { [INT8_OID]: (text: string) => BigInt(text) },
    });
    await db.waitReady;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new StoreError(
      StoreErrorCode.Unavailable,
      `cannot open the PGlite database at ${dir ?? 'memory'}: ${why}`,
      {
        cause: e,
      },
    );
  }
  return new PgliteStore(db);
}
