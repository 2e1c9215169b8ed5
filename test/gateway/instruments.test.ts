/**
 * Instruments at runtime, end to end over a real server: an administrator adds an instrument that is
 * tradable at once over REST and WebSocket (book, trades and fills channels know it), with a maker rebate
 * and a taker fee that the orders, the fills and the ledger agree on to the minor unit; bad instruments are
 * refused with stable codes and change nothing; changes keep the assets and units; halt and resume work on
 * it; and a restart keeps the instrument, its changes, its status and its open orders.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createKey, type Venue } from '../../src/gateway/index.js';
import type { VenueConfig } from '../../src/ops/index.js';
import { openVenue, tempDir, testConfig, traders } from './helpers.js';
import { WsClient, wsUrl, type Json } from './ws/client.js';

interface Answer {
  status: number;
  body: Json;
}

/** A request over the venue's real socket. */
async function http(venue: Venue, method: string, path: string, key: string | null, body?: unknown) {
  const headers: Record<string, string> = {};
  if (key !== null) headers['x-api-key'] = key;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${venue.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Json } satisfies Answer;
}

const codeOf = (a: Answer | Json): string => {
  const body = 'body' in a && 'status' in a ? (a.body as Json) : a;
  return (body.error as { code: string }).code;
};
const fieldOf = (a: Answer): unknown => ((a.body.error as Json).details as Json).field;

const ETH_BTC = {
  symbol: 'ETH-BTC',
  base: 'ETH',
  quote: 'BTC',
  tick_size: '0.00001',
  lot_size: '0.001',
  max_quantity: '1000',
  maker_fee: '-0.0001',
  taker_fee: '0.0005',
};

const balanceOf = async (venue: Venue, key: string, account: number, asset: string): Promise<Json> => {
  const r = await http(venue, 'GET', `/api/v1/accounts/${account}/balances`, key);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const b = (r.body.balances as Json[]).find((x) => x.asset === asset);
  assert.ok(b !== undefined, `account ${account} has ${asset}`);
  return b;
};

