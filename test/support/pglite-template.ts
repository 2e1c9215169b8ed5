/**
 * A PGlite database as initdb leaves it, made once per machine and PGlite version and copied into a test
 * venue's data directory before its first start. A new PGlite database runs initdb in WebAssembly, seconds
 * of CPU each (about five times what opening an existing one costs), and the gateway's tests start dozens
 * of venues: copying the template saves that, and the venue then opens, migrates and uses the database as
 * it would one it had made itself. Only a venue on a new data directory gets it (`seedPglite`); the tests of
 * the store and of `rialto` keep making their databases the usual way.
 *
 * The template is made by `openPgliteStore` itself into a directory of its own and renamed into place, so
 * that a process never copies a half-made one; when several test files start at once, the first to take the
 * lock makes it and the others, meanwhile, let their venues make their databases as usual.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openPgliteStore } from '../../src/store/index.js';

const PGLITE_VERSION = ((): string => {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@electric-sql/pglite');
  // The package's own package.json, above dist/ where its entry point is.
  const manifest = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
})();

const TEMPLATE = join(tmpdir(), `rialto-test-pglite-${PGLITE_VERSION}`);
const LOCK = `${TEMPLATE}.lock`;
/** A lock older than this was left by a process that died while making the template. */
const STALE_LOCK_MS = 10 * 60_000;

/** The template's directory, made now when missing; null when another process is making it. */
async function template(): Promise<string | null> {
  if (existsSync(join(TEMPLATE, 'PG_VERSION'))) return TEMPLATE;
  try {
    mkdirSync(LOCK);
  } catch {
    try {
      if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmdirSync(LOCK);
    } catch {
      // Gone meanwhile: the template is made, or being made again.
    }
    return null;
  }
  try {
    const work = mkdtempSync(`${TEMPLATE}-making-`);
    const dir = join(work, 'pglite');
    const store = await openPgliteStore({ dir, create: true });
    await store.close();
    rmSync(TEMPLATE, { recursive: true, force: true });
    renameSync(dir, TEMPLATE);
    rmSync(work, { recursive: true, force: true });
    return TEMPLATE;
  } finally {
    rmdirSync(LOCK);
  }
}

/**
 * The template, made before the first test of the file that imports this. Made at import (a top-level
 * await) because the venues' configurations are made synchronously.
 */
const READY = await template();

/** Copies the template to `dir` when `dir` does not exist yet (a new venue's PGlite directory). */
export function seedPglite(dir: string): void {
  if (READY === null || existsSync(dir)) return;
  cpSync(READY, dir, { recursive: true });
}
