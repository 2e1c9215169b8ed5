/**
 * A backup's `manifest.json`: what it holds and what a restore must find again. It is written last, so a
 * directory without one is an incomplete backup. Checked field by field when read: a manifest is input.
 */
import { isSafeManifestPath, type FileEntry } from './files.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'rialto-backup';
export const MANIFEST_VERSION = 1;

/** One query table's content at backup time: its row count and an order-independent digest of its rows. */
export interface TableFingerprint {
  readonly rows: number;
  /** The sum over rows of the first 60 bits of md5(row as text), as a decimal string. */
  readonly digest: string;
}

export interface BackupManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: typeof MANIFEST_VERSION;
  readonly rialtoVersion: string;
  readonly createdAt: string;
  /** embedded: the journal, snapshots and PGlite's files; postgres: the journal and snapshots, and a dump. */
  readonly store: 'pglite' | 'postgres';
  /** True when it was taken while a venue ran (postgres only: PGlite's files need the venue stopped). */
  readonly online: boolean;
  readonly files: readonly FileEntry[];
  /** Every directory of the backup's tree under data/ and pglite/, empty ones included. */
  readonly directories: readonly string[];
  /** The state the journal and snapshots of the backup recover to. */
  readonly state: {
    readonly lastSeq: number;
    readonly snapshotSeq: number;
    readonly stateHash: string;
  };
  /** Fingerprints of the query tables by name. */
  readonly tables: Readonly<Record<string, TableFingerprint>>;
  /** The PostgreSQL dump (pg_dump's custom format), or null for the embedded store. */
  readonly postgresDump: FileEntry | null;
}

const HEX64 = /^[0-9a-f]{64}$/;

function fail(why: string): never {
  throw new Error(`the backup's ${MANIFEST_FILE} is not valid: ${why}`);
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function whole(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${what} is not a whole number`);
  return v;
}

function text(v: unknown, what: string): string {
  if (typeof v !== 'string') fail(`${what} is not a string`);
  return v;
}

function fileEntry(v: unknown, what: string): FileEntry {
  const o = obj(v, what);
  const path = text(o.path, `${what}.path`);
  if (!isSafeManifestPath(path))
    fail(`${what}.path ${JSON.stringify(path)} is not a relative path inside the backup`);
  const sha256 = text(o.sha256, `${what}.sha256`);
  if (!HEX64.test(sha256)) fail(`${what}.sha256 is not a SHA-256 in hex`);
  return { path, bytes: whole(o.bytes, `${what}.bytes`), sha256 };
}

export function parseManifest(json: string): BackupManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    fail(`it is not JSON (${(e as Error).message})`);
  }
  const o = obj(raw, 'the manifest');
  if (o.format !== MANIFEST_FORMAT) fail(`format is not "${MANIFEST_FORMAT}"`);
  if (o.version !== MANIFEST_VERSION)
    fail(`version ${JSON.stringify(o.version)} is not ${MANIFEST_VERSION} (made by another Rialto version?)`);
  if (o.store !== 'pglite' && o.store !== 'postgres') fail('store is neither "pglite" nor "postgres"');
  if (typeof o.online !== 'boolean') fail('online is not a boolean');
  if (!Array.isArray(o.files)) fail('files is not a list');
  const files = o.files.map((f, i) => fileEntry(f, `files[${i}]`));
  if (new Set(files.map((f) => f.path)).size !== files.length) fail('files names a path twice');
  if (!Array.isArray(o.directories)) fail('directories is not a list');
  const directories = o.directories.map((d, i) => {
    const p = text(d, `directories[${i}]`);
    if (!isSafeManifestPath(p))
      fail(`directories[${i}] ${JSON.stringify(p)} is not a relative path inside the backup`);
    return p;
  });
  const st = obj(o.state, 'state');
  const stateHash = text(st.stateHash, 'state.stateHash');
  if (!HEX64.test(stateHash)) fail('state.stateHash is not a SHA-256 in hex');
  const tablesRaw = obj(o.tables, 'tables');
  const tables: Record<string, TableFingerprint> = {};
  for (const [name, t] of Object.entries(tablesRaw)) {
    const f = obj(t, `tables.${name}`);
    const digest = text(f.digest, `tables.${name}.digest`);
    if (!/^[0-9]+$/.test(digest)) fail(`tables.${name}.digest is not a decimal number`);
    tables[name] = { rows: whole(f.rows, `tables.${name}.rows`), digest };
  }
  const dump = o.postgresDump === null ? null : fileEntry(o.postgresDump, 'postgresDump');
  if ((o.store === 'postgres') !== (dump !== null)) fail('postgresDump does not match the store');
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    rialtoVersion: text(o.rialtoVersion, 'rialtoVersion'),
    createdAt: text(o.createdAt, 'createdAt'),
    store: o.store,
    online: o.online,
    files,
    directories,
    state: {
      lastSeq: whole(st.lastSeq, 'state.lastSeq'),
      snapshotSeq: whole(st.snapshotSeq, 'state.snapshotSeq'),
      stateHash,
    },
    tables,
    postgresDump: dump,
  };
}
