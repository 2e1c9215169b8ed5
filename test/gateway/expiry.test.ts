/**
 * GTD orders expire when they are due, with no other order on their instrument: the engine advances the
 * core's clock at the next expiry (an `advanceTime` command), so the order ends as `expired`, leaves the book
 * and gives back its hold, and its owner's `orders` channel says so. An order that came due while the venue
 * was down expires as soon as it is up again. The orders below expire about a second after they are placed.
 * Every order shows when it expires (`expire_time`). Likewise an account past its emergency loss threshold is
 * stopped when others' trades move its marks, without it trading: the engine advances time for the emergency
 * checks while such an account exists and commands run.
 */
import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Venue } from '../../src/gateway/index.js';
import type { VenueConfig } from '../../src/ops/index.js';
import { call, openVenue, order, tempDir, testConfig, traders, type Answer } from './helpers.js';
import { WsClient, wsUrl, type Json } from './ws/client.js';

const inOneSecond = (): string => new Date(Date.now() + 1_000).toISOString();
const inOneHour = (): string => new Date(Date.now() + 3_600_000).toISOString();

/** Asks for the order until `done` holds of it, at most `seconds` (the expiry comes in about one). */
async function pollOrder(
  venue: Venue,
  key: string,
  id: unknown,
  done: (a: Answer) => boolean,
  seconds = 15,
): Promise<Answer> {
  let last = await call(venue, 'GET', `/api/v1/orders/${String(id)}`, key);
  for (let i = 0; i < seconds * 10 && !done(last); i++) {
    await sleep(100);
    last = await call(venue, 'GET', `/api/v1/orders/${String(id)}`, key);
  }
  return last;
}

/** A resting GTD buy of account 1 that expires in about a second. */
async function placeExpiringSoon(venue: Venue, key: string): Promise<Answer> {
  const placed = await call(
    venue,
    'POST',
    '/api/v1/orders',
    key,
    order({ side: 'buy', price: '100.00', quantity: '1', time_in_force: 'gtd', expire_time: inOneSecond() }),
  );
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  return placed;
}

const heldUsdt = async (venue: Venue, key: string): Promise<unknown> => {
  const b = await call(venue, 'GET', '/api/v1/accounts/1/balances', key);
  const rows = b.body.balances as { asset: string; held: string }[];
  return rows.find((r) => r.asset === 'USDT')?.held;
};

describe('GTD orders expire when due', { timeout: 120_000 }, () => {
  let config: VenueConfig;
  let venue: Venue;
  let t1: string;

  before(async () => {
    config = testConfig(tempDir());
    venue = await openVenue(config);
    ({ t1 } = await traders(venue, venue.adminKey as string));
  });
  after(async () => {
    await venue.close();
  });

  it('shows when a DAY or GTD order expires, and null for the other times in force', async () => {
    const at = inOneHour();
    const gtd = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', price: '90.00', quantity: '1', time_in_force: 'gtd', expire_time: at }),
    );
    assert.equal(gtd.status, 201, JSON.stringify(gtd.body));
    assert.equal(gtd.body.expire_time, at);
    const day = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', price: '90.00', quantity: '1', time_in_force: 'day' }),
    );
    const midnight = new Date(Date.parse(String(day.body.created_at)));
    midnight.setUTCHours(24, 0, 0, 0);
    assert.equal(day.body.expire_time, midnight.toISOString(), 'a day order ends at the next midnight UTC');
    const gtc = await call(
      venue,
      'POST',
      '/api/v1/orders',
      t1,
      order({ side: 'buy', price: '90.00', quantity: '1' }),
    );
    assert.equal(gtc.body.expire_time, null);
    // The same over WebSocket, and once the order has ended (the views keep ended orders in columns).
    const ws = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 });
    const acked = await ws.request({
      op: 'place',
      id: 'g',
      symbol: 'BTC-USDT',
      side: 'buy',
      order_type: 'limit',
      price: '90.00',
      quantity: '1',
      time_in_force: 'gtd',
      expire_time: at,
    });
    assert.equal((acked.order as Json).expire_time, at, JSON.stringify(acked));
    await ws.close();
    const cancelled = await call(venue, 'DELETE', `/api/v1/orders/${String(gtd.body.order_id)}`, t1);
    assert.equal(cancelled.body.expire_time, at);
    const read = await call(venue, 'GET', `/api/v1/orders/${String(gtd.body.order_id)}`, t1);
    assert.deepEqual(read.body, cancelled.body);
    for (const o of [day, gtc, { body: acked.order as Json }]) {
      const c = await call(venue, 'DELETE', `/api/v1/orders/${String(o.body.order_id)}`, t1);
      assert.equal(c.status, 200, JSON.stringify(c.body));
    }
  });

  it('ends a resting GTD order as expired, off the book and its hold released, with nothing else trading', async () => {
    const ws = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 });
    assert.equal((await ws.request({ op: 'subscribe', id: 's', channel: 'orders' })).type, 'subscribed');
    const placed = await placeExpiringSoon(venue, t1);
    assert.equal(placed.body.status, 'pending');
    const id = placed.body.order_id;
    assert.notEqual(await heldUsdt(venue, t1), '0.000000', 'the buy holds quote while it rests');

    const ended = await pollOrder(venue, t1, id, (a) => a.body.status !== 'pending');
    assert.equal(ended.body.status, 'expired', JSON.stringify(ended.body));
    assert.equal(ended.body.remaining_quantity, '0.0000');
    const book = await call(venue, 'GET', '/api/v1/orderbook/BTC-USDT?depth=5', null);
    assert.deepEqual(book.body.bids, [], 'the expired order left the book');
    assert.equal(await heldUsdt(venue, t1), '0.000000', 'its hold is released');
    const pushed = await ws.next(
      (m: Json) =>
        m.type === 'orders' && (m.orders as Json[]).some((o) => o.order_id === id && o.status === 'expired'),
    );
    assert.equal(pushed.account_id, 1);
    await ws.close();
  });

  it('expires an order that came due while the venue was down as soon as it is up', async () => {
    const placed = await placeExpiringSoon(venue, t1);
    await venue.close();
    await sleep(1_200);
    venue = await openVenue(config);
    const ended = await pollOrder(venue, t1, placed.body.order_id, (a) => a.body.status !== 'pending');
    assert.equal(ended.body.status, 'expired', JSON.stringify(ended.body));
    assert.equal(await heldUsdt(venue, t1), '0.000000');
  });
});

