/**
 * A live feed over WebSocket: a `Connector` (connector.ts; the `FeedSupervisor` reconnects it with back-off)
 * that reads JSON trades or quotes from a WebSocket and hands them to the pipeline as `trade.v1` / `quote.v1`
 * raw events.
 *
 * What a message holds is said by a field mapping (`JsonFeedMapping`): which of its fields is the time, the
 * price, the size, ... (dotted paths reach into nested objects), which field values a message must have to be
 * taken (`match`; others, such as a subscription's confirmation, are skipped and counted), and the unit of
 * numeric times. A message may hold one JSON object, an array of them, or several JSON lines. Another Rialto
 * venue's `/ws/trades/{symbol}` (`trade_execution` messages) is one such mapping (`RIALTO_TRADES_MAPPING`).
 *
 * Bad input never ends the feed: a frame that is not JSON, an object without a mapped field, and so on, goes on
 * as an `unparsed.v1` raw event with the reason (normalize dead-letters it), and is counted (`malformed`);
 * values that are there but wrong (a price "abc") are the schema's to refuse, and are dead-lettered the same
 * way. Event ids are `feed:NAME:SYMBOL:ID` when the mapping has a trade id (a feed that sends a trade again
 * gives the same id, so the writes downstream, idempotent by id, keep it once), else numbered per connection.
 */
import WebSocket from 'ws';
import { parseScaledBig } from '../../decimal.js';
import { formatTime } from '../../time-text.js';
import type { RawEvent } from '../raw.js';
import type { Connector, FeedConnection } from './connector.js';
import { unparsedSchema } from './replay.js';
import { wallScheduler, type Scheduler } from './scheduler.js';

/** The unit of a numeric time field: epoch seconds, milliseconds, microseconds or nanoseconds. */
export type EpochUnit = 's' | 'ms' | 'us' | 'ns';

/** The tick fields a mapping names, per kind; those marked required must be in every message taken. */
export const TRADE_FIELDS = Object.freeze({
  time: true,
  price: true,
  size: true,
  symbol: false,
  side: false,
  id: false,
});
export const QUOTE_FIELDS = Object.freeze({
  time: true,
  bid: false,
  bid_size: false,
  ask: false,
  ask_size: false,
  symbol: false,
});

export interface JsonFeedMapping {
  readonly kind: 'trade' | 'quote';
  /** Tick field → the message's field (a dotted path: `data.p`), for the fields of TRADE_FIELDS or QUOTE_FIELDS. */
  readonly fields: Readonly<Record<string, string>>;
  /** Message field → the value it must have (as text) for the message to be taken; others are skipped. */
  readonly match?: Readonly<Record<string, string>>;
  /** How numeric times (and whole-number strings) are read; ISO 8601 strings are read as such. Default ms. */
  readonly timeUnit?: EpochUnit;
  /** The symbol of messages without one (or when the mapping names no symbol field). */
  readonly symbol?: string;
}

/** Another Rialto venue's `/ws/trades/{symbol}`: one `trade_execution` per trade (docs/websocket.md). */
export const RIALTO_TRADES_MAPPING: JsonFeedMapping = Object.freeze({
  kind: 'trade',
  fields: Object.freeze({
    time: 'timestamp',
    price: 'price',
    size: 'quantity',
    side: 'aggressor_side',
    id: 'trade_id',
    symbol: 'symbol',
  }),
  match: Object.freeze({ type: 'trade_execution' }),
});

