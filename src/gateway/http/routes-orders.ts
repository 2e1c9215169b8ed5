/**
 * Orders: place (JSON body, or the same fields as query parameters), look up, cancel, amend, list the
 * caller's open orders and history, mass cancel. Each trading answer comes after the command is durable.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { ORDER_BUDGET_REFUSAL, takeBudgetNow } from '../limits/index.js';
import { ApiError, rejectError, rejectName, validationError } from '../trading/errors.js';
import { GatewayError } from './plugins/index.js';
import type { PlaceRequest } from '../trading/trading.js';
import type { OrderView } from '../views/index.js';
import { HTTP_LIMITS } from './limits.js';
import { fillJson, orderJson, orderJsonText, type OrderJson } from './present.js';
import {
  AmendBody,
  ERRORS,
  FillResponse,
  FillsQuery,
  MassCancelQuery,
  OrderIdParams,
  OrderResponse,
  OrdersQuery,
  PlaceBody,
} from './schemas.js';
import { authenticate, countedLimiter, principalOf, type ServerDeps } from './server.js';
import { Type } from 'typebox';

/** Query parameters of a place, turned into the body's types (the schema then checks them as a body). */
function queryAsBody(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...query };
  const account = out.account_id;
  if (typeof account === 'string' && /^[0-9]{1,7}$/.test(account)) out.account_id = Number(account);
  const postOnly = out.post_only;
  if (postOnly === 'true' || postOnly === 'false') out.post_only = postOnly === 'true';
  return out;
}

/** A validated place body as the trading service takes it (the WebSocket gateway's `place` too). */
export function placeRequest(b: PlaceBody): PlaceRequest {
  return {
    symbol: b.symbol,
    side: b.side,
    orderType: b.order_type,
    quantity: b.quantity,
    price: b.price,
    triggerPrice: b.trigger_price,
    timeInForce: b.time_in_force,
    clientOrderId: b.client_order_id,
    accountId: b.account_id,
    postOnly: b.post_only,
    displayQuantity: b.display_quantity,
    expireTime: b.expire_time,
    selfTradePrevention: b.self_trade_prevention,
  };
}

/**
 * How a placement ended, for `rialto_orders_total{result}`: accepted or rejected by the core, a retry of a
 * client order id already placed, refused by the gateway (rights, fields), rate limited, or a failure.
 */
type OrderResult = 'accepted' | 'rejected' | 'retried' | 'refused' | 'rate_limited' | 'error';

const orderIdOf = (req: { params: { id: string } }): number => Number(req.params.id);

/** The content type fastify gives a serialized JSON answer, for the answers written as text. */
const JSON_TYPE = 'application/json; charset=utf-8';

