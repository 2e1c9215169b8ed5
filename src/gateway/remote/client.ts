/**
 * A gateway's engine in another process (`rialto gateway --engine HOST:PORT`): the same EnginePort and
 * OrderEntry as the in-process engine, over the internal transport (wire.ts, docs/internal-transport.md).
 *
 * The gateway follows the engine's stream: the journal's records from its first (at start, from 1), then
 * every durable batch. It runs each command through its own core (deterministic: the same records as the
 * engine's), and feeds the records to its views exactly as the in-process venue does: during the first
 * catch-up command by command (as replayJournalInto), afterwards as durable batches to its subscribers. The
 * engine's state hash after a given sequence number (its first message) must equal the follower's there, or
 * the gateway stops serving. A submit or a placement is answered once the engine has it durable AND the
 * follower has applied it, so an answer always shows its own command, as in-process.
 *
 * When the connection drops (the engine restarts) the gateway reports not ready, rejects requests waiting
 * for an answer with ENGINE_UNAVAILABLE (their commands may or may not be journaled: a client order id makes
 * the retry safe), and reconnects with back-off, resuming from the last sequence number it applied.
 */
import { WebSocket, type RawData } from 'ws';
import { EVENT_STRIDE } from '../../book/index.js';
import { ExchangeCore, type Command, type PlaceOrder } from '../../core/index.js';
import {
  EngineError,
  Receipt,
  errorInfoOf,
  type AccountReport,
  type AccountsPage,
  type BatchListener,
  type DurableBatch,
  type EnginePort,
  type EngineStats,
  type ReportAnswer,
  type ReportQuery,
  type Statements,
  type VenueReport,
} from '../../engine/index.js';
import { decodeFramedCommands, executeByKind } from '../../journal/index.js';
import { ClientOrders } from '../trading/client-orders.js';
import { ApiError, type ErrorCode } from '../trading/errors.js';
import type { OrderEntry, PlaceOutcome } from '../trading/order-entry.js';
import {
  REPLAY_PROGRESS_MS,
  progressMessage,
  type ReplayListener,
  type ReplayReport,
  type Views,
} from '../views/index.js';
import {
  ENGINE_WS_PATH,
  WIRE_LIMITS,
  decodeFrame,
  encodeFrame,
  eventsOfBody,
  frameCommands,
  toGatewayHeader,
  type Ask,
  type ReceiptHead,
  type ToEngineHeader,
  type ToGatewayHeader,
  type WireError,
} from './wire.js';

export const REMOTE_DEFAULTS = Object.freeze({
  reconnectInitialMs: 100,
  reconnectMaxMs: 5000,
});

export interface RemoteEngineOptions {
  /** The engine's internal port, HOST:PORT. */
  readonly address: string;
  /** The shared secret (a bearer token on the upgrade); null when the engine asks none. */
  readonly secret: string | null;
  readonly log: (level: 'info' | 'warn', msg: string) => void;
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  /**
   * While the first catch-up runs, how far it is is logged at most this often (default 5 s, as the start's
   * replay of the journal: the gateway listens only after it).
   */
  readonly progressEveryMs?: number;
}

interface Pending {
  resolve: (h: ToGatewayHeader, body: Uint8Array) => void;
  reject: (e: Error) => void;
}

interface SeqWaiter {
  seq: number;
  resolve: () => void;
}

const unavailable = (why: string): EngineError =>
  new EngineError({ code: 'ENGINE_UNAVAILABLE', message: `the engine is not reachable: ${why}` });

export class RemoteEngine implements EnginePort, OrderEntry {
  private readonly core = new ExchangeCore();
  private applied = 0;
  private ws: WebSocket | null = null;
  private connected = false;
  private live = false;
  /** The engine's state hash after `seq`, to compare once the follower has applied it. */
  private checkpoint: { seq: number; stateHash: string } | null = null;
  private verified = false;
  private disconnectedWhy = 'not connected yet';
  private failure: EngineError | null = null;
  private closing = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private waiters: SeqWaiter[] = [];
  private listeners: BatchListener[] = [];
  private replaying = true;
  /**
   * The client order ids of the orders followed, from the batches' place records, kept as the engine's process
   * keeps them (ClientOrders: outside the JavaScript heap, and only while the order is live or among the latest
   * to end). A Map here grew with every such order, was marked again by every full collection, and refused its
   * 2^24th entry, which at 10,000 orders a second with client order ids came within half an hour.
   */
  private readonly clientIds = new ClientOrders();
  private backoffMs: number;
  private timer: NodeJS.Timeout | null = null;
  private firstLive: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private scratch = new Float64Array(4096 * EVENT_STRIDE);
  /** The first catch-up's targets, until the first subscriber. */
  private views: Views | null = null;
  private also: ReplayListener | null = null;
  private attempts = 0;
  /** When the first catch-up last said how far it was (performance.now()). */
  private progressAt = 0;

