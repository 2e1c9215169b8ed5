/**
 * The WebSocket gateway while the query store is down (a private PostgreSQL, stopped; never the shared one):
 * a key the verifier has never seen needs the store, and is refused as REST refuses it, 503
 * SERVICE_UNAVAILABLE, on the upgrade and in answer to an `auth` message; never 500 INTERNAL_ERROR (which
 * it answered before). A connection authenticated before the outage keeps placing orders.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createKey, type Venue } from '../../../src/gateway/index.js';
import { PrivateServices } from '../../support/private-services.js';
import { call, openVenue, tempDir, testConfig, traders } from '../helpers.js';
import { Refused, WsClient, wsUrl, type Json } from './client.js';

const codeOf = (a: Json): string => (a.error as { code: string }).code;

describe('WebSocket gateway with the store down', { timeout: 180_000 }, () => {
  let services: PrivateServices | null = null;
  let venue: Venue | null = null;

  before(async () => {
    services = await PrivateServices.start(['postgres']);
    venue = await openVenue(testConfig(tempDir(), { DATABASE_URL: services.postgres.url }));
  });
  after(async () => {
    await venue?.close().catch(() => undefined);
    await services?.close();
  });

  it('refuses a key it cannot check with 503 SERVICE_UNAVAILABLE, and keeps serving keys it knows', async () => {
    const v = venue as Venue;
    const { t1 } = await traders(v, v.adminKey as string);
    const unseen = (await createKey(v.store, { role: 'trader', accountIds: [2] })).token;
    const known = await WsClient.open(wsUrl(v.url, '/ws'), { 'x-api-key': t1 });
    const anon = await WsClient.open(wsUrl(v.url, '/ws'));
    try {
      await (services as PrivateServices).postgres.stop('crash');
      // The REST answer the WebSocket gateway must match.
      const rest = await call(v, 'GET', '/api/v1/accounts', unseen);
      assert.deepEqual([rest.status, (rest.body.error as Json).code], [503, 'SERVICE_UNAVAILABLE']);

      await assert.rejects(WsClient.open(wsUrl(v.url, '/ws'), { 'x-api-key': unseen }), (e) => {
        assert.ok(e instanceof Refused, String(e));
        assert.deepEqual([e.status, e.code], [503, 'SERVICE_UNAVAILABLE'], e.body);
        return true;
      });
      // Not counted as failed auth messages: the connection stays open for a try once the store is back.
      for (let i = 0; i < 5; i++) {
        const auth = await anon.request({ op: 'auth', id: `a${i}`, token: unseen });
        assert.equal(auth.type, 'error', JSON.stringify(auth));
        assert.equal(codeOf(auth), 'SERVICE_UNAVAILABLE');
      }

      const placed = await known.request({
        op: 'place',
        id: 'p1',
        symbol: 'BTC-USDT',
        order_type: 'limit',
        side: 'buy',
        price: '50',
        quantity: '0.1',
      });
      assert.equal(placed.type, 'ack', JSON.stringify(placed));

      await (services as PrivateServices).postgres.start();
      let auth: Json = {};
      for (const end = Date.now() + 60_000; auth.type !== 'authenticated' && Date.now() < end;) {
        auth = await anon.request({ op: 'auth', id: 'again', token: unseen });
        if (auth.type !== 'authenticated') await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(auth.type, 'authenticated', JSON.stringify(auth));
    } finally {
      await known.close();
      await anon.close();
    }
  });
});
