/**
 * Instruments at runtime, for administrators: add one (`POST /api/v1/instruments`) or change one
 * (`PATCH /api/v1/instruments/{symbol}`), in the same decimal terms as the configuration file's instruments.
 * Each is the core's defineInstrument command, journaled (a restart keeps it) and answered once durable, when
 * the symbol is already tradable and its market data routes and feeds know it.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { InstrumentConfig } from '../../ops/index.js';
import { feeRateText, MARK_METHOD_NAMES, type InstrumentAdmin } from '../instruments/index.js';
import { lotsToQty, ticksToPrice } from '../trading/units.js';
import { ERRORS, SymbolParams } from './schemas.js';
import { authenticate, type ServerDeps } from './server.js';

const Strict = { additionalProperties: false } as const;
/** A positive decimal as the configuration takes it (at most 18 decimals; exact rules checked after). */
const Size = Type.String({ minLength: 1, maxLength: 40, pattern: '^(0|[1-9][0-9]{0,20})(\\.[0-9]{1,18})?$' });
/** A fee rate: a fraction of the traded value, such as "0.0005"; a maker rate may be negative (a rebate). */
const Rate = Type.String({
  minLength: 1,
  maxLength: 40,
  pattern: '^-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,18})?$',
});
const AssetCode = Type.String({ minLength: 1, maxLength: 12, pattern: '^[A-Z0-9]{1,12}$' });
const Bps = Type.Integer({ minimum: 0, maximum: 10_000 });

const changeFields = {
  tick_size: Type.Optional(Size),
  lot_size: Type.Optional(Size),
  min_quantity: Type.Optional(Size),
  max_quantity: Type.Optional(Size),
  reference_price: Type.Optional(Size),
  price_band_bps: Type.Optional(Bps),
  market_protection_bps: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  maker_fee: Type.Optional(Rate),
  taker_fee: Type.Optional(Rate),
  mark_method: Type.Optional(Type.Union(MARK_METHOD_NAMES.map((m) => Type.Literal(m)))),
  base: Type.Optional(AssetCode),
  quote: Type.Optional(AssetCode),
  price_unit: Type.Optional(Size),
  quantity_unit: Type.Optional(Size),
};

export const InstrumentChangeBody = Type.Object(changeFields, Strict);
export const NewInstrumentBody = Type.Object(
  {
    ...changeFields,
    id: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
    symbol: Type.String({
      minLength: 1,
      maxLength: 32,
      pattern: '^[A-Z0-9]+(?:[-/_.][A-Z0-9]+)*$',
    }),
    base: AssetCode,
    quote: AssetCode,
    tick_size: Size,
    lot_size: Size,
    max_quantity: Size,
  },
  Strict,
);
export type NewInstrumentBody = Static<typeof NewInstrumentBody>;

const Str = Type.String();
export const InstrumentResponse = Type.Object({
  id: Type.Integer(),
  symbol: Str,
  base: Str,
  quote: Str,
  tick_size: Str,
  lot_size: Str,
  price_unit: Str,
  quantity_unit: Str,
  min_quantity: Str,
  max_quantity: Str,
  reference_price: Type.Union([Str, Type.Null()]),
  price_band_bps: Type.Integer(),
  market_protection_bps: Type.Integer(),
  maker_fee: Str,
  taker_fee: Str,
  mark_method: Str,
});
export type InstrumentJson = Static<typeof InstrumentResponse>;

/** An instrument as the API shows it: decimal strings, fee rates as fractions ("-0.0001" is a rebate). */
export function instrumentJson(i: InstrumentConfig): InstrumentJson {
  const s = i.spec;
  return {
    id: s.instrument,
    symbol: s.symbol,
    base: i.baseCode,
    quote: i.quoteCode,
    tick_size: i.tickSize,
    lot_size: i.lotSize,
    price_unit: i.priceUnit,
    quantity_unit: i.qtyUnit,
    min_quantity: lotsToQty(s.qtyMin, i),
    max_quantity: lotsToQty(s.qtyMax, i),
    reference_price: s.referencePrice === 0 ? null : ticksToPrice(s.referencePrice, i),
    price_band_bps: s.priceBandBps,
    market_protection_bps: s.marketProtectionBps,
    maker_fee: feeRateText(s.makerFeePpm),
    taker_fee: feeRateText(s.takerFeePpm),
    mark_method: s.markMethod === 2 ? 'mid' : 'last_trade',
  };
}

export const instrumentRoutes =
  (deps: ServerDeps, admin: InstrumentAdmin): FastifyPluginCallbackTypebox =>
  (app, _opts, done) => {
    const admins = authenticate(deps, ['admin']);

    app.post(
      '/api/v1/instruments',
      {
        schema: {
          summary:
            'Add an instrument (admin): symbol, base, quote, tick_size, lot_size, max_quantity, and optionally ' +
            'min_quantity, price_unit, quantity_unit, maker_fee (negative: a rebate), taker_fee, ' +
            'reference_price, price_band_bps, market_protection_bps, mark_method, id',
          body: NewInstrumentBody,
          response: { 201: InstrumentResponse, ...ERRORS },
        },
        onRequest: admins,
      },
      async (req, reply) => reply.code(201).send(instrumentJson(await admin.create(req.body))),
    );

    app.patch(
      '/api/v1/instruments/:symbol',
      {
        schema: {
          summary:
            'Change an instrument (admin): tick and lot size, quantity limits, fees, price band, market ' +
            'protection, reference price, mark method; base, quote and units are fixed once it exists',
          params: SymbolParams,
          body: InstrumentChangeBody,
          response: { 200: InstrumentResponse, ...ERRORS },
        },
        onRequest: admins,
      },
      async (req) => instrumentJson(await admin.change(req.params.symbol, req.body)),
    );
    done();
  };
