/**
 * `rialto backup` and `rialto restore` (docs/operations.md, "Backup and restore").
 *
 * A backup is a directory: `data/` (the journal segments, snapshots and the other files of the data
 * directory), `pglite/` (the embedded query store's files) or `postgres.dump` (pg_dump of the production
 * database), and `manifest.json`, written last, naming every file with its size and SHA-256, the state the
 * journal recovers to (last sequence number and state hash) and a fingerprint of every query table.
 *
 * Taking one. The journal is append-only and a snapshot never changes once renamed into place, so both can be
 * copied beside a running engine: the copy holds every record written before it was read, and perhaps a torn
 * last record, which recovery leaves out (it was acknowledged after the copy began, so it is past the
 * recovery point). PGlite's files are another matter: a file copy of a running database is not consistent,
 * so with the embedded store the backup takes the data directory's LOCK, and refuses while a venue runs.
 * With PostgreSQL the dump is consistent on its own (one exported snapshot), so the backup runs online.
 * Before the manifest is written, the copy is checked: every file is read back against its hash, and the
 * copied journal and snapshots are recovered to a state (any damage fails the backup).
 *
 * Restoring one checks every file against the manifest first, writes into an empty data directory (and an
 * empty database), recovers the state from what it wrote and compares the state hash, sequence number and
 * every table's fingerprint with the manifest. Any difference fails the restore, naming what differs.
 */
import * as fsp from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { recoverState } from '../engine/index.js';
import { DirLock, LOCK_FILE_NAME } from '../journal/index.js';
import type { DatabaseConfig } from '../ops/index.js';
import { openPgliteStore } from '../store/index.js';
import {
  copyHashed,
  fsyncTree,
  hashFile,
  isAbsentOrEmpty,
  isSafeManifestPath,
  listDirectories,
  listFiles,
  toManifestPath,
  type FileEntry,
} from './files.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  parseManifest,
  type BackupManifest,
  type TableFingerprint,
} from './manifest.js';
import { dumpDatabase, existingTables, restoreDatabase } from './postgres.js';
import { fingerprintTables, tableDifferences } from './tables.js';

export const BackupErrorCode = {
  /** The destination of a backup, or the data directory or database of a restore, is not empty. */
  NotEmpty: 'BACKUP_TARGET_NOT_EMPTY',
  /** A venue holds the data directory (embedded store: its files cannot be copied while it runs). */
  InUse: 'BACKUP_DATA_DIR_IN_USE',
  Missing: 'BACKUP_SOURCE_MISSING',
  /** A file of the backup is missing, or its size or hash differs from the manifest. */
  Damaged: 'BACKUP_DAMAGED',
  /** The restored state or tables differ from the manifest. */
  Mismatch: 'BACKUP_RESTORE_MISMATCH',
  /** pg_dump, pg_restore or the database failed. */
  Database: 'BACKUP_DATABASE_FAILED',
} as const;
export type BackupErrorCode = (typeof BackupErrorCode)[keyof typeof BackupErrorCode];