  constructor(private readonly options: RemoteEngineOptions) {
    this.backoffMs = options.reconnectInitialMs ?? REMOTE_DEFAULTS.reconnectInitialMs;
  }

  /**
   * Connects (retrying with back-off while the engine cannot be reached) and catches up into `views` (new)
   * and `also`: resolves once the follower has applied the journal up to the live stream and its state hash
   * equals the engine's. Rejects when the engine refuses the gateway (a wrong secret, a state that differs).
   * From the first `subscribe` on, batches go to the subscribers instead.
   */
  async catchUp(views: Views, also: ReplayListener | null): Promise<ReplayReport> {
    if (this.views !== null || this.ws !== null) throw new Error('a remote engine catches up once');
    if (views.venue.lastSeq !== 0) throw new Error('views: replay into views that have seen commands');
    const started = performance.now();
    this.progressAt = started;
    this.views = views;
    this.also = also;
    await new Promise<void>((resolve, reject) => {
      this.firstLive = { resolve, reject };
      this.open();
    });
    const core = this.core;
    return {
      commands: this.applied,
      stateHash: core.stateHash(),
      assets: core.assetList().map((a) => a.asset),
      instruments: core.instrumentList().map((i) => i.instrument),
      assetList: core.assetList().map((a) => ({ ...a })),
      instrumentSpecs: core.instrumentList().map((i) => ({ ...i })),
      ms: Math.round(performance.now() - started),
    };
  }

  /** The last sequence number the follower applied. */
  get appliedSeq(): number {
    return this.applied;
  }

  get failed(): EngineError | null {
    return this.failure;
  }

  health(): string {
    if (this.failure !== null) return `failed: ${this.failure.code}`;
    if (this.closing) return 'closing';
    if (!this.connected) return `disconnected: ${this.disconnectedWhy}`;
    if (!this.live || !this.verified) return `catching up (applied ${this.applied})`;
    return 'ok';
  }

  subscribe(listener: BatchListener): () => void {
    // From the first subscriber on, batches are published (the first catch-up fed the views directly).
    this.replaying = false;
    this.views = null;
    this.also = null;
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  async submit(commands: readonly Command[]): Promise<Receipt> {
    const body = this.frame(commands);
    const { header, body: events } = await this.request({ t: 'submit', id: 0, count: commands.length }, body);
    if (header.t !== 'receipt') throw protocolError(header.t);
    const receipt = receiptOf(header.receipt, events);
    await this.reach(receipt.lastSeq);
    return receipt;
  }

  async place(cmd: PlaceOrder, clientOrderId: string | undefined): Promise<PlaceOutcome> {
    const body = this.frame([cmd]);
    const h: ToEngineHeader =
      clientOrderId === undefined ? { t: 'place', id: 0 } : { t: 'place', id: 0, clientOrderId };
    const { header, body: events } = await this.request(h, body);
    if (header.t !== 'placed') throw protocolError(header.t);
    cmd.orderId = header.orderId;
    const receipt = header.receipt === null ? null : receiptOf(header.receipt, events);
    await this.reach(header.seq);
    return { orderId: header.orderId, receipt };
  }

  clientOrderIdOf(orderId: number): string | null {
    return this.clientIds.clientOrderIdOf(orderId);
  }

  stateHash(): Promise<string> {
    return this.ask('stateHash') as Promise<string>;
  }

  highestOrderId(): Promise<number> {
    return this.ask('highestOrderId') as Promise<number>;
  }

  stats(): Promise<EngineStats> {
    return this.ask('stats') as Promise<EngineStats>;
  }

  async report<Q extends ReportQuery>(query: Q): Promise<ReportAnswer<Q>> {
    const { header } = await this.request({ t: 'report', id: 0, report: query });
    if (header.t !== 'answer') throw protocolError(header.t);
    return header.value as ReportAnswer<Q>;
  }

  accountReport(accountId: number): Promise<AccountReport | null> {
    return this.report({ kind: 'account', accountId });
  }

  accounts(afterId: number, limit: number): Promise<AccountsPage> {
    return this.report({ kind: 'accounts', afterId, limit });
  }

  venueReport(): Promise<VenueReport> {
    return this.report({ kind: 'venue' });
  }

  statements(): Promise<Statements> {
    return this.report({ kind: 'statements' });
  }

  /** Closes the connection; requests still waiting are refused. */
  close(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.dropRequests(new EngineError({ code: 'ENGINE_CLOSED', message: 'the gateway is stopping' }));
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    const ws = this.ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1001, 'the gateway is stopping');
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }

