/**
 * The query store's schema, as numbered migrations: one list for PGlite and PostgreSQL alike. `migrate`
 * applies the ones a database lacks with the umzug migration library, in order, in one transaction that
 * holds an advisory lock (so two processes starting at once apply each migration once), and records each in
 * `schema_migrations` with a checksum of its SQL. Running it again changes nothing. A database that has a migration this code does not
 * know (written by a newer Rialto), or whose recorded SQL differs from ours (a migration edited after it
 * shipped), is refused rather than guessed at: add a new migration instead of editing an old one.
 */
import { createHash } from 'node:crypto';
import type { UmzugStorage } from 'umzug';
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
    // The gateway's client order ids, as the first versions kept them (written before the order was submitted).
    // No longer written: the journal's place records carry them; read at start for orders placed before that
    // (src/gateway/trading/client-orders.ts).
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
    // Reference data of the market data pipeline's enrich stage (src/marketdata/pipeline/reference-store.ts).
    // Every change, by Rialto or by hand in SQL, bumps the revision and NOTIFYs the instrument, so that every
    // process's cache drops its entry at once.
    version: 4,
    name: 'md_reference_data',
    sql: `
      CREATE TABLE md_reference_data (
        instrument          text             PRIMARY KEY CHECK (char_length(instrument) BETWEEN 1 AND 64),
        asset_class         text             NOT NULL CHECK (char_length(asset_class) BETWEEN 1 AND 64),
        venue               text             NOT NULL CHECK (char_length(venue) BETWEEN 1 AND 64),
        currency            text             NOT NULL CHECK (char_length(currency) BETWEEN 1 AND 16),
        unit                text             NOT NULL CHECK (char_length(unit) BETWEEN 1 AND 32),
        tick_size           bigint           NOT NULL CHECK (tick_size > 0),
        lot_size            bigint           NOT NULL CHECK (lot_size > 0),
        taxonomy_path       text[]           NOT NULL CHECK (cardinality(taxonomy_path) <= 16),
        taxonomy_confidence double precision NOT NULL CHECK (taxonomy_confidence BETWEEN 0 AND 1),
        taxonomy_method     text             NOT NULL CHECK (taxonomy_method IN ('manual', 'rule', 'model', 'vendor')),
        revision            bigint           NOT NULL DEFAULT 1 CHECK (revision > 0),
        updated_at          timestamptz      NOT NULL DEFAULT now()
      );
      CREATE FUNCTION md_reference_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          NEW.revision := OLD.revision + 1;
          NEW.updated_at := now();
          RETURN NEW;
        END IF;
        RETURN COALESCE(NEW, OLD);
      END $$;
      CREATE FUNCTION md_reference_data_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('rialto_md_reference', COALESCE(NEW.instrument, OLD.instrument));
        RETURN NULL;
      END $$;
      CREATE TRIGGER md_reference_data_revision BEFORE UPDATE ON md_reference_data
        FOR EACH ROW EXECUTE FUNCTION md_reference_data_changed();
      CREATE TRIGGER md_reference_data_notify AFTER INSERT OR UPDATE OR DELETE ON md_reference_data
        FOR EACH ROW EXECUTE FUNCTION md_reference_data_notify();
      `,
  },
  {
    // The market data store (src/marketdata/store, docs/marketdata.md#storage): ticks and bars in tables
    // partitioned by day of their event time, each day's partition made ahead of time or on demand by
    // md_ensure_day (under an advisory lock, so two writers never race to create one). Prices and sizes are
    // integers of the source's units (the venue's ticks and lots). A tick's key holds its event id, and a
    // bar's its instrument, interval, start and number (0 for time bars): with the time in every key (a
    // partitioned table's unique keys must hold the partition key), a redelivered message, whose id and time
    // are the same, inserts nothing. A corrected bar (a higher revision) replaces the row of the same key.
    version: 5,
    name: 'market_data',
    sql: `
      CREATE TABLE md_ticks (
        instrument text        NOT NULL CHECK (char_length(instrument) BETWEEN 1 AND 64),
        ts         timestamptz NOT NULL,
        ts_ns      smallint    NOT NULL CHECK (ts_ns BETWEEN 0 AND 999),
        event_id   text        NOT NULL CHECK (char_length(event_id) BETWEEN 1 AND 256),
        kind       "char"      NOT NULL CHECK (kind IN ('t', 'q')),
        price      bigint,
        size       bigint,
        side       "char"      CHECK (side IN ('b', 's', 'u')),
        bid_price  bigint,
        bid_size   bigint,
        ask_price  bigint,
        ask_size   bigint,
        trade_id   bigint,
        flags      integer     NOT NULL CHECK (flags >= 0),
        source     text        NOT NULL,
        PRIMARY KEY (instrument, ts, event_id)
      ) PARTITION BY RANGE (ts);

      CREATE TABLE md_bars (
        instrument text        NOT NULL CHECK (char_length(instrument) BETWEEN 1 AND 64),
        interval   text        NOT NULL CHECK (char_length(interval) BETWEEN 1 AND 40),
        start_ts   timestamptz NOT NULL,
        number     bigint      NOT NULL CHECK (number >= 0),
        end_ts     timestamptz NOT NULL,
        open       bigint      NOT NULL,
        high       bigint      NOT NULL,
        low        bigint      NOT NULL,
        close      bigint      NOT NULL,
        volume     bigint      NOT NULL CHECK (volume >= 0),
        notional   numeric     NOT NULL,
        trades     integer     NOT NULL CHECK (trades > 0),
        revision   integer     NOT NULL CHECK (revision >= 0),
        event_id   text        NOT NULL,
        PRIMARY KEY (instrument, interval, start_ts, number),
        CHECK (end_ts >= start_ts),
        CHECK (low <= high)
      ) PARTITION BY RANGE (start_ts);

      -- The journal sequence number up to which the venue's market data is written (one row per feed).
      CREATE TABLE md_progress (
        feed       text        PRIMARY KEY,
        seq        bigint      NOT NULL CHECK (seq >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE FUNCTION md_ensure_day(day date) RETURNS void LANGUAGE plpgsql AS $fn$
      DECLARE
        lo timestamptz := (day::timestamp AT TIME ZONE 'UTC');
        hi timestamptz := ((day + 1)::timestamp AT TIME ZONE 'UTC');
        suffix text := to_char(day, 'YYYYMMDD');
      BEGIN
        -- "RIALTOMD" in ASCII: partitions are made one at a time, whoever asks.
        PERFORM pg_advisory_xact_lock(5929342180497771844);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF md_ticks FOR VALUES FROM (%L) TO (%L)',
                       'md_ticks_' || suffix, lo, hi);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF md_bars FOR VALUES FROM (%L) TO (%L)',
                       'md_bars_' || suffix, lo, hi);
      END
      $fn$;
    `,
  },
  {
    // Audit events of \`rialto keys\` on PostgreSQL beside a running venue, waiting for the venue to chain them
    // into its audit file (src/audit/log.ts, AuditInbox). The event is its canonical JSON (numbered 0).
    version: 6,
    name: 'audit_inbox',
    sql: `
      CREATE TABLE audit_inbox (
        event_id    text        PRIMARY KEY CHECK (char_length(event_id) BETWEEN 1 AND 256),
        event       text        NOT NULL,
        added_at    timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    // The query tables (src/projection, docs/architecture.md#query-tables-srcprojection): the engine's journal projected for
    // operators, reports and BI, written in batches whose last command's sequence number is kept in
    // projection_checkpoints in the same transaction. Every row holds absolute values (never increments), so
    // projecting a command twice writes the same row. Money and quantities are integer minor units, ticks and
    // lots (int8); an order's notional (price x quantity summed over its fills) may pass 2^63, hence numeric.
    // Times are microseconds since the epoch (the journal's), seq the command that last changed the row.
    version: 7,
    name: 'query_tables',
    sql: `
      CREATE TABLE projection_checkpoints (
        projector  text        PRIMARY KEY CHECK (char_length(projector) BETWEEN 1 AND 64),
        last_seq   bigint      NOT NULL CHECK (last_seq >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE assets (
        asset       integer  PRIMARY KEY CHECK (asset >= 0),
        code        text     NOT NULL,
        decimals    smallint NOT NULL CHECK (decimals >= 0),
        updated_seq bigint   NOT NULL CHECK (updated_seq > 0)
      );

      CREATE TABLE instruments (
        instrument            integer  PRIMARY KEY CHECK (instrument >= 0),
        symbol                text     NOT NULL,
        base_asset            integer  NOT NULL,
        quote_asset           integer  NOT NULL,
        base_scale            bigint   NOT NULL CHECK (base_scale > 0),
        quote_scale           bigint   NOT NULL CHECK (quote_scale > 0),
        tick_size             bigint   NOT NULL CHECK (tick_size > 0),
        lot_size              bigint   NOT NULL CHECK (lot_size > 0),
        qty_min               bigint   NOT NULL,
        qty_max               bigint   NOT NULL,
        price_band_bps        integer  NOT NULL,
        reference_price_ticks bigint   NOT NULL,
        market_protection_bps integer  NOT NULL,
        maker_fee_ppm         integer  NOT NULL,
        taker_fee_ppm         integer  NOT NULL,
        mark_method           smallint NOT NULL,
        halted                boolean  NOT NULL,
        updated_seq           bigint   NOT NULL CHECK (updated_seq > 0)
      );

      CREATE TABLE accounts (
        account_id  bigint   PRIMARY KEY CHECK (account_id > 0),
        type        smallint NOT NULL,
        status      smallint NOT NULL,
        kill_switch boolean  NOT NULL,
        created_seq bigint   NOT NULL CHECK (created_seq > 0),
        updated_seq bigint   NOT NULL CHECK (updated_seq >= created_seq)
      );

      CREATE TABLE orders (
        order_id            bigint   PRIMARY KEY CHECK (order_id > 0),
        instrument          integer  NOT NULL,
        account_id          bigint   NOT NULL,
        side                smallint NOT NULL CHECK (side IN (0, 1)),
        order_type          smallint NOT NULL,
        tif                 smallint NOT NULL,
        price_ticks         bigint   NOT NULL,
        trigger_price_ticks bigint   NOT NULL,
        qty_lots            bigint   NOT NULL CHECK (qty_lots >= 0),
        filled_lots         bigint   NOT NULL CHECK (filled_lots >= 0),
        remaining_lots      bigint   NOT NULL CHECK (remaining_lots >= 0),
        notional            numeric  NOT NULL CHECK (notional >= 0),
        settled_minor       bigint   NOT NULL,
        status              text     NOT NULL CHECK (status IN
                              ('pending', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired')),
        reject_code         integer  NOT NULL,
        cancel_reason       smallint NOT NULL,
        created_seq         bigint   NOT NULL CHECK (created_seq > 0),
        created_us          bigint   NOT NULL,
        updated_seq         bigint   NOT NULL CHECK (updated_seq >= created_seq),
        updated_us          bigint   NOT NULL
      );
      CREATE INDEX orders_account ON orders (account_id, order_id);
      CREATE INDEX orders_live ON orders (order_id) WHERE status IN ('pending', 'partially_filled');

      CREATE TABLE trades (
        instrument       integer  NOT NULL,
        trade_id         bigint   NOT NULL CHECK (trade_id > 0),
        seq              bigint   NOT NULL CHECK (seq > 0),
        time_us          bigint   NOT NULL,
        price_ticks      bigint   NOT NULL CHECK (price_ticks > 0),
        qty_lots         bigint   NOT NULL CHECK (qty_lots > 0),
        aggressor_side   smallint NOT NULL CHECK (aggressor_side IN (0, 1)),
        taker_order_id   bigint   NOT NULL,
        maker_order_id   bigint   NOT NULL,
        taker_account_id bigint   NOT NULL,
        maker_account_id bigint   NOT NULL,
        buyer_paid_minor bigint   NOT NULL,
        seller_net_minor bigint   NOT NULL,
        PRIMARY KEY (instrument, trade_id)
      );
      CREATE INDEX trades_seq ON trades (seq);

      CREATE TABLE ledger_entries (
        entry_id   bigint   PRIMARY KEY CHECK (entry_id > 0),
        seq        bigint   NOT NULL CHECK (seq > 0),
        time_us    bigint   NOT NULL,
        kind       smallint NOT NULL CHECK (kind BETWEEN 1 AND 5),
        ref        bigint   NOT NULL,
        ref2       bigint   NOT NULL,
        trade_id   bigint   NOT NULL,
        instrument integer  NOT NULL
      );

      CREATE TABLE ledger_postings (
        entry_id       bigint   NOT NULL REFERENCES ledger_entries (entry_id),
        line           smallint NOT NULL CHECK (line >= 0),
        ledger_account integer  NOT NULL CHECK (ledger_account >= 0),
        amount         bigint   NOT NULL,
        PRIMARY KEY (entry_id, line)
      );
      CREATE INDEX ledger_postings_account ON ledger_postings (ledger_account, entry_id);

      CREATE TABLE ledger_accounts (
        ledger_account integer  PRIMARY KEY CHECK (ledger_account >= 0),
        kind           smallint NOT NULL CHECK (kind BETWEEN 1 AND 6),
        asset          integer  NOT NULL,
        account_id     bigint   NOT NULL CHECK (account_id >= 0),
        balance        bigint   NOT NULL,
        updated_seq    bigint   NOT NULL CHECK (updated_seq > 0)
      );

      CREATE TABLE balances (
        account_id  bigint  NOT NULL CHECK (account_id > 0),
        asset       integer NOT NULL,
        available   bigint  NOT NULL CHECK (available >= 0),
        held        bigint  NOT NULL CHECK (held >= 0),
        updated_seq bigint  NOT NULL CHECK (updated_seq > 0),
        PRIMARY KEY (account_id, asset)
      );
    `,
  },
  {
    // audit_events.hash's check as a cheaper test of the same thing: 64 characters, each of 0-9 and a-f. The
    // regular expression with a counted repetition, `^[0-9a-f]{64}$`, cost PGlite about 10 µs a row, half of
    // what the audit projection's COPY of a row cost in all; this one about 1. A row the old check took, the
    // new one takes, and the other way round.
    version: 8,
    name: 'audit_events_hash_check',
    sql: `
      ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_hash_check;
      ALTER TABLE audit_events ADD CONSTRAINT audit_events_hash_check
        CHECK (char_length(hash) = 64 AND hash ~ '^[0-9a-f]+$');
    `,
  },
  {
    // When a DAY or GTD order expires (microseconds; 0 for the other times in force), as the API shows it in
    // `expire_time`. Rows projected before this migration keep 0.
    version: 9,
    name: 'orders_expire_time',
    sql: `
      ALTER TABLE orders ADD COLUMN expire_time_us bigint NOT NULL DEFAULT 0 CHECK (expire_time_us >= 0);
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

/** A migration's name in umzug and in error messages: `0004-md_reference_data`. */
const migrationKey = (m: { version: number; name: string }): string =>
  `${String(m.version).padStart(4, '0')}-${m.name}`;

/**
 * umzug's record of what ran, kept in schema_migrations with each migration's checksum. Reading it is also
 * where a database this code must not touch is refused: one written by a newer Rialto, or whose recorded
 * SQL differs from ours.
 */
class SchemaMigrationsStorage implements UmzugStorage<Queryable> {
  constructor(private readonly migrations: readonly Migration[]) {}

  async executed({ context: tx }: { context: Queryable }): Promise<string[]> {
    const applied = await appliedMigrations(tx);
    applied.forEach((a, i) => {
      const ours = this.migrations[i];
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
    return applied.map(migrationKey);
  }

  async logMigration({ name, context: tx }: { name: string; context: Queryable }): Promise<void> {
    const m = this.migrations.find((x) => migrationKey(x) === name);
    if (m === undefined) throw new Error(`unknown migration ${name}`);
    await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
      m.version,
      m.name,
      checksum(m),
    ]);
  }

  unlogMigration(): Promise<void> {
    // Rialto's migrations only go forward: a mistake is fixed by a new migration.
    return Promise.reject(new Error('migrations are not reverted'));
  }
}

/**
 * Applies the migrations `store` lacks, with umzug, in one transaction under an advisory lock (so two
 * processes starting at once apply each migration once, and a failing migration leaves nothing half done).
 * Throws STORE_SCHEMA_MISMATCH for a database it must not touch.
 */
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
    const storage = new SchemaMigrationsStorage(migrations);
    // Up to date (every start but the first after an upgrade): nothing for umzug to do, and loading it costs
    // more CPU than the rest of the check. The stored list is checked against ours all the same.
    if ((await storage.executed({ context: tx })).length === migrations.length) {
      return { applied: [], version: migrations.length };
    }
    const { Umzug } = await import('umzug');
    const umzug = new Umzug<Queryable>({
      migrations: migrations.map((m) => ({
        name: migrationKey(m),
        up: ({ context }: { context: Queryable }) => context.exec(m.sql),
      })),
      context: tx,
      storage,
      logger: undefined,
    });
    let ran: { name: string }[];
    try {
      ran = await umzug.up();
    } catch (e) {
      // umzug wraps a failing migration's error; ours (STORE_SCHEMA_MISMATCH) come through as they are.
      if (e instanceof StoreError) throw e;
      const cause = e instanceof Error && e.cause instanceof StoreError ? e.cause : null;
      if (cause !== null) throw cause;
      throw e;
    }
    const byKey = new Map(migrations.map((m) => [migrationKey(m), m.version]));
    return { applied: ran.map((r) => byKey.get(r.name) ?? 0), version: migrations.length };
  });
}
