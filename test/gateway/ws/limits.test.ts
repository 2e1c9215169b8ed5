/**
 * The WebSocket gateway's limits and life cycle, on real sockets: connections per IP (429 on the upgrade,
 * room again once one closes), a slow consumer closed with 4008 while the server's send buffer for it stays
 * under its bound, refusals before the upgrade (unknown path, unknown symbol, market data behind a key), the
 * metrics, closing the venue closing its clients with 1001, and the per-IP budgets of clients behind a
 * trusted proxy.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { venueSetupCommands } from '../../../src/cli/venue.js';
import { startVenue, type Venue } from '../../../src/gateway/index.js';
import type { VenueConfig } from '../../../src/ops/index.js';
import { openVenue, tempDir, testConfig, traders } from '../helpers.js';
import { Refused, WsClient, until, wsUrl, type Json } from './client.js';

const refusedWith = (status: number, code: string) => (e: unknown) =>
  e instanceof Refused && e.status === status && e.code === code;

async function metricsText(venue: Venue): Promise<string> {
  const r = await venue.server.inject({ method: 'GET', url: '/metrics' });
  return r.body;
}

describe('WebSocket connections per IP', { timeout: 120_000 }, () => {
  let venue: Venue;
  before(async () => {
    venue = await openVenue(testConfig(tempDir(), { RIALTO_WS_CONNECTIONS_PER_IP: '3' }));
  });
  after(async () => {
    await venue.close();
  });

  it('refuses the connection past the limit with 429 RATE_LIMITED, and admits one again after a close', async () => {
    const url = wsUrl(venue.url, '/ws');
    const open = [await WsClient.open(url), await WsClient.open(url), await WsClient.open(url)];
    await assert.rejects(WsClient.open(url), refusedWith(429, 'RATE_LIMITED'));
    assert.equal(venue.ws.stats().connections, 3);
    assert.match(await metricsText(venue), /^rialto_ws_clients 3$/m);
    await open[0].close();
    assert.ok(await until(() => venue.ws.stats().connections === 2), 'the server saw the close');
    const again = await WsClient.open(url);
    await again.sync('ok');
    for (const c of [again, open[1], open[2]]) await c.close();
  });
});

describe('WebSocket refusals before the upgrade, and market data behind a key', { timeout: 120_000 }, () => {
  let venue: Venue;
  let t1: string;
  before(async () => {
    venue = await openVenue(testConfig(tempDir(), { RIALTO_MARKET_DATA_PUBLIC: 'false' }));
    ({ t1 } = await traders(venue, venue.adminKey as string));
  });
  after(async () => {
    await venue.close();
  });

  it('answers an unknown path 404, an unknown symbol 400 and a missing key 401, in the error shape', async () => {
    await assert.rejects(WsClient.open(wsUrl(venue.url, '/ws/nothing')), refusedWith(404, 'NOT_FOUND'));
    await assert.rejects(
      WsClient.open(wsUrl(venue.url, '/ws/trades/DOGE-USDT'), { 'x-api-key': t1 }),
      refusedWith(400, 'INVALID_SYMBOL'),
    );
    await assert.rejects(
      WsClient.open(wsUrl(venue.url, '/ws/market-data/BTC-USDT?depth=0'), { 'x-api-key': t1 }),
      refusedWith(400, 'VALIDATION_ERROR'),
    );
    await assert.rejects(
      WsClient.open(wsUrl(venue.url, '/ws/market-data/BTC-USDT')),
      refusedWith(401, 'UNAUTHORIZED'),
    );
    const keyed = await WsClient.open(wsUrl(venue.url, '/ws/market-data/BTC-USDT'), { 'x-api-key': t1 });
    const first = await keyed.next();
    assert.deepEqual([first.type, first.bids, first.asks], ['orderbook_update', [], []]);
    await keyed.close();
  });

  it('lets /ws connect without a key, but shows market data only after auth', async () => {
    const c = await WsClient.open(wsUrl(venue.url, '/ws'));
    const early = await c.request({ op: 'subscribe', id: 1, channel: 'bbo:BTC-USDT' });
    assert.equal((early.error as Json).code, 'UNAUTHORIZED');
    assert.equal((await c.request({ op: 'auth', id: 2, token: t1 })).type, 'authenticated');
    const ok = await c.request({ op: 'subscribe', id: 3, channel: 'bbo:BTC-USDT' });
    assert.equal(ok.type, 'subscribed');
    const bbo = await c.next((m) => m.type === 'bbo');
    assert.equal(bbo.seq, ok.seq);
    await c.close();
  });
});

describe('WebSocket slow consumers and closing', { timeout: 180_000 }, () => {
  const sendBufferBytesMax = 64 * 1024;
  let config: VenueConfig;
  let venue: Venue;
  let t1: string;
  let t2: string;
  before(async () => {
    config = testConfig(tempDir());
    venue = await startVenue(config, {
      setup: venueSetupCommands(config, 0),
      wsLimits: { sendBufferBytesMax },
    });
    ({ t1, t2 } = await traders(venue, venue.adminKey as string));
  });
  after(async () => {
    await venue.close();
  });

  it('closes a client that does not read with 4008, holding at most its send buffer for it', async () => {
    // A deep book: 100 levels a side make each snapshot of book:BTC-USDT:100 about 5 KB.
    const maker = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 });
    const placed: Promise<Json>[] = [];
    for (let k = 0; k < 100; k++) {
      for (const [side, ticks] of [
        ['buy', 9_000 - k],
        ['sell', 11_000 + k],
      ] as const) {
        const id = `${side}${k}`;
        maker.send({
          op: 'place',
          id,
          symbol: 'BTC-USDT',
          side,
          order_type: 'limit',
          price: (ticks / 100).toFixed(2),
          quantity: '0.0100',
        });
        placed.push(maker.answer(id));
      }
    }
    for (const a of await Promise.all(placed)) assert.equal(a.type, 'ack', JSON.stringify(a));
    const healthy = await WsClient.open(wsUrl(venue.url, '/ws'));
    await healthy.request({ op: 'subscribe', id: 'h', channel: 'book:BTC-USDT:100' });

    const slow = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t2 });
    slow.ws.pause();
    // It keeps asking for snapshots but never reads: the answers pile up in the kernel, then in the server.
    let k = 0;
    while (venue.ws.stats().slowConsumersDropped === 0 && k < 20_000) {
      for (let burst = 0; burst < 50; burst++, k++) {
        slow.send({ op: 'subscribe', id: k, channel: 'book:BTC-USDT:100' });
        slow.send({ op: 'unsubscribe', id: `u${k}`, channel: 'book:BTC-USDT:100' });
      }
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(await until(() => venue.ws.stats().slowConsumersDropped === 1), 'dropped as a slow consumer');
    const peak = venue.ws.stats().sendBufferPeakBytes;
    assert.ok(peak > 0 && peak <= sendBufferBytesMax, `the server held at most the bound (${peak} bytes)`);
    slow.ws.resume();
    const closed = await slow.closed;
    assert.equal(closed.code, 4008);
    assert.match(await metricsText(venue), /^rialto_ws_slow_consumers_dropped_total 1$/m);
    // Everyone else is served as before.
    await healthy.sync('after');
    const fine = await maker.request({ op: 'ping', id: 'still' });
    assert.equal(fine.type, 'pong');
    await healthy.close();
    await maker.close();
  });

  it('counts messages in and out, WebSocket placements and their ack latency', async () => {
    const text = await metricsText(venue);
    const count = (direction: string): number =>
      Number(
        new RegExp(`^rialto_ws_messages_total\\{direction="${direction}"\\} (\\d+)$`, 'm').exec(text)?.[1],
      );
    assert.ok(count('in') > 200, `in ${count('in')}`);
    assert.ok(count('out') > 200, `out ${count('out')}`);
    const acks = /^rialto_order_ack_latency_seconds_count\{transport="ws"\} (\d+)$/m.exec(text)?.[1];
    assert.equal(acks, '200', 'each WebSocket place timed once');
    assert.match(text, /^rialto_orders_total\{type="limit",result="accepted"\} 200$/m);
  });

  it('closes its clients with 1001 when the venue closes, after answering requests in flight', async () => {
    const a = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 });
    const b = await WsClient.open(wsUrl(venue.url, '/ws/trades/BTC-USDT'));
    await a.sync('before');
    a.send({
      op: 'place',
      id: 'last',
      symbol: 'BTC-USDT',
      side: 'buy',
      order_type: 'limit',
      price: '80.00',
      quantity: '0.0100',
    });
    const answered = a.answer('last');
    // The request reaches the server before the close starts: a round trip on the same socket orders them.
    await a.sync('sent');
    const closing = venue.close();
    assert.equal((await answered).type, 'ack', 'the request in flight is answered');
    assert.equal((await a.closed).code, 1001);
    assert.equal((await b.closed).code, 1001);
    await closing;
  });
});

describe('per-IP budgets behind a trusted proxy (server.trustedProxies)', { timeout: 120_000 }, () => {
  const env = { RIALTO_WS_CONNECTIONS_PER_IP: '1', RIALTO_REQUESTS_PER_MINUTE_PER_IP: '3' };
  let trusting: Venue;
  let plain: Venue;
  before(async () => {
    trusting = await openVenue(testConfig(tempDir(), { ...env, RIALTO_TRUSTED_PROXIES: '127.0.0.1' }));
    plain = await openVenue(testConfig(tempDir(), env));
  });
  after(async () => {
    await trusting.close();
    await plain.close();
  });

  const remaining = async (venue: Venue, forwardedFor: string): Promise<string | null> =>
    (
      await fetch(`${venue.url}/api/v1/instruments`, { headers: { 'x-forwarded-for': forwardedFor } })
    ).headers.get('x-ratelimit-remaining');

  it('gives each client the proxy names its own request budget; without trust the header is ignored', async () => {
    assert.equal(await remaining(trusting, '198.51.100.1'), '2');
    assert.equal(await remaining(trusting, '198.51.100.1'), '1');
    assert.equal(
      await remaining(trusting, '203.0.113.5, 198.51.100.2'),
      '2',
      'the proxy appended the client',
    );
    assert.equal(await remaining(plain, '198.51.100.1'), '2');
    assert.equal(await remaining(plain, '198.51.100.2'), '1', 'one budget: the peer, 127.0.0.1');
  });

  it('counts WebSocket connections per client the proxy names, as REST does', async () => {
    const url = wsUrl(trusting.url, '/ws');
    const a = await WsClient.open(url, { 'x-forwarded-for': '198.51.100.7' });
    await assert.rejects(
      WsClient.open(url, { 'x-forwarded-for': '198.51.100.7' }),
      refusedWith(429, 'RATE_LIMITED'),
    );
    const b = await WsClient.open(url, { 'x-forwarded-for': '198.51.100.8' });
    await a.close();
    await b.close();
  });
});
