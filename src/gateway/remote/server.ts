/**
 * The engine's internal port (`rialto engine --listen HOST:PORT`): gateways connect here over WebSocket
 * (wire.ts) with the shared secret as a bearer token, checked before the upgrade (401 otherwise). Each
 * connection may follow the stream (the journal from a sequence number, then every durable batch as it comes)
 * and send requests: submits, placements (order ids and client order ids are assigned here, by the one
 * LocalOrderEntry), queries and reports. A frame that does not parse or check closes its connection (1002)
 * and nothing else; no handler throws. Plain GET /health and /ready answer for probes, GET /metrics for
 * Prometheus (the engine process's figures; no secret, as the gateways' /metrics).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { EngineError, type DurableBatch, type Engine, type Receipt } from '../../engine/index.js';
import { JournalReader, decodeFramedCommands, frameCommand, RECORD_BYTES_MAX } from '../../journal/index.js';
import type { Command } from '../../core/index.js';
import { metricsAuthorizer } from '../http/server.js';
import { ApiError } from '../trading/errors.js';
import type { LocalOrderEntry } from '../trading/order-entry.js';
import {
  ENGINE_WS_PATH,
  WIRE_LIMITS,
  decodeFrame,
  encodeFrame,
  eventsBody,
  toEngineHeader,
  type ReceiptHead,
  type ToEngineHeader,
  type ToGatewayHeader,
  type WireError,
} from './wire.js';

export interface EngineServerOptions {
  readonly host: string;
  readonly port: number;
  /** The shared secret gateways present; null: none asked (development only, refused in production). */
  readonly secret: string | null;
  readonly engine: Engine;
  /** Set once the engine process has opened it (placements are refused before). */
  readonly entry: () => LocalOrderEntry | null;
  /** The journal's directory, read for catch-up. */
  readonly dir: string;
  readonly log: (level: 'info' | 'warn', msg: string) => void;
  /** Served at GET /metrics; absent: 404 there. */
  readonly metrics?: Registry;
  /** With a token (`metrics.token`), /metrics answers only `Authorization: Bearer TOKEN`, as the gateways'. */
  readonly metricsToken?: string | null;
}

interface Follower {
  live: boolean;
  /** Live batches held while the journal is sent. */
  queue: Buffer[];
}