export class BackupError extends Error {
  override name = 'BackupError';
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface BackupSource {
  /** The data directory (absolute). */
  dataDir: string;
  database: DatabaseConfig;
  rialtoVersion: string;
  /** Book slots for the recovery check (as the engine's configuration). */
  bookCapacityOrders?: number;
  /** Told the name of each step as it begins. */
  onStep?: (step: string) => void;
}

const DATA = 'data';
const PGLITE = 'pglite';
const DUMP = 'postgres.dump';

/** The manifest's file paths are under `data/` and `pglite/`; the dump is apart. */
function isTransient(rel: string): boolean {
  const base = rel.split(sep).pop() ?? rel;
  return rel === LOCK_FILE_NAME || base.endsWith('.tmp');
}

function inside(parent: string, child: string): boolean {
  const r = relative(parent, child);
  return r !== '' && !r.startsWith('..') && !r.startsWith(sep);
}

async function copyTree(
  fromDir: string,
  toRoot: string,
  prefix: string,
  skip: (rel: string) => boolean,
): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  for (const rel of await listFiles(fromDir)) {
    if (skip(rel)) continue;
    const path = `${prefix}/${toManifestPath(rel)}`;
    try {
      const c = await copyHashed(join(fromDir, rel), join(toRoot, path));
      out.push({ path, ...c });
    } catch (e) {
      // A file the running engine removed since the listing (an old segment or snapshot past retention):
      // whether the copy still recovers is decided by the recovery check below.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
  }
  return out;
}

async function checkCopies(root: string, files: readonly FileEntry[]): Promise<void> {
  for (const f of files) {
    const seen = await hashFile(join(root, f.path)).catch(() => null);
    if (seen === null) throw new BackupError(BackupErrorCode.Damaged, `${f.path} is missing from the backup`);
    if (seen.bytes !== f.bytes || seen.sha256 !== f.sha256)
      throw new BackupError(
        BackupErrorCode.Damaged,
        `${f.path} differs from the manifest (${seen.bytes} bytes, sha256 ${seen.sha256}; expected ${f.bytes} bytes, sha256 ${f.sha256})`,
      );
  }
}

async function recoverOrFail(
  dir: string,
  src: { bookCapacityOrders?: number },
  what: string,
): Promise<BackupManifest['state']> {
  try {
    const s = await recoverState(dir, { bookCapacityOrders: src.bookCapacityOrders });
    return { lastSeq: s.lastSeq, snapshotSeq: s.snapshotSeq, stateHash: s.core.stateHash() };
  } catch (e) {
    throw new BackupError(BackupErrorCode.Damaged, `${what} does not recover: ${(e as Error).message}`);
  }
}

async function pgliteFingerprints(dir: string): Promise<Record<string, TableFingerprint>> {
  // Not migrated: the tables as they are, so that a backup and its restore compare like with like.
  const store = await openPgliteStore({ dir, create: false }).catch((e: unknown) => {
    throw new BackupError(BackupErrorCode.Database, (e as Error).message);
  });
  try {
    return await fingerprintTables(store);
  } finally {
    await store.close();
  }
}

async function writeManifest(dest: string, manifest: BackupManifest): Promise<void> {
  const tmp = join(dest, `${MANIFEST_FILE}.tmp`);
  await fsp.writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n', { flag: 'wx' });
  const h = await fsp.open(tmp, 'r');
  await h.sync();
  await h.close();
  await fsp.rename(tmp, join(dest, MANIFEST_FILE));
  await fsyncTree(dest);
}

async function prepareEmpty(dir: string, what: string): Promise<void> {
  let empty: boolean;
  try {
    empty = await isAbsentOrEmpty(dir);
  } catch (e) {
    throw new BackupError(BackupErrorCode.NotEmpty, `${what} ${dir} cannot be used: ${(e as Error).message}`);
  }
  if (!empty)
    throw new BackupError(
      BackupErrorCode.NotEmpty,
      `${what} ${dir} is not empty: name a new or empty directory`,
    );
  await fsp.mkdir(dir, { recursive: true });
}

async function takeLock(dataDir: string, purpose: string): Promise<DirLock> {
  try {
    return await DirLock.acquire(dataDir, purpose);
  } catch (e) {
    throw new BackupError(
      BackupErrorCode.InUse,
      `${(e as Error).message}. With the embedded store, stop the venue first: PGlite's files can only be copied at rest`,
    );
  }
}

export interface BackupReport {
  dest: string;
  manifest: BackupManifest;
  bytes: number;
}

/** Takes a backup of `src` into `destDir` (absent or empty). On failure, removes what it wrote. */
export async function createBackup(src: BackupSource, destDir: string): Promise<BackupReport> {
  const dest = resolve(destDir);
  try {
    await fsp.access(src.dataDir);
  } catch {
    throw new BackupError(BackupErrorCode.Missing, `the data directory ${src.dataDir} does not exist`);
  }
  if (dest === src.dataDir || inside(src.dataDir, dest) || inside(dest, src.dataDir))
    throw new BackupError(BackupErrorCode.NotEmpty, `the backup ${dest} must lie outside the data directory`);
  await prepareEmpty(dest, 'the backup destination');
  const step = src.onStep ?? ((): void => undefined);
  const embedded = src.database.kind === 'pglite';
  const lock = embedded
    ? await takeLock(src.dataDir, 'rialto backup').catch(async (e: unknown) => {
        await fsp.rm(dest, { recursive: true, force: true });
        throw e;
      })
    : null;
  try {
    const pgliteDir = src.database.kind === 'pglite' ? resolve(src.database.dir) : null;
    const pgliteRel =
      pgliteDir !== null && inside(src.dataDir, pgliteDir) ? relative(src.dataDir, pgliteDir) : null;
    const inPglite = (rel: string): boolean =>
      pgliteRel !== null && (rel === pgliteRel || rel.startsWith(pgliteRel + sep));
    let tables: Record<string, TableFingerprint> = {};
    let postgresDump: FileEntry | null = null;
    if (src.database.kind === 'postgres') {
      step('dumping PostgreSQL');
      try {
        tables = await dumpDatabase(src.database.url, join(dest, DUMP));
      } catch (e) {
        throw new BackupError(BackupErrorCode.Database, (e as Error).message);
      }
      postgresDump = { path: DUMP, ...(await hashFile(join(dest, DUMP))) };
    } else if (pgliteDir !== null && (await fsp.stat(pgliteDir).catch(() => null)) !== null) {
      step('reading the query tables');
      tables = await pgliteFingerprints(pgliteDir);
    }
    step('copying the journal and snapshots');
    // The dump first, then the journal: a journal copied later holds at least what the dump's rows came from.
    const files = await copyTree(
      src.dataDir,
      dest,
      DATA,
      (rel) =>
        isTransient(rel) || (pgliteRel !== null && (rel === pgliteRel || rel.startsWith(pgliteRel + sep))),
    );
    if (pgliteDir !== null && (await fsp.stat(pgliteDir).catch(() => null)) !== null) {
      step('copying the query store');
      files.push(...(await copyTree(pgliteDir, dest, PGLITE, () => false)));
    }
    // From the sources, not the copy: empty directories (PostgreSQL needs its own) hold no file to copy.
    const directories = [
      ...(await listDirectories(src.dataDir))
        .filter((d) => !inPglite(d))
        .map((d) => `${DATA}/${toManifestPath(d)}`),
      ...(pgliteDir !== null && (await fsp.stat(pgliteDir).catch(() => null)) !== null
        ? [PGLITE, ...(await listDirectories(pgliteDir)).map((d) => `${PGLITE}/${toManifestPath(d)}`)]
        : []),
    ];
    for (const d of directories) await fsp.mkdir(join(dest, d), { recursive: true });
    step('checking the copy');
    await checkCopies(dest, files);
    const state = await recoverOrFail(join(dest, DATA), src, 'the copied journal');
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      rialtoVersion: src.rialtoVersion,
      createdAt: new Date().toISOString(),
      store: embedded ? 'pglite' : 'postgres',
      online: !embedded,
      files,
      directories,
      state,
      tables,
      postgresDump,
    };
    await writeManifest(dest, manifest);
    const bytes = files.reduce((n, f) => n + f.bytes, postgresDump?.bytes ?? 0);
    return { dest, manifest, bytes };
  } catch (e) {
    await fsp.rm(dest, { recursive: true, force: true });
    throw e;
  } finally {
    await lock?.release();
  }
}

