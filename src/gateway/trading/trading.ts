/**
 * The trading service between the HTTP routes and the engine: it checks who may act for which account,
 * turns validated requests into core commands (decimal strings into ticks and lots), assigns order ids,
 * keeps client order ids idempotent (client-orders.ts), submits, awaits durability, and reads the answer
 * from the command's own records. Reads come from the views, which the engine updates before it resolves a
 * receipt, so an answer always shows the command it answers.
 */
import {
  CancelReason,
  CommandKind,
  EVENT_STRIDE,
  EventBuffer,
  EventType,
  F_A,
  F_B,
  OrderType,
  SelfTradePrevention,
  Side,
  TimeInForce,
} from '../../book/index.js';
import { AccountType, decodeRecord, type Command, type PlaceOrder } from '../../core/index.js';
import { EngineError, type EnginePort, type Receipt } from '../../engine/index.js';
import type { AssetConfig, InstrumentConfig, VenueConfig } from '../../ops/index.js';
import { ACCOUNT_ID_MAX, mayActFor, type Principal } from '../auth/index.js';
import type { InstrumentTable } from '../instruments/index.js';
import type { OrderView, Views } from '../views/index.js';
import type { ClientOrderIds, OrderEntry } from './order-entry.js';
import { ApiError, ErrorCode, invalidSymbol, orderNotFound, rejectError, validationError } from './errors.js';
import { amountToMinor, priceToTicks, qtyToLots, type Converted } from './units.js';

export const ORDER_TYPES = [
  'limit',
  'market',
  'ioc',
  'fok',
  'stop',
  'stop_limit',
  'take_profit',
  'take_profit_limit',
] as const;
export type ApiOrderType = (typeof ORDER_TYPES)[number];
export const TIME_IN_FORCE = ['gtc', 'ioc', 'fok', 'day', 'gtd'] as const;
export type ApiTimeInForce = (typeof TIME_IN_FORCE)[number];
export const STP_MODES = [
  'none',
  'cancel_incoming',
  'cancel_resting',
  'cancel_both',
  'decrement_both',
] as const;
export type ApiStp = (typeof STP_MODES)[number];

/** A place request after schema validation: strings still to convert, fields still to combine. */
export interface PlaceRequest {
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly orderType: ApiOrderType;
  readonly quantity: string;
  readonly price?: string;
  readonly triggerPrice?: string;
  readonly timeInForce?: ApiTimeInForce;
  readonly clientOrderId?: string;
  readonly accountId?: number;
  readonly postOnly?: boolean;
  readonly displayQuantity?: string;
  /** GTD's expiry, as an ISO 8601 time. */
  readonly expireTime?: string;
  readonly selfTradePrevention?: ApiStp;
}

export interface PlaceResult {
  readonly order: Readonly<OrderView>;
  /** False when a retry with the same client order id found the order placed before. */
  readonly created: boolean;
}

const BOOK_TYPE: Readonly<Record<ApiOrderType, OrderType>> = {
  limit: OrderType.Limit,
  market: OrderType.Market,
  ioc: OrderType.Limit,
  fok: OrderType.Limit,
  stop: OrderType.StopMarket,
  stop_limit: OrderType.StopLimit,
  take_profit: OrderType.TakeProfit,
  take_profit_limit: OrderType.TakeProfitLimit,
};
const BOOK_TIF: Readonly<Record<ApiTimeInForce, TimeInForce>> = {
  gtc: TimeInForce.GTC,
  ioc: TimeInForce.IOC,
  fok: TimeInForce.FOK,
  day: TimeInForce.DAY,
  gtd: TimeInForce.GTD,
};
const BOOK_STP: Readonly<Record<ApiStp, SelfTradePrevention>> = {
  none: SelfTradePrevention.None,
  cancel_incoming: SelfTradePrevention.CancelIncoming,
  cancel_resting: SelfTradePrevention.CancelResting,
  cancel_both: SelfTradePrevention.CancelBoth,
  decrement_both: SelfTradePrevention.DecrementBoth,
};
const NEEDS_PRICE: ReadonlySet<ApiOrderType> = new Set([
  'limit',
  'ioc',
  'fok',
  'stop_limit',
  'take_profit_limit',
]);
const NEEDS_TRIGGER: ReadonlySet<ApiOrderType> = new Set([
  'stop',
  'stop_limit',
  'take_profit',
  'take_profit_limit',
]);
const MARKET_LIKE: ReadonlySet<ApiOrderType> = new Set(['market', 'stop', 'take_profit']);

const DAY_US = 86_400_000_000;

