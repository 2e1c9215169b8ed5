/**
 * How the gateway shows its values: orders, trades and levels with decimal strings for prices and
 * quantities, lower-case names for enums, ISO 8601 times. The response schemas (schemas.ts) list exactly
 * these fields, so nothing internal leaks.
 */
import { CancelReason, OrderType, Side, TimeInForce, isMarketType } from '../../book/index.js';
import { TextBytes } from '../../collections/index.js';
import type { InstrumentConfig } from '../../ops/index.js';
import { rejectName } from '../trading/errors.js';
import { averagePrice, lotsToQty, minorToAmount, ticksToPrice } from '../trading/units.js';
import type { Level, OrderView, TradeView } from '../views/index.js';

/**
 * The last time formatted, and its millisecond: acks and feeds format the same few times over and over. A
 * cancel's acknowledgement shows two (the order's creation, seconds before, and now): the texts up to the
 * second are kept too, for the last 64 seconds by slot, so that the creation's costs a concatenation, not a
 * `Date` and its formatting.
 */
let isoMs = Number.NaN;
let isoText = '';
const ISO_SECOND_SLOTS = 64;
const isoSecondOf = new Float64Array(ISO_SECOND_SLOTS).fill(Number.NaN);
const isoSecondText: string[] = new Array<string>(ISO_SECOND_SLOTS).fill('');
/** `.mmmZ` for each millisecond of a second. */
const ISO_MS_SUFFIX: readonly string[] = Array.from(
  { length: 1000 },
  (_, i) => `.${String(i).padStart(3, '0')}Z`,
);

/** The ISO 8601 text of a time in microseconds, as `new Date(Math.floor(us / 1000)).toISOString()`. */
export function isoOfUs(us: number): string {
  const ms = Math.floor(us / 1000);
  if (ms === isoMs) return isoText;
  const second = Math.floor(ms / 1000);
  const text = isoSecondTextOf(second) + ISO_MS_SUFFIX[ms - second * 1000];
  isoMs = ms;
  isoText = text;
  return text;
}

/** `isoOfUs(us)` written into `w`, its two parts as they are (without the string joining them). */
function writeIsoOfUs(w: TextBytes, us: number): void {
  const ms = Math.floor(us / 1000);
  if (ms === isoMs) {
    w.text(isoText);
    return;
  }
  const second = Math.floor(ms / 1000);
  w.text(isoSecondTextOf(second));
  w.text(ISO_MS_SUFFIX[ms - second * 1000]);
}

/** The ISO 8601 text of a time in whole seconds, up to the second (kept by slot). */
function isoSecondTextOf(second: number): string {
  const slot = second & (ISO_SECOND_SLOTS - 1);
  if (isoSecondOf[slot] !== second) {
    // Every text of a valid time ends in `.mmmZ` (years past 9999 are longer at the start, not the end).
    isoSecondText[slot] = new Date(second * 1000).toISOString().slice(0, -5);
    isoSecondOf[slot] = second;
  }
  return isoSecondText[slot];
}

const TYPE_NAME: Readonly<Record<number, string>> = {
  [OrderType.Limit]: 'limit',
  [OrderType.Market]: 'market',
  [OrderType.StopMarket]: 'stop',
  [OrderType.StopLimit]: 'stop_limit',
  [OrderType.TakeProfit]: 'take_profit',
  [OrderType.TakeProfitLimit]: 'take_profit_limit',
};
/**
 * The order's limit price, or null: market types take no price from the client, and the price the core keeps
 * for them is its protection price (the worst it lets the order trade at), not one the order was given.
 */
function limitPriceTicks(o: Readonly<OrderView>): number {
  return isMarketType(o.type) ? 0 : o.priceTicks;
}

