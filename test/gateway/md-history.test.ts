/**
 * Market data history end to end, on a venue in this process with its store (PGlite) and a real socket:
 * trades placed over REST come back as ticks (GET /api/v1/ticks) and as candles (GET /api/v1/candles and the
 * `candles:` WebSocket channel) equal to a brute-force aggregation of GET /api/v1/trades; a restart on the same
 * data directory rewrites nothing (the store's progress), rebuilds the open bars from the journal (a bar that
 * spans the restart counts the trades of both runs), and serves the history and a channel snapshot again.
 * Parameters are checked with stable codes; market data that is not public needs a key; with the pipeline
 * off the routes answer 503.
 */
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import type { Venue } from '../../src/gateway/index.js';
import { startVenue } from '../../src/gateway/index.js';
import { venueSetupCommands } from '../../src/cli/venue.js';
import { dayText } from '../../src/marketdata/index.js';
import type { VenueConfig } from '../../src/ops/index.js';
import { call, tempDir, testConfig, traders } from './helpers.js';
import { WsClient, wsUrl, type Json } from './ws/client.js';

interface TradeJson {
  trade_id: string;
  price: string;
  quantity: string;
  timestamp: string;
}

/** Cents and lots of BTC-USDT (tick 0.01, lot 0.0001) as integers. */
const cents = (p: string): bigint => BigInt(p.replace('.', ''));
const lots = (q: string): bigint => BigInt(q.replace('.', ''));
const fmt = (v: bigint, decimals: number): string => {
  const s = v.toString().padStart(decimals + 1, '0');
  return `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}`;
};

