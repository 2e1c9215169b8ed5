/**
 * The acknowledgement's order text (orderJsonText) is exactly `JSON.stringify(orderJson(...))`, for orders of
 * every shape: with and without prices, fills, reject and cancel reasons, and client order ids that need
 * escaping (quotes, backslashes). The REST routes send it as their answer's body, so it is also what fastify's
 * serializer for the response schema (OrderResponse) writes from the object.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import Fastify from 'fastify';
import { isoOfUs, orderJson, orderJsonText } from '../../src/gateway/http/present.js';
import { OrderResponse } from '../../src/gateway/http/schemas.js';
import type { OrderView } from '../../src/gateway/views/index.js';
import type { OrderStatus } from '../../src/gateway/views/views.js';
import { tempDir, testConfig } from './helpers.js';

const STATUSES: readonly OrderStatus[] = [
  'pending',
  'partially_filled',
  'filled',
  'cancelled',
  'rejected',
  'expired',
];
const lots = fc.integer({ min: 0, max: 1e12 });
const ticks = fc.integer({ min: 0, max: 1e12 });
const timeUs = fc.integer({ min: 0, max: 4_102_444_800_000_000 });

const orderView = fc.record({
  orderId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  instrument: fc.constant(0),
  accountId: fc.integer({ min: 1, max: 1_000_000 }),
  side: fc.constantFrom(0 as const, 1 as const),
  type: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const, 5 as const, 6 as const),
  tif: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const, 5 as const),
  priceTicks: ticks,
  triggerPriceTicks: ticks,
  expireTimeUs: fc.oneof(fc.constant(0), timeUs),
  qtyLots: lots,
  filledLots: lots,
  remainingLots: lots,
  notional: fc.bigInt({ min: 0n, max: 10n ** 24n }),
  settledMinor: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  status: fc.constantFrom(...STATUSES),
  rejectCode: fc.constantFrom(0, 1001, 3001, 5001, 9999),
  cancelReason: fc.integer({ min: 0, max: 9 }),
  createdUs: timeUs,
  updatedUs: timeUs,
  updatedSeq: fc.integer({ min: 0, max: 1e9 }),
});
const clientOrderId = fc.option(fc.stringMatching(/^[\x21-\x7e]{1,64}$/), { nil: null });

describe('the acknowledgement order text', () => {
  const instruments = testConfig(tempDir()).instruments;

  it('is JSON.stringify of orderJson, field for field', () => {
    fc.assert(
      fc.property(orderView, clientOrderId, fc.constantFrom(...instruments), (o, cid, inst) => {
        const view: OrderView = { ...o, instrument: inst.spec.instrument };
        assert.equal(orderJsonText(view, inst, cid), JSON.stringify(orderJson(view, inst, cid)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("is what the response schema's serializer writes from orderJson", async () => {
    const app = Fastify();
    let order: unknown = null;
    app.get('/order', { schema: { response: { 200: OrderResponse } } }, () => order);
    await app.ready();
    try {
      const samples = fc.sample(fc.tuple(orderView, clientOrderId, fc.constantFrom(...instruments)), {
        numRuns: 300,
        seed: 5,
      });
      for (const [o, cid, inst] of samples) {
        const view: OrderView = { ...o, instrument: inst.spec.instrument };
        order = orderJson(view, inst, cid);
        const r = await app.inject({ method: 'GET', url: '/order' });
        assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(orderJsonText(view, inst, cid), r.body);
      }
    } finally {
      await app.close();
    }
  });

  it('escapes what a client order id may hold', () => {
    const inst = instruments[0];
    const view: OrderView = {
      orderId: 7,
      instrument: inst.spec.instrument,
      accountId: 1,
      side: 0,
      type: 1,
      tif: 1,
      priceTicks: 100,
      triggerPriceTicks: 0,
      expireTimeUs: 0,
      qtyLots: 10,
      filledLots: 0,
      remainingLots: 10,
      notional: 0n,
      settledMinor: 0,
      status: 'pending',
      rejectCode: 0,
      cancelReason: 0,
      createdUs: 1_700_000_000_000_000,
      updatedUs: 1_700_000_000_000_000,
      updatedSeq: 1,
    };
    const text = orderJsonText(view, inst, 'a"b\\c');
    assert.equal((JSON.parse(text) as { client_order_id: string }).client_order_id, 'a"b\\c');
  });

  it("shows no price for market types (the core's price there is its protection price), a limit's price for the rest", () => {
    fc.assert(
      fc.property(orderView, fc.constantFrom(...instruments), (o, inst) => {
        const view: OrderView = { ...o, instrument: inst.spec.instrument, priceTicks: o.priceTicks + 1 };
        const shown = (JSON.parse(orderJsonText(view, inst, null)) as { price: string | null }).price;
        const marketType = view.type === 2 || view.type === 3 || view.type === 5;
        assert.equal(shown === null, marketType, JSON.stringify([view.type, shown]));
        assert.equal(orderJson(view, inst, null).price, shown);
      }),
      { numRuns: 500 },
    );
  });
});

describe('isoOfUs', () => {
  const us = fc.oneof(
    // Around now: times within the seconds and milliseconds its caches keep, in any order.
    fc.integer({ min: 1_790_000_000_000_000, max: 1_790_000_200_000_000 }),
    fc.double({ min: -8.64e18, max: 8.64e18, noNaN: true }),
    fc.double({ min: -1e12, max: 1e12, noNaN: true }),
  );

  it("is Date's ISO text of the microsecond's millisecond, whatever came before", () => {
    fc.assert(
      fc.property(fc.array(us, { minLength: 1, maxLength: 50 }), (times) => {
        for (const t of times) assert.equal(isoOfUs(t), new Date(Math.floor(t / 1000)).toISOString(), `${t}`);
      }),
      { numRuns: 500 },
    );
  });

  it('throws as Date does for a time it cannot show', () => {
    for (const t of [Number.NaN, Number.POSITIVE_INFINITY, 8.64e18 + 1e9]) {
      assert.throws(() => isoOfUs(t), RangeError);
    }
  });
});