/** Reads and checks a backup's manifest and every file it names (sizes and hashes). */
async function checkBackupFiles(srcDir: string): Promise<BackupManifest> {
  const root = resolve(srcDir);
  let text: string;
  try {
    text = await fsp.readFile(join(root, MANIFEST_FILE), 'utf8');
  } catch (e) {
    throw new BackupError(
      BackupErrorCode.Missing,
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? `${root} holds no ${MANIFEST_FILE}: it is not a backup, or an incomplete one`
        : `cannot read ${join(root, MANIFEST_FILE)}: ${(e as Error).message}`,
    );
  }
  let manifest: BackupManifest;
  try {
    manifest = parseManifest(text);
  } catch (e) {
    throw new BackupError(BackupErrorCode.Damaged, (e as Error).message);
  }
  for (const f of manifest.files)
    if (!isSafeManifestPath(f.path) || !(f.path.startsWith(`${DATA}/`) || f.path.startsWith(`${PGLITE}/`)))
      throw new BackupError(
        BackupErrorCode.Damaged,
        `the manifest names ${f.path}, outside data/ and pglite/`,
      );
  await checkCopies(
    root,
    manifest.postgresDump === null ? manifest.files : [...manifest.files, manifest.postgresDump],
  );
  return manifest;
}

/** Checks a backup without restoring it: every file against the manifest, and the state its journal recovers to. */
export async function checkBackup(srcDir: string, bookCapacityOrders?: number): Promise<BackupManifest> {
  const manifest = await checkBackupFiles(srcDir);
  const state = await recoverOrFail(
    join(resolve(srcDir), DATA),
    { bookCapacityOrders },
    "the backup's journal",
  );
  compareState(manifest.state, state);
  return manifest;
}