/** The candles of `periodMs` a brute-force pass over the trades gives (open and close by time, then id). */
function expectedCandles(trades: readonly TradeJson[], periodMs: number): Json[] {
  const sorted = [...trades].sort(
    (a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || Number(a.trade_id) - Number(b.trade_id),
  );
  const groups = new Map<number, TradeJson[]>();
  for (const t of sorted) {
    const start = Math.floor(Date.parse(t.timestamp) / periodMs) * periodMs;
    groups.set(start, [...(groups.get(start) ?? []), t]);
  }
  return [...groups.entries()].map(([start, ts]) => {
    const prices = ts.map((t) => cents(t.price));
    const volume = ts.reduce((s, t) => s + lots(t.quantity), 0n);
    const notional = ts.reduce((s, t) => s + cents(t.price) * lots(t.quantity), 0n);
    // The average price: 4 digits past the price's, truncated, trailing zeros beyond the price's dropped.
    const vwap = fmt((notional * 10_000n) / volume, 6).replace(/0{1,4}$/, '');
    return {
      start: new Date(start).toISOString().replace('.000', ''),
      end: new Date(start + periodMs).toISOString().replace('.000', ''),
      open: ts[0].price,
      high: fmt(
        prices.reduce((a, b) => (b > a ? b : a)),
        2,
      ),
      low: fmt(
        prices.reduce((a, b) => (b < a ? b : a)),
        2,
      ),
      close: ts[ts.length - 1].price,
      volume: fmt(volume, 4),
      vwap,
      trades: ts.length,
      revision: 0,
    };
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('market data history: REST candles and ticks, the candles: channel, across a restart', () => {
  const dir = tempDir();
  const clock = { offsetUs: 0 };
  let venue: Venue | null = null;
  let admin = '';
  let keys = { t1: '', t2: '' };

  const config = (): VenueConfig => {
    const c = testConfig(dir);
    // Bars close as soon as the clock passes their end, so the test need not wait for the lateness.
    return { ...c, marketData: { ...c.marketData, pipeline: { ...c.marketData.pipeline, latenessMs: 0 } } };
  };
  const open = async (): Promise<Venue> => {
    const c = config();
    return startVenue(c, {
      setup: venueSetupCommands(c, 0),
      marketDataClockUs: () => Date.now() * 1000 + clock.offsetUs,
    });
  };
  const cross = async (
    v: Venue,
    price: string,
    qty: string,
    seller: string,
    buyer: string,
  ): Promise<void> => {
    const order = { symbol: 'BTC-USDT', order_type: 'limit', price, quantity: qty };
    const s = await call(v, 'POST', '/api/v1/orders', seller, { ...order, side: 'sell' });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    const b = await call(v, 'POST', '/api/v1/orders', buyer, { ...order, side: 'buy' });
    assert.equal(b.status, 201, JSON.stringify(b.body));
  };
  const restTrades = async (v: Venue): Promise<TradeJson[]> =>
    (await call(v, 'GET', '/api/v1/trades/BTC-USDT?limit=100', null)).body.trades as TradeJson[];
  /** The closed candles of a query (each checked to say `forming: false`, then shown without it). */
  const candles = async (v: Venue, query: string): Promise<Json[]> => {
    const r = await call(v, 'GET', `/api/v1/candles/BTC-USDT?${query}`, null);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body.candles as Json[]).map(({ forming, ...c }) => {
      assert.equal(forming, false);
      return c;
    });
  };

  after(async () => {
    await venue?.close();
  });

  it('serves the trades as ticks and 1s candles, over REST and the candles: channel', async () => {
    venue = await open();
    const v = venue;
    const md = v.marketData;
    assert.ok(md !== null);
    admin = v.adminKey ?? '';
    keys = await traders(v, admin);
    const ws = await WsClient.open(wsUrl(v.url, '/ws'));
    const sub = await ws.request({ op: 'subscribe', id: 's1', channel: 'candles:BTC-USDT:1s' });
    assert.deepEqual(sub, { type: 'subscribed', id: 's1', channel: 'candles:BTC-USDT:1s', seq: 0 });
    const snap = await ws.next((m) => m.type === 'candles_snapshot');
    assert.deepEqual(snap.candles, []);

    await cross(v, '100.00', '0.4000', keys.t2, keys.t1);
    await cross(v, '101.50', '0.6000', keys.t2, keys.t1);
    await cross(v, '99.25', '0.5000', keys.t1, keys.t2);
    const trades = await restTrades(v);
    assert.equal(trades.length, 3);

    // Ticks are written as they come; bars once the clock passes their end.
    await md.settle();
    const from = new Date(Date.parse(trades[2].timestamp) - 1000).toISOString();
    const to = new Date(Date.now() + 1000).toISOString();
    const ticks = await call(v, 'GET', `/api/v1/ticks/BTC-USDT?from=${from}&to=${to}`, null);
    assert.equal(ticks.status, 200, JSON.stringify(ticks.body));
    const tradeTicks = (ticks.body.ticks as Json[]).filter((t) => t.kind === 'trade');
    assert.deepEqual(
      tradeTicks.map((t) => [t.trade_id, t.price, t.size, t.flags]).sort(),
      trades.map((t) => [t.trade_id, t.price, t.quantity, ['valid']]).sort(),
    );
    // Valid, not missing_metadata: enrich found each instrument's reference data, seeded into the store.
    const refs = await v.store.query(
      'SELECT instrument, currency FROM md_reference_data ORDER BY instrument',
    );
    assert.deepEqual(refs, [
      { instrument: 'BTC-USDT', currency: 'USDT' },
      { instrument: 'ETH-USDT', currency: 'USDT' },
    ]);
    const quotes = (ticks.body.ticks as Json[]).filter((t) => t.kind === 'quote');
    assert.ok(quotes.length >= 3, 'the best bid and offer changes are ticks too');
    assert.equal(ticks.body.more, false);
    const limited = await call(v, 'GET', `/api/v1/ticks/BTC-USDT?from=${from}&to=${to}&limit=2`, null);
    assert.deepEqual([(limited.body.ticks as Json[]).length, limited.body.more], [2, true]);

    // The hour's bar is still forming: shown last, marked, only when asked for, as the closed bars will be.
    const hour = expectedCandles(trades, 3_600_000);
    const r = await call(v, 'GET', '/api/v1/candles/BTC-USDT?interval=1h&forming=true', null);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const withForming = r.body.candles as Json[];
    assert.deepEqual(withForming[withForming.length - 1], { ...hour[hour.length - 1], forming: true });
    assert.ok(withForming.slice(0, -1).every((c) => c.forming === false));
    assert.deepEqual(
      await candles(v, 'interval=1h'),
      hour.slice(0, -1),
      'without forming=true: closed bars only',
    );

    const last = Math.max(...trades.map((t) => Date.parse(t.timestamp)));
    while (Date.now() < Math.ceil((last + 1) / 1000) * 1000 + 5) await sleep(20);
    md.followClock();
    await md.settle();
    const expected = expectedCandles(trades, 1000);
    assert.deepEqual(await candles(v, `interval=1s&from=${from}&to=${to}`), expected);
    const sent: Json[] = [];
    while (sent.length < expected.length) {
      const m = await ws.next((x) => x.type === 'candle');
      assert.equal(m.seq, sent.length + 1, 'sequence numbers without a gap');
      assert.equal(m.corrected, false);
      sent.push(m.candle as Json);
    }
    assert.deepEqual(sent, expected);
    await ws.close();
  });

  it('checks its parameters with stable codes', async () => {
    const v = venue as Venue;
    const bad = async (url: string, field: string | null, code = 'VALIDATION_ERROR'): Promise<void> => {
      const r = await call(v, 'GET', url, null);
      assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.body)}`);
      const error = r.body.error as { code: string; details: { field?: string } };
      assert.equal(error.code, code, url);
      if (field !== null) assert.equal(error.details.field, field, url);
    };
    await bad('/api/v1/candles/BTC-USDT?interval=7m', 'interval');
    await bad('/api/v1/candles/BTC-USDT', null);
    await bad('/api/v1/candles/NOPE-USDT?interval=1m', null, 'INVALID_SYMBOL');
    await bad('/api/v1/candles/BTC-USDT?interval=1m&from=yesterday', 'from');
    await bad(
      '/api/v1/candles/BTC-USDT?interval=1m&from=2024-01-02T00:00:00Z&to=2024-01-01T00:00:00Z',
      'from',
    );
    await bad(
      '/api/v1/candles/BTC-USDT?interval=1s&from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z',
      'from',
    );
    await bad('/api/v1/candles/BTC-USDT?interval=1m&limit=0', 'limit');
    await bad('/api/v1/candles/BTC-USDT?interval=1m&extra=1', null);
    await bad('/api/v1/ticks/BTC-USDT?from=2024-01-01T00:00:00Z&to=2024-01-03T00:00:00Z', 'from');
    await bad('/api/v1/ticks/BTC-USDT?limit=10001', 'limit');
    const ws = await WsClient.open(wsUrl(v.url, '/ws'));
    const refused = await ws.request({ op: 'subscribe', id: 'x', channel: 'candles:BTC-USDT:7m' });
    assert.equal((refused.error as { code: string }).code, 'INVALID_CHANNEL');
    const unknown = await ws.request({ op: 'subscribe', id: 'y', channel: 'candles:NOPE-USDT:1m' });
    assert.equal((unknown.error as { code: string }).code, 'INVALID_SYMBOL');
    await ws.close();
    const doc = (await v.server.inject({ method: 'GET', url: '/docs' })).json<{
      paths: Record<string, unknown>;
    }>();
    assert.ok('/api/v1/candles/{symbol}' in doc.paths && '/api/v1/ticks/{symbol}' in doc.paths);
  });

  it('after a restart, rewrites nothing, and a bar spanning the restart counts the trades of both runs', async () => {
    await (venue as Venue).close();
    venue = await open();
    const v = venue;
    const md = v.marketData;
    assert.ok(md !== null);
    // The bars the first run closed on the clock close again here (its timer would do the same).
    md.followClock();
    await md.settle();
    assert.equal(md.stats().writer?.ticksWritten, 0, 'the replay wrote no tick again');
    assert.equal(md.stats().writer?.ticksExisting, 0, 'nor tried to');
    const ws = await WsClient.open(wsUrl(v.url, '/ws'));
    await ws.request({ op: 'subscribe', id: 's', channel: 'candles:BTC-USDT:1s' });
    const snap = await ws.next((m) => m.type === 'candles_snapshot');
    const before = await restTrades(v);
    assert.deepEqual(snap.candles, expectedCandles(before, 1000), 'the recent bars, rebuilt by the replay');
    await ws.request({ op: 'subscribe', id: 'd', channel: 'candles:BTC-USDT:1d' });
    await ws.next((m) => m.type === 'candles_snapshot' && m.channel === 'candles:BTC-USDT:1d');

    await cross(v, '103.00', '0.1000', keys.t2, keys.t1);
    const trades = await restTrades(v);
    assert.equal(trades.length, 4);
    // Three days on: every bar of these trades is closed, the day bar with all four trades if they share a day.
    clock.offsetUs = 3 * 86_400_000_000;
    await md.settle();
    md.followClock();
    await md.settle();
    // A new day (on the clock) made the partitions ahead of it.
    const aheadDay = Math.floor((Date.now() * 1000 + clock.offsetUs) / 86_400_000_000) + 2;
    const parts = await (md.mdStore as NonNullable<typeof md.mdStore>).partitionDays('md_ticks');
    assert.ok(parts.includes(dayText(aheadDay)), `${dayText(aheadDay)} in ${parts.join(', ')}`);
    const day = expectedCandles(trades, 86_400_000);
    assert.deepEqual(await candles(v, 'interval=1d'), day);
    assert.deepEqual(await candles(v, 'interval=1m'), expectedCandles(trades, 60_000));
    assert.deepEqual(await candles(v, 'interval=1s'), expectedCandles(trades, 1000));
    const got: Json[] = [];
    while (got.length < day.length)
      got.push((await ws.next((m) => m.channel === 'candles:BTC-USDT:1d')).candle as Json);
    assert.deepEqual(got, day);
    await ws.close();
  });

  it('takes the trades of an instrument added over the API, at once and after a restart', async () => {
    const v = venue as Venue;
    const added = await call(v, 'POST', '/api/v1/instruments', admin, {
      symbol: 'ETH-BTC',
      base: 'ETH',
      quote: 'BTC',
      tick_size: '0.00001',
      lot_size: '0.001',
      max_quantity: '1000',
      maker_fee: '0',
      taker_fee: '0',
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    for (const id of [1, 2]) {
      const d = await call(v, 'POST', `/api/v1/admin/accounts/${id}/deposits`, admin, {
        asset: 'ETH',
        amount: '10',
      });
      assert.equal(d.status, 201, JSON.stringify(d.body));
    }
    const ethBtc = { symbol: 'ETH-BTC', order_type: 'limit', price: '0.05', quantity: '1' };
    assert.equal((await call(v, 'POST', '/api/v1/orders', keys.t1, { ...ethBtc, side: 'sell' })).status, 201);
    assert.equal((await call(v, 'POST', '/api/v1/orders', keys.t2, { ...ethBtc, side: 'buy' })).status, 201);
    const ticksOf = async (w: Venue): Promise<Json[]> => {
      const r = await call(w, 'GET', '/api/v1/ticks/ETH-BTC', null);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return (r.body.ticks as Json[]).filter((t) => t.kind === 'trade');
    };
    // The writer stores ticks a little later: poll, with a deadline against a hang (no timing claim).
    let ticks = await ticksOf(v);
    for (const end = Date.now() + 20_000; ticks.length === 0 && Date.now() < end;) {
      await sleep(50);
      ticks = await ticksOf(v);
    }
    assert.equal(ticks.length, 1, 'the trade of the new instrument is a tick');
    assert.deepEqual([ticks[0].price, ticks[0].size], ['0.05000', '1.000']);
    const ref = await v.store.query(
      `SELECT unit, currency FROM md_reference_data WHERE instrument = 'ETH-BTC'`,
    );
    assert.deepEqual(ref, [{ unit: 'ETH', currency: 'BTC' }], 'its reference data was added');

    // After a restart the feed knows it from the journal (the configuration does not name it).
    await v.close();
    venue = await open();
    const w = venue;
    assert.equal((await call(w, 'POST', '/api/v1/orders', keys.t1, { ...ethBtc, side: 'sell' })).status, 201);
    assert.equal((await call(w, 'POST', '/api/v1/orders', keys.t2, { ...ethBtc, side: 'buy' })).status, 201);
    let again = await ticksOf(w);
    for (const end = Date.now() + 20_000; again.length < 2 && Date.now() < end;) {
      await sleep(50);
      again = await ticksOf(w);
    }
    assert.equal(
      again.length,
      2,
      'the trade after the restart is a tick too, and the first is not written twice',
    );
  });

  it('needs a key when market data is not public, and answers 503 with the pipeline off', async () => {
    await (venue as Venue).close();
    venue = null;
    const c = testConfig(tempDir(), {
      RIALTO_MARKET_DATA_PUBLIC: 'false',
      RIALTO_MD_PIPELINE_ENABLED: 'false',
    });
    const v = await startVenue(c, { setup: venueSetupCommands(c, 0), listen: false });
    try {
      assert.equal(v.marketData, null);
      const anonymous = await call(v, 'GET', '/api/v1/candles/BTC-USDT?interval=1m', null);
      assert.equal(anonymous.status, 401);
      const off = await call(v, 'GET', '/api/v1/ticks/BTC-USDT', v.adminKey);
      assert.equal(off.status, 503);
      assert.equal((off.body.error as { code: string }).code, 'SERVICE_UNAVAILABLE');
    } finally {
      await v.close();
    }
  });
});