/** Why a mapping cannot work (a field it does not know, a required one missing), or null. */
export function mappingProblem(m: JsonFeedMapping): string | null {
  const known: Readonly<Record<string, boolean>> = m.kind === 'trade' ? TRADE_FIELDS : QUOTE_FIELDS;
  for (const [field, path] of Object.entries(m.fields)) {
    if (!(field in known)) return `"${field}" is not a ${m.kind} field (${Object.keys(known).join(', ')})`;
    if (path === '' || path.split('.').some((p) => p === '')) return `the path of "${field}" is empty`;
  }
  for (const [field, required] of Object.entries(known)) {
    if (required && m.fields[field] === undefined) return `a ${m.kind} mapping needs a "${field}" field`;
  }
  if (m.kind === 'quote' && !['bid', 'ask'].some((f) => m.fields[f] !== undefined))
    return 'a quote mapping needs a "bid" or an "ask" field';
  if (m.fields.symbol === undefined && m.symbol === undefined)
    return 'the mapping names no "symbol" field and no default symbol is given';
  return null;
}

export const WS_FEED_LIMITS = Object.freeze({
  /** A frame larger than this closes the connection (the supervisor reconnects). */
  framePayloadMax: 1 << 20,
  /** How long an opening handshake may take. */
  handshakeTimeoutMs: 10_000,
  /** Without any frame or pong for this long the connection is taken as dead and closed. */
  idleTimeoutMs: 30_000,
  /** How long a close waits for the feed's answer before the socket is cut. */
  closeWaitMs: 2_000,
  /** Of a malformed frame, this many characters are kept in its dead letter. */
  keptTextMax: 1_000,
});

export interface WebSocketFeedOptions {
  readonly url: string;
  readonly mapping: JsonFeedMapping;
  /** Names the source (`feed:NAME`) and the event ids; default the URL's host and path. */
  readonly name?: string;
  /** Sent as a text frame after each connect (a feed's subscription request). */
  readonly subscribe?: string;
  readonly scheduler?: Scheduler;
  readonly limits?: Partial<typeof WS_FEED_LIMITS>;
}

export interface WebSocketFeedStats {
  /** Frames received. */
  frames: number;
  /** Raw events handed on (malformed ones included). */
  events: number;
  /** Messages not understood: handed on as `unparsed.v1` (dead-lettered), counted here. */
  malformed: number;
  /** Messages the mapping's `match` left out. */
  skipped: number;
}

type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

function at(o: Fields, path: string): unknown {
  if (!path.includes('.')) return o[path];
  let v: unknown = o;
  for (const part of path.split('.')) {
    if (!isFields(v)) return undefined;
    v = v[part];
  }
  return v;
}

/** A decimal as the schemas read it: strings as they are, finite numbers in their shortest exact text. */
const decimalText = (v: unknown): unknown => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v);

const NS_DECIMALS: Record<EpochUnit, number> = { s: 9, ms: 6, us: 3, ns: 0 };

/** A time field as ISO 8601 text: ISO strings as they are, epoch numbers in `unit` converted (exactly). */
function timeText(v: unknown, unit: EpochUnit): string | { problem: string } {
  if (typeof v === 'string' && !/^\d+(\.\d+)?$/.test(v)) return v;
  const text = typeof v === 'number' && Number.isFinite(v) && v >= 0 ? String(v) : v;
  if (typeof text !== 'string' || /e/i.test(text))
    return { problem: `time ${JSON.stringify(v)} is neither ISO 8601 text nor epoch ${unit}` };
  const ns = parseScaledBig(text, NS_DECIMALS[unit], 'time');
  if (!ns.ok) return { problem: `${ns.problem} (epoch ${unit}, at most ns)` };
  const timeUs = ns.value / 1000n;
  if (timeUs > BigInt(Number.MAX_SAFE_INTEGER)) return { problem: `time ${text} ${unit} is too far ahead` };
  return formatTime(Number(timeUs), Number(ns.value % 1000n));
}

/** The common spellings of a side, as the schema's `buy` / `sell` (anything else is left for it to refuse). */
function sideText(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.toLowerCase();
  if (s === 'buy' || s === 'b' || s === 'bid') return 'buy';
  if (s === 'sell' || s === 's' || s === 'ask' || s === 'offer') return 'sell';
  return v;
}

