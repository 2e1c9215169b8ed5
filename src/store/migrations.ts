/**
 * The query store's schema, as numbered migrations: one list for PGlite and PostgreSQL alike. `migrate`
 * applies the ones a database lacks, in order, in one transaction that holds an advisory lock (so two
 * processes starting at once apply each migration once), and records each in `schema_migrations` with a
 * checksum of its SQL. Running it again changes nothing. A database that has a migration this code does not
 * know (written by a newer Rialto), or whose recorded SQL differs from ours (a migration edited after it
 * shipped), is refused rather than guessed at: add a new migration instead of editing an old one.
 */
import { createHash } from 'node:crypto';
import { StoreError, StoreErrorCode, type Queryable, type Store } from './port.js';

export interface Migration {
  /** 1, 2, 3, ... without gaps. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'api_keys',
    sql: `
      CREATE TABLE api_keys (
        id          text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{16}$'),
        secret_hash text        NOT NULL CHECK (secret_hash LIKE '$argon2id$%'),
        role        text        NOT NULL CHECK (role IN ('viewer', 'trader', 'risk', 'admin')),
        account_ids integer[]   NOT NULL DEFAULT '{}',
        label       text        NOT NULL DEFAULT '' CHECK (char_length(label) <= 100),
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz,
        CHECK (role = 'trader' OR cardinality(account_ids) = 0),
        CHECK (revoked_at IS NULL OR revoked_at >= created_at)
      );
    `,
  },
  {
    // The gateway's client order ids: the core's commands have no field for them, so the mapping is kept here,
    // written before the order is submitted (see src/gateway/trading/client-orders.ts).
    version: 2,
    name: 'client_orders',
    sql: `
      CREATE TABLE client_orders (
        account_id      integer     NOT NULL CHECK (account_id > 0),
        client_order_id text        NOT NULL CHECK (char_length(client_order_id) BETWEEN 1 AND 64),
        order_id        bigint      NOT NULL UNIQUE CHECK (order_id > 0),
        created_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, client_order_id)
      );
    `,
  },
  {
    // The audit trail's hash chain (see src/audit and docs/audit.md): one row per event, numbered from 1 without
    // gaps, each hash covering the previous one. Details are kept as their canonical JSON text, exactly as hashed.
    version: 3,
    name: 'audit_events',
    sql: `
      CREATE TABLE audit_events (
        seq         bigint  PRIMARY KEY CHECK (seq > 0),
        event_id    text    NOT NULL UNIQUE CHECK (char_length(event_id) BETWEEN 1 AND 256),
        time_us     bigint  NOT NULL CHECK (time_us >= 0),
        actor_id    text,
        actor_role  text,
        actor_ip    text,
        action      text    NOT NULL,
        target_kind text    NOT NULL,
        target_id   text,
        result      text    NOT NULL CHECK (result IN ('ok', 'refused', 'failed')),
        result_code text,
        request_id  text,
        details     text    NOT NULL,
        hash        text    NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
      );
    `,
  },
  {
    // Audit events of \`rialto keys\` on PostgreSQL beside a running venue, waiting for the venue to chain them
    // into its audit file (src/audit/log.ts, AuditInbox). The event is its canonical JSON (numbered 0).
    version: 4,
    name: 'audit_inbox',
    sql: `
      CREATE TABLE audit_inbox (
        event_id    text        PRIMARY KEY CHECK (char_length(event_id) BETWEEN 1 AND 256),
        event       text        NOT NULL,
        added_at    timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
]);

/** The advisory lock that serializes migrations (an arbitrary constant: "RIALTO" in ASCII). */
const MIGRATION_LOCK_KEY = 0x5249414c544fn;

export interface MigrationReport {
  /** Versions applied by this run, in order. */
  readonly applied: readonly number[];
  /** The schema's version afterwards. */
  readonly version: number;
}

export function checksum(m: Migration): string {
  return createHash('sha256').update(m.sql).digest('hex');
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
}

interface Applied {
  version: number;
  name: string;
  checksum: string;
}

async function appliedMigrations(tx: Queryable): Promise<Applied[]> {
  const rows = await tx.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  return rows.map((r) => {
    const { version, name, checksum: sum } = r;
    if (typeof version !== 'number' || typeof name !== 'string' || typeof sum !== 'string') {
      throw new StoreError(
        StoreErrorCode.SchemaMismatch,
        'schema_migrations has rows of an unexpected shape',
      );
    }
    return { version, name, checksum: sum };
  });
}

function mismatch(message: string): StoreError {
  return new StoreError(StoreErrorCode.SchemaMismatch, message);
}

/** Applies the migrations `store` lacks. Throws STORE_SCHEMA_MISMATCH for a database it must not touch. */
export async function migrate(
  store: Store,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  checkList(migrations);
  return store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );
    `);
    const applied = await appliedMigrations(tx);
    applied.forEach((a, i) => {
      const ours = migrations[i];
      if (a.version !== i + 1)
        throw mismatch(`schema_migrations lacks version ${i + 1} but has ${a.version}`);
      if (ours === undefined) {
        throw mismatch(
          `the database has migration ${a.version} (${a.name}), which this version of Rialto does not know: ` +
            'it was written by a newer version',
        );
      }
      if (a.checksum !== checksum(ours)) {
        throw mismatch(
          `migration ${a.version} (${a.name}) in the database differs from this version's ${ours.name}`,
        );
      }
    });
    const done: number[] = [];
    for (const m of migrations.slice(applied.length)) {
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        checksum(m),
      ]);
      done.push(m.version);
    }
    return { applied: done, version: migrations.length };
  });
}
