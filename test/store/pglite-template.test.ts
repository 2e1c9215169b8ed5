/**
 * New PGlite databases unpacked from the build's template (src/store/pglite-template.ts): the build leaves one
 * for the installed PGlite, it is used only for a database that does not exist yet and only when its version
 * matches, a damaged archive is never offered, one that fails to load falls back to initdb without a trace, and the database it gives is the one initdb
 * gives (same server, encoding and locale) and keeps what is written to it.
 */
import { strict as assert } from 'node:assert';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { migrate, openPgliteStore } from '../../src/store/index.js';
import {
  installedPgliteVersion,
  openPglite,
  PGLITE_TEMPLATE_ARCHIVE,
  PGLITE_TEMPLATE_DIR,
  PGLITE_TEMPLATE_META,
  pgliteTemplateFor,
  templateVersion,
} from '../../src/store/pglite-template.js';

/** What a database's initialization decides: the server, its encoding and locale, the databases it made. */
async function identity(db: PGlite): Promise<unknown> {
  const settings = await db.query(
    `SELECT current_setting('server_version') AS version, current_setting('server_encoding') AS encoding,
            current_setting('lc_messages') AS messages`,
  );
  const databases = await db.query(
    'SELECT datname, datcollate, datctype, encoding FROM pg_database ORDER BY datname',
  );
  return { settings: settings.rows, databases: databases.rows };
}

describe('query store: PGlite databases from the build’s template', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'rialto-pglite-template-'));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('the build left a template made by the installed PGlite', () => {
    const installed = installedPgliteVersion();
    assert.match(installed ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(templateVersion(PGLITE_TEMPLATE_DIR), installed);
    assert.ok(existsSync(join(PGLITE_TEMPLATE_DIR, PGLITE_TEMPLATE_ARCHIVE)));
  });

  it('is offered for a missing or empty folder and for memory, never over an existing database', () => {
    assert.ok(pgliteTemplateFor(null) instanceof Blob);
    assert.ok(pgliteTemplateFor(join(work, 'missing')) instanceof Blob);
    const empty = join(work, 'empty');
    mkdirSync(empty);
    assert.ok(pgliteTemplateFor(empty) instanceof Blob);
    const used = join(work, 'used');
    mkdirSync(used);
    writeFileSync(join(used, 'PG_VERSION'), '17\n');
    assert.equal(pgliteTemplateFor(used), null);
  });

  it('is not offered when it is missing or was made by another PGlite version', () => {
    assert.equal(pgliteTemplateFor(null, join(work, 'no-template')), null);
    const other = join(work, 'other-version');
    mkdirSync(other);
    copyFileSync(join(PGLITE_TEMPLATE_DIR, PGLITE_TEMPLATE_ARCHIVE), join(other, PGLITE_TEMPLATE_ARCHIVE));
    writeFileSync(join(other, PGLITE_TEMPLATE_META), JSON.stringify({ pgliteVersion: '0.0.1' }));
    assert.equal(pgliteTemplateFor(null, other), null);
    writeFileSync(join(other, PGLITE_TEMPLATE_META), '{ not json');
    assert.equal(pgliteTemplateFor(null, other), null);
  });

  it('a damaged archive is not offered, and a template that fails to load falls back to initdb', async () => {
    const damaged = join(work, 'damaged');
    mkdirSync(damaged);
    const archive = readFileSync(join(PGLITE_TEMPLATE_DIR, PGLITE_TEMPLATE_ARCHIVE));
    writeFileSync(
      join(damaged, PGLITE_TEMPLATE_META),
      JSON.stringify({ pgliteVersion: installedPgliteVersion() }),
    );
    // Cut short, one byte of the gzip trailer's CRC changed, and a whole gzip of something that is not a tar.
    // (A byte changed in the deflate stream is not always a damage: a bit of a stored block's padding, which
    // a build's archive may have at any offset, changes nothing that is read.)
    const crcAt = archive.length - 8;
    for (const bad of [
      archive.subarray(0, archive.length >> 1),
      Buffer.concat([
        archive.subarray(0, crcAt),
        Buffer.from([archive[crcAt] ^ 1]),
        archive.subarray(crcAt + 1),
      ]),
      gzipSync(Buffer.alloc(8192, 0x41)),
    ]) {
      writeFileSync(join(damaged, PGLITE_TEMPLATE_ARCHIVE), bad);
      assert.equal(pgliteTemplateFor(null, damaged), null);
    }
    // Past the checks, PGlite itself may still refuse it: what it left is removed and initdb runs.
    const refusing = class extends PGlite {
      constructor(dir: string, options: PGliteOptions) {
        // Before super: no database is started that nobody would close.
        if (options.loadDataDir !== undefined) throw new Error('refused');
        super(dir, options);
      }
    } as unknown as typeof PGlite;
    const byInitdb = join(work, 'by-initdb');
    const a = await openPglite(refusing, byInitdb, {});
    const fromTemplate = join(work, 'from-template');
    const b = await openPglite(PGlite, fromTemplate, {});
    try {
      assert.deepEqual(await identity(b), await identity(a));
      assert.deepEqual((await a.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    } finally {
      await a.close();
      await b.close();
    }
    assert.equal(pgliteTemplateFor(byInitdb), null, 'initdb made a database there');
    assert.ok(readdirSync(byInitdb).includes('PG_VERSION'));
  });

  it('a store made from it migrates and keeps what was written when opened again', async () => {
    const dir = join(work, 'store');
    const store = await openPgliteStore({ dir, create: true, thread: 'worker' });
    await migrate(store);
    await store.exec('CREATE TABLE kept (x int)');
    await store.query('INSERT INTO kept VALUES (7)');
    await store.close();
    const again = await openPgliteStore({ dir, create: false });
    try {
      assert.deepEqual(await again.query('SELECT x FROM kept'), [{ x: 7 }]);
    } finally {
      await again.close();
    }
  });
});
