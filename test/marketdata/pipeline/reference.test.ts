/** The reference data cache: hits, TTL with a fake clock (stale served while it refreshes), invalidation on change. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { InMemoryReferenceData, ReferenceCache, type ReferenceData } from '../../../src/marketdata/index.js';
import { refData } from './helpers.js';

/** A port that counts loads and can fail. */
class CountingPort extends InMemoryReferenceData {
  loads = 0;
  failing = false;
  override get(instrument: string): Promise<ReferenceData | null> {
    this.loads++;
    return this.failing ? Promise.reject(new Error('store down')) : super.get(instrument);
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('reference cache', () => {
  it('misses, loads once, then hits until the TTL; then serves the stale record while it reloads', async () => {
    const port = new CountingPort();
    port.set(refData('X', 1));
    const clock = { us: 0 };
    const cache = new ReferenceCache(port, { ttlUs: 1_000, entriesMax: 10, clockUs: () => clock.us });
    assert.equal(cache.lookup('X'), null);
    assert.equal(cache.lookup('X'), null, 'a second miss during the load shares it');
    await settle();
    assert.equal(port.loads, 1);
    assert.equal(cache.lookup('X')?.revision, 1);
    clock.us = 999;
    assert.equal(cache.lookup('X')?.revision, 1);
    assert.equal(port.loads, 1);
    // Changed in the store without an announcement (another process): seen only once the TTL passes.
    (port as unknown as { records: Map<string, ReferenceData> }).records.set('X', refData('X', 2));
    clock.us = 1_000;
    assert.equal(cache.lookup('X')?.revision, 1, 'stale, served while it reloads');
    await settle();
    assert.equal(cache.lookup('X')?.revision, 2);
    assert.deepEqual(
      { ...cache.stats },
      { hits: 3, stale: 1, misses: 2, loads: 2, loadErrors: 0, invalidations: 0 },
    );
    cache.close();
  });

  it('drops and reloads an entry when the port announces a change', async () => {
    const port = new CountingPort();
    port.set(refData('X', 1));
    const cache = new ReferenceCache(port, { ttlUs: 1e9, entriesMax: 10, clockUs: () => 0 });
    await cache.load('X');
    port.set(refData('X', 2));
    await settle();
    assert.equal(cache.lookup('X')?.revision, 2);
    port.delete('X');
    await settle();
    assert.equal(cache.lookup('X'), null);
    assert.equal(cache.stats.invalidations, 2);
    cache.close();
  });

  it('keeps what it knew when a load fails, and bounds its entries', async () => {
    const port = new CountingPort();
    for (const n of ['A', 'B', 'C']) port.set(refData(n));
    const clock = { us: 0 };
    const cache = new ReferenceCache(port, { ttlUs: 10, entriesMax: 2, clockUs: () => clock.us });
    await cache.load('A');
    port.failing = true;
    clock.us = 100;
    assert.equal(cache.lookup('A')?.instrument, 'A');
    await settle();
    assert.equal(cache.stats.loadErrors, 1);
    assert.equal(cache.lookup('A')?.instrument, 'A');
    port.failing = false;
    await cache.load('B');
    await cache.load('C');
    assert.equal(cache.lookup('A'), null, 'the oldest entry went to make room');
    assert.throws(() => new ReferenceCache(port, { ttlUs: 0, entriesMax: 1, clockUs: () => 0 }), /bad ttl/);
    cache.close();
  });
});
