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
import { Agent, request } from 'node:http';

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

/** Orders over REST: `POST /api/v1/orders` and `DELETE /api/v1/orders/:id`, keep-alive connections. */
export const restDriver: DriverFactory = (options) => {
  const base = new URL(options.url);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: options.connections,
    maxFreeSockets: options.connections,
    scheduling: 'fifo',
  });
  const send = (op: OrderOp): Promise<OpOutcome> => {
    const session = options.sessions[op.session];
    let method: 'POST' | 'DELETE';
    let path: string;
    let body: string | null = null;
    if (op.kind === 'place') {
      method = 'POST';
      path = '/api/v1/orders';
      body =
        `{"symbol":"${op.symbol}","side":"${op.side}","order_type":"${op.orderType}",` +
        `"price":"${op.price}","quantity":"${op.quantity}"` +
        (op.clientOrderId === null ? '' : `,"client_order_id":"${op.clientOrderId}"`) +
        '}';
    } else {
      method = 'DELETE';
      path = `/api/v1/orders/${op.orderId}`;
    }
    const headers: Record<string, string | number> = { 'x-api-key': session.key };
    if (body !== null) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    return new Promise((resolve) => {
      const req = request({ agent, host: base.hostname, port: base.port, method, path, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(outcomeOf(res.statusCode ?? 0, text)));
        res.on('error', () => resolve({ status: 0, orderId: null, resting: false, code: 'TRANSPORT' }));
      });
      req.on('error', () => resolve({ status: 0, orderId: null, resting: false, code: 'TRANSPORT' }));
      req.end(body ?? undefined);
    });
  };
  return Promise.resolve({
    transport: 'rest',
    send,
    close: () => {
      agent.destroy();
      return Promise.resolve();
    },
  });
};

/** The drivers that exist; `ws` joins once the venue takes orders over WebSocket. */
export const DRIVERS: Readonly<Partial<Record<'rest' | 'ws', DriverFactory>>> = { rest: restDriver };