function converted(c: Converted, field: string): number {
  if (!c.ok) throw validationError(c.problem, { field });
  return c.value;
}

/** The records of one command, decoded (the receipt's view of them). */
function recordsOf(events: Float64Array): ReturnType<typeof decodeRecord>[] {
  const buf = new EventBuffer(1);
  buf.data = events;
  buf.count = events.length / 16;
  const out = [];
  for (let i = 0; i < buf.count; i++) out.push(decodeRecord(buf, i));
  return out;
}

export class Trading {
  constructor(
    private readonly engine: EnginePort,
    readonly views: Views,
    /** Order ids and client order ids: beside the engine, wherever it runs (order-entry.ts). */
    private readonly entry: OrderEntry,
    readonly config: VenueConfig,
    /** The instruments and assets as the core has them (from its events, not the configuration). */
    readonly table: InstrumentTable,
  ) {}

  /** The client order id of each order placed with one (for presenting orders). */
  get clientOrders(): ClientOrderIds {
    return this.entry;
  }

  instrumentBySymbol(symbol: string): InstrumentConfig {
    const i = this.table.instrumentBySymbol(symbol);
    if (i === undefined) throw invalidSymbol(symbol);
    return i;
  }

  instrumentById(id: number): InstrumentConfig | undefined {
    return this.table.instrumentById(id);
  }

  instruments(): readonly InstrumentConfig[] {
    return this.table.instruments();
  }

  /** The account a request acts for: the one given (if the caller may act for it), or a trader's only one. */
  accountFor(p: Principal, accountId: number | undefined): number {
    if (accountId === undefined) {
      if (p.role === 'trader' && p.accountIds.length === 1) return p.accountIds[0];
      throw validationError('account_id is required (the key is not bound to exactly one account)', {
        field: 'account_id',
      });
    }
    if (!mayActFor(p, accountId)) {
      throw new ApiError(403, ErrorCode.Forbidden, `this key may not act for account ${accountId}`);
    }
    return accountId;
  }

  /**
   * An order the caller may see: its own accounts' for a trader, any for risk and admin. Another account's
   * order is "not found" rather than "forbidden", so that ids do not tell which orders exist.
   */
  visibleOrder(p: Principal, orderId: number): Readonly<OrderView> {
    const o = this.views.order(orderId);
    if (o === undefined || !mayActFor(p, o.accountId)) throw orderNotFound(orderId);
    return o;
  }

  async place(p: Principal, req: PlaceRequest, nowUs: number): Promise<PlaceResult> {
    const accountId = this.accountFor(p, req.accountId);
    const cmd = this.placeCommand(accountId, req, nowUs);
    const client = req.clientOrderId;
    let outcome;
    try {
      outcome = await this.entry.place(cmd, client);
    } catch (e) {
      throw unavailable(e);
    }
    if (outcome.receipt === null) {
      return { order: this.retried(outcome.orderId, cmd, client ?? ''), created: false };
    }
    const order = this.views.order(outcome.orderId);
    // The views saw the durable batch before the receipt resolved: the order is there, accepted or rejected.
    if (order === undefined) throw new Error(`order ${outcome.orderId} is durable but not in the views`);
    return { order, created: true };
  }

  async cancel(p: Principal, orderId: number): Promise<Readonly<OrderView>> {
    const o = this.visibleOrder(p, orderId);
    if (o.status !== 'pending' && o.status !== 'partially_filled') throw cannotCancel(o);
    const receipt = await this.submit({
      kind: 'cancelOrder',
      timeUs: 0,
      accountId: o.accountId,
      instrument: o.instrument,
      orderId,
    });
    const reject = orderReject(receipt.events(0), CommandKind.Cancel);
    if (reject !== 0) {
      const now = this.views.order(orderId);
      if (now !== undefined && now.status !== 'pending' && now.status !== 'partially_filled')
        throw cannotCancel(now);
      throw rejectError(reject, 'the cancel was refused', { order_id: String(orderId) });
    }
    return this.views.order(orderId) ?? o;
  }

