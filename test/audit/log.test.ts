/**
 * The chain in the store, on PGlite and PostgreSQL alike: appends continue the chain from the table's head,
 * concurrent writers never fork it, a retry leaves out events already written, and what is read back verifies.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { AuditLog, GENESIS_HASH, verifyChain, verifySource } from '../../src/audit/index.js';
import { migrate, type Store } from '../../src/store/index.js';
import { storeFactories } from '../store/helpers.js';
import { sampleEvent, sampleEvents } from './helpers.js';

for (const factory of storeFactories()) {
  describe(`audit log: ${factory.name}`, () => {
    let store: Store;
    let log: AuditLog;

    before(async () => {
      store = await factory.fresh();
      await migrate(store);
      log = new AuditLog(store);
    });
    after(async () => {
      await store.close();
      await factory.cleanup();
    });

    it('appends, continues from the head, and reads back what it wrote', async () => {
      assert.deepEqual(await log.head(), { seq: 0, hash: GENESIS_HASH });
      const a = await log.append(sampleEvents(3));
      const b = await log.append([sampleEvent(4), sampleEvent(5)]);
      assert.deepEqual(
        b.map((r) => r.seq),
        [4, 5],
      );
      assert.deepEqual(await log.head(), { seq: 5, hash: b[1].hash });
      const all = await log.page(0, 100);
      assert.deepEqual(all, [...a, ...b], 'read back exactly as chained');
      assert.deepEqual(await log.tail(2), b);
      assert.equal(verifyChain(all).ok, true);
    });

    it('leaves out events already written when a batch is retried', async () => {
      const head = await log.head();
      const again = await log.append([sampleEvent(5), sampleEvent(6)], true);
      assert.deepEqual(
        again.map((r) => [r.seq, r.id]),
        [[head.seq + 1, sampleEvent(6).id]],
      );
      await assert.rejects(log.append([sampleEvent(6)]), 'an event id is written once');
    });

    it('keeps one chain under concurrent writers', async () => {
      const other = new AuditLog(store);
      const batches = Array.from({ length: 8 }, (_, k) =>
        Array.from({ length: 5 }, (_, i) => sampleEvent(100 + k * 10 + i)),
      );
      await Promise.all(batches.map((b, k) => (k % 2 === 0 ? log : other).append(b)));
      const r = await verifySource(log, 7);
      assert.equal(r.ok, true, JSON.stringify(r));
      if (r.ok) assert.equal(r.count, 6 + 40);
    });
  });
}
