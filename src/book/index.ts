/** The order book: one instrument's price-time matching, pure and deterministic. */
export { OrderBook, BOOK_LIMITS, type BookOptions } from './order-book.js';
export {
  EventBuffer,
  EventType,
  EVENT_STRIDE,
  F_SLOT,
  F_MAKER_SLOT,
  decodeEvent,
  decodeEvents,
} from './events.js';
export type {
  BookEvent,
  OrderAccepted,
  OrderRejected,
  TradeExecuted,
  OrderFill,
  OrderCancelled,
  OrderReduced,
  OrderExpired,
  OrderTriggered,
  OrderAmended,
  LevelChanged,
  TopOfBookChanged,
} from './events.js';
export { BookReject, bookRejectName, CommandKind } from './codes.js';
export {
  Side,
  OrderType,
  TimeInForce,
  SelfTradePrevention,
  CancelReason,
  ANY_OWNER,
  DEFAULT_RULES,
  newPlaceOrder,
  type PlaceOrder,
  type AmendOrder,
  type InstrumentRules,
  type OrderView,
  type LevelView,
  type BestBidOffer,
} from './types.js';