export const orderRoutes =
  (deps: ServerDeps): FastifyPluginCallbackTypebox =>
  (app, _opts, done) => {
    const { trading } = deps;
    const nowUs = deps.nowUs ?? (() => Date.now() * 1000);
    const present = (o: Readonly<OrderView>): OrderJson => {
      const inst = trading.instrumentById(o.instrument);
      if (inst === undefined) throw new Error(`order ${o.orderId} of unknown instrument ${o.instrument}`);
      return orderJson(o, inst, trading.clientOrders.clientOrderIdOf(o.orderId));
    };
    /**
     * An order as the answer, its JSON written as text (orderJsonText: the same bytes as the response schema's
     * serializer would write from `present`, without the object and the serializer in between).
     */
    const sendOrder = (reply: FastifyReply, status: number, o: Readonly<OrderView>): FastifyReply => {
      const inst = trading.instrumentById(o.instrument);
      if (inst === undefined) throw new Error(`order ${o.orderId} of unknown instrument ${o.instrument}`);
      const text = orderJsonText(o, inst, trading.clientOrders.clientOrderIdOf(o.orderId));
      return reply.code(status).type(JSON_TYPE).send(text);
    };
    const restAckLatency = deps.metrics?.orderAckLatency.series({ transport: 'rest' }) ?? null;
    const traders = authenticate(deps, ['trader', 'admin']);
    const orderLimiter = deps.limiters ? countedLimiter(deps.limiters.orders, deps.metrics) : null;
    /** One unit of the account's order budget (MAX_ORDERS_PER_SECOND), or 429 RATE_LIMITED; null: taken at once. */
    const takeOrderBudget = (accountId: number): Promise<void> | null =>
      orderLimiter === null ? null : takeBudgetNow(orderLimiter, String(accountId), ORDER_BUDGET_REFUSAL);
    const readers = authenticate(deps, ['trader', 'risk', 'admin']);
    const cancellers = authenticate(deps, ['trader', 'risk', 'admin']);

    app.post(
      '/api/v1/orders',
      {
        schema: {
          summary: 'Place an order (JSON body, or the same fields as query parameters)',
          body: PlaceBody,
          response: { 200: OrderResponse, 201: OrderResponse, ...ERRORS },
        },
        preValidation: (req, _reply, next) => {
          const query = req.query as Record<string, unknown>;
          const hasQuery = Object.keys(query).length > 0;
          if (req.body === undefined || req.body === null) {
            req.body = queryAsBody(query) as PlaceBody;
          } else if (hasQuery) {
            next(validationError('send the order in the body or in the query, not both'));
            return;
          }
          next();
        },
        onRequest: traders,
      },
      async (req, reply) => {
        const principal = principalOf(req);
        const request = placeRequest(req.body);
        const count = (result: OrderResult): void => {
          deps.metrics?.countOrder(request.orderType, result);
        };
        let result;
        try {
          const budget = takeOrderBudget(trading.accountFor(principal, request.accountId));
          if (budget !== null) await budget;
          result = await trading.place(principal, request, nowUs());
        } catch (e) {
          // Refused before the core saw it: the caller's rights, a limit, a bad field.
          const limited = e instanceof GatewayError && e.statusCode === 429;
          count(
            limited
              ? 'rate_limited'
              : e instanceof ApiError || e instanceof GatewayError
                ? 'refused'
                : 'error',
          );
          throw e;
        }
        // Acknowledged: the core accepted or rejected it, durably. From the request's arrival (fastify's
        // clock, `reply.elapsedTime`) to here; a retry answered from the views is no acknowledgement.
        if (result.created) restAckLatency?.observe(reply.elapsedTime / 1000);
        if (!result.created) count('retried');
        else if (result.order.status === 'rejected') {
          count('rejected');
          const code = result.order.rejectCode;
          if (code >= 3000 && code < 4000) deps.metrics?.riskRejects.inc({ code: rejectName(code) });
        } else count('accepted');
        if (result.order.status === 'rejected') {
          const json = present(result.order);
          throw rejectError(result.order.rejectCode, 'the order was rejected', { order: json });
        }
        return sendOrder(reply, result.created ? 201 : 200, result.order);
      },
    );

    app.get(
      '/api/v1/orders/:id',
      {
        schema: {
          summary: 'An order of the caller',
          params: OrderIdParams,
          response: { 200: OrderResponse, ...ERRORS },
        },
        onRequest: readers,
      },
      (req, reply) => {
        sendOrder(reply, 200, trading.visibleOrder(principalOf(req), orderIdOf(req)));
      },
    );

    app.delete(
      '/api/v1/orders/:id',
      {
        schema: {
          summary: 'Cancel an order',
          params: OrderIdParams,
          response: { 200: OrderResponse, ...ERRORS },
        },
        onRequest: cancellers,
      },
      async (req, reply) => sendOrder(reply, 200, await trading.cancel(principalOf(req), orderIdOf(req))),
    );

    app.patch(
      '/api/v1/orders/:id',
      {
        schema: {
          summary: 'Amend an order: a new price, a new total quantity, or both',
          params: OrderIdParams,
          body: AmendBody,
          response: { 200: OrderResponse, ...ERRORS },
        },
        onRequest: traders,
      },
      async (req, reply) => {
        const principal = principalOf(req);
        const orderId = orderIdOf(req);
        // An amend is an order command like a placement: it takes one unit of the order's account's budget
        // (after the caller's right to see the order is checked, so a refusal tells nothing of others').
        await takeOrderBudget(trading.visibleOrder(principal, orderId).accountId);
        return sendOrder(reply, 200, await trading.amend(principal, orderId, req.body));
      },
    );

    app.get(
      '/api/v1/orders',
      {
        schema: {
          summary: "The caller's open orders (status=open, the default) or recent orders of any status (all)",
          querystring: OrdersQuery,
          response: { 200: Type.Object({ orders: Type.Array(OrderResponse) }), ...ERRORS },
        },
        onRequest: readers,
      },
      (req) => {
        const p = principalOf(req);
        const limit = Math.min(Number(req.query.limit ?? HTTP_LIMITS.ordersDefault), HTTP_LIMITS.ordersMax);
        const asked = req.query.account_id === undefined ? undefined : Number(req.query.account_id);
        let accounts: readonly number[] | null;
        if (asked !== undefined) accounts = [trading.accountFor(p, asked)];
        else if (p.role === 'trader') accounts = p.accountIds;
        else accounts = null;
        if (req.query.status === 'all') {
          return { orders: trading.views.orderHistory(accounts, limit).map(present) };
        }
        if (accounts === null)
          throw validationError('account_id is required for open orders', { field: 'account_id' });
        const open = accounts.flatMap((a) => trading.views.openOrders(a));
        return { orders: open.slice(0, limit).map(present) };
      },
    );

    app.get(
      '/api/v1/fills',
      {
        schema: {
          summary:
            "The caller's recent fills, newest first (of one account, symbol or order, if given): price, " +
            'quantity, liquidity (maker, taker), fee and fee asset as settled in the ledger',
          querystring: FillsQuery,
          response: { 200: Type.Object({ fills: Type.Array(FillResponse) }), ...ERRORS },
        },
        onRequest: readers,
      },
      (req) => {
        const p = principalOf(req);
        const q = req.query;
        const limit = Math.min(Number(q.limit ?? HTTP_LIMITS.ordersDefault), HTTP_LIMITS.ordersMax);
        let accounts: readonly number[] | null;
        if (q.account_id !== undefined) accounts = [trading.accountFor(p, Number(q.account_id))];
        else if (p.role === 'trader') accounts = p.accountIds;
        else accounts = null;
        const orderId = q.order_id === undefined ? undefined : Number(q.order_id);
        // Another account's order is not found, as for GET /orders/{id}.
        if (orderId !== undefined) trading.visibleOrder(p, orderId);
        const instrument =
          q.symbol === undefined ? undefined : trading.instrumentBySymbol(q.symbol).spec.instrument;
        const fills = trading.views.fills(accounts, { instrument, orderId }, limit).map((f) => {
          const inst = trading.instrumentById(f.trade.instrument);
          if (inst === undefined) throw new Error(`trade ${f.trade.tradeId} of unknown instrument`);
          return fillJson(f.trade, inst, f.liquidity);
        });
        return { fills };
      },
    );

    app.delete(
      '/api/v1/orders',
      {
        schema: {
          summary: "Cancel the caller's open orders (of one symbol or side, if given)",
          querystring: MassCancelQuery,
          response: { 200: Type.Object({ cancelled: Type.Integer() }), ...ERRORS },
        },
        onRequest: cancellers,
      },
      async (req) => {
        const q = req.query;
        const cancelled = await trading.massCancel(principalOf(req), {
          accountId: q.account_id === undefined ? undefined : Number(q.account_id),
          symbol: q.symbol,
          side: q.side,
        });
        return { cancelled };
      },
    );
    done();
  };
