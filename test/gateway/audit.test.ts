/**
 * The audit trail end to end: REST and WebSocket requests leave events with the principal, the request id,
 * the address and the result (refusals with their code), in one chain that verifies; the server refuses to
 * start with a state-changing route the audit table lacks; a full audit queue answers 503 AUDIT_UNAVAILABLE
 * before the action runs.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import {
  AuditLog,
  AuditWriter,
  compareTable,
  verifyAuditFile,
  type AuditRecord,
  type AuditSink,
} from '../../src/audit/index.js';
import { auditPlugin } from '../../src/gateway/audit/index.js';
import type { Venue } from '../../src/gateway/index.js';
import { call, openVenue, order, tempDir, testConfig, traders } from './helpers.js';
import { WsClient, wsUrl, type Json } from './ws/client.js';

const keyIdOf = (token: string): string => token.slice('rk_'.length, token.indexOf('.'));

describe('audit trail through the gateway', { timeout: 120_000 }, () => {
  const config = testConfig(tempDir());
  let venue: Venue;
  let admin: string;
  let t1: string;
  let log: AuditLog;

  /** The events of a request id, once everything committed so far is written. */
  const eventsOf = async (requestId: string): Promise<AuditRecord[]> => {
    await venue.audit.flush();
    await venue.auditTable.catchUp();
    return (await log.page(0, 10_000)).filter((r) => r.requestId === requestId);
  };

  before(async () => {
    venue = await openVenue(config);
    admin = venue.adminKey as string;
    ({ t1 } = await traders(venue, admin));
    log = new AuditLog(venue.store);
  });
  after(async () => {
    await venue.close();
  });

  it('records a placement with the principal, request id, address, target and order id', async () => {
    const r = await venue.server.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { 'x-api-key': t1, 'x-request-id': 'audit-place-1' },
      payload: order({ side: 'buy', price: '100.00', quantity: '0.5', client_order_id: 'c-1' }),
    });
    assert.equal(r.statusCode, 201, r.body);
    const orderId = r.json<{ order_id: string }>().order_id;
    const [e, ...more] = await eventsOf('audit-place-1');
    assert.equal(more.length, 0, 'one event per request');
    assert.equal(e.action, 'order.place');
    assert.deepEqual(e.actor, { id: keyIdOf(t1), role: 'trader', ip: '127.0.0.1' });
    assert.deepEqual(e.target, { kind: 'account', id: null }, 'no account_id in the body: the key has one');
    assert.deepEqual(e.result, { status: 'ok', code: null });
    assert.equal(e.details.order_id, orderId);
    assert.equal(e.details.client_order_id, 'c-1');
    assert.equal(e.details.price, '100.00');
    assert.equal(e.details.method, 'POST');
  });

  it('records refusals with their code: another account, no credential, a core rejection, bad input (from whom)', async () => {
    const cases: [string, string | null, Record<string, unknown>, string, string | null][] = [
      [
        'audit-ref-1',
        t1,
        order({ side: 'buy', price: '1', quantity: '1', account_id: 2 }),
        'FORBIDDEN',
        'trader',
      ],
      ['audit-ref-2', null, order({ side: 'buy', price: '1', quantity: '1' }), 'UNAUTHORIZED', null],
      [
        'audit-ref-3',
        t1,
        order({ side: 'buy', price: '100000', quantity: '90' }),
        'INSUFFICIENT_FUNDS',
        'trader',
      ],
      // The credential is checked before the body: a refusal of bad input names who sent it, and a caller
      // without a credential learns nothing of the route's schema.
      ['audit-ref-4', t1, { symbol: 'BTC-USDT', nonsense: true }, 'VALIDATION_ERROR', 'trader'],
      ['audit-ref-5', null, { symbol: 'BTC-USDT', nonsense: true }, 'UNAUTHORIZED', null],
    ];
    for (const [requestId, key, body, code, role] of cases) {
      const headers: Record<string, string> = { 'x-request-id': requestId };
      if (key !== null) headers['x-api-key'] = key;
      const r = await venue.server.inject({ method: 'POST', url: '/api/v1/orders', headers, payload: body });
      assert.equal(r.json<{ error: { code: string } }>().error.code, code, r.body);
      const [e] = await eventsOf(requestId);
      assert.ok(e !== undefined, `${requestId} was not audited`);
      assert.deepEqual(e.result, { status: 'refused', code }, requestId);
      assert.equal(e.actor.role, role, `${requestId}: the principal, when the request got that far`);
    }
    const rejected = (await eventsOf('audit-ref-3'))[0];
    assert.match(rejected.details.order_id as string, /^[0-9]+$/, 'a rejected order has its id');
  });

  it('records admin actions and reads of account data with their targets', async () => {
    const steps: [string, 'GET' | 'POST', string, unknown, string, string, string | null][] = [
      [
        'audit-adm-1',
        'POST',
        '/api/v1/admin/accounts/1/deposits',
        { asset: 'USDT', amount: '5' },
        'account.deposit',
        'account',
        '1',
      ],
      [
        'audit-adm-2',
        'POST',
        '/api/v1/admin/kill-switch',
        { account_id: 2 },
        'kill_switch.set',
        'account',
        '2',
      ],
      ['audit-adm-3', 'GET', '/api/v1/accounts/1/balances', undefined, 'balances.read', 'account', '1'],
      ['audit-adm-4', 'GET', '/api/v1/accounts/1/entries?limit=2', undefined, 'entries.read', 'account', '1'],
      [
        'audit-adm-5',
        'POST',
        '/api/v1/admin/instruments/BTC-USDT/halt',
        undefined,
        'instrument.halt',
        'instrument',
        'BTC-USDT',
      ],
    ];
    for (const [requestId, method, url, body, action, kind, id] of steps) {
      const r = await venue.server.inject({
        method,
        url,
        headers: { 'x-api-key': admin, 'x-request-id': requestId },
        ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
      });
      assert.ok(r.statusCode < 300, `${url}: ${r.body}`);
      const [e] = await eventsOf(requestId);
      assert.equal(e?.action, action, requestId);
      assert.deepEqual(e.target, { kind, id });
      assert.equal(e.actor.role, 'admin');
    }
    const [deposit] = await eventsOf('audit-adm-1');
    assert.equal(deposit.details.amount, '5');
    // Market data is not account data: not audited.
    await venue.server.inject({
      method: 'GET',
      url: '/api/v1/bbo/BTC-USDT',
      headers: { 'x-request-id': 'audit-md' },
    });
    assert.deepEqual(await eventsOf('audit-md'), []);
    await call(venue, 'POST', '/api/v1/admin/instruments/BTC-USDT/resume', admin);
  });

  it('records WebSocket place and cancel, with the message id as request id', async () => {
    const c = await WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': t1 });
    try {
      const place: Json = {
        op: 'place',
        id: 'ws-audit-1',
        symbol: 'BTC-USDT',
        order_type: 'limit',
        side: 'buy',
        price: '90.00',
        quantity: '0.1',
      };
      const ack = await c.request(place);
      assert.equal(ack.type, 'ack', JSON.stringify(ack));
      const orderId = (ack.order as Json).order_id as string;
      const cancel = await c.request({ op: 'cancel', id: 'ws-audit-2', order_id: orderId });
      assert.equal(cancel.type, 'ack');
      const refused = await c.request({ op: 'cancel', id: 'ws-audit-3', order_id: '999999999' });
      assert.equal(refused.type, 'error');
      const [p] = await eventsOf('ws-audit-1');
      assert.equal(p.action, 'order.place');
      assert.equal(p.details.transport, 'ws');
      assert.equal(p.details.order_id, orderId);
      assert.deepEqual(p.actor, { id: keyIdOf(t1), role: 'trader', ip: '127.0.0.1' });
      const [x] = await eventsOf('ws-audit-2');
      assert.deepEqual([x.action, x.target.id, x.result.status], ['order.cancel', orderId, 'ok']);
      const [y] = await eventsOf('ws-audit-3');
      assert.deepEqual(y.result, { status: 'refused', code: (refused.error as Json).code as string });
    } finally {
      c.ws.close();
    }
  });

  it('keeps every event of the run in one chain that verifies, continued after a restart', async () => {
    const [first] = await log.page(0, 1);
    assert.deepEqual(
      [first.action, first.actor.id, first.target.id],
      ['key.create', 'venue', keyIdOf(admin)],
      'the first admin key, made by the venue, is the first event',
    );
    await venue.audit.flush();
    const before = (await verifyAuditFile(venue.auditFile.path)).report;
    assert.equal(before.ok, true, JSON.stringify(before));
    await venue.close();
    venue = await openVenue(config);
    log = new AuditLog(venue.store);
    assert.equal((await call(venue, 'GET', '/api/v1/accounts/1', admin)).status, 200);
    await venue.audit.flush();
    const r = (await verifyAuditFile(venue.auditFile.path)).report;
    assert.equal(r.ok, true, JSON.stringify(r));
    if (r.ok && before.ok) assert.equal(r.count, before.count + 1);
    // The table, projected from the file after the restart, holds the same events.
    await venue.auditTable.catchUp();
    assert.deepEqual(await compareTable(venue.auditFile.path, log), {
      ok: true,
      rows: r.ok ? r.count : -1,
      lag: 0,
    });
  });
});

