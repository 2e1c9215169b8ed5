/**
 * Malformed requests by the hundred, seeded: wrong types, huge numbers, missing and unknown fields, bad
 * JSON, oversized bodies, odd paths and methods. Every answer is a 4xx with an error code, never a 5xx, and
 * the venue keeps serving.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Venue } from '../../src/gateway/index.js';
import { openVenue, order, tempDir, testConfig, traders } from './helpers.js';

const junk = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(1e308),
  fc.constant('9'.repeat(60)),
  fc.constant('99999999999999999999.99999999'),
  fc.constant('-1'),
  fc.constant('0'),
  fc.constant('1e5'),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);
const fieldNames = [
  'symbol',
  'side',
  'order_type',
  'quantity',
  'price',
  'time_in_force',
  'client_order_id',
  'account_id',
  'post_only',
  'expire_time',
  'trigger_price',
  'display_quantity',
  'role',
  'account_ids',
  'label',
  'unknown',
];
const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...fieldNames), junk, { maxKeys: 8 }),
  fc.record({ field: fc.constantFrom(...fieldNames), value: junk }).map(({ field, value }) => ({
    ...order({ side: 'buy', quantity: '0.1', price: '100' }),
    [field]: value,
  })),
);
const rawBody = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.constantFrom('{', '{"a":', '[]', 'null', '"x"', '{"symbol":"BTC-USDT",}', '\u0000', 'x'.repeat(20_000)),
);
const path = fc.oneof(
  fc.constantFrom(
    '/api/v1/orders',
    '/api/v1/orders/1',
    '/api/v1/orders/0',
    '/api/v1/orders/abc',
    '/api/v1/orders/99999999999999999999',
    '/api/v1/orderbook/BTC-USDT?depth=-1',
    '/api/v1/orderbook/BTC-USDT?depth=abc',
    '/api/v1/orderbook/NOPE',
    '/api/v1/bbo/' + 'X'.repeat(200),
    '/api/v1/trades/BTC-USDT?limit=0',
    '/api/v1/trades/BTC-USDT?limit=99999',
    '/api/v1/trades/BTC-USDT?since=x',
    '/api/v1/orders?status=weird',
    '/api/v1/admin/accounts',
    '/api/v1/admin/accounts/0/deposits',
    '/api/v1/admin/keys',
    '/api/v1/admin/keys/AAAAAAAAAAAAAAAA',
    '/api/v1/admin/keys/..%2F..',
    '/nope',
    '/api/v2/orders',
    '/api/v1/orders?quantity=1&quantity=2',
  ),
  fc.string({ maxLength: 40 }).map((s) => '/api/v1/' + encodeURIComponent(s)),
);
const method = fc.constantFrom<'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT'>(
  'GET',
  'POST',
  'DELETE',
  'PATCH',
  'PUT',
);

describe('fuzzed requests', () => {
  let venue: Venue;
  let key: string;
  let admin: string;

  before(async () => {
    venue = await openVenue(testConfig(tempDir()), false);
    assert.ok(venue.adminKey !== null);
    admin = venue.adminKey;
    key = (await traders(venue, admin)).t1;
  });
  after(async () => {
    await venue.close();
  });

  it('never answer 5xx, always an error code, and the venue keeps serving', async () => {
    const request = fc.record({
      method,
      path,
      auth: fc.constantFrom('key', 'admin', 'none', 'bad'),
      payload: fc.oneof(
        body.map((b) => JSON.stringify(b)),
        rawBody,
        fc.constant(undefined),
      ),
      type: fc.constantFrom('application/json', 'text/plain', undefined),
    });
    let count = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        count++;
        const headers: Record<string, string> = {};
        if (r.auth === 'key') headers['x-api-key'] = key;
        if (r.auth === 'admin') headers['x-api-key'] = admin;
        if (r.auth === 'bad') headers['x-api-key'] = 'rk_nonsense';
        if (r.type !== undefined && r.payload !== undefined) headers['content-type'] = r.type;
        const res = await venue.server.inject({ method: r.method, url: r.path, headers, payload: r.payload });
        if (res.statusCode >= 500)
          assert.fail(`${r.method} ${r.path} ${String(r.payload)}: ${res.statusCode} ${res.body}`);
        if (res.statusCode >= 400) {
          const parsed = res.json<{ error?: { code?: unknown } }>();
          assert.equal(typeof parsed.error?.code, 'string', res.body);
        }
      }),
      { numRuns: 400, seed: 5 },
    );
    assert.equal(count >= 400, true);
    const health = await venue.server.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    const placed = await venue.server.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { 'x-api-key': key },
      payload: order({ side: 'buy', quantity: '0.1', price: '100' }),
    });
    assert.equal(placed.statusCode, 201, placed.body);
  });
});
