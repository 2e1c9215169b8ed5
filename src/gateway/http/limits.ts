/** The HTTP server's bounds in one place, passed to fastify explicitly rather than left to its defaults. */
export const HTTP_LIMITS = Object.freeze({
  /** A request body; an order is a few hundred bytes. */
  bodyBytesMax: 16 * 1024,
  connectionTimeoutMs: 30_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  /** A path parameter (symbols, ids). */
  paramLengthMax: 64,
  /** Levels a book request may ask for, and the default. */
  depthMax: 100,
  depthDefault: 20,
  /** Trades a request may ask for, and the default. */
  tradesMax: 1000,
  tradesDefault: 100,
  /** Orders one list request returns at most, and the default. */
  ordersMax: 1000,
  ordersDefault: 100,
  /** How long a graceful shutdown waits for requests in flight before it closes their connections. */
  drainMs: 10_000,
});
