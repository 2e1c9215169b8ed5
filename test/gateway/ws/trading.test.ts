/**
 * Order entry and private channels over /ws, end to end: place and cancel acknowledged with the request's
 * id, the same error codes as REST for the same request, idempotent client order ids, the per-account order
 * rate limit, authentication by header or `auth` message, and privacy: a trader's `orders` and `fills` carry
 * only its own accounts' orders and fills.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createKey, type Venue } from '../../../src/gateway/index.js';
import { call, openVenue, order, tempDir, testConfig, traders } from '../helpers.js';
import { Refused, WsClient, wsUrl, type Json } from './client.js';

const place = (id: string, fields: Json): Json => ({
  op: 'place',
  id,
  symbol: 'BTC-USDT',
  order_type: 'limit',
  ...fields,
});
const codeOf = (a: Json): string => (a.error as { code: string }).code;

describe('WebSocket order entry and private channels', { timeout: 120_000 }, () => {
  const dir = tempDir();
  const config = testConfig(dir);
  let venue: Venue;
  let t1: string;
  let t2: string;
  let c1: WsClient;
  let c2: WsClient;

  before(async () => {
    venue = await openVenue(config);
    ({ t1, t2 } = await traders(venue, venue.adminKey as string));
    c1 = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 }, true);
    c2 = await WsClient.open(wsUrl(venue.url, '/ws'), { authorization: `Bearer ${t2}` }, true);
    for (const c of [c1, c2]) {
      for (const channel of ['orders', 'fills']) {
        const ok = await c.request({ op: 'subscribe', id: channel, channel });
        assert.equal(ok.type, 'subscribed', JSON.stringify(ok));
      }
    }
  });
  after(async () => {
    await venue.close();
  });

  it('acknowledges a place and a cancel with the request id, and shows each trader only its own orders and fills', async () => {
    const sell = await c2.request(place('s1', { side: 'sell', price: '100.00', quantity: '0.5' }));
    assert.equal(sell.type, 'ack', JSON.stringify(sell));
    assert.equal(sell.op, 'place');
    assert.equal(sell.created, true);
    const sellOrder = sell.order as Json;
    assert.deepEqual([sellOrder.status, sellOrder.account_id, sellOrder.price], ['pending', 2, '100.00']);
    const buy = await c1.request(place('b1', { side: 'buy', price: '100.00', quantity: '0.2' }));
    assert.equal(buy.type, 'ack', JSON.stringify(buy));
    const buyOrder = buy.order as Json;
    assert.equal(buyOrder.status, 'filled');
    const rest = await call(venue, 'GET', `/api/v1/orders/${String(buyOrder.order_id)}`, t1);
    assert.deepEqual(rest.body, buyOrder, 'the ack shows the order as REST does');
    const cancel = await c2.request({ op: 'cancel', id: 'x1', order_id: sellOrder.order_id });
    assert.equal(cancel.type, 'ack', JSON.stringify(cancel));
    assert.equal((cancel.order as Json).status, 'cancelled');
    await c1.sync('privacy');
    await c2.sync('privacy');
    // An acknowledgement's text is written piece by piece: it is what JSON.stringify writes of it, keys in order.
    const acks = [...c1.texts, ...c2.texts].filter((t) => t.startsWith('{"type":"ack"'));
    assert.equal(acks.length, 3);
    for (const t of acks) {
      const m = JSON.parse(t) as Json;
      assert.equal(t, JSON.stringify(m));
      const keys =
        m.op === 'place' ? ['type', 'id', 'op', 'created', 'order'] : ['type', 'id', 'op', 'order'];
      assert.deepEqual(Object.keys(m), keys);
    }
    const ordersOf = (c: WsClient) => c.all.filter((m) => m.type === 'orders');
    const fillsOf = (c: WsClient) => c.all.filter((m) => m.type === 'fills');
    for (const [c, account] of [
      [c1, 1],
      [c2, 2],
    ] as const) {
      for (const m of [...ordersOf(c), ...fillsOf(c)]) {
        assert.equal(m.account_id, account);
        for (const item of [
          ...((m.orders as Json[] | undefined) ?? []),
          ...((m.fills as Json[] | undefined) ?? []),
        ]) {
          assert.equal(
            item.account_id,
            account,
            `account ${account} sees only its own: ${JSON.stringify(item)}`,
          );
        }
      }
    }
    const mine = ordersOf(c2).flatMap((m) => m.orders as Json[]);
    assert.deepEqual(
      mine.map((o) => o.status),
      ['pending', 'partially_filled', 'cancelled'],
      "the seller's order as it changed",
    );
    const f1 = fillsOf(c1).flatMap((m) => m.fills as Json[]);
    const f2 = fillsOf(c2).flatMap((m) => m.fills as Json[]);
    assert.equal(f1.length, 1);
    assert.equal(f2.length, 1);
    assert.deepEqual(
      [f1[0].liquidity, f1[0].side, f1[0].order_id, f1[0].price, f1[0].quantity],
      ['taker', 'buy', buyOrder.order_id, '100.00', '0.2000'],
    );
    assert.deepEqual([f2[0].liquidity, f2[0].side, f2[0].order_id], ['maker', 'sell', sellOrder.order_id]);
    assert.equal(f1[0].trade_id, f2[0].trade_id);
    // Sequence numbers per account channel run 1, 2, 3 ... from the subscription's.
    const seqs = ordersOf(c2).map((m) => m.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, k) => k + 1),
    );
  });

  it('answers a retried client_order_id with the same order, created false', async () => {
    const fields = { side: 'buy', price: '90.00', quantity: '0.1', client_order_id: 'ws-retry-1' };
    const first = await c1.request(place('r1', fields));
    const second = await c1.request(place('r2', fields));
    assert.equal(first.created, true);
    assert.equal(second.type, 'ack');
    assert.equal(second.created, false);
    assert.deepEqual(second.order, first.order);
    const viaRest = await call(venue, 'POST', '/api/v1/orders', t1, order(fields));
    assert.equal(viaRest.status, 200, 'REST finds the same client order id');
    assert.equal(viaRest.body.order_id, (first.order as Json).order_id);
  });

  it('refuses bad requests with the same codes as REST', async () => {
    const cases: Json[] = [
      { side: 'buy', price: '100.001', quantity: '0.1' },
      { side: 'buy', price: '100', quantity: '0.00001' },
      { side: 'buy', quantity: '0.1' },
      { side: 'buy', price: '100', quantity: '0.1', symbol: 'NOPE-USDT' },
      { side: 'buy', price: '100', quantity: '0.1', account_id: 2 },
      { side: 'buy', price: '99999.99', quantity: '99', account_id: 1 },
      { side: 'sell', price: '100', quantity: '0.1', order_type: 'market' },
      { side: 'buy', price: '100', quantity: '0.1', extra: true },
      { side: 'buy', price: 100, quantity: '0.1' },
      { side: 'buy', price: '200', quantity: '5000' },
    ];
    for (const [k, fields] of cases.entries()) {
      const viaRest = await call(venue, 'POST', '/api/v1/orders', t1, order(fields));
      const viaWs = await c1.request(place(`e${k}`, fields));
      assert.equal(viaWs.type, 'error', JSON.stringify(viaWs));
      assert.equal(viaWs.id, `e${k}`);
      assert.ok(viaRest.status >= 400, JSON.stringify(viaRest.body));
      assert.equal(codeOf(viaWs), (viaRest.body.error as { code: string }).code, JSON.stringify(fields));
    }
    const other = await c2.request(place('o1', { side: 'sell', price: '150.00', quantity: '0.1' }));
    const foreign = await c1.request({ op: 'cancel', id: 'f1', order_id: (other.order as Json).order_id });
    assert.equal(codeOf(foreign), 'ORDER_NOT_FOUND', 'another trader\'s order is "not found"');
    await c2.request({ op: 'cancel', id: 'f2', order_id: (other.order as Json).order_id });
    const twice = await c2.request({ op: 'cancel', id: 'f3', order_id: (other.order as Json).order_id });
    assert.equal(codeOf(twice), 'ORDER_CANNOT_BE_CANCELLED');
  });

  it('authenticates by auth message, refuses orders before it, and closes after repeated failures', async () => {
    const anon = await WsClient.open(wsUrl(venue.url, '/ws'));
    const early = await anon.request(place('a1', { side: 'buy', price: '50', quantity: '0.1' }));
    assert.equal(codeOf(early), 'UNAUTHORIZED');
    const privateEarly = await anon.request({ op: 'subscribe', id: 'a2', channel: 'orders' });
    assert.equal(codeOf(privateEarly), 'UNAUTHORIZED');
    const wrong = await anon.request({ op: 'auth', id: 'a3', token: 'rk_nope' });
    assert.equal(codeOf(wrong), 'UNAUTHORIZED');
    const ok = await anon.request({ op: 'auth', id: 'a4', token: t1 });
    assert.deepEqual([ok.type, ok.role, ok.account_ids], ['authenticated', 'trader', [1]]);
    const again = await anon.request({ op: 'auth', id: 'a5', token: t1 });
    assert.equal(codeOf(again), 'ALREADY_AUTHENTICATED');
    const placed = await anon.request(place('a6', { side: 'buy', price: '50', quantity: '0.1' }));
    assert.equal(placed.type, 'ack');
    const viewer = await createKey(venue.store, { role: 'viewer', accountIds: [] });
    const v = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': viewer.token });
    assert.equal(codeOf(await v.request({ op: 'subscribe', id: 'v1', channel: 'fills' })), 'FORBIDDEN');
    const viewerPlace = place('v2', { side: 'buy', price: '50', quantity: '0.1', account_id: 1 });
    assert.equal(codeOf(await v.request(viewerPlace)), 'FORBIDDEN');
    const risk = await createKey(venue.store, { role: 'risk', accountIds: [] });
    const r = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': risk.token });
    const riskPlace = await r.request(
      place('r1', { side: 'buy', price: '50', quantity: '0.1', account_id: 1 }),
    );
    assert.equal(codeOf(riskPlace), 'FORBIDDEN', 'risk may not place, as over REST');
    const riskCancel = await r.request({ op: 'cancel', id: 'r2', order_id: (placed.order as Json).order_id });
    assert.equal(riskCancel.type, 'ack', 'risk may cancel, as over REST');
    await r.close();
    const bad = await WsClient.open(wsUrl(venue.url, '/ws'));
    for (let k = 0; k < 3; k++) await bad.request({ op: 'auth', id: k, token: `rk_wrong${k}` });
    assert.equal((await bad.closed).code, 4001);
    await assert.rejects(
      WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': 'rk_not_a_key' }),
      (e: unknown) => e instanceof Refused && e.status === 401 && e.code === 'UNAUTHORIZED',
    );
    await anon.close();
    await v.close();
  });
});

describe('WebSocket order entry under the per-account order rate limit', { timeout: 120_000 }, () => {
  let venue: Venue;
  let t1: string;

  before(async () => {
    venue = await openVenue(testConfig(tempDir(), { MAX_ORDERS_PER_SECOND: '5' }));
    ({ t1 } = await traders(venue, venue.adminKey as string));
  });
  after(async () => {
    await venue.close();
  });

  it('refuses orders past the budget with RATE_LIMITED, as REST does', async () => {
    const c = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 });
    const ids = Array.from({ length: 12 }, (_, k) => `q${k}`);
    for (const id of ids) c.send(place(id, { side: 'buy', price: '10', quantity: '0.01' }));
    const answers = await Promise.all(ids.map((id) => c.answer(id)));
    const acked = answers.filter((a) => a.type === 'ack').length;
    const limited = answers.filter((a) => a.type === 'error' && codeOf(a) === 'RATE_LIMITED');
    assert.ok(acked >= 5 && acked < 12, `the budget of 5 a second admits some, not all (${acked})`);
    assert.equal(acked + limited.length, 12);
    assert.ok(((limited[0].error as Json).details as Json).retryAfterMs !== undefined);
    await c.close();
  });
});