  private async ask(q: Ask): Promise<unknown> {
    const { header } = await this.request({ t: 'ask', id: 0, q });
    if (header.t !== 'answer') throw protocolError(header.t);
    return header.value;
  }

  private frame(commands: readonly Command[]): Uint8Array {
    try {
      return frameCommands(commands);
    } catch (e) {
      throw new EngineError(errorInfoOf(e));
    }
  }

  /** Sends a request (its id set here) and resolves with its answer; an `error` answer rejects. */
  private request(
    h: ToEngineHeader,
    body?: Uint8Array,
  ): Promise<{ header: ToGatewayHeader; body: Uint8Array }> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new EngineError({ code: 'ENGINE_CLOSED', message: 'closing' }));
    const ws = this.ws;
    if (!this.connected || ws === null) return Promise.reject(unavailable(this.disconnectedWhy));
    if (h.t === 'follow') throw new Error('follow is not a request');
    const id = this.nextId++;
    const header = { ...h, id };
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (answer, answerBody) => {
          if (answer.t === 'error') reject(errorOf(answer.error));
          else resolve({ header: answer, body: answerBody });
        },
        reject,
      });
      ws.send(encodeFrame(header, body));
    });
  }

  /** Resolves once the follower has applied `seq` (at once if it has). */
  private reach(seq: number): Promise<void> {
    if (this.applied >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  private open(): void {
    const url = `ws://${this.options.address}${ENGINE_WS_PATH}`;
    const headers: Record<string, string> =
      this.options.secret === null ? {} : { authorization: `Bearer ${this.options.secret}` };
    const ws = new WebSocket(url, { headers, maxPayload: WIRE_LIMITS.engineMessageBytesMax });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
      if (status === 401) {
        this.fail('ENGINE_UNAUTHORIZED', 'the engine refused the secret (RIALTO_ENGINE_SECRET)');
      } else {
        this.disconnectedWhy = `the engine answered the upgrade with ${status}`;
      }
    });
    ws.on('open', () => {
      this.attempts = 0;
      this.connected = true;
      this.live = false;
      this.verified = false;
      this.checkpoint = null;
      this.backoffMs = this.options.reconnectInitialMs ?? REMOTE_DEFAULTS.reconnectInitialMs;
      ws.send(encodeFrame({ t: 'follow', from: this.applied + 1 }));
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (ws !== this.ws) return;
      if (!isBinary || !Buffer.isBuffer(data)) return this.protocolFailure('a text or fragmented message');
      const frame = decodeFrame(data, toGatewayHeader);
      if (typeof frame === 'string') return this.protocolFailure(frame);
      try {
        this.receive(frame.header, frame.body);
      } catch (e) {
        this.protocolFailure(e instanceof Error ? e.message : String(e));
      }
    });
    ws.on('error', (e) => {
      this.disconnectedWhy = e.message;
    });
    ws.on('close', () => {
      if (ws !== this.ws) return;
      const was = this.connected;
      this.connected = false;
      this.live = false;
      if (was) this.disconnectedWhy = 'the connection to the engine closed';
      this.dropRequests(unavailable(this.disconnectedWhy));
      if (this.closing || this.failure !== null) return;
      // Said once per lost connection, then every tenth attempt while the engine stays unreachable.
      if (was || this.attempts % 10 === 0) {
        this.options.log('warn', `engine ${this.options.address}: ${this.disconnectedWhy}; reconnecting`);
      }
      this.attempts++;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.open();
      }, this.backoffMs);
      this.backoffMs = Math.min(
        this.backoffMs * 2,
        this.options.reconnectMaxMs ?? REMOTE_DEFAULTS.reconnectMaxMs,
      );
    });
  }

  private receive(h: ToGatewayHeader, body: Uint8Array): void {
    switch (h.t) {
      case 'hello':
        if (h.seq < this.applied) {
          return this.fail(
            'ENGINE_BEHIND',
            `the engine is at ${h.seq}, this gateway applied ${this.applied}: it follows another journal`,
          );
        }
        this.checkpoint = { seq: h.seq, stateHash: h.stateHash };
        this.verify();
        return;
      case 'batch':
        this.applyBatch(h.firstSeq, h.timeUs, h.count, body);
        return;
      case 'live':
        this.live = true;
        if (this.verified) this.becameLive();
        return;
      case 'fatal':
        return this.fail(h.code, h.message);
      default: {
        const p = this.pending.get(h.id);
        if (p === undefined) return;
        this.pending.delete(h.id);
        p.resolve(h, body);
      }
    }
  }

  /** During the first catch-up, every `progressEveryMs`: how many of the engine's records are applied. */
  private reportProgress(): void {
    const now = performance.now();
    const total = this.checkpoint?.seq ?? 0;
    if (now - this.progressAt < (this.options.progressEveryMs ?? REPLAY_PROGRESS_MS) || total === 0) return;
    this.progressAt = now;
    const applied = Math.min(this.applied, total);
    this.options.log('info', progressMessage('catching up with the engine', applied, total).text);
  }

  /** Compares the state hash once the follower is at the checkpoint's sequence number. */
  private verify(): void {
    const c = this.checkpoint;
    if (c === null || this.verified || this.applied !== c.seq) return;
    const mine = this.core.stateHash();
    if (mine !== c.stateHash) {
      return this.fail(
        'ENGINE_STATE_MISMATCH',
        `after command ${c.seq} the engine's state is ${c.stateHash}, this gateway's ${mine}: refusing to serve`,
      );
    }
    this.verified = true;
    if (this.live) this.becameLive();
  }

  private becameLive(): void {
    const first = this.firstLive;
    this.firstLive = null;
    first?.resolve();
  }

  private applyBatch(firstSeq: number, timeUs: number, count: number, body: Uint8Array): void {
    if (firstSeq !== this.applied + 1) {
      throw new Error(`a batch from ${firstSeq} after ${this.applied}`);
    }
    const kinds = new Uint8Array(count);
    const commands = decodeFramedCommands(body, count, kinds);
    const core = this.core;
    const ends = new Int32Array(count);
    let used = 0;
    for (let i = 0; i < count; i++) {
      const seq = firstSeq + i;
      const command = commands[i];
      command.timeUs = timeUs;
      core.events.clear();
      executeByKind(core, command, kinds[i]);
      const n = core.events.count;
      // A placement's client order id travels in its record, as in the journal; the records say what ended.
      this.clientIds.journaled(command, core.events.data, n);
      if (this.replaying) {
        this.views?.applyCommand(seq, timeUs, core.events.data, 0, n);
        this.also?.(seq, timeUs, core.events.data, n);
      } else {
        if ((used + n) * EVENT_STRIDE > this.scratch.length) {
          const bigger = new Float64Array(Math.max(this.scratch.length * 2, (used + n) * EVENT_STRIDE));
          bigger.set(this.scratch.subarray(0, used * EVENT_STRIDE));
          this.scratch = bigger;
        }
        this.scratch.set(core.events.data.subarray(0, n * EVENT_STRIDE), used * EVENT_STRIDE);
        used += n;
        ends[i] = used;
      }
      this.applied = seq;
      if (this.checkpoint !== null && seq === this.checkpoint.seq) this.verify();
    }
    core.events.clear();
    if (this.firstLive !== null) this.reportProgress();
    if (!this.replaying) {
      const batch: DurableBatch = {
        firstSeq,
        count,
        timeUs,
        events: this.scratch.slice(0, used * EVENT_STRIDE),
        ends,
        // The commands, read by the listeners that learn what other gateways defined (InstrumentTable).
        records: body,
      };
      for (const l of this.listeners) {
        try {
          l(batch);
        } catch (e) {
          // As the in-process engine: a listener that throws leaves a view wrong; that must not go unnoticed.
          setImmediate(() => {
            throw e;
          });
        }
      }
    }
    if (this.waiters.length > 0) {
      const done = this.waiters.filter((w) => w.seq <= this.applied);
      this.waiters = this.waiters.filter((w) => w.seq > this.applied);
      for (const w of done) w.resolve();
    }
  }

  private protocolFailure(why: string): void {
    this.options.log('warn', `engine ${this.options.address}: ${why}; reconnecting`);
    this.disconnectedWhy = `protocol error: ${why}`;
    this.ws?.terminate();
  }

  /** Stops for good: this gateway cannot follow the engine. */
  private fail(code: string, message: string): void {
    if (this.failure !== null) return;
    this.failure = new EngineError({ code, message });
    this.options.log('warn', `engine ${this.options.address}: ${message}`);
    this.dropRequests(this.failure);
    const first = this.firstLive;
    this.firstLive = null;
    first?.reject(this.failure);
    this.ws?.terminate();
  }

  private dropRequests(e: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(e);
  }
}

function receiptOf(h: ReceiptHead, body: Uint8Array): Receipt {
  if (h.ends.length !== h.count) throw new Error('a receipt whose ends do not match its count');
  const events = eventsOfBody(body, h.ends);
  if (typeof events === 'string') throw new Error(events);
  return new Receipt(h.firstSeq, h.count, h.timeUs, events, Int32Array.from(h.ends), 0);
}

function errorOf(e: WireError): Error {
  if (e.kind === 'api') {
    return new ApiError(e.status ?? 500, e.code as ErrorCode, e.message, e.details ?? {});
  }
  return new EngineError({ code: e.code, message: e.message });
}

function protocolError(t: string): EngineError {
  return new EngineError({ code: 'ENGINE_PROTOCOL', message: `an answer of type ${t} to the wrong request` });
}
