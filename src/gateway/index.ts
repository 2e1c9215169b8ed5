/**
 * The gateway: the HTTP server (REST, OpenAPI at /docs) and the WebSocket gateway on its port, authentication by API key and roles, the trading
 * service between requests and the engine, and the read side (views) fed by the engine's durable events.
 */
export * from './auth/index.js';
export { startVenue, type Venue, type VenueOptions } from './venue.js';
export { buildServer, type ServerDeps } from './http/server.js';
export { HTTP_LIMITS } from './http/limits.js';
export { ApiError, ErrorCode, rejectError, rejectName } from './trading/errors.js';
export {
  Trading,
  ORDER_TYPES,
  TIME_IN_FORCE,
  type PlaceRequest,
  type PlaceResult,
} from './trading/trading.js';
export { ClientOrders } from './trading/client-orders.js';
export {
  API_DECIMALS_MAX,
  amountToMinor,
  averagePrice,
  lotsToQty,
  minorToAmount,
  priceToTicks,
  qtyToLots,
  ticksToPrice,
} from './trading/units.js';
export * from './views/index.js';
export { WsGateway, WS_LIMITS, WsCloseCode, WsErrorCode, type WsDeps, type WsStats } from './ws/index.js';
