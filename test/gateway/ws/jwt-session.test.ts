/**
 * A WebSocket session on a JWT ends when the token does: at `exp` (plus the clock tolerance of 5 s) the
 * connection is closed with 4004 unless an `auth` with a newer token for the same subject, role and accounts
 * renewed it first. A renewal for another identity, or any second `auth` on an API-key session, is refused.
 * The tokens below expire about a second after they are made (exp 4 s ago, tolerance 5 s).
 */
import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { SignJWT, type JWTPayload } from 'jose';
import type { Venue } from '../../../src/gateway/index.js';
import { openVenue, tempDir, testConfig, traders } from '../helpers.js';
import { WsClient, wsUrl, type Json } from './client.js';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes';

async function token(claims: JWTPayload, expInSec: number): Promise<string> {
  return new SignJWT({ role: 'trader', accounts: [1], sub: 'alice', ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + expInSec)
    .sign(new TextEncoder().encode(SECRET));
}

const codeOf = (m: Json): unknown => (m.error as { code?: unknown } | undefined)?.code;

describe('WebSocket sessions on a JWT', { timeout: 60_000 }, () => {
  let venue: Venue;
  let apiKey: string;

  before(async () => {
    venue = await openVenue(testConfig(tempDir(), { RIALTO_JWT_SECRET: SECRET }));
    ({ t1: apiKey } = await traders(venue, venue.adminKey as string));
  });
  after(async () => {
    await venue.close();
  });

  it('closes a session with 4004 when its token expires, by header or by auth message', async () => {
    const byHeader = await WsClient.open(wsUrl(venue.url, '/ws'), {
      authorization: `Bearer ${await token({}, -4)}`,
    });
    const byMessage = await WsClient.open(wsUrl(venue.url, '/ws'));
    const authed = await byMessage.request({ op: 'auth', id: 'a', token: await token({}, -4) });
    assert.equal(authed.type, 'authenticated', JSON.stringify(authed));
    const sub = await byMessage.request({ op: 'subscribe', id: 's', channel: 'orders' });
    assert.equal(sub.type, 'subscribed', JSON.stringify(sub));
    for (const c of [byHeader, byMessage]) {
      assert.deepEqual(await c.closed, { code: 4004, reason: 'the token expired' });
    }
  });

  it('keeps a session whose token was renewed for the same identity, and refuses another identity', async () => {
    const c = await WsClient.open(wsUrl(venue.url, '/ws'));
    const first = await c.request({ op: 'auth', id: 'a1', token: await token({}, -4) });
    assert.equal(first.type, 'authenticated', JSON.stringify(first));
    // Another subject, another role or other accounts do not renew this session; neither does an API key.
    for (const [id, t] of [
      ['other-sub', await token({ sub: 'bob' }, 600)],
      ['other-role', await token({ role: 'viewer', accounts: [] }, 600)],
      ['other-accounts', await token({ accounts: [1, 2] }, 600)],
      ['api-key', apiKey],
    ] as const) {
      const refused = await c.request({ op: 'auth', id, token: t });
      assert.equal(codeOf(refused), 'ALREADY_AUTHENTICATED', `${id}: ${JSON.stringify(refused)}`);
    }
    // An expired token is refused as any bad credential is, and the session goes on.
    const stale = await c.request({ op: 'auth', id: 'stale', token: await token({}, -60) });
    assert.equal(codeOf(stale), 'UNAUTHORIZED', JSON.stringify(stale));
    const renewed = await c.request({ op: 'auth', id: 'a2', token: await token({}, 600) });
    assert.deepEqual(
      [renewed.type, renewed.role, renewed.account_ids],
      ['authenticated', 'trader', [1]],
      JSON.stringify(renewed),
    );
    // Past the first token's end (about a second), the session is still open and may trade.
    await sleep(2_000);
    const placed = await c.request({
      op: 'place',
      id: 'p1',
      symbol: 'BTC-USDT',
      side: 'buy',
      order_type: 'limit',
      price: '100.00',
      quantity: '0.1',
    });
    assert.equal(placed.type, 'ack', JSON.stringify(placed));
    assert.deepEqual(await c.close(), { code: 1000, reason: '' });
  });

  it('refuses a second auth on an API-key session without reading it', async () => {
    const c = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': apiKey });
    const again = await c.request({ op: 'auth', id: 'again', token: await token({}, 600) });
    assert.equal(codeOf(again), 'ALREADY_AUTHENTICATED', JSON.stringify(again));
    await c.close();
  });
});