describe('instruments at runtime', { timeout: 180_000 }, () => {
  const dir = tempDir();
  const config: VenueConfig = testConfig(dir);
  let venue: Venue;
  let admin: string;
  let t1: string;
  let t2: string;
  let restingSellId = '';

  before(async () => {
    venue = await openVenue(config);
    admin = venue.adminKey as string;
    ({ t1, t2 } = await traders(venue, admin));
    const d = await http(venue, 'POST', '/api/v1/admin/accounts/2/deposits', admin, {
      asset: 'ETH',
      amount: '50',
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));
  });
  after(async () => {
    await venue.close();
  });

  it('adds an instrument that is tradable at once over REST and WebSocket, its fees matching the ledger', async () => {
    const added = await http(venue, 'POST', '/api/v1/instruments', admin, ETH_BTC);
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual(
      [added.body.symbol, added.body.base, added.body.quote, added.body.tick_size, added.body.lot_size],
      ['ETH-BTC', 'ETH', 'BTC', '0.00001', '0.001'],
    );
    assert.deepEqual([added.body.maker_fee, added.body.taker_fee], ['-0.0001', '0.0005']);
    assert.equal(added.body.id, 3, 'the next id after the configured instruments 1 and 2');
    const docs = (await (await fetch(`${venue.url}/docs`)).json()) as { paths: Record<string, Json> };
    assert.ok(docs.paths['/api/v1/instruments']?.post !== undefined, 'the OpenAPI document has the routes');
    assert.ok(docs.paths['/api/v1/instruments/{symbol}']?.patch !== undefined);
    assert.ok(docs.paths['/api/v1/fills']?.get !== undefined);
    const listed = await http(venue, 'GET', '/api/v1/instruments', null);
    const mine = (listed.body.instruments as Json[]).find((i) => i.symbol === 'ETH-BTC');
    assert.deepEqual(mine, added.body, 'the public list shows it as the answer did');

    const c1 = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 }, true);
    for (const channel of ['book:ETH-BTC:5', 'trades:ETH-BTC', 'fills']) {
      const ok = await c1.request({ op: 'subscribe', id: channel, channel });
      assert.equal(ok.type, 'subscribed', JSON.stringify(ok));
    }
    const btc1 = await balanceOf(venue, t1, 1, 'BTC');
    const btc2 = await balanceOf(venue, t2, 2, 'BTC');
    assert.deepEqual([btc1.total, btc2.total], ['100.00000000', '100.00000000']);

    const sell = await http(venue, 'POST', '/api/v1/orders', t2, {
      symbol: 'ETH-BTC',
      side: 'sell',
      order_type: 'limit',
      price: '0.05',
      quantity: '2',
    });
    assert.equal(sell.status, 201, JSON.stringify(sell.body));
    restingSellId = sell.body.order_id as string;
    const buy = await c1.request({
      op: 'place',
      id: 'b1',
      symbol: 'ETH-BTC',
      side: 'buy',
      order_type: 'limit',
      price: '0.05',
      quantity: '1',
    });
    assert.equal(buy.type, 'ack', JSON.stringify(buy));
    const buyOrder = buy.order as Json;
    // 1 ETH at 0.05 BTC: the taker pays 0.05% of 0.05 BTC = 2,500 satoshis; the maker gets 0.01% = 500 back.
    assert.deepEqual(
      [buyOrder.status, buyOrder.fee, buyOrder.fee_asset],
      ['filled', '0.00002500', 'BTC'],
      JSON.stringify(buyOrder),
    );
    const makerOrder = await http(venue, 'GET', `/api/v1/orders/${restingSellId}`, t2);
    assert.deepEqual(
      [makerOrder.body.status, makerOrder.body.fee, makerOrder.body.fee_asset],
      ['partially_filled', '-0.00000500', 'BTC'],
    );
    // The ledger: the buyer paid the value and its fee, the seller received the value and its rebate.
    assert.equal((await balanceOf(venue, t1, 1, 'BTC')).total, '99.94997500');
    assert.equal((await balanceOf(venue, t2, 2, 'BTC')).total, '100.05000500');
    assert.equal((await balanceOf(venue, t1, 1, 'ETH')).total, '1.00000000');

    await c1.sync('fill');
    const fills = c1.all.filter((m) => m.type === 'fills').flatMap((m) => m.fills as Json[]);
    assert.equal(fills.length, 1, JSON.stringify(fills));
    assert.deepEqual(
      [fills[0].symbol, fills[0].liquidity, fills[0].side, fills[0].fee, fills[0].fee_asset],
      ['ETH-BTC', 'taker', 'buy', '0.00002500', 'BTC'],
    );
    const trades = c1.all.filter((m) => m.type === 'trades');
    assert.equal(trades.length, 1, 'the trades channel of the new symbol carried the trade');
    const deltas = c1.all.filter((m) => m.type === 'book_delta' && m.channel === 'book:ETH-BTC:5');
    assert.deepEqual(
      deltas.map((m) => m.asks),
      [[['0.05000', '2.000']], [['0.05000', '1.000']]],
      'the book channel of the new symbol sent the resting sell, then what the fill left of it',
    );
    const makerFills = await http(venue, 'GET', `/api/v1/fills?order_id=${restingSellId}`, t2);
    assert.equal(makerFills.status, 200, JSON.stringify(makerFills.body));
    const [mf] = makerFills.body.fills as Json[];
    assert.deepEqual(
      [mf.liquidity, mf.side, mf.price, mf.quantity, mf.fee, mf.fee_asset, mf.account_id],
      ['maker', 'sell', '0.05000', '1.000', '-0.00000500', 'BTC', 2],
    );
    const hidden = await http(venue, 'GET', `/api/v1/fills?order_id=${restingSellId}`, t1);
    assert.equal(codeOf(hidden), 'ORDER_NOT_FOUND', 'another account’s order is not found');
    const book = await http(venue, 'GET', '/api/v1/orderbook/ETH-BTC?depth=5', null);
    assert.deepEqual(book.body.asks, [['0.05000', '1.000']]);
    const income = await http(venue, 'GET', '/api/v1/admin/statements/income-statement', admin);
    const btcIncome = (income.body.assets as Json[]).find((a) => a.asset === 'BTC');
    assert.deepEqual([btcIncome?.fee_income, btcIncome?.rebate_expense], ['0.00002500', '0.00000500']);
    await c1.close();
  });

  it('refuses bad instruments with stable codes, and they change nothing', async () => {
    const before = await http(venue, 'GET', '/api/v1/instruments', null);
    const cases: [Json, string | null, number, string, string | null][] = [
      [{ ...ETH_BTC }, admin, 409, 'INSTRUMENT_EXISTS', null],
      [{ ...ETH_BTC, symbol: 'ETH-BTC2', id: 1 }, admin, 409, 'INSTRUMENT_EXISTS', null],
      [{ ...ETH_BTC, symbol: 'SOL-BTC', base: 'SOL' }, admin, 400, 'UNKNOWN_ASSET', 'base'],
      [{ ...ETH_BTC, symbol: 'ETH-XYZ', quote: 'XYZ' }, admin, 400, 'UNKNOWN_ASSET', 'quote'],
      [
        { ...ETH_BTC, symbol: 'E-B', price_unit: '0.00001', tick_size: '0.000015' },
        admin,
        400,
        'INVALID_INSTRUMENT',
        'tick_size',
      ],
      [{ ...ETH_BTC, symbol: 'E-B', lot_size: '0' }, admin, 400, 'INVALID_INSTRUMENT', 'lot_size'],
      [{ ...ETH_BTC, symbol: 'E-B', min_quantity: '2000' }, admin, 400, 'INVALID_INSTRUMENT', 'min_quantity'],
      [{ ...ETH_BTC, symbol: 'E-B', maker_fee: '-0.001' }, admin, 400, 'INVALID_INSTRUMENT', 'maker_fee'],
      [{ ...ETH_BTC, symbol: 'E-B', taker_fee: '0.2' }, admin, 400, 'INVALID_INSTRUMENT', 'taker_fee'],
      [
        { ...ETH_BTC, symbol: 'E-B', lot_size: '0.000000001' },
        admin,
        400,
        'INVALID_INSTRUMENT',
        'quantity_unit',
      ],
      [{ ...ETH_BTC, symbol: 'E-B', colour: 'red' }, admin, 400, 'VALIDATION_ERROR', null],
      [{ ...ETH_BTC, symbol: 'eth-btc' }, admin, 400, 'VALIDATION_ERROR', null],
      [{ ...ETH_BTC, symbol: 'E-B', tick_size: 0.01 }, admin, 400, 'VALIDATION_ERROR', null],
      [{ ...ETH_BTC, symbol: 'E-B' }, t1, 403, 'FORBIDDEN', null],
      [{ ...ETH_BTC, symbol: 'E-B' }, null, 401, 'UNAUTHORIZED', null],
    ];
    for (const [body, key, status, code, field] of cases) {
      const r = await http(venue, 'POST', '/api/v1/instruments', key, body);
      const what = `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`;
      assert.equal(r.status, status, what);
      assert.equal(codeOf(r), code, what);
      if (field !== null) assert.equal(fieldOf(r), field, what);
    }
    const afterwards = await http(venue, 'GET', '/api/v1/instruments', null);
    assert.deepEqual(afterwards.body, before.body);
  });

  it('changes an instrument’s steps and fees, never its assets or units', async () => {
    const changed = await http(venue, 'PATCH', '/api/v1/instruments/ETH-BTC', admin, {
      tick_size: '0.0001',
      taker_fee: '0.001',
      maker_fee: '0',
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual(
      [changed.body.tick_size, changed.body.taker_fee, changed.body.maker_fee, changed.body.price_unit],
      ['0.0001', '0.001', '0', '0.00001'],
    );
    const offTick = await http(venue, 'POST', '/api/v1/orders', t1, {
      symbol: 'ETH-BTC',
      side: 'buy',
      order_type: 'limit',
      price: '0.04001',
      quantity: '1',
    });
    assert.equal(offTick.status, 400, 'the new tick size holds at once');
    assert.equal(codeOf(offTick), 'VALIDATION_ERROR');
    const cases: [string, Json, number, string][] = [
      ['ETH-BTC', { base: 'BTC' }, 409, 'INSTRUMENT_FIELD_FIXED'],
      ['ETH-BTC', { price_unit: '0.0001' }, 409, 'INSTRUMENT_FIELD_FIXED'],
      ['ETH-BTC', { tick_size: '0.000015' }, 400, 'INVALID_INSTRUMENT'],
      ['ETH-BTC', { maker_fee: '-0.002' }, 400, 'INVALID_INSTRUMENT'],
      ['ETH-BTC', {}, 400, 'VALIDATION_ERROR'],
      ['ETH-BTC', { symbol: 'X-Y' }, 400, 'VALIDATION_ERROR'],
      ['NOPE-BTC', { taker_fee: '0.001' }, 400, 'INVALID_SYMBOL'],
    ];
    for (const [symbol, body, status, code] of cases) {
      const r = await http(venue, 'PATCH', `/api/v1/instruments/${symbol}`, admin, body);
      const what = `${symbol} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`;
      assert.equal(r.status, status, what);
      assert.equal(codeOf(r), code, what);
    }
    const same = await http(venue, 'PATCH', '/api/v1/instruments/ETH-BTC', admin, { base: 'ETH' });
    assert.equal(same.status, 200, 'a fixed field given as it is changes nothing');
    assert.deepEqual(same.body, changed.body);
    const risk = await createKey(venue.store, { role: 'risk', accountIds: [] });
    const byRisk = await http(venue, 'PATCH', '/api/v1/instruments/ETH-BTC', risk.token, {
      taker_fee: '0.002',
    });
    assert.equal(byRisk.status, 403, 'changing instruments is for admins');
  });

  it('halts and resumes the new instrument', async () => {
    const halted = await http(venue, 'POST', '/api/v1/admin/instruments/ETH-BTC/halt', admin);
    assert.equal(halted.status, 200, JSON.stringify(halted.body));
    const refused = await http(venue, 'POST', '/api/v1/orders', t1, {
      symbol: 'ETH-BTC',
      side: 'buy',
      order_type: 'limit',
      price: '0.04',
      quantity: '1',
    });
    assert.equal(codeOf(refused), 'TRADING_HALTED', JSON.stringify(refused.body));
    const states = await http(venue, 'GET', '/api/v1/admin/instruments', admin);
    const state = (states.body.instruments as Json[]).find((i) => i.symbol === 'ETH-BTC');
    assert.deepEqual(state, { symbol: 'ETH-BTC', base: 'ETH', quote: 'BTC', status: 'halted' });
    const resumed = await http(venue, 'POST', '/api/v1/admin/instruments/ETH-BTC/resume', admin);
    assert.equal(resumed.status, 200);
    const placed = await http(venue, 'POST', '/api/v1/orders', t1, {
      symbol: 'ETH-BTC',
      side: 'buy',
      order_type: 'limit',
      price: '0.04',
      quantity: '1',
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    // Halted again for the restart below, which must keep the status.
    assert.equal((await http(venue, 'POST', '/api/v1/admin/instruments/ETH-BTC/halt', admin)).status, 200);
  });

  it('keeps the instrument, its changes, its status and its open orders after a restart', async () => {
    const instrumentsBefore = await http(venue, 'GET', '/api/v1/instruments', null);
    const openBefore = await http(venue, 'GET', '/api/v1/orders?status=open', t2);
    await venue.close();
    venue = await openVenue(config);
    assert.equal(venue.setupSubmitted, 0, 'the configuration’s setup is in the journal already');
    const instrumentsAfter = await http(venue, 'GET', '/api/v1/instruments', null);
    assert.deepEqual(instrumentsAfter.body, instrumentsBefore.body);
    const openAfter = await http(venue, 'GET', '/api/v1/orders?status=open', t2);
    assert.deepEqual(openAfter.body, openBefore.body);
    assert.ok((openAfter.body.orders as Json[]).some((o) => o.order_id === restingSellId));
    const states = await http(venue, 'GET', '/api/v1/admin/instruments', admin);
    const state = (states.body.instruments as Json[]).find((i) => i.symbol === 'ETH-BTC');
    assert.equal(state?.status, 'halted');
    assert.equal((await http(venue, 'POST', '/api/v1/admin/instruments/ETH-BTC/resume', admin)).status, 200);
    // Tradable after the restart, at the changed taker fee: 0.1% of 1 ETH at 0.05 BTC is 5,000 satoshis.
    const buy = await http(venue, 'POST', '/api/v1/orders', t1, {
      symbol: 'ETH-BTC',
      side: 'buy',
      order_type: 'limit',
      price: '0.05',
      quantity: '1',
    });
    assert.equal(buy.status, 201, JSON.stringify(buy.body));
    assert.deepEqual([buy.body.status, buy.body.fee], ['filled', '0.00005000']);
    const next = await http(venue, 'POST', '/api/v1/instruments', admin, {
      ...ETH_BTC,
      symbol: 'BTC-ETH',
      base: 'BTC',
      quote: 'ETH',
    });
    assert.equal(next.status, 201, JSON.stringify(next.body));
    assert.equal(next.body.id, 4, 'ids keep counting after a restart');
  });
});