  async amend(
    p: Principal,
    orderId: number,
    change: { price?: string; quantity?: string },
  ): Promise<Readonly<OrderView>> {
    const o = this.visibleOrder(p, orderId);
    const inst = this.table.instrumentById(o.instrument);
    if (inst === undefined) throw orderNotFound(orderId);
    if (change.price === undefined && change.quantity === undefined) {
      throw validationError('an amend changes price, quantity or both');
    }
    const price = change.price === undefined ? 0 : converted(priceToTicks(change.price, inst), 'price');
    const qty = change.quantity === undefined ? 0 : converted(qtyToLots(change.quantity, inst), 'quantity');
    if (o.status !== 'pending' && o.status !== 'partially_filled') {
      throw new ApiError(409, ErrorCode.OrderCannotBeAmended, `order ${orderId} is ${o.status}`, {
        order_id: String(orderId),
        status: o.status,
      });
    }
    const receipt = await this.submit({
      kind: 'amendOrder',
      timeUs: 0,
      accountId: o.accountId,
      instrument: o.instrument,
      orderId,
      price,
      qty,
      triggerPrice: 0,
    });
    const reject = orderReject(receipt.events(0), CommandKind.Amend);
    if (reject !== 0) throw rejectError(reject, 'the amend was refused', { order_id: String(orderId) });
    return this.views.order(orderId) ?? o;
  }

  /** Cancels the open orders of an account (or, for admin and risk without one, of every account). */
  async massCancel(
    p: Principal,
    filter: { accountId?: number; symbol?: string; side?: 'buy' | 'sell' },
  ): Promise<number> {
    const everyone = filter.accountId === undefined && (p.role === 'admin' || p.role === 'risk');
    const accountId = everyone ? 0 : this.accountFor(p, filter.accountId);
    const instrument =
      filter.symbol === undefined ? -1 : this.instrumentBySymbol(filter.symbol).spec.instrument;
    const side = filter.side === undefined ? -1 : filter.side === 'buy' ? Side.Buy : Side.Sell;
    const receipt = await this.submit({ kind: 'massCancel', timeUs: 0, accountId, instrument, side });
    const records = recordsOf(receipt.events(0));
    const rejected = records.find((e) => e?.type === 'CommandRejected' || e?.type === 'OrderRejected');
    if (rejected !== undefined) {
      const code =
        rejected.type === 'CommandRejected' || rejected.type === 'OrderRejected' ? rejected.code : 0;
      throw rejectError(code, 'the mass cancel was refused');
    }
    return records.filter((e) => e?.type === 'OrderCancelled' && e.reason === CancelReason.MassCancel).length;
  }

  async createAccount(accountId: number, marketMaker: boolean): Promise<void> {
    if (!(Number.isSafeInteger(accountId) && accountId >= 1 && accountId <= ACCOUNT_ID_MAX)) {
      throw validationError(`account_id must be 1 to ${ACCOUNT_ID_MAX}`, { field: 'account_id' });
    }
    const receipt = await this.submit({
      kind: 'createAccount',
      timeUs: 0,
      accountId,
      accountType: marketMaker ? AccountType.MarketMaker : AccountType.Customer,
    });
    this.throwCommandReject(receipt, `account ${accountId} was not created`);
  }

  /** A deposit (or withdrawal) of `amount` (a decimal string) of asset `code`; returns the minor units moved. */
  async transfer(
    kind: 'deposit' | 'withdraw',
    accountId: number,
    code: string,
    amount: string,
    ref: number,
  ): Promise<number> {
    const asset = this.table.assetByCode(code);
    if (asset === undefined)
      throw validationError(`unknown asset ${JSON.stringify(code)}`, { field: 'asset' });
    const minor = converted(amountToMinor(amount, asset.decimals), 'amount');
    const receipt = await this.submit({ kind, timeUs: 0, accountId, asset: asset.id, amount: minor, ref });
    this.throwCommandReject(receipt, `the ${kind} was refused`);
    return minor;
  }

  assetById(id: number): AssetConfig | undefined {
    return this.table.assetById(id);
  }

  private throwCommandReject(receipt: Receipt, message: string): void {
    for (const e of recordsOf(receipt.events(0))) {
      if (e?.type === 'CommandRejected') throw rejectError(e.code, message);
    }
  }

