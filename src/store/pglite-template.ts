/**
 * A new PGlite database starts from a template when there is one: a gzipped tarball of a freshly initialized
 * PGlite data directory, which `npm run build` makes once per PGlite version (scripts/pglite-template.js,
 * into dist/pglite-template/). Without it PGlite runs initdb, in WebAssembly, on every new database: 4.7 s of
 * CPU on this project's 2-core machines, against about 1 s to unpack the template. A venue's first start, and
 * every test that opens a fresh database, paid that.
 *
 * The template is only used when it was made by the PGlite version installed (recorded beside it), and only
 * for a database that does not exist yet, after its archive checked whole. When it cannot be used or fails
 * to load, the database is created as before: the template only ever saves time.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';

/** Where `npm run build` leaves the template: dist/pglite-template/ (this file is dist/src/store/). */
export const PGLITE_TEMPLATE_DIR = fileURLToPath(new URL('../../pglite-template/', import.meta.url));
/** The data directory's tarball, gzipped (PGlite's dumpDataDir('gzip')). */
export const PGLITE_TEMPLATE_ARCHIVE = 'datadir.tar.gz';
/** `{ "pgliteVersion": "…" }`: the version that made the archive. */
export const PGLITE_TEMPLATE_META = 'template.json';

/** The installed PGlite's version (its package.json), or null when it cannot be read. */
export function installedPgliteVersion(): string | null {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
    for (let up = 0; up < 4; up++) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === '@electric-sql/pglite' && typeof pkg.version === 'string') return pkg.version;
      }
      dir = dirname(dir);
    }
  } catch {
    // No version: no template.
  }
  return null;
}

/** The version recorded beside the template in `templateDir`, or null when there is no readable one. */
export function templateVersion(templateDir: string): string | null {
  try {
    const meta = JSON.parse(readFileSync(join(templateDir, PGLITE_TEMPLATE_META), 'utf8')) as {
      pgliteVersion?: unknown;
    };
    return typeof meta.pgliteVersion === 'string' ? meta.pgliteVersion : null;
  } catch {
    return null;
  }
}

/**
 * The template for a new database at `dir` (null: in memory) as PGlite's `loadDataDir` takes it, or null:
 * the database exists already, there is no template, it was made by another PGlite version, or its archive
 * is damaged.
 */
export function pgliteTemplateFor(dir: string | null, templateDir = PGLITE_TEMPLATE_DIR): Blob | null {
  if (dir !== null && existsSync(dir) && readdirSync(dir).length > 0) return null;
  const version = templateVersion(templateDir);
  if (version === null || version !== installedPgliteVersion()) return null;
  try {
    const archive = readFileSync(join(templateDir, PGLITE_TEMPLATE_ARCHIVE));
    // Checked whole before PGlite sees it (gzip's CRC, then a tar header): PGlite reports a damaged archive
    // both to its caller and as an unhandled rejection, which would end the process. About 0.1 s.
    const tar = gunzipSync(archive);
    if (tar.subarray(TAR_MAGIC_AT, TAR_MAGIC_AT + TAR_MAGIC.length).toString('latin1') !== TAR_MAGIC)
      return null;
    return new Blob([archive]);
  } catch {
    return null;
  }
}

/** Where a POSIX tar header holds its magic, and the magic. */
const TAR_MAGIC_AT = 257;
const TAR_MAGIC = 'ustar';

/**
 * A ready PGlite at `dir` (null: in memory), a new one unpacked from the template when it can be. A template
 * that fails to load (a damaged file, say) leaves no trace: what it created is removed and the database is
 * created by initdb instead.
 */
export async function openPglite(
  PGliteClass: typeof PGlite,
  dir: string | null,
  options: PGliteOptions,
  templateDir = PGLITE_TEMPLATE_DIR,
): Promise<PGlite> {
  const existed = dir !== null && existsSync(dir);
  const template = pgliteTemplateFor(dir, templateDir);
  if (template !== null) {
    let db: PGlite | null = null;
    try {
      db = new PGliteClass(dir ?? 'memory://', { ...options, loadDataDir: template });
      await db.waitReady;
      return db;
    } catch {
      await db?.close().catch(() => undefined);
      // Only what this call created (the template is used only for a missing or empty folder).
      if (dir !== null) {
        if (existed) for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true });
        else rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const db = new PGliteClass(dir ?? 'memory://', options);
  await db.waitReady;
  return db;
}
