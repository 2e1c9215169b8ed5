/**
 * Reference data in the query store, on PGlite and on the real PostgreSQL: records round-trip, a change by
 * anyone (the port, plain SQL, another process's connection) bumps the revision and reaches the cache through
 * NOTIFY at once, not after the TTL; seeding keeps operators' edits; bad records are refused before the table.
 */
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import {
  ReferenceCache,
  StoreReferenceData,
  referenceDataProblem,
  type ReferenceDataInput,
} from '../../../src/marketdata/index.js';
import { migrate, openPostgresStore } from '../../../src/store/index.js';
import { storeFactories, TEST_DATABASE_URL } from '../../store/helpers.js';

const record = (instrument: string, over: Partial<ReferenceDataInput> = {}): ReferenceDataInput => ({
  instrument,
  assetClass: 'crypto',
  venue: 'rialto',
  currency: 'USDT',
  unit: 'BTC',
  tickSize: 1,
  lotSize: 1,
  taxonomy: { path: ['crypto', 'spot', 'BTC'], confidence: 1, method: 'rule' },
  ...over,
});

/** Resolves once `check` holds, polling; rejects after `ms` (a deadline against hangs, not a timing claim). */
async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const factory of storeFactories()) {
  describe(`reference data in the store (${factory.name})`, () => {
    after(() => factory.cleanup());

    it('round-trips a record; a change bumps the revision; delete removes it', async () => {
      const db = await factory.fresh();
      await migrate(db);
      const refs = await StoreReferenceData.open(db);
      try {
        assert.equal(await refs.get('BTC-USDT'), null);
        const first = await refs.put(record('BTC-USDT'));
        assert.equal(first.revision, 1);
        assert.deepEqual(await refs.get('BTC-USDT'), first);
        const second = await refs.put(record('BTC-USDT', { tickSize: 10 }));
        assert.deepEqual([second.revision, second.tickSize], [2, 10]);
        // By hand, in SQL: the trigger bumps the revision too.
        await db.query(`UPDATE md_reference_data SET venue = 'other' WHERE instrument = 'BTC-USDT'`);
        const third = await refs.get('BTC-USDT');
        assert.deepEqual([third?.revision, third?.venue], [3, 'other']);
        assert.deepEqual(
          (await refs.list()).map((r) => r.instrument),
          ['BTC-USDT'],
        );
        assert.equal(await refs.delete('BTC-USDT'), true);
        assert.equal(await refs.delete('BTC-USDT'), false);
        assert.equal(await refs.get('BTC-USDT'), null);
      } finally {
        await refs.close();
      }
    });

    it('a change reaches the cache through NOTIFY at once, long before the TTL', async () => {
      const db = await factory.fresh();
      await migrate(db);
      const refs = await StoreReferenceData.open(db);
      const hour = 3_600_000_000;
      const cache = new ReferenceCache(refs, { ttlUs: hour, entriesMax: 100, clockUs: () => 0 });
      const instrument = `N-${factory.name}-${String(process.pid)}`;
      try {
        await refs.put(record(instrument));
        await cache.load(instrument);
        assert.equal(cache.lookup(instrument)?.revision, 1);
        // Changed by plain SQL, as an operator would: the clock never moves, so only the NOTIFY can tell.
        await db.query(`UPDATE md_reference_data SET unit = 'XBT' WHERE instrument = $1`, [instrument]);
        await eventually(() => cache.lookup(instrument)?.unit === 'XBT');
        assert.equal(cache.lookup(instrument)?.revision, 2);
        assert.ok(cache.stats.invalidations >= 1);
        await refs.delete(instrument);
        await eventually(() => cache.lookup(instrument) === null);
      } finally {
        cache.close();
        await refs.close();
      }
    });

    it('seeds missing records only, keeping an edited one', async () => {
      const db = await factory.fresh();
      await migrate(db);
      const refs = await StoreReferenceData.open(db);
      try {
        await refs.put(
          record('ETH-USDT', { unit: 'ETH', taxonomy: { path: ['x'], confidence: 0.5, method: 'manual' } }),
        );
        const added = await refs.seed([record('ETH-USDT', { unit: 'ETH' }), record('BTC-USDT')]);
        assert.equal(added, 1);
        const eth = await refs.get('ETH-USDT');
        assert.deepEqual(eth?.taxonomy, { path: ['x'], confidence: 0.5, method: 'manual' });
        assert.equal((await refs.get('BTC-USDT'))?.revision, 1);
      } finally {
        await refs.close();
      }
    });

    it('refuses bad records with a reason, before the table', async () => {
      const db = await factory.fresh();
      await migrate(db);
      const refs = await StoreReferenceData.open(db);
      try {
        const bad: [Partial<ReferenceDataInput>, RegExp][] = [
          [{ tickSize: 0 }, /tickSize must be a whole number above 0/],
          [{ lotSize: 1.5 }, /lotSize must be a whole number/],
          [{ currency: '' }, /currency must be 1 to 16 characters/],
          [
            { taxonomy: { path: ['a'], confidence: 2, method: 'rule' } },
            /confidence must be a number from 0 to 1/,
          ],
          [{ taxonomy: { path: [''], confidence: 1, method: 'rule' } }, /taxonomy.path name/],
        ];
        for (const [over, why] of bad) {
          assert.match(referenceDataProblem(record('X', over)) ?? '', why);
          await assert.rejects(refs.put(record('X', over)), why);
        }
        assert.equal(await refs.get('X'), null, 'nothing written');
      } finally {
        await refs.close();
      }
    });
  });
}

describe('reference data across connections (PostgreSQL)', () => {
  it("another process's change reaches this cache; a lost listening connection drops every entry", async () => {
    const factory = storeFactories()[1];
    const db = await factory.fresh();
    await migrate(db);
    const refs = await StoreReferenceData.open(db);
    const cache = new ReferenceCache(refs, { ttlUs: 3_600_000_000, entriesMax: 100, clockUs: () => 0 });
    const instrument = `X-${String(process.pid)}`;
    try {
      await refs.put(record(instrument));
      await cache.load(instrument);
      // Another connection, as another gateway process would have: the change goes through the server.
      const schema = (await db.query('SELECT current_schema() AS s'))[0].s as string;
      const other = await openPostgresStore({ url: TEST_DATABASE_URL, schema });
      try {
        await other.query(`UPDATE md_reference_data SET currency = 'USD' WHERE instrument = $1`, [
          instrument,
        ]);
      } finally {
        await other.close();
      }
      await eventually(() => cache.lookup(instrument)?.currency === 'USD');

      // Kill the listening session from the server side: the listener reconnects and reports a gap. (Another
      // test's listener killed too would only reconnect and drop its cache: what this shows is harmless.)
      const admin = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
      try {
        const before = cache.stats.invalidations;
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE query = 'LISTEN rialto_md_reference' AND datname = current_database()`,
        );
        await eventually(() => cache.stats.invalidations > before);
        // Listening again: a change after the gap arrives as before.
        await db.query(`UPDATE md_reference_data SET currency = 'EUR' WHERE instrument = $1`, [instrument]);
        await cache.load(instrument);
        await eventually(() => cache.lookup(instrument)?.currency === 'EUR');
      } finally {
        await admin.close();
      }
    } finally {
      cache.close();
      await refs.close();
      await factory.cleanup();
    }
  });
});