  private placeCommand(accountId: number, req: PlaceRequest, nowUs: number): PlaceOrder {
    const inst = this.instrumentBySymbol(req.symbol);
    const t = req.orderType;
    const qty = converted(qtyToLots(req.quantity, inst), 'quantity');
    let price = 0;
    if (NEEDS_PRICE.has(t)) {
      if (req.price === undefined) throw validationError(`a ${t} order needs a price`, { field: 'price' });
      price = converted(priceToTicks(req.price, inst), 'price');
    } else if (req.price !== undefined) {
      throw validationError(`a ${t} order takes no price`, { field: 'price' });
    }
    let trigger = 0;
    if (NEEDS_TRIGGER.has(t)) {
      if (req.triggerPrice === undefined) {
        throw validationError(`a ${t} order needs a trigger_price`, { field: 'trigger_price' });
      }
      trigger = converted(priceToTicks(req.triggerPrice, inst, 'trigger_price'), 'trigger_price');
    } else if (req.triggerPrice !== undefined) {
      throw validationError(`a ${t} order takes no trigger_price`, { field: 'trigger_price' });
    }
    const tif = this.timeInForce(req);
    const display =
      req.displayQuantity === undefined
        ? 0
        : converted(qtyToLots(req.displayQuantity, inst, 'display_quantity'), 'display_quantity');
    return {
      kind: 'placeOrder',
      timeUs: 0,
      accountId,
      instrument: inst.spec.instrument,
      orderId: 0,
      side: req.side === 'buy' ? Side.Buy : Side.Sell,
      type: BOOK_TYPE[t],
      tif: BOOK_TIF[tif],
      price,
      triggerPrice: trigger,
      qty,
      displayQty: display,
      postOnly: req.postOnly ?? false,
      stp: BOOK_STP[req.selfTradePrevention ?? 'none'],
      expireTimeUs: this.expiry(tif, req.expireTime, nowUs),
      // Set by the order entry, which owns client order ids; present from the start, so the shape stays one.
      clientOrderId: undefined,
    };
  }

  private timeInForce(req: PlaceRequest): ApiTimeInForce {
    const t = req.orderType;
    if (t === 'ioc' || t === 'fok') {
      if (req.timeInForce !== undefined && req.timeInForce !== t) {
        throw validationError(`order_type ${t} has time_in_force ${t}`, { field: 'time_in_force' });
      }
      return t;
    }
    // Market orders take what is there now: immediate or cancel unless told otherwise.
    return req.timeInForce ?? (MARKET_LIKE.has(t) && t === 'market' ? 'ioc' : 'gtc');
  }

  private expiry(tif: ApiTimeInForce, expireTime: string | undefined, nowUs: number): number {
    if (tif === 'gtd') {
      if (expireTime === undefined)
        throw validationError('a gtd order needs expire_time', { field: 'expire_time' });
      const ms = Date.parse(expireTime);
      if (!Number.isFinite(ms) || ms * 1000 <= nowUs) {
        throw validationError('expire_time must be an ISO 8601 time in the future', { field: 'expire_time' });
      }
      return ms * 1000;
    }
    if (expireTime !== undefined)
      throw validationError('expire_time is for gtd orders', { field: 'expire_time' });
    // A day order lives until the next midnight UTC: the venue's session ends then.
    return tif === 'day' ? (Math.floor(nowUs / DAY_US) + 1) * DAY_US : 0;
  }

  /** The order a retried client order id names, if the retry asks for the same thing. */
  private retried(orderId: number, cmd: PlaceOrder, client: string): Readonly<OrderView> {
    const o = this.views.order(orderId);
    if (o === undefined) {
      throw new ApiError(
        409,
        ErrorCode.ClientOrderIdConflict,
        `client_order_id ${client} names an order no longer kept`,
        {
          order_id: String(orderId),
        },
      );
    }
    // What an amend cannot change must match; price and quantity may have been amended since.
    if (o.instrument !== cmd.instrument || o.side !== cmd.side || o.type !== cmd.type || o.tif !== cmd.tif) {
      throw new ApiError(
        409,
        ErrorCode.ClientOrderIdConflict,
        `client_order_id ${client} names another order`,
        {
          order_id: String(orderId),
        },
      );
    }
    return o;
  }

  private async submit(cmd: Command): Promise<Receipt> {
    try {
      return await this.engine.submit([cmd]);
    } catch (e) {
      throw unavailable(e);
    }
  }
}

/** An engine's refusal as the API's 503; anything else as it is. */
function unavailable(e: unknown): unknown {
  if (e instanceof EngineError) {
    return new ApiError(503, ErrorCode.ServiceUnavailable, 'the engine cannot take commands now', {
      engine: e.code,
    });
  }
  return e;
}

function cannotCancel(o: Readonly<OrderView>): ApiError {
  return new ApiError(409, ErrorCode.OrderCannotBeCancelled, `order ${o.orderId} is ${o.status}`, {
    order_id: String(o.orderId),
    status: o.status,
  });
}

/** The reject code of an order command's OrderRejected record for `command`, or 0. */
function orderReject(events: Float64Array, command: number): number {
  // Read in place (a record's type is its first number): every cancel and amend asks, and decoding each of
  // its records into an object (ledger entries included) cost more than the answer.
  for (let at = 0; at < events.length; at += EVENT_STRIDE) {
    if (events[at] === EventType.OrderRejected && events[at + F_B] === command) return events[at + F_A];
  }
  return 0;
}
