/**
 * Fingerprints of the query tables, to show that a restore brought back the same rows: per table its row
 * count and the sum of a 60-bit hash of each row's text. The sum does not depend on row order (a restore
 * may return rows in another physical order) and needs no memory per row; numeric sums cannot overflow.
 */
import type { Queryable } from '../store/index.js';
import type { TableFingerprint } from './manifest.js';

/** The tables of the current schema: plain and partitioned ones, not the partitions (their parent counts them). */
export async function queryTables(db: Queryable): Promise<string[]> {
  const rows = await db.query(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname`,
  );
  return rows.map((r) => String(r.name));
}

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export async function fingerprintTables(db: Queryable): Promise<Record<string, TableFingerprint>> {
  const out: Record<string, TableFingerprint> = {};
  for (const name of await queryTables(db)) {
    const [r] = await db.query(
      `SELECT count(*)::int8 AS rows,
              coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::int8), 0)::text AS digest
         FROM ${quoteIdent(name)} t`,
    );
    out[name] = { rows: Number(r.rows), digest: String(r.digest) };
  }
  return out;
}

/** The tables whose fingerprints differ (or that only one side has), with what each side holds. */
export function tableDifferences(
  expected: Readonly<Record<string, TableFingerprint>>,
  found: Readonly<Record<string, TableFingerprint>>,
): string[] {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(found)])].sort();
  const describe = (f: TableFingerprint | undefined): string =>
    f === undefined ? 'no table' : `${f.rows} rows, digest ${f.digest}`;
  return names
    .filter((n) => expected[n]?.rows !== found[n]?.rows || expected[n]?.digest !== found[n]?.digest)
    .map((n) => `${n}: the backup has ${describe(expected[n])}, the restore ${describe(found[n])}`);
}
