/**
 * The REST audit events written directly (`auditEvent`: a route whose details are a pick of fields, or none,
 * through makeFixedEvent) against the generic way (`genericAuditEvent`: the details picked into an object and
 * made fit by makeEvent): for every route of the table, the same event field for field and the same canonical
 * JSON byte for byte, for arbitrary requests: odd strings, numbers that are not safe integers, nested values
 * (which take the generic way), absent fields, bodies that are not objects, no principal.
 */
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import fc from 'fast-check';
import {
  AuditWriter,
  canonicalEventJson,
  type AuditEventInput,
  type Outcome,
} from '../../../src/audit/index.js';
import type { Principal } from '../../../src/gateway/auth/index.js';
import {
  ROUTE_AUDITS,
  auditEvent,
  auditPlugin,
  compileAudit,
  genericAuditEvent,
  type AuditSubject,
} from '../../../src/gateway/audit/index.js';

const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', '\u2028', 'é', '😀', 'a', '.', '-'),
);
const oddString = fc.oneof(
  fc.string({ unit: codeUnit, maxLength: 30 }),
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[0-9]{1,12}$/),
  fc.string({ unit: codeUnit, minLength: 200, maxLength: 300 }),
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: oddString },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(-0, 2 ** 53, 1e21, Number.NaN, Infinity) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(oddString, fc.integer())) },
  { weight: 1, arbitrary: fc.array(fc.oneof(oddString, fc.integer()), { maxLength: 4 }) },
);
/** Every field any route picks or targets, and a few others. */
const FIELD_NAMES = [
  ...new Set([
    ...Object.values(ROUTE_AUDITS).flatMap((e) => e.fields?.names ?? []),
    'account_id',
    'id',
    'symbol',
    'nonsense',
  ]),
];
const fields = fc.dictionary(fc.constantFrom(...FIELD_NAMES), value, { maxKeys: 14 });
const container = fc.oneof(
  { weight: 8, arbitrary: fields },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 'text', 7) },
);
const principal: fc.Arbitrary<Principal | null | undefined> = fc.oneof(
  fc.constantFrom(null, undefined),
  fc.record({
    keyId: fc.oneof(fc.constantFrom('key:1', 'key:2', 'anonymous'), oddString),
    role: fc.constantFrom('admin', 'trader', 'risk', 'viewer'),
    accountIds: fc.constant([]),
  }),
);
const outcome: fc.Arbitrary<Outcome> = fc.oneof(
  fc.constant<Outcome>({ status: 'ok', code: null }),
  fc.record({
    status: fc.constantFrom('ok', 'refused', 'failed'),
    code: fc.oneof(fc.constantFrom('VALIDATION_ERROR', 'ORDER_CANNOT_BE_CANCELLED'), fc.constant(null)),
  }),
);
const payload = fc.oneof(
  fc.nat().map((n) => `{"order_id":"${n}","status":"new"}`),
  fc.constantFrom('{"error":{"code":"X"}}', null, undefined),
  oddString,
);

describe('REST audit events: direct and generic', () => {
  it('give the same event and canonical JSON for every audited route', () => {
    const routes = Object.entries(ROUTE_AUDITS);
    const direct = routes.filter(([, e]) => compileAudit(e).fixed !== null).length;
    assert.ok(direct >= 20, `most routes write their events directly (${direct} of ${routes.length})`);
    // One principal object for several requests, as the verifier's cache gives it (the actor is kept for it).
    const shared: Principal = { keyId: 'key:9', role: 'trader', accountIds: [1] };
    fc.assert(
      fc.property(
        fc.constantFrom(...routes),
        fc.record({
          params: container,
          query: container,
          body: container,
          principal: fc.oneof(principal, fc.constant(shared)),
          ip: fc.oneof(fc.constantFrom('127.0.0.1', '::1', '10.0.0.2', undefined), oddString),
          id: oddString,
          method: fc.constantFrom('POST', 'GET', 'DELETE', 'PATCH'),
        }),
        outcome,
        payload,
        fc.uuid(),
        fc.maxSafeNat(),
        fc.nat({ max: 2 ** 40 }),
        ([, entry], req: AuditSubject, result, answer, id, timeUs, seq) => {
          const a = auditEvent(req, compileAudit(entry), result, answer, id, timeUs);
          const b = genericAuditEvent(req, entry, result, answer, id, timeUs);
          assert.equal(canonicalEventJson(seq + 1, a), canonicalEventJson(seq + 1, b));
          assert.deepEqual({ ...a }, { ...b });
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it("write a placement with the answer's order id and the method", () => {
    const req: AuditSubject = {
      params: {},
      query: {},
      body: { symbol: 'BTC-USDT', side: 'buy', quantity: '1', price: '10', account_id: 3, extra: { a: 1 } },
      principal: { keyId: 'key:1', role: 'trader', accountIds: [3] },
      ip: '127.0.0.1',
      id: 'req-1',
      method: 'POST',
    };
    const entry = ROUTE_AUDITS['POST /api/v1/orders'];
    const e = auditEvent(req, compileAudit(entry), { status: 'ok', code: null }, '{"order_id":"42"}', 'u', 5);
    assert.deepEqual(e.details, {
      symbol: 'BTC-USDT',
      side: 'buy',
      quantity: '1',
      price: '10',
      order_id: '42',
      method: 'POST',
    });
    assert.deepEqual(e.target, { kind: 'account', id: '3' });
    assert.deepEqual(e.actor, { id: 'key:1', role: 'trader', ip: '127.0.0.1' });
  });
});

describe('audit hooks over a socket', () => {
  it('commit a request whose response closes without an answer as failed, NO_ANSWER, once', async () => {
    // The address was never read (no rate limit here) and the socket is gone: the event says null.
    const written: AuditEventInput[] = [];
    const writer = new AuditWriter({
      append: (events) => {
        written.push(...events);
        return Promise.resolve();
      },
    });
    const app = Fastify();
    await app.register(auditPlugin, { writer });
    let arrived = 0;
    // Never answers: the client gives up and the response closes.
    app.post('/api/v1/admin/accounts', () => {
      arrived++;
      return new Promise(() => undefined);
    });
    app.delete('/api/v1/orders/:id', (_req, reply) => reply.code(200).send({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/admin/accounts' });
    req.on('error', () => undefined);
    req.setHeader('content-type', 'application/json');
    req.end('{"account_id":5}');
    while (arrived === 0) await sleep(5);
    req.destroy();
    const answered = await app.inject({ method: 'DELETE', url: '/api/v1/orders/7' });
    assert.equal(answered.statusCode, 200);
    await writer.flush();
    for (let i = 0; i < 200 && written.length < 2; i++) {
      await sleep(10);
      await writer.flush();
    }
    const actions = [...written]
      .sort((a, b) => a.action.localeCompare(b.action))
      .map((e) => [e.action, e.result.status, e.result.code, e.details, e.actor.ip]);
    assert.deepEqual(actions, [
      ['account.create', 'failed', 'NO_ANSWER', { method: 'POST' }, null],
      ['order.cancel', 'ok', null, { method: 'DELETE' }, '127.0.0.1'],
    ]);
    await app.close();
    await writer.close();
    assert.equal(written.length, 2, 'each event once');
  });
});
