/**
 * Opening the store the configuration asks for: PostgreSQL when it names a database URL, else PGlite in the
 * data directory. The caller migrates (`migrate`) before using the tables.
 */
import type { DatabaseConfig, DependencyGuard } from '../ops/index.js';
import type { PgliteOptions } from './pglite.js';
import type { Store } from './port.js';
import type { PostgresOptions } from './postgres.js';

export interface OpenOptions {
  /** PGlite: create the database when missing (false: STORE_UNAVAILABLE instead). */
  create: boolean;
  /** PostgreSQL: the retries and circuit breaker its calls go through (default: a guard of its own). */
  guard?: DependencyGuard;
  /** PGlite: run its SQL on a worker thread of its own (default: the caller's thread). */
  pgliteThread?: 'caller' | 'worker';
}

// Each adapter is loaded when it is opened: a command on PGlite does not load pg and its pool, nor one on
// PostgreSQL PGlite (a command-line tool opens one store and exits; their loading is much of its start).
export async function openStore(database: DatabaseConfig, options: OpenOptions): Promise<Store> {
  if (database.kind === 'postgres') {
    return openPostgresStore({ url: database.url, schema: null, guard: options.guard });
  }
  return openPgliteStore({ dir: database.dir, create: options.create, thread: options.pgliteThread });
}

/** PostgreSQL's adapter (pg with it) loaded on the first call: the store's index does not load it. */
export async function openPostgresStore(options: PostgresOptions): Promise<Store> {
  return (await import('./postgres.js')).openPostgresStore(options);
}

/** PGlite's adapter loaded on the first call, as openPostgresStore. */
export async function openPgliteStore(options: PgliteOptions): Promise<Store> {
  return (await import('./pglite.js')).openPgliteStore(options);
}
