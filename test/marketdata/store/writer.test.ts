/**
 * The market data writer on PGlite: the pipeline's ticks and bars reach the store through the bounded queue,
 * every one counted; a full queue refuses and counts (readiness says so, the progress stops); a failing store
 * is retried until it works, with the failure shown meanwhile; close gives up after its timeout, saying how
 * many rows are left; a message that is not a tick is refused and counted. On PostgreSQL: the ticks taken from
 * the pipeline itself, two batches in flight committing in order, a redelivery written once, and a batch that
 * fails while the next is in flight makes that one roll back too (both written again, nothing twice).
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  MarketDataStore,
  MarketDataWriter,
  type WriteBatch,
  type WriteOrder,
  type WriteResult,
} from '../../../src/marketdata/index.js';
import { MD_WRITER_DEFAULTS, mdWriterLimits } from '../../../src/marketdata/store/limits.js';
import { migrate, type Store } from '../../../src/store/index.js';
import { pgliteFactory, postgresFactory } from '../../store/helpers.js';
import { harness, venueTrade } from '../pipeline/helpers.js';
import { T0_US, barMessage, tickMessage } from './helpers.js';

/** A store whose next `failures` writes throw. */
class FlakyStore extends MarketDataStore {
  failures = 0;
  attempts = 0;
  override async write(batch: WriteBatch): Promise<WriteResult> {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('the database went away');
    }
    return super.write(batch);
  }
}

