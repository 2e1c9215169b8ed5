/**
 * The WebSocket gateway, on the HTTP server's own port: `/ws` (subscribe to channels, authenticate, place,
 * cancel, amend and mass cancel orders) and the GoQuant-style feeds `/ws/market-data/{symbol}` and `/ws/trades/{symbol}`.
 *
 * It takes the HTTP server's `upgrade` events itself (`ws` in noServer mode) so that every refusal is a plain
 * HTTP answer in the gateway's error shape before any upgrade: an unknown path (404), a bad credential (401),
 * too many connections from one address (429) or in all (503), a venue closing (503). Orders go through the
 * same trading service, rights, per-account order budget and error codes as REST.
 *
 * Every send goes through one bounded path: a message that would take a client's unsent bytes past
 * `sendBufferBytesMax` is not queued; the client is closed as a slow consumer (4008) and gets nothing more,
 * so one stuck client holds at most that many bytes of the server's memory.
 *
 * Sends are coalesced: a turn of the event loop's messages to one client are held (frames.ts) and, at the
 * turn's end (`process.nextTick`, after the promise continuations that answer a whole batch of the engine's
 * acknowledgements), framed into one buffer and written with one `socket.write` (per `corkBytesMax`)
 * instead of a header, a buffer and two writes each through `ws.send`. Nothing waits longer than the turn
 * that produced it, and what is held is written out as soon as it reaches `corkBytesMax`, so the send buffer
 * bound still measures what the client has not read. Every close of a client writes out what is held
 * first, so that its close frame follows them, as through `ws`.
 */
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData, type ServerOptions } from 'ws';
import { delayUntil, type InstrumentConfig, type VenueConfig } from '../../ops/index.js';
import { KEY_ID_PATTERN, requireRole, type KeyVerifier, type Principal, type Role } from '../auth/index.js';
import type { Actor, AuditWriter } from '../../audit/index.js';
import { WsAuditTicket } from '../audit/index.js';
import { clientAddress, proxyTrust, type ProxyTrust } from '../http/client-address.js';
import { placeRequest } from '../http/routes-orders.js';
import {
  countedLimiter,
  gatewayErrorOf,
  principalOfHeaders,
  principalOfToken,
  unavailableErrorOf,
} from '../http/server.js';
import { GatewayError, SECURITY_HEADERS_DEFAULTS, allSecurityHeaders } from '../http/plugins/index.js';
import type { JwtVerifier } from '../jwt/index.js';
import {
  LimiterUnavailableError,
  limiterUnavailableError,
  takeBudget,
  takeBudgetNow,
  ORDER_BUDGET_REFUSAL,
  type Acquired,
  type RateLimiter,
  type VenueLimiters,
} from '../limits/index.js';
import type { VenueMetrics } from '../metrics/index.js';
import { ApiError, ErrorCode, rejectError, rejectName } from '../trading/errors.js';
import type { Trading } from '../trading/trading.js';
import type { BatchChanges, OrderView } from '../views/index.js';
import { TextBytes } from '../../collections/index.js';
import { orderJson, writeOrderJson, type OrderJson } from '../http/present.js';
import { Feeds, type CandleSource, type CandleView, type Channel, type Subscriber } from './feed.js';
import { TextFrames } from './frames.js';
import { WS_LIMITS, WsCloseCode } from './limits.js';
import {
  WsErrorCode,
  parseChannel,
  parseRequest,
  type AmendMessage,
  type CancelMessage,
  type MassCancelMessage,
  type PlaceMessage,
  type RequestId,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from './protocol.js';

export interface WsDeps {
  readonly trading: Trading;
  readonly verifier: KeyVerifier;
  readonly config: VenueConfig;
  readonly jwt?: JwtVerifier | null;
  readonly limiters?: VenueLimiters | null;
  readonly metrics?: VenueMetrics | null;
  /** The clock for order expiry (DAY, GTD), microseconds. */
  readonly nowUs?: () => number;
  /** The audit trail's writer: `place` and `cancel` are recorded; null or absent: not audited. */
  readonly audit?: AuditWriter | null;
  /** The market data pipeline's bars for `candles:` channels; null or absent: those channels are refused. */
  readonly candles?: CandleSource | null;
  /** Overrides of WS_LIMITS for tests (a small send buffer, a low process-wide connection limit). */
  readonly limits?: Partial<Pick<typeof WS_LIMITS, 'sendBufferBytesMax' | 'connectionsMax'>>;
}

export interface WsStats {
  readonly connections: number;
  readonly channels: number;
  readonly slowConsumersDropped: number;
  /** The most bytes any client had waiting right after a send: at most `sendBufferBytesMax`. */
  readonly sendBufferPeakBytes: number;
  readonly requestsInFlight: number;
}

type Route =
  | { readonly kind: 'ws' }
  | { readonly kind: 'market-data'; readonly inst: InstrumentConfig; readonly depth: number }
  | { readonly kind: 'trades'; readonly inst: InstrumentConfig };

/** One client: its socket, principal, channels and requests awaiting an answer. */
class Connection implements Subscriber {
  principal: Principal | null;
  /** Channels of the `/ws` protocol by name (`orders` and `fills` hold one channel per account). */
  readonly subscriptions = new Map<string, readonly Channel[]>();
  /** Feeds of the GoQuant-style paths, detached on close. */
  readonly fixed: Channel[] = [];
  inFlight = 0;
  authFailures = 0;
  /** Ends the session when its credential expires (a JWT's `exp`); null: none set. */
  expiry: NodeJS.Timeout | null = null;
  /** Answered the last ping. */
  alive = true;
  /** Closed, or being closed: nothing more is sent. */
  done = false;
  /** This turn's messages, written out at its end (see `WsGateway.send`): at most `corkBytesMax` bytes. */
  readonly out = new TextFrames();

  constructor(
    readonly ws: WebSocket,
    /** The upgraded socket under `ws`, corked and uncorked around a turn's sends. */
    readonly socket: Duplex,
    readonly gateway: WsGateway,
    readonly address: string,
    principal: Principal | null,
    readonly lease: Lease | null,
  ) {
    this.principal = principal;
  }

  deliver(message: Buffer): void {
    this.gateway.send(this, message);
  }

  /**
   * Who the connection's audit events name: one object while the principal stays, so that the audit keeps
   * its cleaning and its canonical JSON for it (makeFixedEvent).
   */
  auditActor(): Actor {
    if (this.actor === null || this.actorOf !== this.principal) {
      const p = this.principal;
      this.actor = { id: p?.keyId ?? null, role: p?.role ?? null, ip: this.address };
      this.actorOf = p;
    }
    return this.actor;
  }

  private actor: Actor | null = null;
  private actorOf: Principal | null = null;
}

/** The head lines of an upgrade's refusal: the REST answers' security headers (HSTS when configured) too. */
function answerHeaders(hsts: VenueConfig['server']['hsts']): string {
  let head = 'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n';
  for (const [name, value] of Object.entries(allSecurityHeaders({ ...SECURITY_HEADERS_DEFAULTS, hsts }))) {
    head += `${name}: ${value}\r\n`;
  }
  return head;
}
const PATH_MARKET = '/ws/market-data/';
const PATH_TRADES = '/ws/trades/';

type Lease = Extract<Acquired, { ok: true }>;

/** The roles of REST's order routes: placing as POST /api/v1/orders, cancelling as DELETE. */
const PLACERS: readonly Role[] = ['trader', 'admin'];
const CANCELLERS: readonly Role[] = ['trader', 'risk', 'admin'];

/** Whether a renewed credential names the same session: its subject, role and accounts (ids differ) unchanged. */
function sameIdentity(a: Principal, b: Principal): boolean {
  return (
    a.keyId === b.keyId &&
    a.role === b.role &&
    a.accountIds.length === b.accountIds.length &&
    a.accountIds.every((id) => b.accountIds.includes(id))
  );
}

type OrderResult = 'accepted' | 'rejected' | 'retried' | 'refused' | 'rate_limited' | 'error';

export class WsGateway {
  private readonly wss: WebSocketServer;
  private readonly feeds: Feeds;
  private readonly connections = new Set<Connection>();
  private readonly orderLimiter: RateLimiter | null;
  private readonly ipLimiter: RateLimiter | null;
  /** The trusted proxies (`server.trustedProxies`), whose X-Forwarded-For names the client; null: none. */
  private readonly proxies: ProxyTrust | null;
  /** `rialto_order_ack_latency_seconds{transport="ws"}`, its child looked up once. */
  private readonly ackLatency: { observe(seconds: number): void } | null;
  private readonly sendBufferBytesMax: number;
  private readonly connectionsMax: number;
  private readonly nowUs: () => number;
  /** The header lines of an upgrade's refusal. */
  private readonly answerHeaders: string;
  private readonly counts: { in: number; out: number };
  private readonly ping: NodeJS.Timeout;
  private readonly keySweep: NodeJS.Timeout;
  private readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  private admitting = 0;
  private requestsInFlight = 0;
  private drained: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private slowDropped = 0;
  private sendBufferPeak = 0;
  /** Connections holding messages until `writeAll` runs at the end of this turn. */
  private readonly holding: Connection[] = [];
  private readonly writeAll = (): void => {
    const holding = this.holding;
    for (let i = 0; i < holding.length; i++) this.writeOut(holding[i]);
    holding.length = 0;
  };

  /** The client's address, as fastify's `request.ip` has it (through the trusted proxies). */
  private addressOf(req: IncomingMessage): string {
    return clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.proxies);
  }

  private constructor(
    private readonly server: Server,
    private readonly deps: WsDeps,
  ) {
    const limits = { ...WS_LIMITS, ...deps.limits };
    if (!(limits.sendBufferBytesMax >= WS_LIMITS.framePayloadBytesMax)) {
      throw new RangeError(`sendBufferBytesMax must be at least ${WS_LIMITS.framePayloadBytesMax}`);
    }
    this.sendBufferBytesMax = limits.sendBufferBytesMax;
    this.connectionsMax = limits.connectionsMax;
    this.nowUs = deps.nowUs ?? (() => Date.now() * 1000);
    this.answerHeaders = answerHeaders(deps.config.server.hsts);
    this.counts = deps.metrics?.wsMessageCounts ?? { in: 0, out: 0 };
    this.orderLimiter = deps.limiters ? countedLimiter(deps.limiters.orders, deps.metrics) : null;
    this.ipLimiter = deps.limiters ? countedLimiter(deps.limiters.ip, deps.metrics) : null;
    this.proxies = proxyTrust(deps.config.server.trustedProxies);
    this.ackLatency = deps.metrics?.orderAckLatency.series({ transport: 'ws' }) ?? null;
    this.feeds = new Feeds(deps.trading.views, deps.trading.clientOrders, (id) =>
      deps.trading.instrumentById(id),
    );
    // `closeTimeout` is ws 8.23's, newer than its type definitions.
    const options: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      maxPayload: WS_LIMITS.framePayloadBytesMax,
      clientTracking: false,
      perMessageDeflate: false,
      allowSynchronousEvents: true,
      autoPong: true,
      skipUTF8Validation: false,
      closeTimeout: WS_LIMITS.closeTimeoutMs,
    };
    this.wss = new WebSocketServer(options);
    this.onUpgrade = (req, socket, head) => {
      // A socket error before the upgrade (the client went away) must not crash the process.
      socket.on('error', () => socket.destroy());
      void this.admit(req, socket, head);
    };
    server.on('upgrade', this.onUpgrade);
    this.ping = setInterval(() => this.pingAll(), WS_LIMITS.pingIntervalMs);
    this.ping.unref();
    this.keySweep = setInterval(() => void this.sweepRevokedKeys(), WS_LIMITS.keySweepIntervalMs);
    this.keySweep.unref();
  }

  /** Takes `server`'s upgrade requests from now on. */
  static attach(server: Server, deps: WsDeps): WsGateway {
    return new WsGateway(server, deps);
  }

  stats(): WsStats {
    return {
      connections: this.connections.size,
      channels: this.feeds.channelCount,
      slowConsumersDropped: this.slowDropped,
      sendBufferPeakBytes: this.sendBufferPeak,
      requestsInFlight: this.requestsInFlight,
    };
  }

  /** Sends a bar the pipeline closed or corrected to its `candles:` channel. */
  publishCandle(symbol: string, interval: string, candle: CandleView, corrected: boolean): void {
    this.feeds.publishCandle(symbol, interval, candle, corrected);
  }

  /** Fans the views' latest batch out to the channels (called right after `views.applyBatch`). */
  publish(changes: BatchChanges): void {
    this.feeds.publish(changes);
  }

  /**
   * Closes the connections authenticated with API key `keyId` (4003), after what they were sent: the key was
   * revoked. What they submitted before still takes effect; answers still to come may not reach them.
   */
  closeKey(keyId: string): number {
    let closed = 0;
    for (const c of this.connections) {
      if (c.done || c.principal?.keyId !== keyId) continue;
      this.closeClient(c, WsCloseCode.KeyRevoked, 'the API key was revoked');
      closed++;
    }
    return closed;
  }

  /**
   * Looks up the API keys of the authenticated connections and closes (4003) those on a key revoked or gone
   * meanwhile, wherever it was revoked; returns how many it closed. Runs every `keySweepIntervalMs`; a store
   * that cannot answer is asked again next time (no key can be revoked in it meanwhile either).
   */
  async sweepRevokedKeys(): Promise<number> {
    const ids = new Set<string>();
    for (const c of this.connections) {
      const id = c.principal?.keyId;
      // JWTs (`jwt:SUB`) and the anonymous admin of a venue without authentication have no row to look up.
      if (id !== undefined && !c.done && KEY_ID_PATTERN.test(id)) ids.add(id);
    }
    if (ids.size === 0) return 0;
    let gone: string[];
    try {
      gone = await this.deps.verifier.unusableOf([...ids]);
    } catch {
      return 0;
    }
    let closed = 0;
    for (const id of gone) closed += this.closeKey(id);
    return closed;
  }

  /**
   * Stops taking connections and requests, waits for the answers of requests in flight (at most `drainMs`),
   * then closes every client with 1001 and waits for their closing handshakes (at most `closeTimeoutMs`).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.ping);
      clearInterval(this.keySweep);
      if (this.requestsInFlight > 0) {
        await new Promise<void>((resolve) => {
          const cut = setTimeout(resolve, WS_LIMITS.drainMs);
          this.drained = () => {
            clearTimeout(cut);
            resolve();
          };
        });
      }
      const closed = [...this.connections].map(
        (c) => new Promise<void>((resolve) => c.ws.once('close', () => resolve())),
      );
      for (const c of this.connections) this.closeClient(c, WsCloseCode.GoingAway, 'the venue is closing');
      await Promise.all(closed);
      this.server.off('upgrade', this.onUpgrade);
      this.wss.close();
    })();
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Connections

  private async admit(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.admitting++;
    let lease: Lease | null = null;
    try {
      if (this.closing !== null) throw unavailable('the venue is closing');
      if (this.connections.size + this.admitting > this.connectionsMax) {
        throw unavailable('the server has no room for more WebSocket connections');
      }
      const route = this.route(req.url ?? '/');
      // An upgrade is an HTTP request: it takes from its address's request budget, as every other does.
      await this.takeIpBudget(this.addressOf(req));
      const principal = await this.principalAt(req, route);
      lease = await this.leaseFor(req);
      if (this.closing !== null) throw unavailable('the venue is closing');
      if (socket.destroyed) {
        await lease?.release();
        return;
      }
      const held = lease;
      this.wss.handleUpgrade(req, socket, head, (ws) =>
        this.open(ws, socket, this.addressOf(req), route, principal, held),
      );
    } catch (e) {
      await lease?.release();
      refuse(socket, e, this.answerHeaders);
    } finally {
      this.admitting--;
    }
  }

  private route(url: string): Route {
    const path = url.split('?', 1)[0];
    if (path === '/ws') return { kind: 'ws' };
    const query = new URLSearchParams(url.slice(path.length + 1));
    if (path.startsWith(PATH_MARKET)) {
      const inst = this.deps.trading.instrumentBySymbol(decodeSymbol(path.slice(PATH_MARKET.length)));
      const depthText = query.get('depth');
      const depth = depthText === null ? WS_LIMITS.marketDataDepthDefault : Number(depthText);
      if (!(/^[1-9][0-9]{0,2}$/.test(depthText ?? '1') && depth <= WS_LIMITS.bookDepthMax)) {
        throw new ApiError(400, ErrorCode.ValidationError, `depth must be 1 to ${WS_LIMITS.bookDepthMax}`, {
          field: 'depth',
        });
      }
      return { kind: 'market-data', inst, depth };
    }
    if (path.startsWith(PATH_TRADES)) {
      const inst = this.deps.trading.instrumentBySymbol(decodeSymbol(path.slice(PATH_TRADES.length)));
      return { kind: 'trades', inst };
    }
    throw new ApiError(404, ErrorCode.NotFound, `no WebSocket endpoint ${path}`);
  }

  /** The upgrade's principal: from its credential headers if any (a bad one is refused), else none. */
  private async principalAt(req: IncomingMessage, route: Route): Promise<Principal | null> {
    const h = req.headers;
    const given = h['x-api-key'] !== undefined || h.authorization !== undefined;
    const needed = route.kind !== 'ws' && !this.deps.config.marketData.public;
    if (!given && !needed && this.deps.config.auth.enabled) return null;
    return principalOfHeaders(this.deps, h);
  }

  private async leaseFor(req: IncomingMessage): Promise<Lease | null> {
    const limiter = this.deps.limiters?.wsConnections;
    if (limiter === undefined) return null;
    let lease: Acquired;
    try {
      lease = await limiter.acquire(this.addressOf(req));
    } catch (e) {
      if (e instanceof LimiterUnavailableError) throw limiterUnavailableError();
      throw e;
    }
    if (!lease.ok) {
      this.deps.metrics?.rateLimited.inc({ policy: 'ws_connections' });
      throw new GatewayError(
        ErrorCode.RateLimited,
        429,
        `at most ${lease.limit} WebSocket connections from one address`,
        { limit: lease.limit },
        { 'retry-after': '1' },
      );
    }
    return lease;
  }

  private open(
    ws: WebSocket,
    socket: Duplex,
    address: string,
    route: Route,
    principal: Principal | null,
    lease: Lease | null,
  ): void {
    ws.binaryType = 'nodebuffer';
    const conn = new Connection(ws, socket, this, address, principal, lease);
    this.connections.add(conn);
    if (principal !== null) this.watchExpiry(conn);
    this.deps.metrics?.wsClients.inc();
    ws.on('message', (data, isBinary) => this.receive(conn, data, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    // Protocol errors (an oversized or malformed frame) close the connection inside `ws` with their code.
    ws.on('error', () => undefined);
    ws.once('close', () => this.closed(conn));
    if (route.kind === 'market-data') {
      const top = this.feeds.book(route.inst, route.depth);
      const bbo = this.feeds.bbo(route.inst);
      top.full.add(conn);
      bbo.legacy.add(conn);
      conn.fixed.push(top, bbo);
      const views = this.deps.trading.views;
      this.send(conn, top.fullUpdate(views.venue.lastSeq, this.nowUs()));
      this.send(conn, bbo.message('bbo_update', views.venue.lastSeq, this.nowUs()));
    } else if (route.kind === 'trades') {
      const trades = this.feeds.trades(route.inst);
      trades.legacy.add(conn);
      conn.fixed.push(trades);
    }
  }

  private closed(conn: Connection): void {
    conn.done = true;
    if (conn.expiry !== null) clearTimeout(conn.expiry);
    conn.out.clear();
    this.connections.delete(conn);
    this.deps.metrics?.wsClients.dec();
    for (const chs of conn.subscriptions.values()) for (const ch of chs) this.detach(conn, ch);
    for (const ch of conn.fixed) this.detach(conn, ch);
    conn.subscriptions.clear();
    if (conn.lease !== null) void conn.lease.release().catch(() => undefined);
  }

  private detach(conn: Connection, ch: Channel): void {
    ch.detach(conn);
    this.feeds.release(ch);
  }

  private pingAll(): void {
    for (const c of this.connections) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Sending

  /**
   * Sends one text message (a feed's shared buffer, or a text encoded when written), or closes the client as
   * a slow consumer if it would pass its send buffer.
   */
  send(conn: Connection, message: Buffer | string): void {
    if (conn.done) return;
    const ws = conn.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    const payloadBytes = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
    const out = conn.out;
    if (out.bytes > 0 && out.bytes + payloadBytes > WS_LIMITS.corkBytesMax) {
      // Enough for one write: out it goes, so the check below sees only what the client has not read.
      this.writeOut(conn);
    }
    if (ws.bufferedAmount + out.bytes + payloadBytes > this.sendBufferBytesMax) {
      this.dropSlow(conn);
      return;
    }
    if (out.bytes === 0) {
      // A client written out early in the turn is listed again: `writeAll` finds nothing at its second visit.
      if (this.holding.length === 0) process.nextTick(this.writeAll);
      this.holding.push(conn);
    }
    out.add(message, payloadBytes);
    this.counts.out++;
    const buffered = ws.bufferedAmount + out.bytes;
    if (buffered > this.sendBufferPeak) this.sendBufferPeak = buffered;
  }

  /** Writes the connection's held messages to its socket (dropped if it closed meanwhile). */
  private writeOut(conn: Connection): void {
    const frames = conn.out.take();
    if (frames === null) return;
    if (conn.ws.readyState === WebSocket.OPEN && !conn.socket.destroyed) conn.socket.write(frames);
  }

  /** Closes a client after what it was sent: its held messages go first, then the close frame. */
  private closeClient(conn: Connection, code: number, reason: string): void {
    conn.done = true;
    this.writeOut(conn);
    conn.ws.close(code, reason);
  }

  private dropSlow(conn: Connection): void {
    this.slowDropped++;
    this.deps.metrics?.wsSlowConsumersDropped.inc();
    // Nothing more is queued; the close frame waits behind what is, and `ws` cuts the socket after
    // closeTimeoutMs if the client never reads it.
    for (const chs of conn.subscriptions.values()) for (const ch of chs) this.detach(conn, ch);
    conn.subscriptions.clear();
    this.closeClient(conn, WsCloseCode.SlowConsumer, 'slow consumer: send buffer full');
  }

  private answer(conn: Connection, value: unknown): void {
    this.send(conn, JSON.stringify(value));
  }

  private error(
    conn: Connection,
    id: RequestId | null,
    code: string,
    message: string,
    details: Readonly<Record<string, unknown>> = {},
  ): void {
    this.answer(conn, { type: 'error', id, error: { code, message, details } });
  }

  private errorOf(conn: Connection, id: RequestId | null, e: unknown): void {
    const known = e instanceof ApiError || e instanceof GatewayError ? e : unavailableErrorOf(e);
    if (known !== null) {
      const g = gatewayErrorOf(known);
      this.error(conn, id, g.code, g.message, g.details);
      return;
    }
    this.error(conn, id, ErrorCode.InternalError, 'internal error', {});
  }

  // ---------------------------------------------------------------------------------------------------------
  // Requests

  private receive(conn: Connection, data: RawData, isBinary: boolean): void {
    this.counts.in++;
    if (conn.done) return;
    if (isBinary) {
      this.error(conn, null, WsErrorCode.BinaryNotSupported, 'send JSON text frames, not binary ones');
      return;
    }
    const bytes = data as Buffer;
    if (bytes.length > WS_LIMITS.messageBytesMax) {
      this.error(
        conn,
        null,
        ErrorCode.PayloadTooLarge,
        `a message is at most ${WS_LIMITS.messageBytesMax} bytes`,
        {
          limitBytes: WS_LIMITS.messageBytesMax,
        },
      );
      return;
    }
    const parsed = parseRequest(bytes.toString('utf8'));
    if (!parsed.ok) {
      this.error(conn, parsed.id, parsed.code, parsed.message, parsed.details);
      return;
    }
    const m = parsed.request;
    switch (m.op) {
      case 'ping':
        this.answer(conn, { type: 'pong', id: m.id ?? null });
        return;
      case 'auth':
        void this.auth(conn, m.id ?? null, m.token);
        return;
      case 'subscribe':
        this.subscribe(conn, m);
        return;
      case 'unsubscribe':
        this.unsubscribe(conn, m);
        return;
      case 'place':
        if (this.admitRequest(conn, m.id)) void this.place(conn, m);
        return;
      case 'cancel':
        if (this.admitRequest(conn, m.id)) void this.cancel(conn, m);
        return;
      case 'amend':
        if (this.admitRequest(conn, m.id)) void this.amend(conn, m);
        return;
      case 'mass_cancel':
        if (this.admitRequest(conn, m.id)) void this.massCancel(conn, m);
        return;
    }
  }

  private async auth(conn: Connection, id: RequestId | null, token: string): Promise<void> {
    const before = conn.principal;
    // A session on an expiring credential (a JWT) may renew it with a newer token for the same identity;
    // any other second `auth` is refused unread.
    if (before !== null && before.expiresAtMs === undefined) {
      this.error(conn, id, WsErrorCode.AlreadyAuthenticated, 'this connection is authenticated already');
      return;
    }
    try {
      // Each try takes from the address's request budget, like an HTTP request with a credential.
      await this.takeIpBudget(conn.address);
      const p = await principalOfToken(this.deps, token, true);
      if (conn.done) return;
      if (conn.principal !== null && !sameIdentity(conn.principal, p)) {
        this.error(
          conn,
          id,
          WsErrorCode.AlreadyAuthenticated,
          'this connection is authenticated already: a new token must name the same subject, role and accounts',
        );
        return;
      }
      conn.principal = p;
      this.watchExpiry(conn);
      this.answer(conn, { type: 'authenticated', id, role: p.role, account_ids: p.accountIds });
    } catch (e) {
      if (conn.done) return;
      // A store that cannot check the key is not the client's failure: it may try again once it is back.
      if (unavailableErrorOf(e) === null) conn.authFailures++;
      this.errorOf(conn, id, e);
      if (conn.authFailures >= WS_LIMITS.authFailuresMax) {
        this.closeClient(conn, WsCloseCode.AuthFailed, 'too many failed auth messages');
      }
    }
  }

  /**
   * Closes the connection (4004) when its principal's credential expires, unless an `auth` with a newer
   * token came first. Timers reach at most about 24.8 days; a later expiry is looked at again then.
   */
  private watchExpiry(conn: Connection): void {
    if (conn.expiry !== null) clearTimeout(conn.expiry);
    conn.expiry = null;
    const at = conn.principal?.expiresAtMs;
    if (at === undefined || conn.done) return;
    if (at <= Date.now()) {
      this.closeClient(conn, WsCloseCode.CredentialExpired, 'the token expired');
      return;
    }
    conn.expiry = setTimeout(() => this.watchExpiry(conn), delayUntil(at));
  }

  private subscribe(conn: Connection, m: SubscribeMessage): void {
    const id = m.id ?? null;
    const spec = parseChannel(m.channel);
    if (spec === null) {
      this.error(
        conn,
        id,
        WsErrorCode.InvalidChannel,
        `channel must be book:SYMBOL:DEPTH (1 to ${WS_LIMITS.bookDepthMax}), trades:SYMBOL, bbo:SYMBOL, ` +
          'candles:SYMBOL:INTERVAL, orders or fills',
        { channel: m.channel },
      );
      return;
    }
    if (conn.subscriptions.has(m.channel)) {
      this.error(conn, id, WsErrorCode.AlreadySubscribed, `already subscribed to ${m.channel}`);
      return;
    }
    if (conn.subscriptions.size >= WS_LIMITS.subscriptionsMax) {
      this.error(
        conn,
        id,
        WsErrorCode.TooManySubscriptions,
        `at most ${WS_LIMITS.subscriptionsMax} channels`,
        {
          limit: WS_LIMITS.subscriptionsMax,
        },
      );
      return;
    }
    try {
      if (spec.kind === 'orders' || spec.kind === 'fills') {
        const p = this.mustHavePrincipal(conn);
        if (p.accountIds.length === 0) {
          throw new ApiError(403, ErrorCode.Forbidden, `${spec.kind} are for keys bound to accounts`);
        }
        const kind = spec.kind;
        const chs = p.accountIds.map((a) => this.feeds.account(kind, a));
        for (const ch of chs) ch.subscribers.add(conn);
        conn.subscriptions.set(m.channel, chs);
        const accounts = chs.map((ch) => ({ account_id: ch.accountId, seq: ch.seq }));
        this.answer(conn, { type: 'subscribed', id, channel: m.channel, accounts });
        return;
      }
      if (!this.deps.config.marketData.public) this.mustHavePrincipal(conn);
      const inst = this.deps.trading.instrumentBySymbol(spec.symbol);
      if (spec.kind === 'candles') {
        this.subscribeCandles(conn, m, inst, spec.interval);
        return;
      }
      if (spec.kind === 'book') {
        const ch = this.feeds.book(inst, spec.depth);
        ch.subscribers.add(conn);
        conn.subscriptions.set(m.channel, [ch]);
        this.answer(conn, { type: 'subscribed', id, channel: m.channel, seq: ch.seq });
        this.send(conn, ch.snapshot());
      } else if (spec.kind === 'bbo') {
        const ch = this.feeds.bbo(inst);
        ch.subscribers.add(conn);
        conn.subscriptions.set(m.channel, [ch]);
        this.answer(conn, { type: 'subscribed', id, channel: m.channel, seq: ch.seq });
        const views = this.deps.trading.views;
        this.send(conn, ch.message('bbo', views.venue.lastSeq, this.nowUs()));
      } else {
        const ch = this.feeds.trades(inst);
        ch.subscribers.add(conn);
        conn.subscriptions.set(m.channel, [ch]);
        this.answer(conn, { type: 'subscribed', id, channel: m.channel, seq: ch.seq });
      }
    } catch (e) {
      this.errorOf(conn, id, e);
    }
  }

  private subscribeCandles(
    conn: Connection,
    m: SubscribeMessage,
    inst: InstrumentConfig,
    interval: string,
  ): void {
    const id = m.id ?? null;
    const source = this.deps.candles ?? null;
    if (source === null || !source.intervals.includes(interval)) {
      const intervals = source?.intervals ?? [];
      this.error(
        conn,
        id,
        WsErrorCode.InvalidChannel,
        source === null
          ? 'candles are off (marketData.pipeline.enabled is false)'
          : `interval must be one of ${intervals.join(', ')}`,
        { channel: m.channel, intervals },
      );
      return;
    }
    const ch = this.feeds.candles(inst, interval, source);
    ch.subscribers.add(conn);
    conn.subscriptions.set(m.channel, [ch]);
    this.answer(conn, { type: 'subscribed', id, channel: m.channel, seq: ch.seq });
    this.send(conn, ch.snapshot());
  }

  private unsubscribe(conn: Connection, m: UnsubscribeMessage): void {
    const id = m.id ?? null;
    const chs = conn.subscriptions.get(m.channel);
    if (chs === undefined) {
      this.error(conn, id, WsErrorCode.NotSubscribed, `not subscribed to ${m.channel}`);
      return;
    }
    conn.subscriptions.delete(m.channel);
    for (const ch of chs) this.detach(conn, ch);
    this.answer(conn, { type: 'unsubscribed', id, channel: m.channel });
  }

  private mustHavePrincipal(conn: Connection, roles: readonly Role[] | null = null): Principal {
    const p = conn.principal;
    if (p === null) {
      throw new ApiError(
        401,
        ErrorCode.Unauthorized,
        'authenticate first (an auth message or a credential header)',
      );
    }
    if (roles !== null && requireRole(p, roles) !== null) {
      throw new ApiError(403, ErrorCode.Forbidden, `this needs the role ${roles.join(' or ')}`);
    }
    return p;
  }

  /** Whether the connection may start another place or cancel; answers the refusal itself. */
  private admitRequest(conn: Connection, id: RequestId): boolean {
    if (this.closing !== null) {
      this.error(conn, id, ErrorCode.ServiceUnavailable, 'the venue is closing');
      return false;
    }
    if (conn.inFlight >= WS_LIMITS.requestsInFlightMax) {
      this.error(
        conn,
        id,
        ErrorCode.RateLimited,
        `at most ${WS_LIMITS.requestsInFlightMax} requests in flight`,
        {
          limit: WS_LIMITS.requestsInFlightMax,
        },
      );
      return false;
    }
    conn.inFlight++;
    this.requestsInFlight++;
    return true;
  }

  private requestDone(conn: Connection): void {
    conn.inFlight--;
    this.requestsInFlight--;
    if (this.requestsInFlight === 0 && this.drained !== null) this.drained();
  }

  private instrumentOf(o: Readonly<OrderView>): InstrumentConfig {
    const inst = this.deps.trading.instrumentById(o.instrument);
    if (inst === undefined) throw new Error(`order ${o.orderId} of unknown instrument ${o.instrument}`);
    return inst;
  }

  private present(o: Readonly<OrderView>): OrderJson {
    return orderJson(o, this.instrumentOf(o), this.deps.trading.clientOrders.clientOrderIdOf(o.orderId));
  }

  /**
   * An acknowledgement with its order (`created` for a placement), the hottest message: its text, `{"type":
   * "ack","id":ID,"op":OP[,"created":CREATED],"order":ORDER}` as JSON.stringify would write it, is written
   * piece by piece as UTF-8 (see writeOrderJson) and sent as those bytes, never a string: as a string it was
   * the largest thing a request allocated, and it was encoded again when framed.
   */
  private ack(
    conn: Connection,
    op: 'place' | 'cancel' | 'amend',
    id: RequestId,
    created: boolean | null,
    o: Readonly<OrderView>,
  ): void {
    const cid = this.deps.trading.clientOrders.clientOrderIdOf(o.orderId);
    const inst = this.instrumentOf(o);
    const w = ackText.reset();
    w.text('{"type":"ack","id":');
    if (typeof id === 'string') w.json(id);
    else w.int(id);
    w.text(',"op":"');
    w.text(op);
    w.text(created === null ? '"' : created ? '","created":true' : '","created":false');
    w.text(',"order":');
    writeOrderJson(w, o, inst, cid);
    w.text('}');
    this.send(conn, w.toBuffer());
  }

  private async place(conn: Connection, m: PlaceMessage): Promise<void> {
    const startedMs = performance.now();
    const trading = this.deps.trading;
    let result: OrderResult = 'error';
    let audit: WsAuditTicket | null = null;
    try {
      const taken = WsAuditTicket.take(this.deps.audit, {
        action: 'order.place',
        requestId: m.id,
        target: { kind: 'account', id: m.account_id === undefined ? null : String(m.account_id) },
        details: [
          m.symbol,
          m.side,
          m.order_type,
          m.quantity,
          m.price,
          m.client_order_id,
          undefined,
          undefined,
        ],
      });
      audit = taken instanceof Promise ? await taken : taken;
      const p = this.mustHavePrincipal(conn, PLACERS);
      const request = placeRequest(m);
      const budget = this.takeOrderBudget(trading.accountFor(p, request.accountId));
      if (budget !== null) await budget;
      const placed = await trading.place(p, request, this.nowUs());
      const order = placed.order;
      if (order.status === 'rejected') {
        result = 'rejected';
        const code = order.rejectCode;
        if (code >= 3000 && code < 4000) this.deps.metrics?.riskRejects.inc({ code: rejectName(code) });
        const json = this.present(order);
        const refusal = rejectError(code, 'the order was rejected', { order: json });
        audit?.error(refusal, order.orderId);
        this.errorOf(conn, m.id, refusal);
      } else {
        result = placed.created ? 'accepted' : 'retried';
        audit?.ok(order.orderId);
        this.ack(conn, 'place', m.id, placed.created, order);
      }
      this.ackLatency?.observe((performance.now() - startedMs) / 1000);
    } catch (e) {
      const limited = e instanceof GatewayError && e.statusCode === 429;
      result = limited
        ? 'rate_limited'
        : e instanceof ApiError || e instanceof GatewayError
          ? 'refused'
          : 'error';
      audit?.error(e);
      this.errorOf(conn, m.id, e);
    } finally {
      audit?.commit(conn.auditActor());
      this.deps.metrics?.countOrder(m.order_type, result);
      this.requestDone(conn);
    }
  }

  private async cancel(conn: Connection, m: CancelMessage): Promise<void> {
    let audit: WsAuditTicket | null = null;
    try {
      const taken = WsAuditTicket.take(this.deps.audit, {
        action: 'order.cancel',
        requestId: m.id,
        target: { kind: 'order', id: String(m.order_id) },
        details: [undefined, undefined],
      });
      audit = taken instanceof Promise ? await taken : taken;
      const p = this.mustHavePrincipal(conn, CANCELLERS);
      const order = await this.deps.trading.cancel(p, Number(m.order_id));
      audit?.ok(null);
      this.ack(conn, 'cancel', m.id, null, order);
    } catch (e) {
      audit?.error(e);
      this.errorOf(conn, m.id, e);
    } finally {
      audit?.commit(conn.auditActor());
      this.requestDone(conn);
    }
  }

  /** As PATCH /api/v1/orders/{id}: the placers' roles, one unit of the order's account's order budget. */
  private async amend(conn: Connection, m: AmendMessage): Promise<void> {
    let audit: WsAuditTicket | null = null;
    try {
      audit = await WsAuditTicket.take(this.deps.audit, {
        action: 'order.amend',
        requestId: m.id,
        target: { kind: 'order', id: String(m.order_id) },
        details: [m.price, m.quantity, undefined, undefined],
      });
      const p = this.mustHavePrincipal(conn, PLACERS);
      const trading = this.deps.trading;
      const orderId = Number(m.order_id);
      // After the caller's right to see the order, so that a refusal tells nothing of others' orders.
      await this.takeOrderBudget(trading.visibleOrder(p, orderId).accountId);
      const order = await trading.amend(p, orderId, { price: m.price, quantity: m.quantity });
      audit?.ok(null);
      this.ack(conn, 'amend', m.id, null, order);
    } catch (e) {
      audit?.error(e);
      this.errorOf(conn, m.id, e);
    } finally {
      audit?.commit(conn.auditActor());
      this.requestDone(conn);
    }
  }

  /** As DELETE /api/v1/orders: the cancellers' roles; answers how many orders it cancelled. */
  private async massCancel(conn: Connection, m: MassCancelMessage): Promise<void> {
    let audit: WsAuditTicket | null = null;
    try {
      audit = await WsAuditTicket.take(this.deps.audit, {
        action: 'order.mass_cancel',
        requestId: m.id,
        target: { kind: 'account', id: m.account_id === undefined ? null : String(m.account_id) },
        details: [m.symbol, m.side, undefined, undefined],
      });
      const p = this.mustHavePrincipal(conn, CANCELLERS);
      const cancelled = await this.deps.trading.massCancel(p, {
        accountId: m.account_id,
        symbol: m.symbol,
        side: m.side,
      });
      audit?.ok(null);
      this.answer(conn, { type: 'ack', id: m.id, op: 'mass_cancel', cancelled });
    } catch (e) {
      audit?.error(e);
      this.errorOf(conn, m.id, e);
    } finally {
      audit?.commit(conn.auditActor());
      this.requestDone(conn);
    }
  }

  /** One unit of the address's HTTP request budget (`rateLimits.requestsPerMinutePerIp`), or RATE_LIMITED. */
  private takeIpBudget(address: string): Promise<void> {
    return this.ipLimiter === null ? Promise.resolve() : takeBudget(this.ipLimiter, address);
  }

  /**
   * One unit of the account's order budget (MAX_ORDERS_PER_SECOND), as for REST, or RATE_LIMITED: null when
   * decided at once (the memory limiter), else a promise to await.
   */
  private takeOrderBudget(accountId: number): Promise<void> | null {
    return this.orderLimiter === null
      ? null
      : takeBudgetNow(this.orderLimiter, String(accountId), ORDER_BUDGET_REFUSAL);
  }
}

/** Where `ack` writes an acknowledgement's text (never reentered: writing one sends nothing). */
const ackText = new TextBytes(2048);

function unavailable(message: string): GatewayError {
  return new GatewayError(ErrorCode.ServiceUnavailable, 503, message, {}, { 'retry-after': '1' });
}

function decodeSymbol(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Answers an upgrade request with an HTTP error in the gateway's shape, and closes the socket. */
function refuse(socket: Duplex, e: unknown, answerHeaders: string): void {
  if (socket.destroyed) return;
  const known = e instanceof ApiError || e instanceof GatewayError ? e : unavailableErrorOf(e);
  const g =
    known !== null ? gatewayErrorOf(known) : new GatewayError(ErrorCode.InternalError, 500, 'internal error');
  let body = JSON.stringify({
    error: { code: g.code, message: g.message, details: g.details },
    timestamp: new Date().toISOString(),
  });
  if (body.length > WS_LIMITS.refusalBytesMax) {
    body = JSON.stringify({
      error: { code: g.code, message: g.message, details: {} },
      timestamp: new Date().toISOString(),
    });
  }
  let head = `HTTP/1.1 ${g.statusCode} ${STATUS_CODES[g.statusCode] ?? 'Error'}\r\n${answerHeaders}`;
  for (const [name, value] of Object.entries(g.headers)) head += `${name}: ${value}\r\n`;
  head += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  socket.end(head + body);
}
