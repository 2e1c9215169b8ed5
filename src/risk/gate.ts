/**
 * The pre-trade checks of an order, as pure functions over numbers the core gathers. Each returns 0 or the
 * reject code of the first check that fails, in the order a venue applies them; none changes anything.
 */
import * as codes from './codes.js';
import * as limits from './limits.js';
import type { RiskLimits } from './limits.js';

// Module-local copies: V8 reads an imported binding through its module cell on every use, and compiles a
// property of a frozen module-local object to an immediate.
const RiskReject = Object.freeze({ ...codes.RiskReject });
// The row offsets as plain numbers, not a frozen copy of LimitField: that object has the shape of a RiskLimits
// object (the same keys in the same order), shares its hidden class, and so its fields are not constants to the
// compiler (measured: a load per use, and a boxed number for most).
const QTY_MAX = limits.LimitField.orderQtyMax;
const NOTIONAL_MAX = limits.LimitField.orderNotionalMax;
const OPEN_ORDERS_MAX = limits.LimitField.openOrdersMax;
const POSITION_QTY_MAX = limits.LimitField.positionQtyMax;
const POSITION_EQUITY_PPM = limits.LimitField.positionEquityPpm;
const DAILY_LOSS_MAX = limits.LimitField.dailyLossMax;
const DAILY_LOSS_EQUITY_PPM = limits.LimitField.dailyLossEquityPpm;
const EMERGENCY_LOSS_MAX = limits.LimitField.emergencyLossMax;
const EMERGENCY_LOSS_EQUITY_PPM = limits.LimitField.emergencyLossEquityPpm;
/** A row for the checks that take a limits object. */
const scratchRow = new Float64Array(limits.RISK_LIMIT_FIELDS);

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
  return checkOrderRow(x, rowOf(l), 0);
}

/** checkOrder with the limits read from `rows` at `at` (a RiskLimitTable row). */
export function checkOrderRow(x: OrderExposure, rows: Float64Array, at: number): number {
  return checkOrderValues(
    rows,
    at,
    x.buy,
    x.qty,
    x.notional,
    x.holdNeeded,
    x.available,
    x.openOrders,
    x.position,
    x.openSameSide,
    x.price,
    x.quoteScale,
    x.equity,
    x.dayLoss,
    x.dayStartEquity,
  );
}

/**
 * checkOrderRow over the exposure's numbers as arguments (OrderExposure's fields, in its order). The core's
 * order path calls this: inlined, its inputs stay in registers instead of being stored into an object and
 * read back.
 */
export function checkOrderValues(
  rows: Float64Array,
  at: number,
  buy: boolean,
  qty: number,
  notional: number,
  holdNeeded: number,
  available: number,
  openOrders: number,
  position: number,
  openSameSide: number,
  price: number,
  quoteScale: number,
  equity: number,
  dayLoss: number,
  dayStartEquity: number,
): number {
  if (Number.isNaN(notional) || Number.isNaN(holdNeeded)) return RiskReject.AmountOverflow;
  const qtyMax = rows[at + QTY_MAX];
  if (qtyMax > 0 && qty > qtyMax) return RiskReject.OrderQuantityAboveLimit;
  const notionalMax = rows[at + NOTIONAL_MAX];
  if (notionalMax > 0 && notional > notionalMax) return RiskReject.OrderNotionalAboveLimit;
  const openMax = rows[at + OPEN_ORDERS_MAX];
  if (openMax > 0 && openOrders + 1 > openMax) return RiskReject.OpenOrdersAboveLimit;
  const exposure = netExposure(buy, position, openSameSide, qty);
  const positionMax = rows[at + POSITION_QTY_MAX];
  if (positionMax > 0 && exposure > positionMax) return RiskReject.PositionAboveLimit;
  const positionPpm = rows[at + POSITION_EQUITY_PPM];
  if (positionPpm > 0 && exposure > 0) {
    // exposure × price × scale ≤ equity × ppm / 1e6, compared without division.
    const value = exposure * price * quoteScale;
    if (equity <= 0 || value * 1e6 > equity * positionPpm) return RiskReject.PositionAboveEquityFraction;
  }
  if (
    dailyLossBreachedValues(dayLoss, dayStartEquity, rows, at) &&
    exposure > Math.abs(position) // the order adds exposure
  )
    return RiskReject.DailyLossLimitReached;
  if (holdNeeded > available) return RiskReject.InsufficientFunds;
  return 0;
}

