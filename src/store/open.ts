/**
 * Opening the store the configuration asks for: PostgreSQL when it names a database URL, else PGlite in the
 * data directory. The caller migrates (`migrate`) before using the tables.
 */
import type { DatabaseConfig, DependencyGuard } from '../ops/index.js';
import { openPgliteStore } from './pglite.js';
import { openPostgresStore } from './postgres.js';
import type { Store } from './port.js';

export interface OpenOptions {
  /** PGlite: create the database when missing (false: STORE_UNAVAILABLE instead). */
  create: boolean;
  /** PostgreSQL: the retries and circuit breaker its calls go through (default: a guard of its own). */
  guard?: DependencyGuard;
  /** PGlite: run its SQL on a worker thread of its own (default: the caller's thread). */
  pgliteThread?: 'caller' | 'worker';
}

export async function openStore(database: DatabaseConfig, options: OpenOptions): Promise<Store> {
  if (database.kind === 'postgres')
    return openPostgresStore({ url: database.url, schema: null, guard: options.guard });
  return openPgliteStore({ dir: database.dir, create: options.create, thread: options.pgliteThread });
}