describe('emergency stops without the account trading', { timeout: 120_000 }, () => {
  let venue: Venue;
  let admin: string;

  before(async () => {
    venue = await openVenue(testConfig(tempDir()));
    admin = venue.adminKey as string;
    await traders(venue, admin);
    const three = await call(venue, 'POST', '/api/v1/admin/accounts', admin, { account_id: 3 });
    assert.equal(three.status, 201, JSON.stringify(three.body));
    const funded = await call(venue, 'POST', '/api/v1/admin/accounts/3/deposits', admin, {
      asset: 'USDT',
      amount: '1000000',
    });
    assert.equal(funded.status, 201, JSON.stringify(funded.body));
  });
  after(async () => {
    await venue.close();
  });

  it('stops an account whose marked loss passed its emergency threshold when others trade the price down', async () => {
    const limits = await call(venue, 'PATCH', '/api/v1/admin/accounts/1/risk-limits', admin, {
      emergency_loss_max_minor: 1_000_000_000, // 1,000 USDT
    });
    assert.equal(limits.status, 200, JSON.stringify(limits.body));
    const as = (account: number, fields: Record<string, unknown>) =>
      call(venue, 'POST', '/api/v1/orders', admin, order({ account_id: account, ...fields }));
    // Account 1 buys 1 BTC at 60,000, and leaves a buy resting far below.
    assert.equal((await as(2, { side: 'sell', price: '60000.00', quantity: '1' })).status, 201);
    const bought = await as(1, { side: 'buy', price: '60000.00', quantity: '1' });
    assert.equal(bought.body.status, 'filled', JSON.stringify(bought.body));
    const resting = await as(1, { side: 'buy', price: '30000.00', quantity: '0.1' });
    assert.equal(resting.body.status, 'pending', JSON.stringify(resting.body));
    // Accounts 2 and 3 trade at 40,000: account 1's position is marked 20,000 USDT down, and it does nothing.
    assert.equal((await as(2, { side: 'sell', price: '40000.00', quantity: '0.01' })).status, 201);
    const marked = await as(3, { side: 'buy', price: '40000.00', quantity: '0.01' });
    assert.equal(marked.body.status, 'filled', JSON.stringify(marked.body));

    let account = await call(venue, 'GET', '/api/v1/accounts/1', admin);
    for (let i = 0; i < 150 && account.body.kill_switch !== true; i++) {
      await sleep(100);
      account = await call(venue, 'GET', '/api/v1/accounts/1', admin);
    }
    assert.equal(account.body.kill_switch, true, JSON.stringify(account.body));
    const cancelled = await call(venue, 'GET', `/api/v1/orders/${String(resting.body.order_id)}`, admin);
    assert.equal(cancelled.body.status, 'cancelled', JSON.stringify(cancelled.body));
    const refused = await as(1, { side: 'sell', price: '40000.00', quantity: '0.1' });
    assert.equal(
      (refused.body.error as { code: string }).code,
      'KILL_SWITCH_ACTIVE',
      JSON.stringify(refused.body),
    );
  });
});
