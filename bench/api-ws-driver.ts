/**
 * Orders over WebSocket for `bench:api`: one `/ws` connection per session (its API key on the upgrade),
 * `place` and `cancel` messages with request ids, answers matched by id (a connection answers in any order).
 * Many requests are in flight on one connection at once, as a trading client pipelines them; the venue bounds
 * that per connection (docs/websocket.md), so the driver keeps below the bound and queues the rest.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { DriverFactory, OpOutcome, OrderOp } from './api-driver.js';

/** Requests a connection has awaiting answers at most (the venue allows 4,096). */
const IN_FLIGHT_PER_CONNECTION = 2048;

const ID = /"id":"([0-9]+)"/;
const ORDER_ID = /"order_id":"([0-9]+)"/;
const STATUS = /"status":"([a-z_]+)"/;
const ERROR_CODE = /"code":"([A-Z_]+)"/;

const TRANSPORT_FAILED: OpOutcome = { status: 0, orderId: null, resting: false, code: 'TRANSPORT' };

/** What an answer says, read with small regular expressions rather than a full parse (as the REST driver). */
function outcomeOf(text: string): OpOutcome {
  if (text.startsWith('{"type":"ack"')) {
    const id = ORDER_ID.exec(text);
    const s = STATUS.exec(text)?.[1];
    return {
      status: text.includes('"created":false') ? 200 : 201,
      orderId: id === null ? null : id[1],
      resting: s === 'pending' || s === 'partially_filled',
      code: null,
    };
  }
  return { status: 400, orderId: null, resting: false, code: ERROR_CODE.exec(text)?.[1] ?? 'UNKNOWN' };
}

class Session {
  private readonly waiting = new Map<string, (o: OpOutcome) => void>();
  private readonly queue: string[] = [];
  private nextId = 1;
  private open = false;
  private pumpScheduled = false;
  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  constructor(private readonly socket: WebSocket) {
    socket.on('open', () => {
      this.open = true;
      this.pump();
    });
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) return;
      const text = Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : Buffer.from(data).toString('utf8');
      if (!(text.startsWith('{"type":"ack"') || text.startsWith('{"type":"error"'))) return;
      const id = ID.exec(text)?.[1];
      const resolve = id === undefined ? undefined : this.waiting.get(id);
      if (id === undefined || resolve === undefined) return;
      this.waiting.delete(id);
      resolve(outcomeOf(text));
      if (this.queue.length > 0 && !this.pumpScheduled) {
        this.pumpScheduled = true;
        process.nextTick(this.scheduledPump);
      }
    });
    const fail = (): void => {
      this.open = false;
      for (const resolve of this.waiting.values()) resolve(TRANSPORT_FAILED);
      this.waiting.clear();
    };
    socket.on('error', fail);
    socket.on('close', fail);
  }

  send(op: OrderOp): Promise<OpOutcome> {
    return new Promise((resolve) => {
      const id = String(this.nextId++);
      const message =
        op.kind === 'place'
          ? `{"op":"place","id":"${id}","symbol":"${op.symbol}","side":"${op.side}","order_type":"${op.orderType}",` +
            `"price":"${op.price}","quantity":"${op.quantity}"` +
            (op.clientOrderId === null ? '' : `,"client_order_id":"${op.clientOrderId}"`) +
            '}'
          : `{"op":"cancel","id":"${id}","order_id":"${op.orderId}"}`;
      this.waiting.set(id, resolve);
      this.queue.push(message);
      // Sent at the end of this tick with whatever else the tick asked for (see pump).
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        process.nextTick(this.scheduledPump);
      }
    });
  }

  close(): void {
    this.socket.terminate();
  }

  /**
   * Sends queued requests while the connection is open and below its in-flight bound. The requests of one call
   * leave in one write (the TCP socket corked around them), as a pipelining client's do: one system call for
   * the lot instead of one per request.
   */
  private pump(): void {
    if (!this.open) return;
    const inFlight = this.waiting.size - this.queue.length;
    let room = IN_FLIGHT_PER_CONNECTION - inFlight;
    if (room <= 0 || this.queue.length === 0) return;
    const tcp = this.tcp;
    tcp?.cork();
    while (room > 0 && this.queue.length > 0) {
      this.socket.send(this.queue.shift() as string);
      room--;
    }
    tcp?.uncork();
  }

  /** The connection's TCP socket (ws keeps it as `_socket`; not part of its typed interface). */
  private get tcp(): Socket | undefined {
    return (this.socket as unknown as { _socket?: Socket })._socket;
  }
}

/** Orders over `/ws`: a connection per session, requests pipelined on it. */
export const wsDriver: DriverFactory = (options) => {
  const url = `${options.url.replace(/^http/, 'ws')}/ws`;
  const sessions = options.sessions.map(
    (s) => new Session(new WebSocket(url, { headers: { 'x-api-key': s.key }, perMessageDeflate: false })),
  );
  return Promise.resolve({
    transport: 'ws',
    send: (op: OrderOp) => sessions[op.session].send(op),
    close: () => {
      for (const s of sessions) s.close();
      return Promise.resolve();
    },
  });
};
