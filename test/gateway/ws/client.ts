/**
 * A WebSocket client for the gateway's tests: messages are parsed and queued as they arrive, and `next` takes
 * the first queued one that matches (waiting for it if none does yet). Nothing here waits on a clock.
 */
import { WebSocket } from 'ws';

export type Json = Record<string, unknown>;

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

interface Waiter {
  match: (m: Json) => boolean;
  resolve: (m: Json) => void;
}

export class WsClient {
  private readonly queue: Json[] = [];
  private readonly waiters: Waiter[] = [];
  /** Every message received, in order (kept only when `keepAll`). */
  readonly all: Json[] = [];
  /** The text of every message received, in order (kept only when `keepAll`). */
  readonly texts: string[] = [];
  readonly closed: Promise<Closed>;

  private constructor(
    readonly ws: WebSocket,
    private readonly keepAll: boolean,
  ) {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '{"binary":true}' : (data as Buffer).toString('utf8');
      const m = JSON.parse(text) as Json;
      if (this.keepAll) {
        this.all.push(m);
        this.texts.push(text);
      }
      const k = this.waiters.findIndex((w) => w.match(m));
      if (k >= 0) this.waiters.splice(k, 1)[0].resolve(m);
      else this.queue.push(m);
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('error', () => undefined);
  }

  /** Opens `url` (ws://...); rejects with the HTTP status and body when the server refuses the upgrade. */
  static open(url: string, headers: Record<string, string> = {}, keepAll = false): Promise<WsClient> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const client = new WsClient(ws, keepAll);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => reject(new Refused(res.statusCode ?? 0, body)));
      });
      ws.once('error', (e) => reject(e));
    });
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** The first message (queued or to come) for which `match` holds, taken off the queue. */
  next(match: (m: Json) => boolean = () => true): Promise<Json> {
    const k = this.queue.findIndex(match);
    if (k >= 0) return Promise.resolve(this.queue.splice(k, 1)[0]);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** The answer to request `id` (an ack, an error or any typed answer carrying the id). */
  answer(id: string | number): Promise<Json> {
    return this.next((m) => m.id === id);
  }

  /** Sends a request and waits for its answer. */
  async request(message: Json): Promise<Json> {
    this.send(message);
    return this.answer(message.id as string);
  }

  /** Every queued message taken off the queue. */
  drain(): Json[] {
    return this.queue.splice(0, this.queue.length);
  }

  /** A round trip: everything the server sent before its pong is queued once this resolves. */
  async sync(tag: string): Promise<void> {
    await this.request({ op: 'ping', id: `sync-${tag}` });
  }

  close(): Promise<Closed> {
    this.ws.close(1000);
    return this.closed;
  }
}

export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`refused ${status}: ${body}`);
  }

  get code(): string {
    return (JSON.parse(this.body) as { error: { code: string } }).error.code;
  }
}

export const wsUrl = (httpUrl: string, path: string): string => httpUrl.replace(/^http/, 'ws') + path;

/** Waits (yielding to the event loop) until `cond` holds, at most `rounds` times; says whether it did. */
export async function until(cond: () => boolean, rounds = 2000): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return cond();
}