/** One message's outcome: a payload for the schema (with the trade id if any), skipped, or why it is malformed. */
export type MappedMessage =
  | { readonly ok: true; readonly payload: Fields; readonly symbol: string; readonly id: string | null }
  | { readonly ok: false; readonly skipped: true }
  | { readonly ok: false; readonly skipped: false; readonly reason: string };

/** Maps one message (a parsed JSON value) by `m`. */
export function mapMessage(value: unknown, m: JsonFeedMapping): MappedMessage {
  if (!isFields(value)) return { ok: false, skipped: false, reason: 'not a JSON object' };
  if (m.match !== undefined) {
    for (const [path, want] of Object.entries(m.match)) {
      const got = at(value, path);
      const text =
        typeof got === 'string'
          ? got
          : typeof got === 'number' || typeof got === 'boolean'
            ? String(got)
            : null;
      if (text !== want) return { ok: false, skipped: true };
    }
  }
  const known = m.kind === 'trade' ? TRADE_FIELDS : QUOTE_FIELDS;
  const payload: Fields = {};
  for (const [field, required] of Object.entries(known)) {
    const path = m.fields[field];
    const v = path === undefined ? undefined : at(value, path);
    if (v === undefined || v === null) {
      if (required) return { ok: false, skipped: false, reason: `no "${path}" (${field}) field` };
      continue;
    }
    payload[field] = v;
  }
  const symbol = payload.symbol ?? m.symbol;
  if (typeof symbol !== 'string' || symbol === '')
    return { ok: false, skipped: false, reason: `symbol ${JSON.stringify(symbol)} is not a name` };
  payload.symbol = symbol;
  const time = timeText(payload.time, m.timeUnit ?? 'ms');
  if (typeof time !== 'string') return { ok: false, skipped: false, reason: time.problem };
  payload.time = time;
  for (const f of ['price', 'size', 'bid', 'bid_size', 'ask', 'ask_size'])
    if (f in payload) payload[f] = decimalText(payload[f]);
  if ('side' in payload) payload.side = sideText(payload.side);
  let id: string | null = null;
  if ('id' in payload) {
    if (typeof payload.id === 'number') payload.id = String(payload.id);
    id = typeof payload.id === 'string' ? payload.id : null;
  }
  return { ok: true, payload, symbol, id };
}

/** A line of a frame that is not JSON. */
class NotJson {
  constructor(readonly line: string) {}
}

/** A frame's messages: one JSON value per non-empty line; an array holds several messages. */
function messagesOf(text: string): unknown[] {
  const out: unknown[] = [];
  const lines = text.includes('\n') ? text.split('\n') : [text];
  for (const line of lines) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      out.push(new NotJson(line));
      continue;
    }
    if (Array.isArray(value)) out.push(...(value as unknown[]));
    else out.push(value);
  }
  return out;
}

export class WebSocketConnector implements Connector {
  readonly name: string;
  readonly stats: WebSocketFeedStats = { frames: 0, events: 0, malformed: 0, skipped: 0 };
  private readonly source: string;
  private readonly schema: string;
  private readonly scheduler: Scheduler;
  private readonly limits: typeof WS_FEED_LIMITS;
  private connections = 0;

  constructor(private readonly o: WebSocketFeedOptions) {
    const url = new URL(o.url);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
      throw new Error(`${o.url} is not a ws:// or wss:// URL`);
    const problem = mappingProblem(o.mapping);
    if (problem !== null) throw new Error(`the feed mapping: ${problem}`);
    this.name = o.name ?? `${url.host}${url.pathname}`;
    this.source = `feed:${this.name}`;
    this.schema = o.mapping.kind === 'trade' ? 'trade.v1' : 'quote.v1';
    this.scheduler = o.scheduler ?? wallScheduler;
    this.limits = { ...WS_FEED_LIMITS, ...o.limits };
  }

