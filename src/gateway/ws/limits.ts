/**
 * The WebSocket gateway's bounds in one place, passed to `ws` explicitly rather than left to its defaults,
 * and checked against each other when the module loads. The connections per IP come from the configuration
 * (`rateLimits.wsConnectionsPerIp`); everything else is here.
 */
export const WS_LIMITS = Object.freeze({
  /** A frame (a message) larger than this closes the connection with 1009, inside `ws`, before it is read. */
  framePayloadBytesMax: 64 * 1024,
  /** A message larger than this (and within the frame limit) is answered PAYLOAD_TOO_LARGE and dropped. */
  messageBytesMax: 4 * 1024,
  /**
   * Bytes waiting to be sent to one client (its socket's buffer and `ws`'s queue). A message that would pass
   * it closes the connection as a slow consumer (4008) instead of being queued.
   */
  sendBufferBytesMax: 4 * 1024 * 1024,
  /**
   * Bytes a client's socket may hold corked in one turn of the event loop before they are written out: the
   * turn's messages leave in few system calls, and what counts against `sendBufferBytesMax` stays what the
   * client has not read, not what this turn produced.
   */
  corkBytesMax: 16 * 1024,
  /** Channels one connection may hold at once. */
  subscriptionsMax: 64,
  /** Place and cancel requests of one connection awaiting their answer. */
  requestsInFlightMax: 4096,
  /** Failed `auth` messages a connection may send before it is closed (4001). */
  authFailuresMax: 3,
  /** Open WebSocket connections in the whole process, whatever their address. */
  connectionsMax: 20_000,
  /** Levels a book channel may show per side (`book:SYMBOL:DEPTH`), as REST's depth. */
  bookDepthMax: 100,
  /** The depth of `/ws/market-data/{symbol}` without `?depth=`. */
  marketDataDepthDefault: 20,
  /** A request id: a string of at most this many characters, or a safe integer. */
  requestIdLengthMax: 64,
  /** How long a closing handshake may take before the socket is cut (`ws`'s closeTimeout). */
  closeTimeoutMs: 5_000,
  /**
   * Every this often the API keys of the authenticated connections are looked up again, and the sessions of
   * one revoked elsewhere (another gateway, `rialto keys revoke` on a shared PostgreSQL) closed with 4003: as
   * long as the REST routes trust a cached key (VERIFIER_DEFAULTS.cacheTtlMs).
   */
  keySweepIntervalMs: 30_000,
  /** Every this often the server pings each client; one that has not answered the previous ping is cut. */
  pingIntervalMs: 30_000,
  /** How long closing the venue waits for place and cancel requests in flight before closing clients. */
  drainMs: 10_000,
  /** The bytes of an HTTP refusal's body on the upgrade path (an error envelope). */
  refusalBytesMax: 1024,
});

/** Close codes the server uses; 4000-4999 are the application's own (RFC 6455, 7.4.2). */
export const WsCloseCode = Object.freeze({
  /** The venue is stopping. */
  GoingAway: 1001,
  /** A frame over `framePayloadBytesMax` (sent by `ws` itself). */
  MessageTooBig: 1009,
  /** Too many failed `auth` messages. */
  AuthFailed: 4001,
  /** The API key the connection authenticated with was revoked (DELETE /api/v1/admin/keys/{id}). */
  KeyRevoked: 4003,
  /** The JWT the connection authenticated with expired (`exp`), and no newer one came in an `auth`. */
  CredentialExpired: 4004,
  /** The client did not read fast enough: its send buffer passed `sendBufferBytesMax`. */
  SlowConsumer: 4008,
});

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`WS_LIMITS: ${what}`);
}
check(WS_LIMITS.messageBytesMax < WS_LIMITS.framePayloadBytesMax, 'a message must fit in a frame');
check(
  WS_LIMITS.sendBufferBytesMax >= 16 * WS_LIMITS.framePayloadBytesMax,
  'the send buffer must hold many of the largest messages (book snapshots)',
);
check(
  WS_LIMITS.corkBytesMax * 4 <= WS_LIMITS.framePayloadBytesMax,
  'a turn corks far less than the smallest send buffer allowed',
);
check(WS_LIMITS.marketDataDepthDefault <= WS_LIMITS.bookDepthMax, 'the default depth is a depth');
check(WS_LIMITS.closeTimeoutMs < WS_LIMITS.drainMs, 'a closing handshake ends within the drain');
