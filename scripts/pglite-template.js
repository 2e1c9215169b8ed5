#!/usr/bin/env node
// Makes dist/pglite-template/: a freshly initialized PGlite data directory as a gzipped tarball, and the PGlite
// version that made it. A new PGlite database (a venue's first start, `rialto keys` on a new data directory,
// tests) is unpacked from it instead of running initdb in WebAssembly (src/store/pglite-template.ts says how
// much that saves). Run by `npm run build` after tsc; it does nothing when the template for the installed
// version is there already. Usage: node scripts/pglite-template.js [--force]
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
// tsc has just built these: the build and the store read the same names and the same version.
import {
  installedPgliteVersion,
  PGLITE_TEMPLATE_ARCHIVE,
  PGLITE_TEMPLATE_DIR,
  PGLITE_TEMPLATE_META,
  templateVersion,
} from '../dist/src/store/pglite-template.js';

const archive = join(PGLITE_TEMPLATE_DIR, PGLITE_TEMPLATE_ARCHIVE);
const metaFile = join(PGLITE_TEMPLATE_DIR, PGLITE_TEMPLATE_META);

const version = installedPgliteVersion();
if (version === null) throw new Error('cannot read the installed @electric-sql/pglite version');
if (templateVersion(PGLITE_TEMPLATE_DIR) === version && !process.argv.includes('--force')) process.exit(0);

const t0 = performance.now();
const db = new PGlite('memory://');
await db.waitReady;
const dump = await db.dumpDataDir('gzip');
await db.close();
mkdirSync(PGLITE_TEMPLATE_DIR, { recursive: true });
// Written aside and renamed: a reader sees the old pair or the new one, and the version goes last.
writeFileSync(`${archive}.tmp`, Buffer.from(await dump.arrayBuffer()));
renameSync(`${archive}.tmp`, archive);
writeFileSync(`${metaFile}.tmp`, `${JSON.stringify({ pgliteVersion: version })}\n`);
renameSync(`${metaFile}.tmp`, metaFile);
console.log(
  `pglite template: ${archive} (${(dump.size / 1e6).toFixed(1)} MB, PGlite ${version}, ` +
    `${Math.round(performance.now() - t0)} ms)`,
);
