/**
 * API keys managed over the API while the venue runs (/api/v1/admin/keys), end to end: an admin creates a
 * trader key that trades at once, lists and reads keys without their secrets, revokes a key (refused from then
 * on, its WebSocket sessions closed with 4003, also after a revocation elsewhere at the next sweep), cannot
 * revoke the last admin key; bad input and callers
 * without the role are refused with codes, and nothing is created; the audit trail names each key.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { AuditLog, type AuditRecord } from '../../src/audit/index.js';
import { revokeKey, type Venue } from '../../src/gateway/index.js';
import { call, openVenue, order, tempDir, testConfig, traders } from './helpers.js';
import { WsClient, wsUrl } from './ws/client.js';

const keyIdOf = (token: string): string => token.slice('rk_'.length, token.indexOf('.'));

interface KeyJson {
  id: string;
  role: string;
  account_ids: number[];
  label: string;
  created_at: string;
  revoked_at: string | null;
  key?: string;
}

describe('API keys over the API', { timeout: 120_000 }, () => {
  const config = testConfig(tempDir());
  let venue: Venue;
  let admin: string;
  let t1: string;

  const list = async (key = admin): Promise<KeyJson[]> => {
    const r = await call(venue, 'GET', '/api/v1/admin/keys', key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.keys as KeyJson[];
  };
  const codeOf = (body: Record<string, unknown>): string => (body.error as { code: string }).code;
  const messageOf = (body: Record<string, unknown>): string => (body.error as { message: string }).message;

  before(async () => {
    venue = await openVenue(config);
    admin = venue.adminKey as string;
    ({ t1 } = await traders(venue, admin));
  });
  after(async () => {
    await venue.close();
  });

  it('creates a trader key for existing accounts that trades at once, and shows its secret only then', async () => {
    const r = await call(venue, 'POST', '/api/v1/admin/keys', admin, {
      role: 'trader',
      account_ids: [1, 2],
      label: 'desk one',
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const made = r.body as unknown as KeyJson;
    assert.match(made.key ?? '', /^rk_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    assert.equal(keyIdOf(made.key ?? ''), made.id);
    assert.deepEqual(
      { role: made.role, account_ids: made.account_ids, label: made.label, revoked_at: made.revoked_at },
      { role: 'trader', account_ids: [1, 2], label: 'desk one', revoked_at: null },
    );
    const key = made.key as string;
    const placed = await call(venue, 'POST', '/api/v1/orders', key, {
      ...order({ side: 'buy', price: '100.00', quantity: '0.1' }),
      account_id: 2,
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));

    const secret = key.slice(key.indexOf('.') + 1);
    const listed = await list();
    assert.ok(listed.some((k) => k.id === made.id));
    assert.ok(!JSON.stringify(listed).includes(secret), 'a list never shows a secret');
    const read = await call(venue, 'GET', `/api/v1/admin/keys/${made.id}`, admin);
    assert.equal(read.status, 200);
    const { key: _, ...withoutSecret } = made;
    assert.deepEqual(read.body, withoutSecret);
  });

  it('refuses bad settings, unknown accounts and unknown fields with codes, and creates nothing', async () => {
    const before = (await list()).length;
    const cases: [unknown, number, string, RegExp][] = [
      [{ role: 'trader' }, 400, 'VALIDATION_ERROR', /needs at least one account/],
      [{ role: 'admin', account_ids: [1] }, 400, 'VALIDATION_ERROR', /an admin key is bound to no account/],
      [{ role: 'root' }, 400, 'VALIDATION_ERROR', /^body\/role must be one of: viewer, trader, risk, admin$/],
      [{ role: 'trader', account_ids: [1, 1] }, 400, 'VALIDATION_ERROR', /listed twice/],
      [{ role: 'trader', account_ids: [0] }, 400, 'VALIDATION_ERROR', /account_ids\/0/],
      [{ role: 'viewer', label: 'a\nb' }, 400, 'VALIDATION_ERROR', /control characters/],
      [{ role: 'viewer', label: 'x'.repeat(101) }, 400, 'VALIDATION_ERROR', /label/],
      [{ role: 'viewer', secret: 'mine' }, 400, 'VALIDATION_ERROR', /secret is not a known field/],
      [{ role: 'trader', account_ids: [1, 77, 78] }, 404, 'ACCOUNT_NOT_FOUND', /account 77, 78 not found/],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await call(venue, 'POST', '/api/v1/admin/keys', admin, body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(codeOf(r.body), code, JSON.stringify(body));
      assert.match(messageOf(r.body), message);
    }
    assert.equal((await list()).length, before);
  });

  it('answers only admins: 401 without a credential (whatever the body), 403 for the other roles', async () => {
    const risk = await call(venue, 'POST', '/api/v1/admin/keys', admin, { role: 'risk' });
    const viewer = await call(venue, 'POST', '/api/v1/admin/keys', admin, { role: 'viewer' });
    for (const key of [t1, risk.body.key as string, viewer.body.key as string]) {
      for (const [method, url, body] of [
        ['POST', '/api/v1/admin/keys', { role: 'admin' }],
        ['POST', '/api/v1/admin/keys', { role: 'nonsense' }],
        ['GET', '/api/v1/admin/keys', undefined],
        ['DELETE', `/api/v1/admin/keys/${keyIdOf(admin)}`, undefined],
      ] as const) {
        const r = await call(venue, method, url, key, body);
        assert.equal(r.status, 403, `${method} ${url}: ${JSON.stringify(r.body)}`);
        assert.equal(codeOf(r.body), 'FORBIDDEN');
      }
    }
    const anonymous = await call(venue, 'POST', '/api/v1/admin/keys', null, { role: 'nonsense' });
    assert.equal(anonymous.status, 401);
    assert.equal(codeOf(anonymous.body), 'UNAUTHORIZED');
  });

  it('revokes a key: refused at once, its WebSocket sessions closed with 4003, revoking again changes nothing', async () => {
    const made = await call(venue, 'POST', '/api/v1/admin/keys', admin, { role: 'trader', account_ids: [1] });
    const key = made.body.key as string;
    const id = made.body.id as string;
    assert.equal((await call(venue, 'GET', '/api/v1/accounts/1', key)).status, 200);
    const session = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': key });
    const other = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 });
    await session.request({ op: 'subscribe', id: 's1', channel: 'orders' });

    const r = await call(venue, 'DELETE', `/api/v1/admin/keys/${id}`, admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const revokedAt = r.body.revoked_at as string;
    assert.ok(!Number.isNaN(Date.parse(revokedAt)));
    const refused = await call(venue, 'GET', '/api/v1/accounts/1', key);
    assert.equal(refused.status, 401);
    assert.deepEqual(await session.closed, { code: 4003, reason: 'the API key was revoked' });
    await other.sync('after-revoke');
    const again = await call(venue, 'DELETE', `/api/v1/admin/keys/${id}`, admin);
    assert.equal(again.status, 200);
    assert.equal(again.body.revoked_at, revokedAt);
    await other.close();
  });

  it('closes the WebSocket sessions of a key revoked elsewhere at its next sweep, and no other', async () => {
    const made = await call(venue, 'POST', '/api/v1/admin/keys', admin, { role: 'trader', account_ids: [1] });
    const key = made.body.key as string;
    const session = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': key });
    const other = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 });
    await session.sync('before');
    assert.equal(await venue.ws.sweepRevokedKeys(), 0, 'nothing revoked yet');
    // As `rialto keys revoke` on a shared PostgreSQL, or another gateway, would: straight in the store.
    assert.equal((await revokeKey(venue.store, made.body.id as string)).status, 'revoked');
    await session.sync('revoked-elsewhere');
    assert.equal(await venue.ws.sweepRevokedKeys(), 1);
    assert.deepEqual(await session.closed, { code: 4003, reason: 'the API key was revoked' });
    await other.sync('after-sweep');
    await other.close();
  });

  it('refuses unknown and malformed ids, and the last admin key', async () => {
    const unknown = await call(venue, 'DELETE', '/api/v1/admin/keys/AAAAAAAAAAAAAAAA', admin);
    assert.equal(unknown.status, 404);
    assert.equal(codeOf(unknown.body), 'KEY_NOT_FOUND');
    assert.equal(
      codeOf((await call(venue, 'GET', '/api/v1/admin/keys/AAAAAAAAAAAAAAAA', admin)).body),
      'KEY_NOT_FOUND',
    );
    const malformed = await call(venue, 'DELETE', '/api/v1/admin/keys/..%2Fetc', admin);
    assert.equal(malformed.status, 400);
    assert.equal(codeOf(malformed.body), 'VALIDATION_ERROR');

    const last = await call(venue, 'DELETE', `/api/v1/admin/keys/${keyIdOf(admin)}`, admin);
    assert.equal(last.status, 409, JSON.stringify(last.body));
    assert.equal(codeOf(last.body), 'LAST_ADMIN_KEY');
    assert.equal((await call(venue, 'GET', '/api/v1/admin/keys', admin)).status, 200, 'the key still works');

    // With a second admin key, the first can go; then the second is the last.
    const second = await call(venue, 'POST', '/api/v1/admin/keys', admin, { role: 'admin', label: 'second' });
    const admin2 = second.body.key as string;
    assert.equal((await call(venue, 'DELETE', `/api/v1/admin/keys/${keyIdOf(admin)}`, admin2)).status, 200);
    assert.equal((await call(venue, 'GET', '/api/v1/admin/keys', admin)).status, 401);
    const self = await call(venue, 'DELETE', `/api/v1/admin/keys/${keyIdOf(admin2)}`, admin2);
    assert.equal(codeOf(self.body), 'LAST_ADMIN_KEY');
    admin = admin2;
  });

  it('audits each key action with the key as target, never a secret', async () => {
    const r = await venue.server.inject({
      method: 'POST',
      url: '/api/v1/admin/keys',
      headers: { 'x-api-key': admin, 'x-request-id': 'keys-audit-1' },
      payload: { role: 'trader', account_ids: [2], label: 'audited' },
    });
    assert.equal(r.statusCode, 201, r.body);
    const made = r.json<KeyJson>();
    const d = await venue.server.inject({
      method: 'DELETE',
      url: `/api/v1/admin/keys/${made.id}`,
      headers: { 'x-api-key': admin, 'x-request-id': 'keys-audit-2' },
    });
    assert.equal(d.statusCode, 200, d.body);
    await venue.audit.flush();
    await venue.auditTable.catchUp();
    const events = (await new AuditLog(venue.store).page(0, 10_000)).filter((e: AuditRecord) =>
      ['keys-audit-1', 'keys-audit-2'].includes(e.requestId ?? ''),
    );
    assert.deepEqual(
      events.map((e) => [e.action, e.target, e.result.status, e.actor.id]),
      [
        ['key.create', { kind: 'key', id: made.id }, 'ok', keyIdOf(admin)],
        ['key.revoke', { kind: 'key', id: made.id }, 'ok', keyIdOf(admin)],
      ],
    );
    assert.deepEqual(events[0].details, {
      role: 'trader',
      account_ids: [2],
      label: 'audited',
      method: 'POST',
    });
    const secret = (made.key as string).slice((made.key as string).indexOf('.') + 1);
    assert.ok(!JSON.stringify(events).includes(secret));
  });
});
