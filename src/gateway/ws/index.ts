/**
 * The WebSocket gateway: `/ws` (channels, auth, order entry) and the GoQuant-style feeds, attached to the
 * HTTP server's upgrades and fed from the views after each durable batch. docs/websocket.md has the protocol.
 */
export { WsGateway, type WsDeps, type WsStats } from './gateway.js';
export { WS_LIMITS, WsCloseCode } from './limits.js';
export { WsErrorCode, parseChannel, parseRequest, type ChannelSpec, type WsRequest } from './protocol.js';