  connect(onEvent: (raw: RawEvent) => void): Promise<FeedConnection> {
    const L = this.limits;
    const connection = ++this.connections;
    const connectedUs = this.scheduler.nowUs();
    let numbered = 0;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.o.url, {
        handshakeTimeout: L.handshakeTimeoutMs,
        maxPayload: L.framePayloadMax,
        perMessageDeflate: false,
      });
      let opened = false;
      let lastError: string | null = null;
      let seen = true;
      let idle: NodeJS.Timeout | null = null;
      let end: (reason: string) => void = () => undefined;
      const closed = new Promise<string>((r) => (end = r));
      ws.on('unexpected-response', (req, res) => {
        lastError = `${this.o.url} refused the connection: HTTP ${res.statusCode ?? '?'} ${res.statusMessage ?? ''}`;
        res.resume();
        req.destroy();
        ws.terminate();
      });
      ws.on('error', (e) => {
        lastError ??= e.message;
      });
      ws.on('open', () => {
        opened = true;
        if (this.o.subscribe !== undefined) ws.send(this.o.subscribe);
        // Half the idle time between pings: a feed that answers neither frames nor pings is gone.
        idle = setInterval(() => {
          if (!seen) {
            lastError = `no frame or pong for ${L.idleTimeoutMs} ms`;
            ws.terminate();
            return;
          }
          seen = false;
          ws.ping();
        }, L.idleTimeoutMs / 2);
        idle.unref();
        const close = (): void => {
          ws.close(1000, 'closed by the client');
          // A feed that does not answer the close is not waited for long.
          setTimeout(() => ws.terminate(), L.closeWaitMs).unref();
        };
        resolve({ closed, close });
      });
      ws.on('pong', () => (seen = true));
      ws.on('message', (data, isBinary) => {
        seen = true;
        this.stats.frames++;
        // The default binaryType ('nodebuffer'): a Buffer, or Buffers of a fragmented message.
        const text = (Array.isArray(data) ? Buffer.concat(data) : (data as Buffer)).toString('utf8');
        this.onFrame(text, isBinary, connection, connectedUs, () => ++numbered, onEvent);
      });
      ws.on('close', (code, reason) => {
        if (idle !== null) clearInterval(idle);
        if (!opened) {
          reject(new Error(lastError ?? `${this.o.url}: closed before it opened (${code})`));
          return;
        }
        const why = reason.length > 0 ? `${code} ${reason.toString('utf8')}` : String(code);
        end(lastError === null ? `closed: ${why}` : `${lastError} (closed: ${why})`);
      });
    });
  }

  private onFrame(
    text: string,
    isBinary: boolean,
    connection: number,
    connectedUs: number,
    next: () => number,
    onEvent: (raw: RawEvent) => void,
  ): void {
    const receivedUs = this.scheduler.nowUs();
    // Ids without a trade id: this connection's (its start and number) and the message's number on it.
    const numberedId = (): string => `${this.source}:c${connectedUs}.${connection}:${next()}`;
    const malformed = (reason: string, kept: string): void => {
      this.stats.malformed++;
      this.stats.events++;
      onEvent({
        id: numberedId(),
        source: this.source,
        schema: unparsedSchema.name,
        receivedUs,
        payload: { reason, frame: kept.slice(0, this.limits.keptTextMax) },
      });
    };
    if (isBinary && text.includes('\uFFFD')) return malformed('a binary frame that is not UTF-8 text', '');
    for (const value of messagesOf(text)) {
      if (value instanceof NotJson) {
        malformed('not JSON', value.line);
        continue;
      }
      const m = mapMessage(value, this.o.mapping);
      if (!m.ok) {
        if (m.skipped) this.stats.skipped++;
        else malformed(m.reason, JSON.stringify(value));
        continue;
      }
      this.stats.events++;
      onEvent({
        id: m.id === null ? numberedId() : `${this.source}:${m.symbol}:${m.id}`,
        source: this.source,
        schema: this.schema,
        receivedUs,
        payload: m.payload,
      });
    }
  }
}
