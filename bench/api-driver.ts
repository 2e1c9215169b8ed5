/**
 * How `bench:api` talks to the venue: one driver interface per transport, so that the load generator (the
 * order mix, the saturation and fixed-rate runs) is the same whatever carries the orders. The REST driver is
 * here; a WebSocket driver (`/ws`, JSON messages `{"op":"place","id":...}` answered by `{"type":"ack",...}`)
 * implements the same interface once the venue has order entry over WebSocket.
 *
 * A driver sends one order operation for one session (an account and its API key) and resolves when the
 * venue acknowledges it (for Rialto: once the command is durable in the journal). It never throws for an
 * answer the venue gave; a transport failure is an outcome with status 0.
 */
import { connect, type Socket } from 'node:net';

/** A session: an account and the trader key bound to it. */
export interface Session {
  readonly accountId: number;
  readonly key: string;
}

export interface PlaceOp {
  readonly kind: 'place';
  readonly session: number;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly orderType: 'limit' | 'ioc';
  /** Decimal strings, as the API takes them. */
  readonly price: string;
  readonly quantity: string;
  readonly clientOrderId: string | null;
}

export interface CancelOp {
  readonly kind: 'cancel';
  readonly session: number;
  readonly orderId: string;
}

export type OrderOp = PlaceOp | CancelOp;

export interface OpOutcome {
  /** The HTTP status (or the WebSocket answer's equivalent); 0: the transport failed. */
  readonly status: number;
  /** The order's id, when the venue answered with an order. */
  readonly orderId: string | null;
  /** True when the order rests on the book after this answer (pending or partially filled). */
  readonly resting: boolean;
  /** The error code of a refusal, else null. */
  readonly code: string | null;
}

export interface OrderDriver {
  readonly transport: 'rest' | 'ws';
  send(op: OrderOp): Promise<OpOutcome>;
  close(): Promise<void>;
}

export interface DriverOptions {
  /** The venue's base URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly sessions: readonly Session[];
  /** Connections (sockets) the driver keeps open at most. */
  readonly connections: number;
}

export type DriverFactory = (options: DriverOptions) => Promise<OrderDriver>;

const ORDER_ID = /"order_id":"([0-9]+)"/;
const STATUS = /"status":"([a-z_]+)"/;
const ERROR_CODE = /"code":"([A-Z_]+)"/;

/** What an answer's body says, read with three small regular expressions rather than a full parse. */
function outcomeOf(status: number, body: string): OpOutcome {
  if (status >= 200 && status < 300) {
    const id = ORDER_ID.exec(body);
    const s = STATUS.exec(body)?.[1];
    return {
      status,
      orderId: id === null ? null : id[1],
      resting: s === 'pending' || s === 'partially_filled',
      code: null,
    };
  }
  return { status, orderId: null, resting: false, code: ERROR_CODE.exec(body)?.[1] ?? 'UNKNOWN' };
}

interface Pending {
  readonly head: string;
  readonly body: string | null;
  readonly resolve: (o: OpOutcome) => void;
}

const TRANSPORT_FAILED: OpOutcome = { status: 0, orderId: null, resting: false, code: 'TRANSPORT' };

/**
 * One keep-alive HTTP/1.1 connection, one request at a time. The bench's own client: node's http client
 * cost the bench process more CPU per request than a third of the server's, on the same two cores, so this
 * writes each request as one string and reads answers by Content-Length (fastify always sends it).
 */
class Connection {
  private buffer = '';
  private current: Pending | null = null;
  private readonly socket: Socket;

  constructor(
    host: string,
    port: number,
    private readonly next: () => Pending | null,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => this.read(chunk));
    this.socket.on('error', () => this.fail());
    this.socket.on('close', () => this.fail());
  }

  get idle(): boolean {
    return this.current === null;
  }

  send(p: Pending): void {
    this.current = p;
    this.socket.write(p.body === null ? p.head : p.head + p.body);
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = CONTENT_LENGTH.exec(this.buffer.slice(0, end));
      // Bodies are ASCII JSON here, so characters are bytes.
      const total = end + 4 + (length === null ? 0 : Number(length[1]));
      if (this.buffer.length < total) return;
      const status = Number(this.buffer.slice(9, 12));
      const body = this.buffer.slice(end + 4, total);
      this.buffer = this.buffer.slice(total);
      const done = this.current;
      this.current = null;
      done?.resolve(outcomeOf(status, body));
      const p = this.next();
      if (p !== null) this.send(p);
    }
  }

  private fail(): void {
    const done = this.current;
    this.current = null;
    done?.resolve(TRANSPORT_FAILED);
  }
}

const CONTENT_LENGTH = /\r\ncontent-length: *([0-9]+)/i;

/** Orders over REST: `POST /api/v1/orders` and `DELETE /api/v1/orders/:id`, keep-alive connections. */
export const restDriver: DriverFactory = (options) => {
  const base = new URL(options.url);
  const host = base.hostname;
  const port = Number(base.port);
  const queue: Pending[] = [];
  let queued = 0;
  const next = (): Pending | null => {
    if (queued === queue.length) return null;
    const p = queue[queued++];
    // Compact now and then, so that the queue does not grow for ever.
    if (queued > 4096 && queued * 2 > queue.length) {
      queue.splice(0, queued);
      queued = 0;
    }
    return p;
  };
  const connections = Array.from({ length: options.connections }, () => new Connection(host, port, next));
  const send = (op: OrderOp): Promise<OpOutcome> => {
    const session = options.sessions[op.session];
    let head: string;
    let body: string | null = null;
    if (op.kind === 'place') {
      body =
        `{"symbol":"${op.symbol}","side":"${op.side}","order_type":"${op.orderType}",` +
        `"price":"${op.price}","quantity":"${op.quantity}"` +
        (op.clientOrderId === null ? '' : `,"client_order_id":"${op.clientOrderId}"`) +
        '}';
      head =
        `POST /api/v1/orders HTTP/1.1\r\nhost: ${host}\r\nx-api-key: ${session.key}\r\n` +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    } else {
      head = `DELETE /api/v1/orders/${op.orderId} HTTP/1.1\r\nhost: ${host}\r\nx-api-key: ${session.key}\r\n\r\n`;
    }
    return new Promise((resolve) => {
      const p: Pending = { head, body, resolve };
      const free = connections.find((c) => c.idle);
      if (free !== undefined) free.send(p);
      else queue.push(p);
    });
  };
  return Promise.resolve({
    transport: 'rest',
    send,
    close: () => {
      for (const c of connections) c.close();
      return Promise.resolve();
    },
  });
};

/** The drivers that exist; `ws` joins once the venue takes orders over WebSocket. */
export const DRIVERS: Readonly<Partial<Record<'rest' | 'ws', DriverFactory>>> = { rest: restDriver };
