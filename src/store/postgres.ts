/**
 * The server adapter: PostgreSQL through a pg connection pool. Every limit is passed explicitly (pool size,
 * connect, idle, statement and query timeouts) rather than left to the driver's defaults. int8 comes back as
 * bigint, as PGlite returns it, not as pg's default string.
 */
import { finished } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { DependencyGuard, DependencyUnavailableError, POSTGRES_FAILURES } from '../ops/index.js';
import { INT8_ARRAY_OID, INT8_OID, parseInt8Array } from './int8.js';
import { POSTGRES_DEFAULTS } from './postgres-defaults.js';
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
  /**
   * Retries and the circuit breaker every call goes through (src/ops/resilience.ts); default: a guard of its
   * own with the defaults. The venue passes one whose stats it exports in /metrics.
   */
  guard?: DependencyGuard;
}

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

/**
 * `COPY ... FROM STDIN` with `data` as its whole input, through pg-copy-streams (the COPY sub-protocol, which pg
 * itself does not expose); resolves with the rows copied.
 */
async function copyFromStdin(client: pg.PoolClient, sql: string, data: Uint8Array): Promise<number> {
  const stream = client.query(copyStreams.from(sql));
  stream.end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  await finished(stream);
  return stream.rowCount;
}

/** Runs a call under the guard; the database being unavailable ends as STORE_UNAVAILABLE. */
async function guarded<T>(guard: DependencyGuard, call: () => Promise<T>): Promise<T> {
  try {
    return await guard.execute(call);
  } catch (e) {
    if (e instanceof DependencyUnavailableError)
      throw new StoreError(StoreErrorCode.Unavailable, e.message, { cause: e });
    throw e;
  }
}

/** The pool's statements, each under the guard (a statement outside a transaction is one call). */
function guardedQueryable(pool: pg.Pool, guard: DependencyGuard): Queryable {
  const direct = queryable(pool);
  return {
    query: (sql, params) => guarded(guard, () => direct.query(sql, params)),
    exec: (sql) => guarded(guard, () => direct.exec(sql)),
  };
}

/** Reconnection of a listening connection: first wait, doubling up to the most. */
const LISTEN_RETRY_MS_FIRST = 500;
const LISTEN_RETRY_MS_MAX = 30_000;

/**
 * A LISTEN needs a session of its own for as long as it listens, so it holds a dedicated connection, not a
 * pool's. When that connection drops, it reconnects with doubling waits and then reports a gap: NOTIFYs sent
 * while it was away are lost, which the listener must assume meant "anything may have changed".
 */
class PgListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryMs = LISTEN_RETRY_MS_FIRST;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly channel: string,
    private readonly handler: NotificationHandler,
  ) {}

  /** The first connection: its failure is the caller's error (no silent retry at start). */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (m) => {
      if (m.channel === this.channel) this.handler.notify(m.payload ?? '');
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN ${this.channel}`);
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = LISTEN_RETRY_MS_FIRST;
  }

  private lost(client: pg.Client): void {
    if (this.stopped || this.client !== client) return;
    this.client = null;
    client.end().catch(() => undefined);
    this.retry();
  }

  private retry(): void {
    if (this.stopped || this.timer !== null) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, LISTEN_RETRY_MS_MAX);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect().then(
        () => {
          if (!this.stopped) this.handler.gap();
        },
        () => this.retry(),
      );
    }, wait);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}

class PostgresStore extends GuardedStore {
  readonly kind = 'postgres';
  private readonly listeners = new Set<PgListener>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly clientConfig: pg.ClientConfig,
    private readonly guard: DependencyGuard,
  ) {
    super(guardedQueryable(pool, guard));
  }

  async listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    this.open();
    if (!CHANNEL_PATTERN.test(channel)) throw new Error(`not a channel name: ${channel}`);
    const l = new PgListener(this.clientConfig, channel, handler);
    try {
      await l.start();
    } catch (e) {
      await l.stop();
      const why = e instanceof Error ? e.message : String(e);
      throw new StoreError(StoreErrorCode.Unavailable, `cannot LISTEN on PostgreSQL: ${why}`, { cause: e });
    }
    this.listeners.add(l);
    return async () => {
      this.listeners.delete(l);
      await l.stop();
    };
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    this.open();
    // One call to the guard: getting the connection is retried when it fails, the work never is.
    return guarded(this.guard, () => this.transactionOnce(work));
  }

  private async transactionOnce<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // The pool takes its error listener off a client it hands out, so a connection lost mid-transaction is
    // emitted on the client: without a listener of ours that 'error' event would end the process. The query
    // in flight fails with the same error, which is what the caller sees; the client is not reused.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work({
        ...queryable(client),
        copyFrom: (sql, data) => copyFromStdin(client, sql, data),
      });
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
      client.off('error', onError);
      client.release(broken);
    }
  }

  protected async release(): Promise<void> {
    await Promise.all([...this.listeners].map((l) => l.stop()));
    this.listeners.clear();
    await this.pool.end();
  }
}

export async function openPostgresStore(options: PostgresOptions): Promise<Store> {
  const { schema } = options;
  if (schema !== null && !SCHEMA_PATTERN.test(schema)) throw new Error(`not a schema name: ${schema}`);
  const clientConfig: pg.ClientConfig = {
    connectionString: options.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs,
    options: schema === null ? undefined : `-c search_path=${schema}`,
    types,
  };
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
  return new PostgresStore(
    pool,
    clientConfig,
    options.guard ?? new DependencyGuard('postgres', POSTGRES_FAILURES),
  );
}
