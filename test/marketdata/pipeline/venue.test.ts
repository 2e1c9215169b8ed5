/**
 * The venue source through a real venue in this process: orders placed over the REST API trade, the engine's
 * durable batches become raw events, and the pipeline turns them into ticks, quotes and bars. Event ids carry
 * the journal's sequence numbers (the views' record of the same trades names them), so a replay gives the same.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { priceToTicks, qtyToLots, type Venue } from '../../../src/gateway/index.js';
import {
  TOPICS,
  VenueSource,
  barsTopic,
  type NormalizedTick,
  type RawEvent,
} from '../../../src/marketdata/index.js';
import { call, openVenue, order, tempDir, testConfig, traders } from '../../gateway/helpers.js';
import { harness, topic, type Harness } from './helpers.js';

const units = (r: { ok: true; value: number } | { ok: false }): number => {
  assert.ok(r.ok);
  return r.value;
};

describe('venue source on a venue in this process', () => {
  let venue: Venue;
  let h: Harness;
  const raws: RawEvent[] = [];
  let stop: () => void = () => undefined;

  before(async () => {
    venue = await openVenue(testConfig(tempDir()), false);
    h = await harness({ known: ['BTC-USDT'], bars: [{ kind: 'time', periodSec: 1 }] });
    const symbols = new Map(venue.config.instruments.map((i) => [i.spec.instrument, i.spec.symbol]));
    const source = new VenueSource((id) => symbols.get(id));
    stop = venue.engine.subscribe((b) => {
      for (const r of source.rawEvents(b)) {
        raws.push(r);
        h.pipeline.ingest(r);
      }
    });
  });
  after(async () => {
    stop();
    await venue.close();
  });

  it('turns real trades and best bid and offer changes into ticks, quotes and bars', async () => {
    const admin = venue.adminKey ?? '';
    const { t1, t2 } = await traders(venue, admin);
    const sell = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t2,
      order({ side: 'sell', quantity: '0.5', price: '60000.10' }),
    );
    assert.equal(sell.status, 201, JSON.stringify(sell.body));
    const buy = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', quantity: '0.2', price: '60001' }),
    );
    assert.equal(buy.status, 201, JSON.stringify(buy.body));
    const inst = venue.config.instruments.find((i) => i.spec.symbol === 'BTC-USDT');
    assert.ok(inst !== undefined);
    const ticks = topic(h, TOPICS.enriched).map((m) => m.payload as NormalizedTick);
    const trades = ticks.filter((t) => t.kind === 'trade');
    assert.equal(trades.length, 1);
    assert.deepEqual(
      [trades[0].instrument, trades[0].price, trades[0].size, trades[0].side, trades[0].flags],
      ['BTC-USDT', units(priceToTicks('60000.10', inst)), units(qtyToLots('0.2', inst)), 'buy', ['valid']],
    );
    assert.equal(trades[0].reference?.venue, 'rialto');
    // The journal's sequence number of the command that traded, as the views know it.
    const viewed = venue.views.trades(inst.spec.instrument, 10);
    assert.equal(viewed.length, 1);
    const tradeRaw = raws.find((r) => r.schema === 'venue.trade.v1');
    assert.match(tradeRaw?.id ?? '', new RegExp(`^venue:${viewed[0].seq}:\\d+$`));
    // The quotes: first the ask alone, then after the fill the ask reduced.
    const quotes = ticks.filter((t) => t.kind === 'quote');
    assert.ok(quotes.length >= 2);
    assert.equal(quotes[0].bid_price, null);
    assert.equal(quotes[0].ask_size, units(qtyToLots('0.5', inst)));
    const latest = h.latest.get('BTC-USDT');
    assert.equal(latest?.lastPrice, units(priceToTicks('60000.10', inst)));
    assert.equal(latest?.askSize, units(qtyToLots('0.3', inst)));
    h.pipeline.flush();
    const bars = topic(h, barsTopic('1s'));
    assert.equal(bars.length, 1);
    assert.equal((bars[0].payload as { volume: number }).volume, units(qtyToLots('0.2', inst)));
    const c = h.pipeline.counters();
    assert.equal(c.normalize.deadLettered, 0);
    assert.equal(c.raw.in, raws.length);
  });
});
