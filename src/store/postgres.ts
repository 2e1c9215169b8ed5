/**
 * The server adapter: PostgreSQL through a pg connection pool. Every limit is passed explicitly (pool size,
 * connect, idle, statement and query timeouts) rather than left to the driver's defaults. int8 comes back as
 * bigint, as PGlite returns it, not as pg's default string.
 */
import pg from 'pg';
import { INT8_ARRAY_OID, INT8_OID, parseInt8Array } from './int8.js';
import {
  GuardedStore,
  StoreError,
  StoreErrorCode,
  type Queryable,
  type Row,
  type SqlValue,
  type Store,
} from './port.js';

export interface PostgresOptions {
  url: string;
  /** A schema to work in (set as the search_path of every connection), or null for the server's default. */
  schema: string | null;
  /** Connections at most. */
  poolSize?: number;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** The server cancels a statement that runs longer. */
  statementTimeoutMs?: number;
  /** Errors of idle connections (the server restarted, the network dropped); the next query fails too. */
  onIdleError?: (err: Error) => void;
}

export const POSTGRES_DEFAULTS = Object.freeze({
  poolSize: 10,
  connectTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  statementTimeoutMs: 30_000,
});

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** pg's parsers, but int8 and int8[] as bigint. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID) return (text: string) => BigInt(text);
    if (oid === INT8_ARRAY_OID) return parseInt8Array;
    return pg.types.getTypeParser(oid, format ?? 'text') as (text: string) => unknown;
  }) as typeof pg.types.getTypeParser,
};

function queryable(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    query: async (sql, params = []) => (await client.query<Row>(sql, params as SqlValue[] as unknown[])).rows,
    exec: async (sql) => void (await client.query(sql)),
  };
}

class PostgresStore extends GuardedStore {
  readonly kind = 'postgres';
  constructor(private readonly pool: pg.Pool) {
    super(queryable(pool));
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    this.open();
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(queryable(client));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection is gone; it must not go back to the pool.
        broken = true;
      }
      throw e;
    } finally {
      client.release(broken);
    }
  }

  protected release(): Promise<void> {
    return this.pool.end();
  }
}

export async function openPostgresStore(options: PostgresOptions): Promise<Store> {
  const { schema } = options;
  if (schema !== null && !SCHEMA_PATTERN.test(schema)) throw new Error(`not a schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? POSTGRES_DEFAULTS.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs ?? POSTGRES_DEFAULTS.idleTimeoutMs,
    statement_timeout: options.statementTimeoutMs ?? POSTGRES_DEFAULTS.statementTimeoutMs,
    options: schema === null ? undefined : `-c search_path=${schema}`,
    types,
  });
  // Without a listener, an idle connection's error would end the process.
  pool.on('error', options.onIdleError ?? (() => undefined));
  try {
    // Fails now, with a clear message, rather than at the first query.
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => undefined);
    const why = e instanceof Error ? e.message : String(e);
    throw new StoreError(StoreErrorCode.Unavailable, `cannot reach PostgreSQL: ${why}`, { cause: e });
  }
  return new PostgresStore(pool);
}
