/**
 * PostgreSQL's part of a backup, with PostgreSQL's own tools: pg_dump in its custom format, and pg_restore.
 * The dump and the table fingerprints see the same data: a repeatable-read transaction exports its snapshot,
 * computes the fingerprints, and pg_dump runs inside that snapshot (`--snapshot`), so a venue may keep
 * writing meanwhile. The password travels in PGPASSWORD, not on a command line other users can read.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import type { Queryable, Row, SqlValue } from '../store/index.js';
import type { TableFingerprint } from './manifest.js';
import { fingerprintTables, queryTables } from './tables.js';

export class BackupToolError extends Error {
  override name = 'BackupToolError';
}

/** The URL without its password, and the password apart (null: none). */
function splitPassword(url: string): { url: string; password: string | null } {
  const u = new URL(url);
  const password = u.password === '' ? null : decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), password };
}

function runTool(tool: string, args: string[], password: string | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    if (password !== null) env.PGPASSWORD = password;
    const child = spawn(tool, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        new BackupToolError(
          e.code === 'ENOENT'
            ? `${tool} was not found: install PostgreSQL's client tools (Debian: postgresql-client) of the server's major version`
            : `${tool} could not run: ${e.message}`,
        ),
      );
    });
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new BackupToolError(`${tool} failed (exit ${String(code)}): ${stderr.trim()}`));
    });
  });
}

function clientQueryable(client: pg.Client): Queryable {
  return {
    async query(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
      return (await client.query(sql, params as unknown[] | undefined)).rows as Row[];
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

async function withClient<T>(
  url: string,
  work: (db: Queryable, client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (e) {
    throw new BackupToolError(`cannot connect to PostgreSQL: ${(e as Error).message}`);
  }
  try {
    return await work(clientQueryable(client), client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Dumps the database to `file` and fingerprints its tables, both at one instant. */
export async function dumpDatabase(url: string, file: string): Promise<Record<string, TableFingerprint>> {
  return withClient(url, async (db) => {
    await db.exec('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const [snap] = await db.query('SELECT pg_export_snapshot() AS id');
      const tables = await fingerprintTables(db);
      const { url: bare, password } = splitPassword(url);
      await runTool(
        'pg_dump',
        [
          '--format=custom',
          '--no-owner',
          '--no-privileges',
          `--snapshot=${String(snap.id)}`,
          `--file=${file}`,
          `--dbname=${bare}`,
        ],
        password,
      );
      return tables;
    } finally {
      await db.exec('COMMIT');
    }
  });
}

/** Tables already in the target database's current schema: a restore goes into an empty one only. */
export async function existingTables(url: string): Promise<string[]> {
  return withClient(url, (db) => queryTables(db));
}

export async function restoreDatabase(url: string, file: string): Promise<Record<string, TableFingerprint>> {
  const { url: bare, password } = splitPassword(url);
  await runTool(
    'pg_restore',
    ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${bare}`, file],
    password,
  );
  return withClient(url, (db) => fingerprintTables(db));
}
