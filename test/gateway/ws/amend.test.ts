/**
 * Amend and mass cancel over /ws, end to end: acknowledged with the request's id, the order as REST shows
 * it, the same rights and error codes as PATCH /api/v1/orders/{id} and DELETE /api/v1/orders, and an amend
 * takes one unit of the order's account's order budget, as over REST.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createKey, type Venue } from '../../../src/gateway/index.js';
import { call, openVenue, tempDir, testConfig, traders } from '../helpers.js';
import { WsClient, wsUrl, type Json } from './client.js';

const place = (id: string, fields: Json): Json => ({
  op: 'place',
  id,
  symbol: 'BTC-USDT',
  order_type: 'limit',
  ...fields,
});
const codeOf = (a: Json): string => (a.error as { code: string }).code;

describe('WebSocket amend and mass cancel', { timeout: 120_000 }, () => {
  let venue: Venue;
  let t1: string;
  let t2: string;
  let c1: WsClient;
  let c2: WsClient;

  before(async () => {
    venue = await openVenue(testConfig(tempDir()));
    ({ t1, t2 } = await traders(venue, venue.adminKey as string));
    c1 = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 });
    c2 = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t2 });
  });
  after(async () => {
    await c1.close();
    await c2.close();
    await venue.close();
  });

  it('amends an order, acknowledged with the request id and the order as REST shows it', async () => {
    const placed = await c1.request(place('p1', { side: 'buy', price: '100.00', quantity: '0.5' }));
    assert.equal(placed.type, 'ack', JSON.stringify(placed));
    const orderId = (placed.order as Json).order_id as string;
    const amended = await c1.request({
      op: 'amend',
      id: 'a1',
      order_id: orderId,
      price: '101.50',
      quantity: '0.3',
    });
    assert.equal(amended.type, 'ack', JSON.stringify(amended));
    assert.equal(amended.op, 'amend');
    const order = amended.order as Json;
    assert.deepEqual(
      [order.order_id, order.price, order.quantity, order.status],
      [orderId, '101.50', '0.3000', 'pending'],
    );
    const rest = await call(venue, 'GET', `/api/v1/orders/${orderId}`, t1);
    assert.deepEqual(rest.body, order);
    const book = await call(venue, 'GET', '/api/v1/orderbook/BTC-USDT', null);
    assert.deepEqual(book.body.bids, [['101.50', '0.3000']]);
    // An integer order id is taken as well as a string one.
    const byNumber = await c1.request({ op: 'amend', id: 7, order_id: Number(orderId), quantity: '0.2' });
    assert.equal(byNumber.type, 'ack', JSON.stringify(byNumber));
    assert.equal((byNumber.order as Json).quantity, '0.2000');
  });

  it('refuses amends as REST does: others’ orders, ended orders, bad fields, roles', async () => {
    const mine = await c1.request(place('p2', { side: 'buy', price: '90.00', quantity: '0.1' }));
    const mineId = (mine.order as Json).order_id as string;
    const cases: [WsClient, Json, string][] = [
      [c2, { order_id: mineId, price: '91.00' }, 'ORDER_NOT_FOUND'],
      [c1, { order_id: mineId }, 'VALIDATION_ERROR'],
      [c1, { order_id: mineId, price: '91.001' }, 'VALIDATION_ERROR'],
      [c1, { order_id: mineId, price: 91 }, 'VALIDATION_ERROR'],
      [c1, { order_id: mineId, price: '91.00', colour: 'red' }, 'VALIDATION_ERROR'],
      [c1, { order_id: '0', price: '91.00' }, 'VALIDATION_ERROR'],
      [c1, { order_id: '999999', price: '91.00' }, 'ORDER_NOT_FOUND'],
    ];
    let k = 0;
    for (const [c, fields, code] of cases) {
      const a = await c.request({ op: 'amend', id: `r${k++}`, ...fields });
      assert.equal(a.type, 'error', JSON.stringify(a));
      assert.equal(codeOf(a), code, `${JSON.stringify(fields)}: ${JSON.stringify(a)}`);
      const rest = await call(
        venue,
        'PATCH',
        `/api/v1/orders/${String(fields.order_id)}`,
        c === c1 ? t1 : t2,
        {
          ...fields,
          order_id: undefined,
        },
      );
      if (typeof fields.order_id === 'string' && /^[1-9]/.test(fields.order_id)) {
        assert.equal((rest.body.error as Json).code, code, `REST agrees for ${JSON.stringify(fields)}`);
      }
    }
    const cancelled = await c1.request({ op: 'cancel', id: 'x', order_id: mineId });
    assert.equal(cancelled.type, 'ack');
    const ended = await c1.request({ op: 'amend', id: 'ended', order_id: mineId, price: '91.00' });
    assert.equal(codeOf(ended), 'ORDER_CANNOT_BE_AMENDED');
    const risk = await createKey(venue.store, { role: 'risk', accountIds: [] });
    const cr = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': risk.token });
    const byRisk = await cr.request({ op: 'amend', id: 'risk', order_id: mineId, price: '91.00' });
    assert.equal(codeOf(byRisk), 'FORBIDDEN', 'amending is for traders and admins, as PATCH /orders/{id}');
    await cr.close();
    const anonymous = await WsClient.open(wsUrl(venue.url, '/ws'));
    const noKey = await anonymous.request({ op: 'amend', id: 'anon', order_id: mineId, price: '91.00' });
    assert.equal(codeOf(noKey), 'UNAUTHORIZED');
    const noMass = await anonymous.request({ op: 'mass_cancel', id: 'anon2' });
    assert.equal(codeOf(noMass), 'UNAUTHORIZED');
    await anonymous.close();
  });

  it('mass cancels by side and symbol, answering how many, within the caller’s accounts only', async () => {
    await c1.request({ op: 'mass_cancel', id: 'clean' });
    for (const [id, side, price] of [
      ['m1', 'buy', '80.00'],
      ['m2', 'buy', '81.00'],
      ['m3', 'sell', '200.00'],
    ] as const) {
      const a = await c1.request(place(id, { side, price, quantity: '0.1' }));
      assert.equal(a.type, 'ack', JSON.stringify(a));
    }
    const other = await c2.request(place('o1', { side: 'buy', price: '79.00', quantity: '0.1' }));
    const otherId = (other.order as Json).order_id as string;
    const buys = await c1.request({ op: 'mass_cancel', id: 'mc1', symbol: 'BTC-USDT', side: 'buy' });
    assert.deepEqual([buys.type, buys.op, buys.cancelled], ['ack', 'mass_cancel', 2], JSON.stringify(buys));
    const forbidden = await c1.request({ op: 'mass_cancel', id: 'mc2', account_id: 2 });
    assert.equal(codeOf(forbidden), 'FORBIDDEN');
    const unknown = await c1.request({ op: 'mass_cancel', id: 'mc3', symbol: 'NOPE-USDT' });
    assert.equal(codeOf(unknown), 'INVALID_SYMBOL');
    const badSide = await c1.request({ op: 'mass_cancel', id: 'mc4', side: 'both' });
    assert.equal(codeOf(badSide), 'VALIDATION_ERROR');
    const rest = await c1.request({ op: 'mass_cancel', id: 'mc5' });
    assert.equal(rest.cancelled, 1, 'the sell was left');
    const open = await call(venue, 'GET', '/api/v1/orders?status=open', t1);
    assert.deepEqual(open.body.orders, []);
    const stillThere = await call(venue, 'GET', `/api/v1/orders/${otherId}`, t2);
    assert.equal(stillThere.body.status, 'pending', 'another account’s order is untouched');
  });
});

describe('WebSocket amend under the per-account order rate limit', { timeout: 120_000 }, () => {
  let venue: Venue;
  let t1: string;

  before(async () => {
    venue = await openVenue(testConfig(tempDir(), { MAX_ORDERS_PER_SECOND: '5' }));
    ({ t1 } = await traders(venue, venue.adminKey as string));
  });
  after(async () => {
    await venue.close();
  });

  it('takes one unit of the order budget per amend, as PATCH /orders/{id} does', async () => {
    const c = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 });
    const placed = await c.request(place('p', { side: 'buy', price: '10', quantity: '1' }));
    assert.equal(placed.type, 'ack', JSON.stringify(placed));
    const orderId = (placed.order as Json).order_id as string;
    const ids = Array.from({ length: 12 }, (_, k) => `a${k}`);
    // Each amend asks for a smaller quantity, so every one that is admitted is a real change.
    ids.forEach((id, k) =>
      c.send({ op: 'amend', id, order_id: orderId, quantity: (1 - (k + 1) * 0.05).toFixed(2) }),
    );
    const answers = await Promise.all(ids.map((id) => c.answer(id)));
    const acked = answers.filter((a) => a.type === 'ack').length;
    const limited = answers.filter((a) => a.type === 'error' && codeOf(a) === 'RATE_LIMITED').length;
    assert.ok(acked >= 1 && acked < 12, `the budget of 5 a second admits some amends, not all (${acked})`);
    assert.equal(acked + limited, 12, JSON.stringify(answers.filter((a) => a.type === 'error')));
    const mass = await c.request({ op: 'mass_cancel', id: 'm' });
    assert.equal(mass.type, 'ack', 'a mass cancel takes no order budget, as over REST');
    await c.close();
  });
});
