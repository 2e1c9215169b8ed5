/**
 * Market data: instruments, the book's depth, the best bid and offer, recent trades and statistics, read
 * from the views. Public unless the configuration says market data needs a key (`marketData.public`).
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { validationError } from '../trading/errors.js';
import { ticksToPrice, lotsToQty } from '../trading/units.js';
import { HTTP_LIMITS } from './limits.js';
import { InstrumentResponse, instrumentJson } from './routes-instruments.js';
import { isoOfUs, levelJson, tradeJson } from './present.js';
import { DepthQuery, ERRORS, SymbolParams, TradesQuery } from './schemas.js';
import { authenticate, type ServerDeps } from './server.js';

const Pair = Type.Tuple([Type.String(), Type.String()]);
const Nullable = (t: ReturnType<typeof Type.String>) => Type.Union([t, Type.Null()]);

export const marketRoutes =
  (deps: ServerDeps): FastifyPluginCallbackTypebox =>
  (app, _opts, done) => {
    const { trading } = deps;
    const views = trading.views;
    const nowIso = (): string => isoOfUs(deps.nowUs?.() ?? Date.now() * 1000);
    const guard = deps.config.marketData.public
      ? undefined
      : authenticate(deps, ['viewer', 'trader', 'risk', 'admin']);

    app.get(
      '/api/v1/instruments',
      {
        schema: {
          summary: 'The instruments traded here, with their steps, limits and fee rates',
          response: { 200: Type.Object({ instruments: Type.Array(InstrumentResponse) }), ...ERRORS },
        },
        onRequest: guard,
      },
      () => ({ instruments: trading.instruments().map(instrumentJson) }),
    );

    app.get(
      '/api/v1/orderbook/:symbol',
      {
        schema: {
          summary: `The book's depth: up to ${HTTP_LIMITS.depthMax} levels a side (default ${HTTP_LIMITS.depthDefault})`,
          params: SymbolParams,
          querystring: DepthQuery,
          response: {
            200: Type.Object({
              symbol: Type.String(),
              bids: Type.Array(Pair),
              asks: Type.Array(Pair),
              sequence: Type.Integer(),
              timestamp: Type.String(),
            }),
            ...ERRORS,
          },
        },
        onRequest: guard,
      },
      (req) => {
        const inst = trading.instrumentBySymbol(req.params.symbol);
        const depth = Number(req.query.depth ?? HTTP_LIMITS.depthDefault);
        if (depth < 1 || depth > HTTP_LIMITS.depthMax) {
          throw validationErrorOf(`depth must be 1 to ${HTTP_LIMITS.depthMax}`, 'depth');
        }
        const book = views.depth(inst.spec.instrument, depth) ?? { bids: [], asks: [] };
        return {
          symbol: inst.spec.symbol,
          bids: book.bids.map((l) => levelJson(l, inst)),
          asks: book.asks.map((l) => levelJson(l, inst)),
          sequence: views.venue.lastSeq,
          timestamp: nowIso(),
        };
      },
    );

    app.get(
      '/api/v1/bbo/:symbol',
      {
        schema: {
          summary: 'The best bid and offer',
          params: SymbolParams,
          response: {
            200: Type.Object({
              symbol: Type.String(),
              bid_price: Nullable(Type.String()),
              bid_quantity: Nullable(Type.String()),
              ask_price: Nullable(Type.String()),
              ask_quantity: Nullable(Type.String()),
              sequence: Type.Integer(),
              timestamp: Type.String(),
            }),
            ...ERRORS,
          },
        },
        onRequest: guard,
      },
      (req) => {
        const inst = trading.instrumentBySymbol(req.params.symbol);
        const book = views.depth(inst.spec.instrument, 1) ?? { bids: [], asks: [] };
        const [bid] = book.bids;
        const [ask] = book.asks;
        return {
          symbol: inst.spec.symbol,
          bid_price: bid === undefined ? null : ticksToPrice(bid.priceTicks, inst),
          bid_quantity: bid === undefined ? null : lotsToQty(bid.qtyLots, inst),
          ask_price: ask === undefined ? null : ticksToPrice(ask.priceTicks, inst),
          ask_quantity: ask === undefined ? null : lotsToQty(ask.qtyLots, inst),
          sequence: views.venue.lastSeq,
          timestamp: nowIso(),
        };
      },
    );

    app.get(
      '/api/v1/trades/:symbol',
      {
        schema: {
          summary: `Recent trades, newest first (limit up to ${HTTP_LIMITS.tradesMax}; since: only trades with a higher trade id)`,
          params: SymbolParams,
          querystring: TradesQuery,
          response: {
            200: Type.Object({
              symbol: Type.String(),
              trades: Type.Array(
                Type.Object({
                  trade_id: Type.String(),
                  symbol: Type.String(),
                  price: Type.String(),
                  quantity: Type.String(),
                  aggressor_side: Type.String(),
                  maker_order_id: Type.String(),
                  taker_order_id: Type.String(),
                  timestamp: Type.String(),
                  sequence: Type.Integer(),
                }),
              ),
            }),
            ...ERRORS,
          },
        },
        onRequest: guard,
      },
      (req) => {
        const inst = trading.instrumentBySymbol(req.params.symbol);
        const limit = Number(req.query.limit ?? HTTP_LIMITS.tradesDefault);
        if (limit < 1 || limit > HTTP_LIMITS.tradesMax) {
          throw validationErrorOf(`limit must be 1 to ${HTTP_LIMITS.tradesMax}`, 'limit');
        }
        const since = Number(req.query.since ?? 0);
        return {
          symbol: inst.spec.symbol,
          trades: views.trades(inst.spec.instrument, limit, since).map((t) => tradeJson(t, inst)),
        };
      },
    );

    app.get(
      '/api/v1/statistics',
      {
        schema: { summary: "The venue's counters and each instrument's trading statistics" },
        onRequest: guard,
      },
      () => ({
        sequence: views.venue.lastSeq,
        orders_placed: views.venue.ordersPlaced,
        orders_rejected: views.venue.ordersRejected,
        open_orders: views.venue.openOrders,
        trades: views.venue.trades,
        instruments: trading.instruments().map((i) => {
          const s = views.stats(i.spec.instrument);
          const price = (t: number | undefined): string | null =>
            t === undefined || t === 0 ? null : ticksToPrice(t, i);
          return {
            symbol: i.spec.symbol,
            last_price: price(s?.lastPriceTicks),
            high: price(s?.highTicks),
            low: price(s?.lowTicks),
            trades: s?.trades ?? 0,
            volume: lotsToQty(s?.volumeLots ?? 0, i),
          };
        }),
        timestamp: nowIso(),
      }),
    );
    done();
  };

const validationErrorOf = (message: string, field: string) => validationError(message, { field });