export interface RestoreTarget {
  dataDir: string;
  database: DatabaseConfig;
  bookCapacityOrders?: number;
  onStep?: (step: string) => void;
}

export interface RestoreReport {
  manifest: BackupManifest;
  files: number;
  bytes: number;
  tables: number;
}

function compareState(expected: BackupManifest['state'], found: BackupManifest['state']): void {
  if (expected.stateHash !== found.stateHash || expected.lastSeq !== found.lastSeq)
    throw new BackupError(
      BackupErrorCode.Mismatch,
      `the restored journal recovers to sequence ${found.lastSeq}, state hash ${found.stateHash}; the backup has ${expected.lastSeq}, ${expected.stateHash}`,
    );
}

function compareTables(expected: BackupManifest['tables'], found: BackupManifest['tables']): void {
  const diff = tableDifferences(expected, found);
  if (diff.length > 0)
    throw new BackupError(BackupErrorCode.Mismatch, `the restored query tables differ: ${diff.join('; ')}`);
}

/** Restores the backup in `srcDir` into an empty data directory (and an empty database), then verifies it. */
export async function restoreBackup(srcDir: string, target: RestoreTarget): Promise<RestoreReport> {
  const step = target.onStep ?? ((): void => undefined);
  step('checking the backup');
  const root = resolve(srcDir);
  const manifest = await checkBackupFiles(root);
  const wantStore = target.database.kind === 'postgres' ? 'postgres' : 'pglite';
  if (manifest.store !== wantStore)
    throw new BackupError(
      BackupErrorCode.Mismatch,
      `the backup holds a ${manifest.store} query store but the configuration uses ${wantStore}: restore with the configuration it was taken with`,
    );
  const dataDir = resolve(target.dataDir);
  await prepareEmpty(dataDir, 'the data directory');
  if (target.database.kind === 'postgres') {
    let tables: string[];
    try {
      tables = await existingTables(target.database.url);
    } catch (e) {
      throw new BackupError(BackupErrorCode.Database, (e as Error).message);
    }
    if (tables.length > 0)
      throw new BackupError(
        BackupErrorCode.NotEmpty,
        `the database already has tables (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''}): restore into an empty database`,
      );
  }
  const lock = await takeLock(dataDir, 'rialto restore');
  let restored = false;
  try {
    step('copying the files');
    const pgliteDir = target.database.kind === 'pglite' ? resolve(target.database.dir) : null;
    const placed = (p: string): string =>
      p === PGLITE || p.startsWith(`${PGLITE}/`)
        ? join(pgliteDir ?? join(dataDir, PGLITE), p.slice(PGLITE.length + 1))
        : join(dataDir, p.slice(DATA.length + 1));
    for (const d of manifest.directories) await fsp.mkdir(placed(d), { recursive: true });
    for (const f of manifest.files) {
      const to = placed(f.path);
      const copied = await copyHashed(join(root, f.path), to);
      if (copied.sha256 !== f.sha256)
        throw new BackupError(BackupErrorCode.Damaged, `${f.path} changed while it was restored`);
    }
    await fsyncTree(dataDir);
    step('recovering the restored journal');
    compareState(manifest.state, await recoverOrFail(dataDir, target, 'the restored journal'));
    let found: Record<string, TableFingerprint> = {};
    if (target.database.kind === 'postgres' && manifest.postgresDump !== null) {
      step('restoring PostgreSQL');
      try {
        found = await restoreDatabase(target.database.url, join(root, manifest.postgresDump.path));
      } catch (e) {
        throw new BackupError(BackupErrorCode.Database, (e as Error).message);
      }
    } else if (pgliteDir !== null && Object.keys(manifest.tables).length > 0) {
      step('reading the restored query tables');
      found = await pgliteFingerprints(pgliteDir);
    }
    compareTables(manifest.tables, found);
    restored = true;
    return {
      manifest,
      files: manifest.files.length,
      bytes: manifest.files.reduce((n, f) => n + f.bytes, manifest.postgresDump?.bytes ?? 0),
      tables: Object.keys(found).length,
    };
  } finally {
    // A failed restore leaves no half data directory a venue could start from (it was empty before).
    if (!restored) await emptyDirectory(dataDir, LOCK_FILE_NAME);
    await lock.release();
  }
}

async function emptyDirectory(dir: string, keep: string): Promise<void> {
  for (const name of await fsp.readdir(dir).catch(() => [] as string[]))
    if (name !== keep) await fsp.rm(join(dir, name), { recursive: true, force: true });
}
