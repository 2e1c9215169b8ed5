/**
 * The order book's vocabulary. Every price and quantity here is an integer: a price in the instrument's price
 * unit (its smallest tick), a quantity in its quantity unit (its smallest lot). Decimal strings exist only at
 * the API boundary; the book never sees a float. Times are integers in microseconds since the epoch, and they
 * only ever come in with a command: the book reads no clock.
 */

export const Side = { Buy: 0, Sell: 1 } as const;
export type Side = (typeof Side)[keyof typeof Side];

export const OrderType = {
  Limit: 1,
  Market: 2,
  /** Market order once the last trade reaches the trigger (buy: at or above, sell: at or below). */
  StopMarket: 3,
  /** Limit order once the last trade reaches the trigger (as for StopMarket). */
  StopLimit: 4,
  /** Market order once the last trade reaches the trigger from the other side (buy: at or below, sell: at or above). */
  TakeProfit: 5,
  /** Limit order once the last trade reaches the trigger (as for TakeProfit). */
  TakeProfitLimit: 6,
} as const;
export type OrderType = (typeof OrderType)[keyof typeof OrderType];

export const TimeInForce = {
  /** Good till cancelled. */
  GTC: 1,
  /** Immediate or cancel: fill what crosses now, cancel the rest. */
  IOC: 2,
  /** Fill or kill: fill the whole quantity now or nothing at all. */
  FOK: 3,
  /** Good for the day: expires at the expiry time the command carries (the end of the session). */
  DAY: 4,
  /** Good till date: expires at the expiry time the command carries. */
  GTD: 5,
} as const;
export type TimeInForce = (typeof TimeInForce)[keyof typeof TimeInForce];

/** Market, stop (market) and take-profit (market) orders: they take no limit price. */
export function isMarketType(type: number): boolean {
  return type === OrderType.Market || type === OrderType.StopMarket || type === OrderType.TakeProfit;
}

/** `x` when it names an order type, else 0: a refused command may carry any number. */
export function knownOrderType(x: number): OrderType | 0 {
  return Number.isInteger(x) && x >= OrderType.Limit && x <= OrderType.TakeProfitLimit ? (x as OrderType) : 0;
}

/** `x` when it names a time in force, else 0: a refused command may carry any number. */
export function knownTimeInForce(x: number): TimeInForce | 0 {
  return Number.isInteger(x) && x >= TimeInForce.GTC && x <= TimeInForce.GTD ? (x as TimeInForce) : 0;
}

/** What happens when an incoming order would trade with a resting order of the same owner. */
export const SelfTradePrevention = {
  /** Self trades are allowed. */
  None: 0,
  CancelIncoming: 1,
  CancelResting: 2,
  CancelBoth: 3,
  /** Reduce both orders by the smaller quantity, without a trade; an order reduced to zero is cancelled. */
  DecrementBoth: 4,
} as const;
export type SelfTradePrevention = (typeof SelfTradePrevention)[keyof typeof SelfTradePrevention];

/** Why an order's remaining quantity left the book other than by a fill or an expiry. */
export const CancelReason = {
  /** The owner (or an operator on the owner's behalf) cancelled it. */
  Requested: 1,
  MassCancel: 2,
  /** An IOC or FOK limit order's unfilled remainder. */
  ImmediateRemainder: 3,
  /**
   * A market order (or a triggered stop-market or take-profit) found no more liquidity, or none inside its
   * protection price.
   */
  NoLiquidity: 4,
  /** A fill-or-kill order could not be filled in full. */
  FillOrKill: 5,
  SelfTrade: 6,
  /** A market order stopped at the edge of the price band. */
  PriceBand: 7,
} as const;
export type CancelReason = (typeof CancelReason)[keyof typeof CancelReason];

/** Marks a command as coming from an operator: ownership is not checked. */
export const ANY_OWNER = -1;

/** A new order. Callers on a hot path may reuse one object: the book copies what it keeps. */
export interface PlaceOrder {
  /** Unique among live orders; the core assigns ids and never reuses them. A positive safe integer. */
  orderId: number;
  /** The account that owns the order: an integer from 0 to 2^31 - 1. */
  owner: number;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  /** Limit price; for market types 0, or a protection price the order will not trade through. */
  price: number;
  /** Trigger price for stop and take-profit types, else 0. */
  triggerPrice: number;
  qty: number;
  /** Iceberg: the visible slice, refilled from the hidden rest at the back of the queue; 0 for fully visible. */
  displayQty: number;
  /** Rejected rather than taking liquidity. */
  postOnly: boolean;
  stp: SelfTradePrevention;
  /** Expiry time for DAY and GTD (microseconds), else 0. */
  expireTimeUs: number;
  timeUs: number;
}

/**
 * A good-till-cancelled limit order with every option off and every number 0: a template for callers that
 * fill in one command object and reuse it (a replay, a benchmark, a decoder on the hot path).
 */
export function newPlaceOrder(): PlaceOrder {
  return {
    orderId: 0,
    owner: 0,
    side: Side.Buy,
    type: OrderType.Limit,
    tif: TimeInForce.GTC,
    price: 0,
    triggerPrice: 0,
    qty: 0,
    displayQty: 0,
    postOnly: false,
    stp: SelfTradePrevention.None,
    expireTimeUs: 0,
    timeUs: 0,
  };
}

/** A change to a live order. A field left at 0 keeps its current value. */
export interface AmendOrder {
  orderId: number;
  /** The owner who asks, or ANY_OWNER for an operator. */
  owner: number;
  /** New limit price, or 0. */
  price: number;
  /**
   * New total quantity (filled plus remaining, as in FIX), or 0. Must exceed what is already filled. A decrease
   * keeps time priority; an increase loses it.
   */
  qty: number;
  /** New trigger price of a pending stop, or 0. */
  triggerPrice: number;
  timeUs: number;
}

/** Instrument rules the book enforces. Sizes are in the book's integer units. */
export interface InstrumentRules {
  /** Prices must be a multiple of this (>= 1). */
  tickSize: number;
  /** Quantities must be a multiple of this (>= 1). */
  lotSize: number;
  qtyMin: number;
  qtyMax: number;
  /** Limit prices must lie within this many basis points of the reference price; 0 disables the band. */
  priceBandBps: number;
  /** When true the reference price follows the last trade price; else only setReferencePrice changes it. */
  referenceFollowsLastTrade: boolean;
}

export const DEFAULT_RULES: Readonly<InstrumentRules> = Object.freeze({
  tickSize: 1,
  lotSize: 1,
  qtyMin: 1,
  qtyMax: Number.MAX_SAFE_INTEGER,
  priceBandBps: 0,
  referenceFollowsLastTrade: false,
});

/** What a query returns for a live order. */
export interface OrderView {
  orderId: number;
  owner: number;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  price: number;
  triggerPrice: number;
  /** Remaining quantity, visible plus hidden. */
  qtyLeft: number;
  qtyVisible: number;
  qtyFilled: number;
  displayQty: number;
  postOnly: boolean;
  stp: SelfTradePrevention;
  expireTimeUs: number;
  /** Order of arrival in its queue: lower is earlier. */
  priority: number;
  /** True while a stop or take-profit waits for its trigger. */
  pendingTrigger: boolean;
}

export interface LevelView {
  price: number;
  /** Total visible quantity. */
  qty: number;
  orders: number;
}

export interface BestBidOffer {
  /** 0 when the side is empty. */
  bidPrice: number;
  bidQty: number;
  askPrice: number;
  askQty: number;
}
