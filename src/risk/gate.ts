/**
 * The pre-trade checks of an order, as pure functions over numbers the core gathers. Each returns 0 or the
 * reject code of the first check that fails, in the order a venue applies them; none changes anything.
 */
import { RiskReject } from './codes.js';
import type { RiskLimits } from './limits.js';

/** What the gate needs to know about an order and its account; the core fills one object and reuses it. */
export interface OrderExposure {
  buy: boolean;
  /** Lots the order adds (for an amend: its new remaining quantity). */
  qty: number;
  /** Quantity × price in quote minor units, or NaN when it overflowed. */
  notional: number;
  /** Quote or base minor units the order needs held beyond what it holds already; NaN on overflow. */
  holdNeeded: number;
  /** The account's available balance in the hold's asset. */
  available: number;
  /** The account's open orders, not counting this one. */
  openOrders: number;
  /** Net position in the instrument, in lots. */
  position: number;
  /** Open quantity on the order's side in the instrument, not counting this order. */
  openSameSide: number;
  /** Price used to value exposure (limit or protection price), in ticks. */
  price: number;
  /** Quote minor units per lot per tick. */
  quoteScale: number;
  /** The account's equity in the quote asset; only read when a fraction limit is set. */
  equity: number;
  /** Loss since the start of the day (positive is a loss); only read when a daily limit is set. */
  dayLoss: number;
  /** Equity at the start of the day; only read when a fraction daily limit is set. */
  dayStartEquity: number;
}

export function newOrderExposure(): OrderExposure {
  return {
    buy: true,
    qty: 0,
    notional: 0,
    holdNeeded: 0,
    available: 0,
    openOrders: 0,
    position: 0,
    openSameSide: 0,
    price: 0,
    quoteScale: 1,
    equity: 0,
    dayLoss: 0,
    dayStartEquity: 0,
  };
}

/** Checks the limits and the funds of an order. */
export function checkOrder(x: OrderExposure, l: RiskLimits): number {
  if (Number.isNaN(x.notional) || Number.isNaN(x.holdNeeded)) return RiskReject.AmountOverflow;
  if (l.orderQtyMax > 0 && x.qty > l.orderQtyMax) return RiskReject.OrderQuantityAboveLimit;
  if (l.orderNotionalMax > 0 && x.notional > l.orderNotionalMax) return RiskReject.OrderNotionalAboveLimit;
  if (l.openOrdersMax > 0 && x.openOrders + 1 > l.openOrdersMax) return RiskReject.OpenOrdersAboveLimit;
  const exposure = exposureAfter(x);
  if (l.positionQtyMax > 0 && exposure > l.positionQtyMax) return RiskReject.PositionAboveLimit;
  if (l.positionEquityPpm > 0 && exposure > 0) {
    // exposure × price × scale ≤ equity × ppm / 1e6, compared without division.
    const value = exposure * x.price * x.quoteScale;
    if (x.equity <= 0 || value * 1e6 > x.equity * l.positionEquityPpm)
      return RiskReject.PositionAboveEquityFraction;
  }
  if (dailyLossBreached(x, l) && addsExposure(x)) return RiskReject.DailyLossLimitReached;
  if (x.holdNeeded > x.available) return RiskReject.InsufficientFunds;
  return 0;
}

/** Net exposure in lots after the order and the open orders on its side all fill, as a magnitude. */
export function exposureAfter(x: OrderExposure): number {
  const after = x.buy ? x.position + x.openSameSide + x.qty : x.position - x.openSameSide - x.qty;
  return Math.abs(after);
}

/** Whether filling the order (with the open orders on its side) leaves a larger exposure than now. */
export function addsExposure(x: OrderExposure): boolean {
  return exposureAfter(x) > Math.abs(x.position);
}

export function dailyLossBreached(x: OrderExposure, l: RiskLimits): boolean {
  if (l.dailyLossMax > 0 && x.dayLoss > l.dailyLossMax) return true;
  return l.dailyLossEquityPpm > 0 && x.dayLoss * 1e6 > Math.max(0, x.dayStartEquity) * l.dailyLossEquityPpm;
}

/** Whether a day's loss is past the emergency threshold. */
export function emergencyBreached(dayLoss: number, dayStartEquity: number, l: RiskLimits): boolean {
  if (l.emergencyLossMax > 0 && dayLoss > l.emergencyLossMax) return true;
  return (
    l.emergencyLossEquityPpm > 0 && dayLoss * 1e6 > Math.max(0, dayStartEquity) * l.emergencyLossEquityPpm
  );
}

/** Whether `price` lies within `bandBps` basis points of `reference` (no band when either is 0). */
export function withinBand(price: number, reference: number, bandBps: number): boolean {
  if (bandBps === 0 || reference === 0) return true;
  // |price - reference| × 10,000 ≤ reference × bandBps, in exact integers for prices below 2^39.
  return Math.abs(price - reference) * 10_000 <= reference * bandBps;
}
