/**
 * The embedded adapter: PGlite, PostgreSQL compiled to WebAssembly, in this process, its files in a folder of
 * the data directory. One process may open the folder at a time (PGlite has no locking of its own): the
 * process that holds the data directory's LOCK (the engine's, or a `rialto` tool's) is the one that opens it.
 */
import { existsSync } from 'node:fs';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { INT8_OID } from './int8.js';
import { copyFromBlob } from './pglite-copy.js';
import { openPglite } from './pglite-template.js';
import { openPgliteThreadStore } from './pglite-thread.js';
import {
  CHANNEL_PATTERN,
  GuardedStore,
  StoreError,
  StoreErrorCode,
  type NotificationHandler,
  type Queryable,
  type Row,
  type SqlValue,
  type Store,
} from './port.js';

export interface PgliteOptions {
  /** The folder of the database files, or null for a database in memory (tests). */
  dir: string | null;
  /** Creates the folder and a new database when it does not exist; otherwise that is STORE_UNAVAILABLE. */
  create: boolean;
  /**
   * Where its SQL runs: on the caller's thread (default), or on a worker thread of its own (the venue's choice:
   * pglite-thread.ts says why).
   */
  thread?: 'caller' | 'worker';
}

type Runner = Pick<Transaction, 'query' | 'exec'>;

function queryable(runner: Runner): Queryable {
  return {
    query: async (sql, params = []) => (await runner.query<Row>(sql, params as SqlValue[])).rows,
    exec: async (sql) => void (await runner.exec(sql)),
    copyFrom: (sql, data) => copyFromBlob(runner, sql, data),
  };
}

class PgliteStore extends GuardedStore {
  readonly kind = 'pglite';
  constructor(private readonly db: PGlite) {
    super(queryable(db));
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    this.open();
    // PGlite runs one transaction at a time; other statements wait for it, as they would for a lock.
    return this.db.transaction((tx) => work(queryable(tx)));
  }

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    this.open();
    if (!CHANNEL_PATTERN.test(channel)) throw new Error(`not a channel name: ${channel}`);
    // In-process: no connection to lose, so never a gap.
    return this.db.listen(channel, (payload) => handler.notify(payload));
  }

  protected release(): Promise<void> {
    return this.db.close();
  }
}

export async function openPgliteStore(options: PgliteOptions): Promise<Store> {
  const { dir } = options;
  if (dir !== null && !options.create && !existsSync(dir)) {
    throw new StoreError(StoreErrorCode.Unavailable, `no PGlite database at ${dir}`);
  }
  if (options.thread === 'worker') {
    try {
      return await openPgliteThreadStore(dir);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new StoreError(
        StoreErrorCode.Unavailable,
        `cannot open the PGlite database at ${dir ?? 'memory'}: ${why}`,
        { cause: e },
      );
    }
  }
  let db: PGlite;
  try {
    // Loaded here, not at the top: a command that imports the store without opening PGlite (`rialto keys`
    // on PostgreSQL, `rialto --help`) does not pay for loading it.
    const { PGlite } = await import('@electric-sql/pglite');
    // Durability is asked for explicitly: each commit is flushed to the files before it returns. A new
    // database starts from the build's template when there is one (pglite-template.ts).
    db = await openPglite(PGlite, dir, {
      relaxedDurability: false,
      parsers: { [INT8_OID]: (text: string) => BigInt(text) },
    });
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