const TIF_NAME: Readonly<Record<number, string>> = {
  [TimeInForce.GTC]: 'gtc',
  [TimeInForce.IOC]: 'ioc',
  [TimeInForce.FOK]: 'fok',
  [TimeInForce.DAY]: 'day',
  [TimeInForce.GTD]: 'gtd',
};
const CANCEL_NAME: Readonly<Record<number, string>> = {
  [CancelReason.Requested]: 'requested',
  [CancelReason.MassCancel]: 'mass_cancel',
  [CancelReason.ImmediateRemainder]: 'immediate_remainder',
  [CancelReason.NoLiquidity]: 'no_liquidity',
  [CancelReason.FillOrKill]: 'fill_or_kill',
  [CancelReason.SelfTrade]: 'self_trade',
  [CancelReason.PriceBand]: 'price_band',
};

export const sideName = (s: number): 'buy' | 'sell' => (s === Side.Buy ? 'buy' : 'sell');

export interface OrderJson {
  order_id: string;
  client_order_id: string | null;
  account_id: number;
  symbol: string;
  side: 'buy' | 'sell';
  order_type: string | null;
  time_in_force: string | null;
  /** A DAY or GTD order's expiry; null for the other times in force. */
  expire_time: string | null;
  price: string | null;
  trigger_price: string | null;
  quantity: string;
  filled_quantity: string;
  remaining_quantity: string;
  average_price: string | null;
  /** The fees of its fills so far, in fee_asset (the quote asset); negative: a rebate received. */
  fee: string;
  fee_asset: string;
  status: string;
  reject_reason: string | null;
  cancel_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** The fee of an order's fills: what it paid beyond their value (a buy) or kept back of it (a sell). */
/** "0.000000" and the like, by the asset's decimals: the fee of every order without fills, on every ack. */
const zeroAmounts: string[] = [];

export function orderFee(o: Readonly<OrderView>, inst: InstrumentConfig): string {
  if (o.filledLots === 0) return (zeroAmounts[inst.quoteDecimals] ??= minorToAmount(0, inst.quoteDecimals));
  const value = o.notional * BigInt(inst.spec.quoteScale);
  const settled = BigInt(o.settledMinor);
  const fee = o.side === Side.Buy ? settled - value : value - settled;
  return minorToAmount(Number(fee), inst.quoteDecimals);
}

/** The fee one side of a trade paid (negative: a rebate), in minor units of the quote asset. */
export function tradeFeeMinor(t: TradeView, inst: InstrumentConfig, buyer: boolean): number {
  const value = t.priceTicks * t.qtyLots * inst.spec.quoteScale;
  return buyer ? t.buyerPaidMinor - value : value - t.sellerNetMinor;
}

/**
 * The decimal texts of one instrument's prices and quantities by their integer value: orders show the same
 * few prices and quantities over and over (every ack carries four or five), and formatting one through
 * BigInt cost more than the rest of the ack. Bounded: a map that reaches `DECIMAL_TEXTS_MAX` starts over.
 * Keyed by the instrument's configuration object, which is replaced, never changed, when the instrument is.
 */
class DecimalTexts {
  private readonly prices = new Map<number, string>();
  private readonly qtys = new Map<number, string>();

  constructor(private readonly inst: InstrumentConfig) {}

  price(ticks: number): string {
    let text = this.prices.get(ticks);
    if (text === undefined) {
      text = ticksToPrice(ticks, this.inst);
      if (this.prices.size >= DECIMAL_TEXTS_MAX) this.prices.clear();
      this.prices.set(ticks, text);
    }
    return text;
  }