describe('audit hooks', () => {
  /** A sink whose appends never finish: the queue fills up. */
  const stuck: AuditSink = { append: () => new Promise(() => undefined) };

  it('answers 503 AUDIT_UNAVAILABLE, before the handler runs, when the queue stays full', async () => {
    const writer = new AuditWriter(stuck, { queueCapacity: 1, admitTimeoutMs: 0, closeTimeoutMs: 0 });
    const app = Fastify();
    await app.register(auditPlugin, { writer });
    let ran = 0;
    app.post('/api/v1/admin/accounts', () => ({ ran: ++ran }));
    const first = await app.inject({ method: 'POST', url: '/api/v1/admin/accounts', payload: {} });
    assert.equal(first.statusCode, 200);
    const second = await app.inject({ method: 'POST', url: '/api/v1/admin/accounts', payload: {} });
    assert.equal(second.statusCode, 503);
    assert.equal(second.headers['retry-after'], '1');
    assert.equal(second.json<{ code: string }>().code, 'AUDIT_UNAVAILABLE');
    assert.equal(ran, 1, 'the refused request did nothing');
    await app.close();
    await assert.rejects(writer.close(), /1 audit events were not written/);
  });

  it('refuses to build a server with a state-changing route that has no audit action', async () => {
    const app = Fastify();
    await app.register(auditPlugin, { writer: new AuditWriter(stuck) });
    assert.throws(() => app.post('/api/v1/something-new', () => ({})), /has no audit action/);
    app.get('/api/v1/something-new', () => ({})); // reads outside the table are fine
    await app.close();
  });
});
