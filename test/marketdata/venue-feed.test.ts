/**
 * VenueFeed with `writes: false` (a split venue's gateway): it reads the store another process writes and
 * writes nothing itself (no writer, no partitions made ahead, no reference data seeded), where the writer's
 * feed on the same store does all three.
 */
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { MarketDataStore, VenueFeed, parseBarSpec, type BarSpec } from '../../src/marketdata/index.js';
import { migrate } from '../../src/store/index.js';
import { pgliteFactory } from '../store/helpers.js';

const DAY_US = 86_400_000_000;
const nowUs = 20_000 * DAY_US + 3_600_000_000;
const bars = [parseBarSpec('time:1s', 0, 0) as BarSpec];
const instruments = [
  {
    id: 1,
    reference: {
      instrument: 'BTC-USDT',
      assetClass: 'spot',
      venue: 'rialto',
      currency: 'USDT',
      unit: 'BTC',
      tickSize: 1,
      lotSize: 1,
      taxonomy: { path: ['spot', 'BTC', 'USDT'], confidence: 1, method: 'manual' as const },
      revision: 1,
    },
  },
];

describe('VenueFeed without writes', () => {
  const stores = pgliteFactory();
  after(() => stores.cleanup());

  it('reads the store and writes nothing to it; the writer on the same store writes', async () => {
    const store = await stores.fresh();
    await migrate(store);
    const options = { store, bars, instruments, latenessUs: 0, partitionsAheadDays: 2, clockUs: () => nowUs };
    const md = new MarketDataStore(store);
    const reader = await VenueFeed.open({ ...options, writes: false });
    try {
      assert.equal(reader.writer, null);
      assert.ok(reader.mdStore !== null, 'the history routes read the store');
      assert.deepEqual(await md.partitionDays('md_bars'), []);
      assert.deepEqual(await store.query('SELECT instrument FROM md_reference_data'), []);
      assert.deepEqual(await reader.mdStore.bars('BTC-USDT', '1s', 0, nowUs, 10), []);
      reader.followClock();
      assert.deepEqual(await md.partitionDays('md_bars'), []);
    } finally {
      await reader.close();
    }
    const writer = await VenueFeed.open(options);
    try {
      assert.ok(writer.writer !== null);
      assert.equal((await md.partitionDays('md_bars')).length, 3, 'today and two days ahead');
      assert.deepEqual(await store.query('SELECT instrument FROM md_reference_data'), [
        { instrument: 'BTC-USDT' },
      ]);
    } finally {
      await writer.close();
    }
  });
});