  qty(lots: number): string {
    let text = this.qtys.get(lots);
    if (text === undefined) {
      text = lotsToQty(lots, this.inst);
      if (this.qtys.size >= DECIMAL_TEXTS_MAX) this.qtys.clear();
      this.qtys.set(lots, text);
    }
    return text;
  }
}

const DECIMAL_TEXTS_MAX = 4_096;
const decimalTexts = new WeakMap<InstrumentConfig, DecimalTexts>();

function textsOf(inst: InstrumentConfig): DecimalTexts {
  let texts = decimalTexts.get(inst);
  if (texts === undefined) {
    texts = new DecimalTexts(inst);
    decimalTexts.set(inst, texts);
  }
  return texts;
}

export function orderJson(
  o: Readonly<OrderView>,
  inst: InstrumentConfig,
  clientOrderId: string | null,
): OrderJson {
  const texts = textsOf(inst);
  const limit = limitPriceTicks(o);
  return {
    order_id: String(o.orderId),
    client_order_id: clientOrderId,
    account_id: o.accountId,
    symbol: inst.spec.symbol,
    side: sideName(o.side),
    order_type: TYPE_NAME[o.type] ?? null,
    time_in_force: TIF_NAME[o.tif] ?? null,
    expire_time: o.expireTimeUs > 0 ? isoOfUs(o.expireTimeUs) : null,
    price: limit > 0 ? texts.price(limit) : null,
    trigger_price: o.triggerPriceTicks > 0 ? texts.price(o.triggerPriceTicks) : null,
    quantity: texts.qty(o.qtyLots),
    filled_quantity: texts.qty(o.filledLots),
    remaining_quantity: texts.qty(o.remainingLots),
    average_price: averagePrice(o.notional, o.filledLots, inst),
    fee: orderFee(o, inst),
    fee_asset: inst.quoteCode,
    status: o.status,
    reject_reason: o.rejectCode === 0 ? null : rejectName(o.rejectCode),
    cancel_reason: o.cancelReason === 0 ? null : (CANCEL_NAME[o.cancelReason] ?? null),
    created_at: isoOfUs(o.createdUs),
    updated_at: isoOfUs(o.updatedUs),
  };
}

/** The instruments' symbols as JSON strings, quoted once. */
const quotedSymbols = new WeakMap<InstrumentConfig, string>();

function quotedSymbol(inst: InstrumentConfig): string {
  let q = quotedSymbols.get(inst);
  if (q === undefined) {
    q = JSON.stringify(inst.spec.symbol);
    quotedSymbols.set(inst, q);
  }
  return q;
}

/** `"text"` (a text made here, which needs no escaping) or `null`. */
function writeQuotedOrNull(w: TextBytes, text: string | null): void {
  if (text === null) {
    w.text('null');
    return;
  }
  w.text('"');
  w.text(text);
  w.text('"');
}

/** Where `orderJsonText` writes (never reentered: writing an order calls nothing that writes one). */
const orderText = new TextBytes(2048);

/**
 * `JSON.stringify(orderJson(o, inst, clientOrderId))`, written directly: the same text, field for field,
 * without the object in between (an order rides on every acknowledgement, the API's hottest answer).
 * Quoted without escaping are only texts made here: names from the tables above, decimal strings and ISO
 * times; the client order id and the symbol are written as JSON.stringify writes them. test/gateway/present.test.ts
 * checks the two against each other.
 */
export function orderJsonText(
  o: Readonly<OrderView>,
  inst: InstrumentConfig,
  clientOrderId: string | null,
): string {
  const w = orderText.reset();
  writeOrderJson(w, o, inst, clientOrderId);
  return w.toString();
}

/**
 * `orderJsonText(o, inst, clientOrderId)` written into `w` (an acknowledgement's text, say), piece by piece:
 * joining its forty-odd pieces as strings made a string per piece, then a flat copy of the whole.
 */
export function writeOrderJson(
  w: TextBytes,
  o: Readonly<OrderView>,
  inst: InstrumentConfig,
  clientOrderId: string | null,
): void {
  const texts = textsOf(inst);
  w.text('{"order_id":"');
  w.int(o.orderId);
  w.text('","client_order_id":');
  w.jsonOrNull(clientOrderId);
  w.text(',"account_id":');
  w.int(o.accountId);
  w.text(',"symbol":');
  w.text(quotedSymbol(inst));
  w.text(o.side === Side.Buy ? ',"side":"buy"' : ',"side":"sell"');
  w.text(',"order_type":');
  writeQuotedOrNull(w, TYPE_NAME[o.type] ?? null);
  w.text(',"time_in_force":');
  writeQuotedOrNull(w, TIF_NAME[o.tif] ?? null);
  w.text(',"expire_time":');
  writeQuotedOrNull(w, o.expireTimeUs > 0 ? isoOfUs(o.expireTimeUs) : null);
  w.text(',"price":');
  const limit = limitPriceTicks(o);
  writeQuotedOrNull(w, limit > 0 ? texts.price(limit) : null);
  w.text(',"trigger_price":');
  writeQuotedOrNull(w, o.triggerPriceTicks > 0 ? texts.price(o.triggerPriceTicks) : null);
  w.text(',"quantity":"');
  w.text(texts.qty(o.qtyLots));
  w.text('","filled_quantity":"');
  w.text(texts.qty(o.filledLots));
  w.text('","remaining_quantity":"');
  w.text(texts.qty(o.remainingLots));
  w.text('","average_price":');
  writeQuotedOrNull(w, averagePrice(o.notional, o.filledLots, inst));
  w.text(',"fee":"');
  w.text(orderFee(o, inst));
  w.text('","fee_asset":');
  w.json(inst.quoteCode);
  w.text(',"status":"');
  w.text(o.status);
  w.text('","reject_reason":');
  w.jsonOrNull(o.rejectCode === 0 ? null : rejectName(o.rejectCode));
  w.text(',"cancel_reason":');
  writeQuotedOrNull(w, o.cancelReason === 0 ? null : (CANCEL_NAME[o.cancelReason] ?? null));
  w.text(',"created_at":"');
  writeIsoOfUs(w, o.createdUs);
  w.text('","updated_at":"');
  writeIsoOfUs(w, o.updatedUs);
  w.text('"}');
}

export interface TradeJson {
  trade_id: string;
  symbol: string;
  price: string;
  quantity: string;
  aggressor_side: 'buy' | 'sell';
  maker_order_id: string;
  taker_order_id: string;
  timestamp: string;
  sequence: number;
}

export function tradeJson(t: TradeView, inst: InstrumentConfig): TradeJson {
  return {
    trade_id: String(t.tradeId),
    symbol: inst.spec.symbol,
    price: ticksToPrice(t.priceTicks, inst),
    quantity: lotsToQty(t.qtyLots, inst),
    aggressor_side: sideName(t.aggressorSide),
    maker_order_id: String(t.makerOrderId),
    taker_order_id: String(t.takerOrderId),
    timestamp: isoOfUs(t.timeUs),
    sequence: t.seq,
  };
}

export const levelJson = (l: Level, inst: InstrumentConfig): [string, string] => [
  ticksToPrice(l.priceTicks, inst),
  lotsToQty(l.qtyLots, inst),
];

/** One side of a trade, as the account on that side sees it: a fill, with the fee it paid. */
export interface FillJson {
  trade_id: string;
  order_id: string;
  account_id: number;
  symbol: string;
  side: 'buy' | 'sell';
  price: string;
  quantity: string;
  liquidity: 'maker' | 'taker';
  /** The fee of this fill in fee_asset (the quote asset), as the ledger settled it; negative: a rebate. */
  fee: string;
  fee_asset: string;
  timestamp: string;
}

export function fillJson(t: TradeView, inst: InstrumentConfig, liquidity: 'maker' | 'taker'): FillJson {
  const taker = liquidity === 'taker';
  // The taker's side is the aggressor's; the maker was on the other side.
  const side = taker ? t.aggressorSide : 1 - t.aggressorSide;
  return {
    trade_id: String(t.tradeId),
    order_id: String(taker ? t.takerOrderId : t.makerOrderId),
    account_id: taker ? t.takerAccountId : t.makerAccountId,
    symbol: inst.spec.symbol,
    side: sideName(side),
    price: ticksToPrice(t.priceTicks, inst),
    quantity: lotsToQty(t.qtyLots, inst),
    liquidity,
    fee: minorToAmount(tradeFeeMinor(t, inst, side === Side.Buy), inst.quoteDecimals),
    fee_asset: inst.quoteCode,
    timestamp: isoOfUs(t.timeUs),
  };
}
