/**
 * Tick rows encoded for binary COPY as they come (store/copy.ts): every row reads back as written, and the
 * pipeline's tick taken in process (`onEnriched`, `addSlot`, `slotRow`) makes exactly the row that its enriched
 * message makes through `tickRowOf`, refusing what `tickRowOf` refuses.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  TICK_ID_SUFFIX,
  TOPICS,
  TickCopyBuffer,
  TickSlot,
  slotRow,
  tickRowOf,
  type RawEvent,
  type TickRow,
} from '../../../src/marketdata/index.js';
import { harness, topic, venueTrade } from '../pipeline/helpers.js';
import { T0_US, tickMessage } from './helpers.js';

describe('tick rows for binary COPY', () => {
  it('reads back every row it encodes: trades, quotes, nulls, any text, times before 2000, large integers', () => {
    const rows: TickRow[] = [
      tickRowOf(tickMessage('a:1')),
      tickRowOf(tickMessage('a:2', { side: 'sell', flags: ['late_arrival', 'duplicate'], time_ns: 999 })),
      tickRowOf(
        tickMessage('b:"1", {x}\\ é', {
          instrument: 'ÉTÉ-€ "q"',
          source: 'fïle,NULL',
          kind: 'quote',
          price: null,
          size: null,
          side: null,
          trade_id: null,
          bid_price: -5,
          bid_size: 2 ** 53 - 1,
          ask_price: null,
          ask_size: null,
          time_us: 1_000_000,
        }),
      ),
      tickRowOf(tickMessage('c:1', { price: -(2 ** 53 - 1), size: 0, trade_id: 2 ** 40 + 3, time_us: 0 })),
    ];
    const buf = new TickCopyBuffer(32); // grows as rows come
    for (const r of rows) buf.addRow(r);
    assert.equal(buf.count, rows.length);
    assert.deepEqual(buf.rows(), rows);
    assert.deepEqual([...buf.days].sort(), [0, Math.floor(T0_US / 86_400_000_000)]);
    const data = buf.data();
    assert.deepEqual(
      [...data.subarray(0, 11)],
      [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0],
    );
    assert.deepEqual([...data.subarray(data.length - 2)], [0xff, 0xff], 'the trailer');
  });

  it("makes of the pipeline's tick the row its enriched message makes", async () => {
    const h = await harness({ known: ['SL-1'], latenessUs: 1_000 });
    const direct: TickRow[] = [];
    const encoded = new TickCopyBuffer();
    h.pipeline.onEnriched((t) => {
      const row = slotRow(t, TICK_ID_SUFFIX.enriched);
      if (typeof row === 'string') assert.fail(row);
      direct.push(row);
      assert.equal(encoded.addSlot(t, TICK_ID_SUFFIX.enriched), null);
    });
    const raws: RawEvent[] = [
      venueTrade('SL-1', T0_US, 100, 5, 1),
      venueTrade('SL-1', T0_US + 10, 101, 3, 2),
      venueTrade('SL-1', T0_US + 10, 101, 3, 2), // a duplicate
      venueTrade('SL-1', T0_US + 5, 99, 1, 3), // late
      venueTrade('SL-2', T0_US + 20, 50, 1, 1), // no reference data
      venueTrade('SL-1', T0_US + 30, 100_000, 1, 4), // out of range
      {
        id: 'bbo:1',
        source: 'venue',
        schema: 'venue.bbo.v1',
        receivedUs: T0_US + 40,
        payload: {
          instrument: 'SL-1',
          timeUs: T0_US + 40,
          bidTicks: 99,
          bidLots: 4,
          askTicks: null,
          askLots: null,
        },
      },
      {
        id: 'bbo:2',
        source: 'venue',
        schema: 'venue.bbo.v1',
        receivedUs: T0_US + 50,
        payload: {
          instrument: 'SL-1',
          timeUs: T0_US + 50,
          bidTicks: 99,
          bidLots: 4,
          askTicks: 101,
          askLots: 7,
        },
      },
    ];
    for (const raw of raws) h.pipeline.ingest(raw);
    const viaMessages = topic(h, TOPICS.enriched).map(tickRowOf);
    assert.equal(viaMessages.length, raws.length);
    assert.ok(viaMessages.some((r) => r.kind === 'quote' && r.askPrice === null));
    assert.ok(viaMessages.some((r) => r.flags !== 0));
    assert.deepEqual(direct, viaMessages);
    assert.deepEqual(encoded.rows(), viaMessages);
  });

  it('refuses a tick that tickRowOf would refuse, writing nothing of it', () => {
    const t = new TickSlot();
    t.instrument = 'X'.repeat(65);
    t.source = 'venue';
    t.eventId = 'r:1';
    t.timeUs = T0_US;
    t.price = 1;
    t.size = 1;
    t.tradeId = 1;
    const buf = new TickCopyBuffer();
    assert.match(buf.addSlot(t, '/e') ?? '', /instrument/);
    t.instrument = 'X';
    t.timeNs = 1000;
    const refused = slotRow(t, '/e');
    assert.equal(typeof refused, 'string');
    assert.match(refused as string, /time_ns/);
    t.timeNs = 0;
    t.price = 0.5;
    assert.match(buf.addSlot(t, '/e') ?? '', /integers/);
    assert.equal(buf.count, 0);
    assert.deepEqual(buf.rows(), []);
    t.price = 1;
    assert.equal(buf.addSlot(t, '/e'), null);
    assert.equal(buf.rows()[0].eventId, 'r:1/e');
  });
});
