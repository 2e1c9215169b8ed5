#!/usr/bin/env node
// Makes dist/pglite-template/: a freshly initialized PGlite data directory as a gzipped tarball, and the PGlite
// version that made it. A new PGlite database (a venue's first start, `rialto keys` on a new data directory,
// tests) is unpacked from it instead of running initdb in WebAssembly (src/store/pglite-template.ts says how
// much that saves). Run by `npm run build` after tsc; it does nothing when the template for the installed
// version is there already. Usage: node scripts/pglite-template.js [--force]
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'pglite-template');
const archive = join(outDir, 'datadir.tar.gz');
const metaFile = join(outDir, 'template.json');

function installedVersion() {
  let dir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  for (let up = 0; up < 4; up++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.name === '@electric-sql/pglite') return pkg.version;
    } catch {
      // Not here: one folder up.
    }
    dir = dirname(dir);
  }
  throw new Error('cannot read the installed @electric-sql/pglite version');
}

function recordedVersion() {
  try {
    return JSON.parse(readFileSync(metaFile, 'utf8')).pgliteVersion;
  } catch {
    return null;
  }
}

const version = installedVersion();
if (recordedVersion() === version && !process.argv.includes('--force')) process.exit(0);

const t0 = performance.now();
const db = new PGlite('memory://');
await db.waitReady;
const dump = await db.dumpDataDir('gzip');
await db.close();
mkdirSync(outDir, { recursive: true });
// Written aside and renamed: a reader sees the old pair or the new one, and the version goes last.
writeFileSync(`${archive}.tmp`, Buffer.from(await dump.arrayBuffer()));
renameSync(`${archive}.tmp`, archive);
writeFileSync(`${metaFile}.tmp`, `${JSON.stringify({ pgliteVersion: version })}\n`);
renameSync(`${metaFile}.tmp`, metaFile);
console.log(
  `pglite template: ${archive} (${(dump.size / 1e6).toFixed(1)} MB, PGlite ${version}, ` +
    `${Math.round(performance.now() - t0)} ms)`,
);