export interface EngineServerStats {
  connections: number;
  followers: number;
  refusedFrames: number;
  refusedUpgrades: number;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export class EngineServer {
  private readonly wss: WebSocketServer;
  private readonly followers = new Map<WebSocket, Follower>();
  private lastPublished: number;
  private readonly unsubscribe: () => void;
  private readonly secretDigest: Buffer | null;
  private refusedFrames = 0;
  private refusedUpgrades = 0;
  private closing = false;

  private readonly mayReadMetrics: (req: IncomingMessage) => boolean;

  private constructor(
    private readonly http: Server,
    private readonly options: EngineServerOptions,
  ) {
    this.mayReadMetrics = metricsAuthorizer(options.metricsToken ?? null);
    this.secretDigest = options.secret === null ? null : digest(options.secret);
    this.lastPublished = options.engine.recovery.lastSeq;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: WIRE_LIMITS.gatewayMessageBytesMax });
    this.unsubscribe = options.engine.subscribe((b) => this.publish(b));
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    http.on('request', (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && (path === '/health' || path === '/ready')) {
        const health = path === '/health' ? 'ok' : this.health();
        res.writeHead(health === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: health }));
        return;
      }
      const registry = options.metrics;
      if (req.method === 'GET' && path === '/metrics' && registry !== undefined) {
        if (!this.mayReadMetrics(req)) {
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'metrics are not available to this client' }));
          return;
        }
        registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
            res.end(text);
          },
          (e: unknown) => {
            options.log('warn', `metrics: ${e instanceof Error ? e.message : String(e)}`);
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: 'collecting the metrics failed' }));
          },
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: `the engine's internal port serves ${ENGINE_WS_PATH}, /health, /ready and /metrics`,
        }),
      );
    });
  }

  /**
   * Listens on host:port (port 0: any free one). Subscribes to the engine at once, so make it before any
   * command is submitted: every durable batch from here on reaches the followers.
   */
  static async listen(options: EngineServerOptions): Promise<EngineServer> {
    const http = createServer();
    const server = new EngineServer(http, options);
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(options.port, options.host, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      server.unsubscribe();
      throw e;
    }
    return server;
  }

  /** HOST:PORT it listens on. */
  get address(): string {
    const a = this.http.address() as AddressInfo;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  stats(): EngineServerStats {
    return {
      connections: this.wss.clients.size,
      followers: this.followers.size,
      refusedFrames: this.refusedFrames,
      refusedUpgrades: this.refusedUpgrades,
    };
  }

  health(): string {
    if (this.closing) return 'closing';
    return this.options.engine.health();
  }

  /** Closes every connection (1001) and stops listening. */
  async close(): Promise<void> {
    this.closing = true;
    this.unsubscribe();
    for (const ws of this.wss.clients) ws.close(1001, 'the engine is stopping');
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    // Connections that do not finish their closing handshake soon are cut.
    const cut = setTimeout(() => {
      for (const ws of this.wss.clients) ws.terminate();
      this.http.closeAllConnections();
    }, 2000);
    try {
      await closed;
    } finally {
      clearTimeout(cut);
    }
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const refuse = (status: number, text: string): void => {
      this.refusedUpgrades++;
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if ((req.url ?? '').split('?')[0] !== ENGINE_WS_PATH) return refuse(404, 'Not Found');
    if (!this.authorized(req.headers.authorization)) return refuse(401, 'Unauthorized');
    if (this.closing) return refuse(503, 'Service Unavailable');
    if (this.wss.clients.size >= WIRE_LIMITS.connectionsMax) return refuse(503, 'Service Unavailable');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private authorized(header: string | undefined): boolean {
    if (this.secretDigest === null) return true;
    const m = /^Bearer (.+)$/.exec(header ?? '');
    // Compared as digests: equal lengths, and the time does not depend on the secret.
    return m !== null && timingSafeEqual(digest(m[1]), this.secretDigest);
  }

  private accept(ws: WebSocket): void {
    ws.on('error', () => undefined);
    ws.on('close', () => this.followers.delete(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary || !Buffer.isBuffer(data)) return this.refuse(ws, 'a text or fragmented message');
      const frame = decodeFrame(data, toEngineHeader);
      if (typeof frame === 'string') return this.refuse(ws, frame);
      try {
        this.handle(ws, frame.header, frame.body);
      } catch (e) {
        this.refuse(ws, e instanceof Error ? e.message : String(e));
      }
    });
  }

  private refuse(ws: WebSocket, why: string): void {
    this.refusedFrames++;
    this.options.log('warn', `internal port: a gateway sent ${why}; connection closed`);
    ws.close(1002, 'protocol error');
  }

  private handle(ws: WebSocket, h: ToEngineHeader, body: Uint8Array): void {
    switch (h.t) {
      case 'follow':
        if (this.followers.has(ws)) return this.refuse(ws, 'a second follow');
        void this.follow(ws, h.from);
        return;
      case 'submit': {
        const commands = this.commandsOf(ws, body, h.count);
        if (commands === null) return;
        // Client order ids are assigned here, by the order entry, so that each pair maps to one order.
        if (commands.some((c) => c.kind === 'placeOrder' && c.clientOrderId !== undefined)) {
          return this.refuse(ws, 'a submit of a placeOrder with a client order id');
        }
        this.answer(
          ws,
          h.id,
          this.options.engine
            .submit(commands)
            .then((r) => [{ t: 'receipt', id: h.id, receipt: receiptHead(r) }, eventsOf(r)] as const),
        );
        return;
      }
      case 'place': {
        const commands = this.commandsOf(ws, body, 1);
        if (commands === null) return;
        const cmd = commands[0];
        if (cmd.kind !== 'placeOrder' || cmd.orderId !== 0 || cmd.clientOrderId !== undefined) {
          return this.refuse(ws, 'a place that is not one placeOrder with order id 0 and no client order id');
        }
        const entry = this.options.entry();
        if (entry === null) {
          this.sendError(ws, h.id, {
            kind: 'engine',
            code: 'ENGINE_STARTING',
            message: 'the engine is starting',
          });
          return;
        }
        this.answer(
          ws,
          h.id,
          entry.place(cmd, h.clientOrderId).then((o) => {
            const r = o.receipt;
            // A retry's order is durable, and was published, by the time its mapping is found.
            const header: ToGatewayHeader = {
              t: 'placed',
              id: h.id,
              orderId: o.orderId,
              seq: r === null ? this.lastPublished : r.lastSeq,
              receipt: r === null ? null : receiptHead(r),
            };
            return [header, r === null ? undefined : eventsOf(r)] as const;
          }),
        );
        return;
      }
      case 'ask': {
        const e = this.options.engine;
        const value: Promise<unknown> =
          h.q === 'stateHash'
            ? e.stateHash()
            : h.q === 'highestOrderId'
              ? e.highestOrderId()
              : h.q === 'checkpoint'
                ? e.checkpoint()
                : e.stats();
        this.answer(
          ws,
          h.id,
          value.then((v) => [{ t: 'answer', id: h.id, value: v }, undefined] as const),
        );
        return;
      }
      case 'report':
        this.answer(
          ws,
          h.id,
          this.options.engine
            .report(h.report)
            .then((v) => [{ t: 'answer', id: h.id, value: v }, undefined] as const),
        );
        return;
    }
  }

  /** The body's commands, or null (the connection refused) when it is not `count` framed records. */
  private commandsOf(ws: WebSocket, body: Uint8Array, count: number): Command[] | null {
    try {
      return decodeFramedCommands(body, count);
    } catch (e) {
      this.refuse(ws, `records that do not decode (${e instanceof Error ? e.message : String(e)})`);
      return null;
    }
  }

  private answer(
    ws: WebSocket,
    id: number,
    reply: Promise<readonly [ToGatewayHeader, Uint8Array | undefined]>,
  ): void {
    reply.then(
      ([header, body]) => send(ws, encodeFrame(header, body)),
      (e: unknown) => this.sendError(ws, id, wireError(e)),
    );
  }

  private sendError(ws: WebSocket, id: number, error: WireError): void {
    send(ws, encodeFrame({ t: 'error', id, error }));
  }

  /**
   * Sends the engine's checkpoint, then the journal from `from` up to the last batch published, then the live
   * batches held meanwhile, then `live`; from there on every batch as it is published.
   */
  private async follow(ws: WebSocket, from: number): Promise<void> {
    const follower: Follower = { live: false, queue: [] };
    this.followers.set(ws, follower);
    const upTo = this.lastPublished;
    try {
      if (from > upTo + 1) {
        send(
          ws,
          encodeFrame({
            t: 'fatal',
            code: 'ENGINE_BEHIND',
            message:
              `the gateway has applied up to ${from - 1}, the engine's journal ends at ${upTo}: ` +
              'a gateway follows one engine and its journal; restart the gateway',
          }),
        );
        ws.close(1008, 'engine behind the gateway');
        return;
      }
      const checkpoint = await this.options.engine.checkpoint();
      send(ws, encodeFrame({ t: 'hello', seq: checkpoint.seq, stateHash: checkpoint.stateHash }));
      if (from <= upTo) await this.sendJournal(ws, from, upTo);
      for (const frame of follower.queue) send(ws, frame);
      follower.queue = [];
      follower.live = true;
      send(ws, encodeFrame({ t: 'live' }));
    } catch (e) {
      this.options.log(
        'warn',
        `internal port: catch-up failed: ${e instanceof Error ? e.message : String(e)}`,
      );
      send(ws, encodeFrame({ t: 'fatal', code: 'ENGINE_CATCH_UP_FAILED', message: String(e) }));
      ws.close(1011, 'catch-up failed');
    }
  }

  /** The journal's records from..upTo, in chunks of one time stamp and about catchUpChunkBytes. */
  private async sendJournal(ws: WebSocket, from: number, upTo: number): Promise<void> {
    let bytes = new Uint8Array(WIRE_LIMITS.catchUpChunkBytes + RECORD_BYTES_MAX);
    let at = 0;
    let first = from;
    let count = 0;
    let timeUs = 0;
    const flush = (): void => {
      if (count === 0) return;
      const header: ToGatewayHeader = { t: 'batch', firstSeq: first, timeUs, count };
      send(ws, encodeFrame(header, bytes.subarray(0, at)));
      first += count;
      count = 0;
      at = 0;
      bytes = new Uint8Array(bytes.length);
    };
    await new JournalReader(this.options.dir).scan(from, (seq, t, command) => {
      if (seq > upTo || ws.readyState !== ws.OPEN) return;
      if (count > 0 && (t !== timeUs || at >= WIRE_LIMITS.catchUpChunkBytes)) flush();
      if (count === 0) {
        first = seq;
        timeUs = t;
      }
      at = frameCommand(command, bytes, at);
      count++;
    });
    flush();
  }

  private publish(b: DurableBatch): void {
    this.lastPublished = b.firstSeq + b.count - 1;
    if (this.followers.size === 0) return;
    const records = b.records;
    if (records === undefined) throw new Error('the engine serving gateways publishes its records');
    const header: ToGatewayHeader = { t: 'batch', firstSeq: b.firstSeq, timeUs: b.timeUs, count: b.count };
    const frame = encodeFrame(header, records);
    for (const [ws, f] of this.followers) {
      if (ws.bufferedAmount > WIRE_LIMITS.followerBufferedBytesMax) {
        // A follower that does not read would hold the engine's memory; it reconnects and catches up.
        this.options.log('warn', 'internal port: a gateway fell too far behind its stream; connection cut');
        this.followers.delete(ws);
        ws.terminate();
      } else if (f.live) send(ws, frame);
      else f.queue.push(frame);
    }
  }
}

function send(ws: WebSocket, frame: Buffer): void {
  if (ws.readyState === ws.OPEN) ws.send(frame);
}

function receiptHead(r: Receipt): ReceiptHead {
  const ends: number[] = [];
  let n = 0;
  for (let i = 0; i < r.count; i++) {
    n += r.events(i).length / 16;
    ends.push(n);
  }
  return { firstSeq: r.firstSeq, count: r.count, timeUs: r.timeUs, ends };
}

/** A receipt's events, its commands' back to back. */
function eventsOf(r: Receipt): Uint8Array {
  if (r.count === 1) return eventsBody(r.events(0));
  let length = 0;
  for (let i = 0; i < r.count; i++) length += r.events(i).length;
  const all = new Float64Array(length);
  let at = 0;
  for (let i = 0; i < r.count; i++) {
    all.set(r.events(i), at);
    at += r.events(i).length;
  }
  return new Uint8Array(all.buffer);
}

function wireError(e: unknown): WireError {
  if (e instanceof ApiError) {
    return { kind: 'api', status: e.status, code: e.code, message: e.message, details: { ...e.details } };
  }
  if (e instanceof EngineError) return { kind: 'engine', code: e.code, message: e.message };
  return { kind: 'engine', code: 'ENGINE_ERROR', message: e instanceof Error ? e.message : String(e) };
}
