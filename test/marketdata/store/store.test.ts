/**
 * The market data store against PGlite and a real PostgreSQL (each in a schema of its own): ticks and bars
 * read back exactly as written, a redelivered batch writes nothing twice, a corrected bar replaces its older
 * revision (and never the other way round), partitions are made ahead and on demand for a backfill day, the
 * progress commits with the rows, and a message that is not a tick or a bar is refused whole.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { DAY_US, MarketDataStore, MdStoreError, dayText, tickRowOf } from '../../../src/marketdata/index.js';
import { migrate, type Store } from '../../../src/store/index.js';
import { storeFactories } from '../../store/helpers.js';
import { T0_US, barMessage, tickMessage } from './helpers.js';

for (const factory of storeFactories()) {
  describe(`market data store: ${factory.name}`, () => {
    let store: Store;
    let md: MarketDataStore;

    before(async () => {
      store = await factory.fresh();
      await migrate(store);
      md = new MarketDataStore(store);
    });
    after(async () => {
      await store.close();
      await factory.cleanup();
    });

    it('reads ticks back exactly: trades and quotes, nulls, nanoseconds, flags', async () => {
      const trade = tickMessage('t:1', {
        instrument: 'RT-1',
        time_us: T0_US + 123_456,
        time_ns: 789,
        price: 2 ** 53 - 1,
        size: 7,
        side: 'sell',
        trade_id: 42,
        flags: ['volume_spike', 'late_arrival'],
      });
      const quote = tickMessage('q:1', {
        instrument: 'RT-1',
        kind: 'quote',
        time_us: T0_US + 123_457,
        price: null,
        size: null,
        side: null,
        trade_id: null,
        bid_price: 99,
        bid_size: 5,
        ask_price: null,
        ask_size: null,
      });
      const r = await md.writeTicks([trade, quote]);
      assert.deepEqual(r, { ticksWritten: 2, ticksExisting: 0, barsWritten: 0, barsExisting: 0 });
      const rows = await md.ticks('RT-1', T0_US, T0_US + 1_000_000, 10);
      assert.deepEqual(rows, [
        {
          timeUs: T0_US + 123_456,
          timeNs: 789,
          eventId: 't:1',
          kind: 'trade',
          price: 2 ** 53 - 1,
          size: 7,
          side: 'sell',
          bidPrice: null,
          bidSize: null,
          askPrice: null,
          askSize: null,
          tradeId: 42,
          flags: 4 | 8,
          source: 'venue',
        },
        {
          timeUs: T0_US + 123_457,
          timeNs: 0,
          eventId: 'q:1',
          kind: 'quote',
          price: null,
          size: null,
          side: null,
          bidPrice: 99,
          bidSize: 5,
          askPrice: null,
          askSize: null,
          tradeId: null,
          flags: 0,
          source: 'venue',
        },
      ]);
      // The range is [from, to): a tick at `to` is not in it.
      assert.equal((await md.ticks('RT-1', T0_US, T0_US + 123_457, 10)).length, 1);
    });

    it('keeps text exactly, whatever its characters (quotes, commas, braces, backslashes, spaces, NULL)', async () => {
      const odd = ['a "quoted", {odd} \\ id', 'NULL', 'null', ' spaced ', 'ünïcödé/é', 'x\ty'];
      await md.writeTicks(
        odd.map((id, i) =>
          tickMessage(id, { instrument: 'TX-1', time_us: T0_US + i, source: odd[(i + 1) % odd.length] }),
        ),
      );
      const rows = await md.ticks('TX-1', T0_US, T0_US + 100, 100);
      assert.deepEqual(
        rows.map((r) => [r.eventId, r.source]),
        odd.map((id, i) => [id, odd[(i + 1) % odd.length]]),
      );
    });

    it('keeps times before 2000 and negative and large integers exactly (the binary COPY counts from 2000)', async () => {
      const cases = [
        { time_us: 0, time_ns: 999, price: -5, size: 2 ** 53 - 1, trade_id: 2 ** 32 },
        { time_us: 946_684_799_999_999, time_ns: 1, price: -(2 ** 53 - 1), size: 4_294_967_295, trade_id: 1 },
        { time_us: 946_684_800_000_000, time_ns: 0, price: 4_294_967_296, size: 1, trade_id: null },
      ];
      const day = (us: number): number => Math.floor(us / DAY_US);
      for (const c of cases) await md.ensureDays(day(c.time_us), day(c.time_us));
      await md.writeTicks(cases.map((c, i) => tickMessage(`old:${i}`, { instrument: 'OLD-1', ...c })));
      const rows = await md.ticks('OLD-1', 0, T0_US, 10);
      assert.deepEqual(
        rows.map((r) => ({
          time_us: r.timeUs,
          time_ns: r.timeNs,
          price: r.price,
          size: r.size,
          trade_id: r.tradeId,
        })),
        cases,
      );
    });

    it('writes a redelivered batch once: same ids and times insert nothing', async () => {
      const batch = Array.from({ length: 500 }, (_, i) =>
        tickMessage(`venue:${i}:0`, { instrument: 'RD-1', time_us: T0_US + i * 1000, trade_id: i + 1 }),
      );
      const first = await md.writeTicks(batch);
      assert.equal(first.ticksWritten, 500);
      const again = await md.writeTicks([
        ...batch.slice(250),
        tickMessage('venue:9999:0', { instrument: 'RD-1' }),
      ]);
      assert.equal(again.ticksWritten, 1, 'only the new tick');
      assert.equal(again.ticksExisting, 250);
      const [{ n }] = await store.query("SELECT count(*)::int4 AS n FROM md_ticks WHERE instrument = 'RD-1'");
      assert.equal(n, 501);
    });

    it('replaces a bar by a higher revision, never by a lower one or a redelivery', async () => {
      const rev0 = barMessage({ instrument: 'BR-1' });
      const rev1 = barMessage({
        instrument: 'BR-1',
        revision: 1,
        high: 120,
        volume: 40,
        notional: '4200',
        count: 4,
      });
      assert.equal((await md.writeBars([rev0])).barsWritten, 1);
      assert.equal((await md.writeBars([rev1])).barsWritten, 1);
      const stale = await md.writeBars([rev0, rev1]);
      assert.deepEqual([stale.barsWritten, stale.barsExisting], [0, 2]);
      const bars = await md.bars('BR-1', '1m', T0_US, T0_US + 60_000_000, 10);
      assert.deepEqual(bars, [
        {
          startUs: T0_US,
          endUs: T0_US + 60_000_000,
          number: 0,
          open: 100,
          high: 120,
          low: 90,
          close: 105,
          volume: 40,
          notional: 4200n,
          trades: 4,
          revision: 1,
        },
      ]);
      // Both revisions in one batch: the higher one wins (one statement may not touch a row twice).
      const next = T0_US + 60_000_000;
      await md.writeBars([
        barMessage({ instrument: 'BR-1', start_us: next, end_us: next + 60_000_000, revision: 2, close: 77 }),
        barMessage({ instrument: 'BR-1', start_us: next, end_us: next + 60_000_000, revision: 1, close: 66 }),
      ]);
      const [second] = await md.bars('BR-1', '1m', next, next + 1, 10);
      assert.deepEqual([second.revision, second.close], [2, 77]);
    });

    it('keys tick, volume and dollar bars by their number: two starting at the same time are two rows', async () => {
      const a = barMessage({ instrument: 'NB-1', interval: 'tick-2', id: 'NB-1:tick-2:n0', end_us: T0_US });
      const b = barMessage({ instrument: 'NB-1', interval: 'tick-2', id: 'NB-1:tick-2:n1', end_us: T0_US });
      assert.equal((await md.writeBars([a, b, a])).barsWritten, 2);
      const bars = await md.bars('NB-1', 'tick-2', T0_US, T0_US + 1, 10);
      assert.deepEqual(
        bars.map((x) => x.number),
        [0, 1],
      );
    });

    it('makes partitions ahead, and on demand for a backfill day', async () => {
      const today = Math.floor((Date.now() * 1000) / DAY_US);
      await md.ensureDays(today, today + 2);
      const ticks = await md.partitionDays('md_ticks');
      const bars = await md.partitionDays('md_bars');
      for (const d of [today, today + 1, today + 2]) {
        assert.ok(ticks.includes(dayText(d)), `ticks partition of ${dayText(d)}`);
        assert.ok(bars.includes(dayText(d)), `bars partition of ${dayText(d)}`);
      }
      const backfill = Date.UTC(2019, 5, 3, 23, 59, 59) * 1000;
      assert.ok(!(await md.partitionDays('md_ticks')).includes('2019-06-03'));
      await md.writeTicks([tickMessage('bf:1', { instrument: 'BF-1', time_us: backfill })]);
      await md.writeBars([
        barMessage({
          instrument: 'BF-1',
          start_us: Date.UTC(2019, 5, 4) * 1000,
          end_us: Date.UTC(2019, 5, 4) * 1000 + 60e6,
        }),
      ]);
      assert.ok((await md.partitionDays('md_ticks')).includes('2019-06-03'));
      assert.ok((await md.partitionDays('md_bars')).includes('2019-06-04'));
      // The row is in its day's partition, not merely somewhere.
      const [{ n }] = await store.query('SELECT count(*)::int4 AS n FROM md_ticks_20190603');
      assert.equal(n, 1);
      // Making a partition again (another process, a restart) is harmless.
      const fresh = new MarketDataStore(store);
      assert.equal(await fresh.ensureDays(today, today + 2), 3);
      assert.equal((await md.partitionDays('md_ticks')).filter((d) => d === dayText(today)).length, 1);
    });

    it('drops the partitions of the days before a date, whole, and makes one again for a late tick', async () => {
      const day = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d) / 86_400_000;
      const at = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d, 12) * 1000;
      await md.writeTicks([
        tickMessage('ret:1', { instrument: 'RET-1', time_us: at(2018, 3, 1) }),
        tickMessage('ret:2', { instrument: 'RET-1', time_us: at(2018, 3, 2) }),
        tickMessage('ret:3', { instrument: 'RET-1', time_us: at(2018, 3, 3) }),
      ]);
      await md.writeBars([
        barMessage({ instrument: 'RET-1', start_us: at(2018, 3, 1), end_us: at(2018, 3, 1) + 60e6 }),
      ]);
      const older = (await md.partitionDays('md_ticks')).filter((d) => d < '2018-03-03');
      assert.ok(older.includes('2018-03-01') && older.includes('2018-03-02'));
      // A dry run names them and drops nothing.
      assert.deepEqual(await md.dropDaysBefore('md_ticks', day(2018, 3, 3), true), older);
      assert.equal((await md.ticks('RET-1', at(2018, 3, 1) - 1, at(2018, 3, 4), 10)).length, 3);
      assert.deepEqual(await md.dropDaysBefore('md_ticks', day(2018, 3, 3)), older);
      const left = await md.ticks('RET-1', at(2018, 3, 1) - 1, at(2018, 3, 4), 10);
      assert.deepEqual(
        left.map((t) => t.eventId),
        ['ret:3'],
      );
      assert.ok(!(await md.partitionDays('md_ticks')).some((d) => d < '2018-03-03'));
      // The bars of those days are another table's, kept until asked.
      assert.ok((await md.partitionDays('md_bars')).includes('2018-03-01'));
      assert.deepEqual(await md.dropDaysBefore('md_ticks', day(2018, 3, 3)), [], 'nothing left to drop');
      // A late tick of a dropped day is stored: its partition is made again.
      await md.writeTicks([tickMessage('ret:4', { instrument: 'RET-1', time_us: at(2018, 3, 1) })]);
      assert.equal((await md.ticks('RET-1', at(2018, 3, 1) - 1, at(2018, 3, 4), 10)).length, 2);
    });

    it("saves a feed's progress with its rows, and never moves it back", async () => {
      assert.equal(await md.progress('venue-test'), 0);
      await md.write({ ticks: [], bars: [], progress: { feed: 'venue-test', seq: 17 } });
      await md.write({ ticks: [], bars: [], progress: { feed: 'venue-test', seq: 9 } });
      assert.equal(await md.progress('venue-test'), 17);
      // A failing batch (one row breaks a CHECK) rolls the progress back with the rows.
      const broken = { ...tickRowOf(tickMessage('pg:1', { instrument: 'PG-1' })), timeNs: 5000 };
      await assert.rejects(
        md.write({ ticks: [broken], bars: [], progress: { feed: 'venue-test', seq: 30 } }),
      );
      assert.equal(await md.progress('venue-test'), 17);
      assert.equal((await md.ticks('PG-1', T0_US, T0_US + 1, 10)).length, 0);
    });

    it('refuses a message that is not a tick or a bar, writing none of its batch', async () => {
      const good = tickMessage('ok:1', { instrument: 'BM-1' });
      const bad = tickMessage('bad:1', { instrument: 'BM-1', price: 1.5 });
      await assert.rejects(
        md.writeTicks([good, bad]),
        (e: unknown) => e instanceof MdStoreError && e.code === 'MD_BAD_MESSAGE',
      );
      await assert.rejects(md.writeBars([barMessage({ low: 200 })]), MdStoreError);
      await assert.rejects(
        md.writeTicks([tickMessage('f:1', { flags: ['shiny' as 'valid'] })]),
        /unknown flag/,
      );
      assert.equal((await md.ticks('BM-1', T0_US, T0_US + 1, 10)).length, 0);
    });
  });
}