/** A store whose writes wait until `open()` (so a test can act while a batch is being written). */
class GatedStore extends MarketDataStore {
  started = 0;
  private gate: Promise<void> = new Promise(() => undefined);
  private release: () => void = () => undefined;
  constructor(store: Store) {
    super(store);
    this.close();
  }
  close(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  open(): void {
    this.release();
  }
  override async write(batch: WriteBatch): Promise<WriteResult> {
    this.started++;
    await this.gate;
    return super.write(batch);
  }
}

const count = async (store: Store, table: string, instrument: string): Promise<number> => {
  const [{ n }] = await store.query(`SELECT count(*)::int4 AS n FROM ${table} WHERE instrument = $1`, [
    instrument,
  ]);
  return n as number;
};

describe('market data writer (PGlite)', () => {
  const factory = pgliteFactory();
  let store: Store;

  before(async () => {
    store = await factory.fresh();
    await migrate(store);
  });
  after(async () => {
    await store.close();
    await factory.cleanup();
  });

  it('writes every tick and bar the pipeline publishes, with the progress of the last mark', async () => {
    const h = await harness({ known: ['WR-1'], bars: [{ kind: 'time', periodSec: 1 }], subscribe: false });
    const md = new MarketDataStore(store);
    const writer = new MarketDataWriter(md, { feed: 'wr-test', limits: { batchRowsMax: 64 } });
    writer.attach(h.bus, h.pipeline.barIntervals);
    for (let i = 0; i < 1_000; i++) {
      h.pipeline.ingest(venueTrade('WR-1', T0_US + i * 10_000, 100 + (i % 7), 1 + (i % 3), i + 1));
      if (i % 100 === 99) writer.mark(i + 1);
    }
    h.pipeline.flush();
    writer.mark(1_000);
    await writer.flush();
    const c = h.pipeline.counters();
    const s = writer.stats();
    assert.equal(s.ticksWritten, c.enrich.out);
    assert.equal(s.barsWritten, c.aggregate.barsClosed + c.aggregate.barsCorrected);
    assert.equal(s.barsWritten, 10, 'ten seconds of trades: ten 1s bars');
    assert.ok(s.batches > 1000 / 64, `batches of at most 64 rows (${s.batches})`);
    assert.equal(await count(store, 'md_ticks', 'WR-1'), 1_000);
    assert.equal(await count(store, 'md_bars', 'WR-1'), 10);
    assert.equal(s.progressSeq, 1_000);
    assert.equal(await md.progress('wr-test'), 1_000);
    assert.equal(writer.health(), 'ok');
    await writer.close();
  });

  it('a mark made while a batch is written is kept for the next batch, not folded into the one in flight', async () => {
    const md = new GatedStore(store);
    const writer = new MarketDataWriter(md, { feed: 'inflight-test' });
    writer.offerTick(tickMessage('if:1', { instrument: 'IF-1' }));
    writer.mark(5);
    while (md.started === 0) await new Promise((r) => setTimeout(r, 5));
    writer.mark(7);
    md.open();
    await writer.flush();
    assert.equal(await md.progress('inflight-test'), 7);
    await writer.close();
  });

  it('refuses and counts rows past a full queue; the progress then stops advancing', async () => {
    const md = new FlakyStore(store);
    const writer = new MarketDataWriter(md, {
      feed: 'full-test',
      limits: { queueRowsMax: 10, batchRowsMax: 10 },
    });
    md.failures = 1; // the first batch fails, so the queue cannot drain at once
    for (let i = 0; i < 15; i++)
      writer.offerTick(tickMessage(`full:${i}`, { instrument: 'FQ-1', time_us: T0_US + i }));
    assert.equal(writer.stats().dropped, 5);
    writer.mark(15);
    assert.match(writer.health(), /5 rows dropped/);
    await writer.flush();
    assert.equal(await count(store, 'md_ticks', 'FQ-1'), 10);
    assert.equal(await md.progress('full-test'), 0, 'no progress past rows that were dropped');
    assert.match(writer.health(), /dropped/);
    await writer.close();
  });

  it('retries a failing store until it works, showing the failure meanwhile', async () => {
    const md = new FlakyStore(store);
    const errors: string[] = [];
    const writer = new MarketDataWriter(md, {
      limits: { retryDelayMsMin: 5, retryDelayMsMax: 20 },
      onError: (e) => errors.push(e.message),
    });
    md.failures = 3;
    writer.offerTick(tickMessage('retry:1', { instrument: 'RY-1' }));
    writer.offerBar(barMessage({ instrument: 'RY-1' }));
    while (md.attempts < 2) await new Promise((r) => setTimeout(r, 5));
    assert.match(writer.health(), /^failing: the database went away/);
    await writer.flush();
    assert.equal(md.attempts, 4);
    assert.deepEqual(errors, ['the database went away'], 'told once per run of failures');
    assert.equal(writer.stats().failedBatches, 3);
    assert.equal(writer.health(), 'ok');
    assert.equal(await count(store, 'md_ticks', 'RY-1'), 1);
    assert.equal(await count(store, 'md_bars', 'RY-1'), 1);
    await writer.close();
  });

  it('close gives up after its timeout on a store that stays down, naming the rows left', async () => {
    const md = new FlakyStore(store);
    md.failures = Number.MAX_SAFE_INTEGER;
    const writer = new MarketDataWriter(md, {
      limits: { closeTimeoutMs: 50, retryDelayMsMin: 5, retryDelayMsMax: 10 },
    });
    writer.offerTick(tickMessage('down:1', { instrument: 'DN-1' }));
    writer.offerTick(tickMessage('down:2', { instrument: 'DN-1' }));
    await assert.rejects(
      writer.close(),
      /2 market data rows were not written within 50 ms: the database went away/,
    );
    assert.equal(
      writer.offerTick(tickMessage('down:3', { instrument: 'DN-1' })),
      false,
      'nothing after close',
    );
  });

  it('lingers longer on PGlite, where a batch costs the venue its own transaction (and checks the limit)', () => {
    assert.ok(MD_WRITER_DEFAULTS.pgliteLingerMs > MD_WRITER_DEFAULTS.lingerMs);
    assert.equal(mdWriterLimits({ pgliteLingerMs: 0 }).pgliteLingerMs, 0);
    assert.throws(() => mdWriterLimits({ pgliteLingerMs: -1 }), /pgliteLingerMs/);
    assert.throws(() => mdWriterLimits({ pgliteLingerMs: 0.5 }), /pgliteLingerMs/);
  });

  // A wait that nothing ended would hold these tests for ten minutes: their timeout fails them instead.
  const TEN_MINUTES = 600_000;

  it(
    'a flush, a close and a full batch end the wait for more rows at once',
    { timeout: 60_000 },
    async () => {
      const md = new MarketDataStore(store);
      const writer = new MarketDataWriter(md, {
        limits: { lingerMs: TEN_MINUTES, pgliteLingerMs: TEN_MINUTES, batchRowsMax: 3 },
      });
      writer.offerTick(tickMessage('lg:1', { instrument: 'LG-1', time_us: T0_US + 1 }));
      // Once the loop waits for more rows (its first turn is on a later one).
      await new Promise((r) => setImmediate(r));
      await writer.flush();
      assert.equal(await count(store, 'md_ticks', 'LG-1'), 1);
      for (let i = 2; i <= 4; i++)
        writer.offerTick(tickMessage(`lg:${i}`, { instrument: 'LG-1', time_us: T0_US + i }));
      while (writer.stats().ticksWritten < 4) await new Promise((r) => setTimeout(r, 5));
      assert.equal(await count(store, 'md_ticks', 'LG-1'), 4, 'the full batch, without a flush');
      writer.offerTick(tickMessage('lg:5', { instrument: 'LG-1', time_us: T0_US + 5 }));
      await new Promise((r) => setImmediate(r));
      await writer.close();
      assert.equal(await count(store, 'md_ticks', 'LG-1'), 5);
    },
  );

  it('refuses a message that is not a tick, counting it and keeping the reason', async () => {
    const writer = new MarketDataWriter(new MarketDataStore(store));
    assert.equal(writer.offerTick(tickMessage('odd:1', { time_ns: 1000 })), false);
    assert.equal(writer.stats().rejected, 1);
    assert.match(writer.lastRejection ?? '', /time_ns must be 0 to 999/);
    await writer.close();
  });
});

/** A store whose first write waits until a second one has started, then fails (the second is in flight). */
class FailsWithNextInFlight extends MarketDataStore {
  attempts = 0;
  override async write(batch: WriteBatch, order?: WriteOrder): Promise<WriteResult> {
    if (++this.attempts > 1) return super.write(batch, order);
    while (this.attempts < 2) await new Promise((r) => setTimeout(r, 2));
    // Let the second batch do its statements (it waits for this one's only to commit).
    await new Promise((r) => setTimeout(r, 50));
    throw new Error('the connection dropped');
  }
}

describe('market data writer (PostgreSQL)', () => {
  const factory = postgresFactory();
  let store: Store;

  before(async () => {
    store = await factory.fresh();
    await migrate(store);
  });
  after(async () => {
    await store.close();
    await factory.cleanup();
  });

  it("writes the pipeline's own ticks, batches in flight two at a time, and a redelivery once", async () => {
    const trades = Array.from({ length: 3_000 }, (_, i) =>
      venueTrade('PG-1', T0_US + i * 1_000, 100 + (i % 5), 1 + (i % 4), i + 1),
    );
    const run = async (): Promise<MarketDataWriter> => {
      const h = await harness({ known: ['PG-1'], bars: [{ kind: 'time', periodSec: 1 }], subscribe: false });
      const writer = new MarketDataWriter(new MarketDataStore(store), {
        feed: 'pg-test',
        limits: { batchRowsMax: 250 },
      });
      writer.attachPipeline(h.pipeline, h.bus);
      for (const [i, raw] of trades.entries()) {
        h.pipeline.ingest(raw);
        if (i % 500 === 499) writer.mark(i + 1);
      }
      h.pipeline.flush();
      await writer.flush();
      await writer.close();
      return writer;
    };
    const first = (await run()).stats();
    assert.equal(first.ticksWritten, 3_000);
    assert.equal(first.barsWritten, 3, 'three seconds of trades: three 1s bars');
    assert.ok(first.batches >= 3_000 / 250, `batches of at most 250 rows (${first.batches})`);
    assert.equal(await count(store, 'md_ticks', 'PG-1'), 3_000);
    assert.equal(await new MarketDataStore(store).progress('pg-test'), 3_000);
    // The same raw events again (a redelivery, a replay): the same rows, none twice.
    const again = (await run()).stats();
    assert.equal(again.ticksWritten, 0);
    assert.equal(again.ticksExisting, 3_000);
    assert.equal(again.barsExisting, 3);
    assert.equal(await count(store, 'md_ticks', 'PG-1'), 3_000);
    assert.equal(await count(store, 'md_bars', 'PG-1'), 3);
  });

  it('a batch that fails with the next in flight: that one rolls back, both are written again in order', async () => {
    const md = new FailsWithNextInFlight(store);
    const writer = new MarketDataWriter(md, {
      feed: 'pg-fail-test',
      limits: { batchRowsMax: 100, retryDelayMsMin: 5 },
    });
    for (let i = 0; i < 200; i++) {
      writer.offerTick(tickMessage(`ff:${i}`, { instrument: 'FF-1', time_us: T0_US + i }));
      if (i === 99 || i === 199) writer.mark(i + 1);
    }
    await writer.flush();
    const s = writer.stats();
    assert.equal(s.failedBatches, 1);
    assert.equal(s.ticksWritten, 200);
    assert.equal(s.ticksExisting, 0, 'the second batch had rolled back: its retry found none of its rows');
    assert.equal(md.attempts, 4, 'the first batch twice, the second twice');
    assert.equal(await count(store, 'md_ticks', 'FF-1'), 200);
    assert.equal(await md.progress('pg-fail-test'), 200);
    await writer.close();
  });
});
