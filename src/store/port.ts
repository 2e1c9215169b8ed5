/**
 * The query store's port: the small interface every adapter implements (PGlite in-process, PostgreSQL over
 * the network), with one SQL dialect (PostgreSQL's) and one set of migrations for both. No ORM: callers write
 * SQL with numbered parameters ($1, $2, ...) and read rows as plain objects, checking their fields.
 *
 * Values come back alike from both adapters: int4 as number, int8 as bigint, numeric as string, timestamptz
 * as Date, bytea as Uint8Array, json and jsonb parsed, arrays as arrays, SQL NULL as null.
 */

/** What a query parameter may be. */
export type SqlValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Date
  | Uint8Array
  | readonly number[]
  | readonly string[]
  | readonly bigint[]
  | readonly (number | null)[]
  | readonly (string | null)[];

/** One row: column name to value (see above for the types). */
export type Row = Readonly<Record<string, unknown>>;

/** Statements inside or outside a transaction. */
export interface Queryable {
  /** One statement with parameters; its rows (none for a statement that returns none). */
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** One or more statements without parameters (a migration, a script). */
  exec(sql: string): Promise<void>;
  /**
   * `COPY ... FROM STDIN` (the format `sql` names) with `data` as its whole input; resolves with the rows
   * copied. PostgreSQL's transactions have it, and PGlite's statements (its `/dev/blob` stands for STDIN);
   * callers fall back to INSERT where it is missing.
   */
  copyFrom?(sql: string, data: Uint8Array): Promise<number>;
}

export type StoreKind = 'pglite' | 'postgres';

/** What a `listen` call is told: each notification's payload, and when notifications may have been missed. */
export interface NotificationHandler {
  notify(payload: string): void;
  /** The connection was lost and is back: notifications sent meanwhile are gone, so assume anything changed. */
  gap(): void;
}

export interface Store extends Queryable {
  readonly kind: StoreKind;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws (and the error
   * rethrown). Statements inside must go through `tx`, not the store.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * LISTEN on `channel` (a plain identifier): `handler.notify` gets every NOTIFY payload sent to it by any
   * session, this process's or another's. Resolves once listening; the function it gives stops.
   */
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  /** Closes the connections (PGlite: flushes and closes its files). The store is unusable afterwards. */
  close(): Promise<void>;
}

export const StoreErrorCode = {
  /** The database cannot be reached or opened. */
  Unavailable: 'STORE_UNAVAILABLE',
  /** The schema in the database is not one this code knows (a newer version, a changed migration). */
  SchemaMismatch: 'STORE_SCHEMA_MISMATCH',
  Closed: 'STORE_CLOSED',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** A failure of the store that callers handle by its code (a bad query is an ordinary driver error). */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * What both adapters share: statements outside a transaction go to `direct`, and every call after close is
 * refused with STORE_CLOSED. An adapter supplies its transaction and how it releases its connections.
 */
/** Channel names are identifiers: LISTEN takes no parameter, so the name is checked, never quoted from input. */
export const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export abstract class GuardedStore implements Store {
  abstract readonly kind: StoreKind;
  private closed = false;

  constructor(private readonly direct: Queryable) {}

  protected open(): void {
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

  abstract transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;

  abstract listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
  }

  /** Closes the adapter's connections or files, once. */
  protected abstract release(): Promise<void>;
}