// netExposure and dailyLossBreachedValues are module-local `const` functions, so that checkOrderValues (on the
// core's order path) inlines them without loading and checking a binding at each call: a function declaration
// is a mutable binding (loaded from the module context), an exported one is read through its module cell.
const netExposure = (buy: boolean, position: number, openSameSide: number, qty: number): number =>
  Math.abs(buy ? position + openSameSide + qty : position - openSameSide - qty);

/** Net exposure in lots after an order of `qty` and the open orders on its side all fill, as a magnitude. */
export const exposureOf = netExposure;

/** Net exposure in lots after the order and the open orders on its side all fill, as a magnitude. */
export function exposureAfter(x: OrderExposure): number {
  return exposureOf(x.buy, x.position, x.openSameSide, x.qty);
}

/** Whether filling the order (with the open orders on its side) leaves a larger exposure than now. */
export function addsExposure(x: OrderExposure): boolean {
  return exposureAfter(x) > Math.abs(x.position);
}

export function dailyLossBreached(x: OrderExposure, l: RiskLimits): boolean {
  return dailyLossBreachedRow(x, rowOf(l), 0);
}

function dailyLossBreachedRow(x: OrderExposure, rows: Float64Array, at: number): boolean {
  return dailyLossBreachedValues(x.dayLoss, x.dayStartEquity, rows, at);
}

const dailyLossBreachedValues = (
  dayLoss: number,
  dayStartEquity: number,
  rows: Float64Array,
  at: number,
): boolean => {
  const max = rows[at + DAILY_LOSS_MAX];
  if (max > 0 && dayLoss > max) return true;
  const ppm = rows[at + DAILY_LOSS_EQUITY_PPM];
  return ppm > 0 && dayLoss * 1e6 > Math.max(0, dayStartEquity) * ppm;
};

/** Whether a day's loss is past the emergency threshold. */
export function emergencyBreached(dayLoss: number, dayStartEquity: number, l: RiskLimits): boolean {
  return emergencyBreachedRow(dayLoss, dayStartEquity, rowOf(l), 0);
}

/** emergencyBreached with the limits read from `rows` at `at`. */
export function emergencyBreachedRow(
  dayLoss: number,
  dayStartEquity: number,
  rows: Float64Array,
  at: number,
): boolean {
  const max = rows[at + EMERGENCY_LOSS_MAX];
  if (max > 0 && dayLoss > max) return true;
  const ppm = rows[at + EMERGENCY_LOSS_EQUITY_PPM];
  return ppm > 0 && dayLoss * 1e6 > Math.max(0, dayStartEquity) * ppm;
}

/** The limits as a row (in a scratch array the next call reuses). */
function rowOf(l: RiskLimits): Float64Array {
  for (let k = 0; k < limits.RISK_LIMIT_FIELDS; k++) scratchRow[k] = l[limits.RISK_LIMIT_KEYS[k]];
  return scratchRow;
}

/** Whether `price` lies within `bandBps` basis points of `reference` (no band when either is 0). */
export function withinBand(price: number, reference: number, bandBps: number): boolean {
  if (bandBps === 0 || reference === 0) return true;
  // |price - reference| × 10,000 ≤ reference × bandBps, in exact integers for prices below 2^39.
  return Math.abs(price - reference) * 10_000 <= reference * bandBps;
}
