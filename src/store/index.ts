/** The query store: one small port, PGlite and PostgreSQL adapters, one set of migrations. */
export {
  StoreError,
  StoreErrorCode,
  type NotificationHandler,
  type Queryable,
  type Row,
  type SqlValue,
  type Store,
  type StoreKind,
} from './port.js';
export type { PgliteOptions } from './pglite.js';
export type { PostgresOptions } from './postgres.js';
export { POSTGRES_DEFAULTS } from './postgres-defaults.js';
export { MIGRATIONS, checksum, migrate, type Migration, type MigrationReport } from './migrations.js';
export { openPgliteStore, openPostgresStore, openStore, type OpenOptions } from './open.js';
