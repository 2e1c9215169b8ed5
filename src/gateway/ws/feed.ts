/**
 * The feeds: channels of market data (a book's top levels, its best bid and offer, its trades) and of each
 * account's orders and fills, fed from the views' record of what each durable batch changed. `publish` runs in
 * the engine's listener right after the views applied the batch, so a channel's state always equals the views'
 * between batches, and a new subscriber's snapshot is that state.
 *
 * Conflated: one message per channel per batch at most, serialized once into a Buffer and handed to every
 * subscriber as it is. Each message of a channel carries the channel's next sequence number, so a subscriber
 * sees 1, 2, 3 ... after the number of its snapshot (or of its `subscribed` answer) and can tell a gap.
 * A channel exists while it has subscribers; it costs nothing per batch otherwise.
 */
import type { InstrumentConfig } from '../../ops/index.js';
import { fillJson, isoOfUs, levelJson, orderJson, tradeJson, type FillJson } from '../http/present.js';
import { candleJson, type CandleView } from '../http/routes-history.js';

export type { CandleView };
import type { ClientOrderIds } from '../trading/order-entry.js';
import { lotsToQty, ticksToPrice } from '../trading/units.js';
import type { BatchChanges, BookChange, Level, OrderView, TradeView, Views } from '../views/index.js';

/** What a channel needs of a connection: a way to hand it an encoded message. */
export interface Subscriber {
  deliver(message: Buffer): void;
}

const encode = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

export abstract class Channel {
  /** Subscribers of the `/ws` protocol. */
  readonly subscribers = new Set<Subscriber>();
  /** The messages this channel sent so far: the sequence number of its latest. */
  seq = 0;
  constructor(readonly name: string) {}

  get idle(): boolean {
    return this.subscribers.size === 0;
  }

  /** Removes a subscriber from every set of this channel. */
  detach(s: Subscriber): void {
    this.subscribers.delete(s);
  }

  /** Hands `message` to every subscriber; returns how many. */
  protected fanOut(message: Buffer, to: ReadonlySet<Subscriber>): number {
    for (const s of to) s.deliver(message);
    return to.size;
  }
}

type Pair = [string, string];

/**
 * `book:SYMBOL:DEPTH`: the best DEPTH levels a side. After a batch that changed a level at or inside the levels
 * shown (or on a side showing fewer than DEPTH), the new top is merged with the one shown: levels new or
 * changed are sent with their quantity, levels gone from the top with quantity "0". The GoQuant-style
 * `/ws/market-data/{symbol}` clients (`full`) get the whole top instead, as `orderbook_update`.
 */
export class BookChannel extends Channel {
  readonly full = new Set<Subscriber>();
  private bids: Level[];
  private asks: Level[];

  constructor(
    readonly inst: InstrumentConfig,
    readonly depth: number,
    private readonly views: Views,
  ) {
    super(`book:${inst.spec.symbol}:${depth}`);
    const top = views.depth(inst.spec.instrument, depth) ?? { bids: [], asks: [] };
    this.bids = top.bids;
    this.asks = top.asks;
  }

  override get idle(): boolean {
    return this.subscribers.size === 0 && this.full.size === 0;
  }

  override detach(s: Subscriber): void {
    this.subscribers.delete(s);
    this.full.delete(s);
  }

  snapshot(): Buffer {
    return encode({
      type: 'book_snapshot',
      channel: this.name,
      seq: this.seq,
      symbol: this.inst.spec.symbol,
      bids: this.bids.map((l) => levelJson(l, this.inst)),
      asks: this.asks.map((l) => levelJson(l, this.inst)),
    });
  }

  fullUpdate(lastSeq: number, timeUs: number): Buffer {
    return encode({
      type: 'orderbook_update',
      symbol: this.inst.spec.symbol,
      bids: this.bids.map((l) => levelJson(l, this.inst)),
      asks: this.asks.map((l) => levelJson(l, this.inst)),
      sequence: lastSeq,
      timestamp: isoOfUs(timeUs),
    });
  }

  /** Sends this batch's delta if the levels shown changed; returns the messages handed out. */
  publish(change: BookChange, c: BatchChanges): number {
    const bidsMoved = this.reaches(change.bidBestTicks, this.bids, true);
    const asksMoved = this.reaches(change.askBestTicks, this.asks, false);
    if (!bidsMoved && !asksMoved) return 0;
    const top = this.views.depth(this.inst.spec.instrument, this.depth) ?? { bids: [], asks: [] };
    const bids = bidsMoved ? merge(this.bids, top.bids, true, this.inst) : [];
    const asks = asksMoved ? merge(this.asks, top.asks, false, this.inst) : [];
    this.bids = top.bids;
    this.asks = top.asks;
    if (bids.length === 0 && asks.length === 0) return 0;
    let sent = 0;
    if (this.subscribers.size > 0) {
      this.seq++;
      const delta = encode({
        type: 'book_delta',
        channel: this.name,
        seq: this.seq,
        bids,
        asks,
        sequence: c.lastSeq,
        timestamp: isoOfUs(c.timeUs),
      });
      sent += this.fanOut(delta, this.subscribers);
    }
    if (this.full.size > 0) sent += this.fanOut(this.fullUpdate(c.lastSeq, c.timeUs), this.full);
    return sent;
  }

  /** Whether a change at `bestTicks` (NaN: none) can touch the levels shown on a side. */
  private reaches(bestTicks: number, shown: readonly Level[], bids: boolean): boolean {
    if (Number.isNaN(bestTicks)) return false;
    if (shown.length < this.depth) return true;
    const worst = shown[shown.length - 1].priceTicks;
    return bids ? bestTicks >= worst : bestTicks <= worst;
  }
}

/** The changes from `before` to `after` (both best first): changed or new levels, and gone ones at "0". */
function merge(before: Level[], after: Level[], bids: boolean, inst: InstrumentConfig): Pair[] {
  const out: Pair[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const b = before[i];
    const a = after[j];
    if (b !== undefined && a !== undefined && b.priceTicks === a.priceTicks) {
      if (b.qtyLots !== a.qtyLots) out.push(levelJson(a, inst));
      i++;
      j++;
    } else if (
      a === undefined ||
      (b !== undefined && (bids ? b.priceTicks > a.priceTicks : b.priceTicks < a.priceTicks))
    ) {
      out.push([ticksToPrice(b.priceTicks, inst), '0']);
      i++;
    } else {
      out.push(levelJson(a, inst));
      j++;
    }
  }
  return out;
}

/** `bbo:SYMBOL`: the best bid and offer, when either changes; `/ws/market-data` clients get `bbo_update`. */
export class BboChannel extends Channel {
  readonly legacy = new Set<Subscriber>();
  private bid: Level | undefined;
  private ask: Level | undefined;

  constructor(
    readonly inst: InstrumentConfig,
    private readonly views: Views,
  ) {
    super(`bbo:${inst.spec.symbol}`);
    const top = views.depth(inst.spec.instrument, 1);
    this.bid = top?.bids[0];
    this.ask = top?.asks[0];
  }

  override get idle(): boolean {
    return this.subscribers.size === 0 && this.legacy.size === 0;
  }

  override detach(s: Subscriber): void {
    this.subscribers.delete(s);
    this.legacy.delete(s);
  }

  message(type: 'bbo' | 'bbo_update', lastSeq: number, timeUs: number): Buffer {
    const i = this.inst;
    const fields = {
      symbol: i.spec.symbol,
      bid_price: this.bid === undefined ? null : ticksToPrice(this.bid.priceTicks, i),
      bid_quantity: this.bid === undefined ? null : lotsToQty(this.bid.qtyLots, i),
      ask_price: this.ask === undefined ? null : ticksToPrice(this.ask.priceTicks, i),
      ask_quantity: this.ask === undefined ? null : lotsToQty(this.ask.qtyLots, i),
      sequence: lastSeq,
      timestamp: isoOfUs(timeUs),
    };
    return encode(
      type === 'bbo' ? { type, channel: this.name, seq: this.seq, ...fields } : { type, ...fields },
    );
  }

  publish(change: BookChange, c: BatchChanges): number {
    if (Number.isNaN(change.bidBestTicks) && Number.isNaN(change.askBestTicks)) return 0;
    const top = this.views.depth(this.inst.spec.instrument, 1);
    const bid = top?.bids[0];
    const ask = top?.asks[0];
    if (sameLevel(bid, this.bid) && sameLevel(ask, this.ask)) return 0;
    this.bid = bid;
    this.ask = ask;
    let sent = 0;
    if (this.subscribers.size > 0) {
      this.seq++;
      sent += this.fanOut(this.message('bbo', c.lastSeq, c.timeUs), this.subscribers);
    }
    if (this.legacy.size > 0)
      sent += this.fanOut(this.message('bbo_update', c.lastSeq, c.timeUs), this.legacy);
    return sent;
  }
}

const sameLevel = (a: Level | undefined, b: Level | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.priceTicks === b.priceTicks && a.qtyLots === b.qtyLots);

/** `trades:SYMBOL`: the batch's trades of one instrument in one message; `/ws/trades` clients get one each. */
export class TradesChannel extends Channel {
  readonly legacy = new Set<Subscriber>();

  constructor(readonly inst: InstrumentConfig) {
    super(`trades:${inst.spec.symbol}`);
  }

  override get idle(): boolean {
    return this.subscribers.size === 0 && this.legacy.size === 0;
  }

  override detach(s: Subscriber): void {
    this.subscribers.delete(s);
    this.legacy.delete(s);
  }

  publish(trades: readonly TradeView[]): number {
    if (trades.length === 0) return 0;
    let sent = 0;
    if (this.subscribers.size > 0) {
      this.seq++;
      const message = encode({
        type: 'trades',
        channel: this.name,
        seq: this.seq,
        trades: trades.map((t) => tradeJson(t, this.inst)),
      });
      sent += this.fanOut(message, this.subscribers);
    }
    if (this.legacy.size > 0) {
      for (const t of trades) {
        sent += this.fanOut(encode({ type: 'trade_execution', ...tradeJson(t, this.inst) }), this.legacy);
      }
    }
    return sent;
  }
}

/** Where `candles:` channels get their bars: the intervals the pipeline makes and each one's recent bars. */
export interface CandleSource {
  readonly intervals: readonly string[];
  recentBars(symbol: string, interval: string): readonly CandleView[];
}

/**
 * `candles:SYMBOL:INTERVAL`: the pipeline's bars of one interval. A subscriber gets the recent closed bars
 * (`candles_snapshot`), then one `candle` per bar closed or corrected (a correction has the same start and a
 * higher revision, and replaces the bar shown).
 */
export class CandlesChannel extends Channel {
  constructor(
    readonly inst: InstrumentConfig,
    readonly interval: string,
    private readonly source: CandleSource,
  ) {
    super(`candles:${inst.spec.symbol}:${interval}`);
  }

  snapshot(): Buffer {
    const symbol = this.inst.spec.symbol;
    return encode({
      type: 'candles_snapshot',
      channel: this.name,
      seq: this.seq,
      symbol,
      interval: this.interval,
      candles: this.source.recentBars(symbol, this.interval).map((c) => candleJson(c, this.inst)),
    });
  }

  publish(candle: CandleView, corrected: boolean): number {
    this.seq++;
    const message = encode({
      type: 'candle',
      channel: this.name,
      seq: this.seq,
      symbol: this.inst.spec.symbol,
      interval: this.interval,
      corrected,
      candle: candleJson(candle, this.inst),
    });
    return this.fanOut(message, this.subscribers);
  }
}

/** `orders` or `fills` of one account: every connection of a principal that may act for it, subscribed. */
export class AccountChannel extends Channel {
  constructor(
    readonly kind: 'orders' | 'fills',
    readonly accountId: number,
  ) {
    super(kind);
  }

  publish(items: readonly unknown[]): number {
    this.seq++;
    const message = encode({
      type: this.kind,
      channel: this.kind,
      account_id: this.accountId,
      seq: this.seq,
      [this.kind]: items,
    });
    return this.fanOut(message, this.subscribers);
  }
}

/** The channels of a venue, by name and by instrument, and the fan-out of each batch. */
export class Feeds {
  private readonly books = new Map<number, Map<number, BookChannel>>();
  private readonly bbos = new Map<number, BboChannel>();
  private readonly tradeChannels = new Map<number, TradesChannel>();
  private readonly orderChannels = new Map<number, AccountChannel>();
  private readonly fillChannels = new Map<number, AccountChannel>();
  /** By `SYMBOL:INTERVAL`. */
  private readonly candleChannels = new Map<string, CandlesChannel>();
  /** Per batch, reused: each subscribed account's orders and fills. */
  private readonly pendingOrders = new Map<number, unknown[]>();
  private readonly pendingFills = new Map<number, FillJson[]>();

  constructor(
    private readonly views: Views,
    private readonly clientOrders: ClientOrderIds,
    private readonly instrumentById: (id: number) => InstrumentConfig | undefined,
  ) {}

  book(inst: InstrumentConfig, depth: number): BookChannel {
    let byDepth = this.books.get(inst.spec.instrument);
    if (byDepth === undefined) {
      byDepth = new Map();
      this.books.set(inst.spec.instrument, byDepth);
    }
    let ch = byDepth.get(depth);
    if (ch === undefined) {
      ch = new BookChannel(inst, depth, this.views);
      byDepth.set(depth, ch);
    }
    return ch;
  }

  bbo(inst: InstrumentConfig): BboChannel {
    return getOr(this.bbos, inst.spec.instrument, () => new BboChannel(inst, this.views));
  }

  trades(inst: InstrumentConfig): TradesChannel {
    return getOr(this.tradeChannels, inst.spec.instrument, () => new TradesChannel(inst));
  }

  candles(inst: InstrumentConfig, interval: string, source: CandleSource): CandlesChannel {
    const key = `${inst.spec.symbol}:${interval}`;
    return getOr(this.candleChannels, key, () => new CandlesChannel(inst, interval, source));
  }

  /** Sends a bar to its channel, if anyone subscribed to it; returns the messages handed out. */
  publishCandle(symbol: string, interval: string, candle: CandleView, corrected: boolean): number {
    const ch = this.candleChannels.get(`${symbol}:${interval}`);
    return ch === undefined ? 0 : ch.publish(candle, corrected);
  }

  account(kind: 'orders' | 'fills', accountId: number): AccountChannel {
    const map = kind === 'orders' ? this.orderChannels : this.fillChannels;
    return getOr(map, accountId, () => new AccountChannel(kind, accountId));
  }

  /** Forgets a channel that has no subscribers left. */
  release(ch: Channel): void {
    if (!ch.idle) return;
    if (ch instanceof BookChannel) this.books.get(ch.inst.spec.instrument)?.delete(ch.depth);
    else if (ch instanceof BboChannel) this.bbos.delete(ch.inst.spec.instrument);
    else if (ch instanceof TradesChannel) this.tradeChannels.delete(ch.inst.spec.instrument);
    else if (ch instanceof CandlesChannel)
      this.candleChannels.delete(`${ch.inst.spec.symbol}:${ch.interval}`);
    else if (ch instanceof AccountChannel) {
      (ch.kind === 'orders' ? this.orderChannels : this.fillChannels).delete(ch.accountId);
    }
  }

  /** Channels open now (for tests and stats). */
  get channelCount(): number {
    let n = this.bbos.size + this.tradeChannels.size + this.orderChannels.size + this.fillChannels.size;
    n += this.candleChannels.size;
    for (const m of this.books.values()) n += m.size;
    return n;
  }

  /** Fans the views' latest batch out; returns the messages handed to subscribers. */
  publish(c: BatchChanges): number {
    let sent = 0;
    for (const change of c.books) {
      const byDepth = this.books.get(change.instrument);
      if (byDepth !== undefined) for (const ch of byDepth.values()) sent += ch.publish(change, c);
      const bbo = this.bbos.get(change.instrument);
      if (bbo !== undefined) sent += bbo.publish(change, c);
    }
    if (c.trades.length > 0) {
      for (const ch of this.tradeChannels.values()) {
        const id = ch.inst.spec.instrument;
        sent += ch.publish(c.trades.filter((t) => t.instrument === id));
      }
      if (this.fillChannels.size > 0) sent += this.publishFills(c.trades);
    }
    if (c.orders.length > 0 && this.orderChannels.size > 0) sent += this.publishOrders(c.orders);
    return sent;
  }

  private publishOrders(orders: readonly OrderView[]): number {
    const pending = this.pendingOrders;
    for (const o of orders) {
      if (!this.orderChannels.has(o.accountId)) continue;
      const inst = this.instrumentById(o.instrument);
      if (inst === undefined) continue;
      const json = orderJson(o, inst, this.clientOrders.clientOrderIdOf(o.orderId));
      getOr(pending, o.accountId, () => []).push(json);
    }
    let sent = 0;
    for (const [accountId, items] of pending) {
      sent += (this.orderChannels.get(accountId) as AccountChannel).publish(items);
    }
    pending.clear();
    return sent;
  }

  private publishFills(trades: readonly TradeView[]): number {
    const pending = this.pendingFills;
    for (const t of trades) {
      const inst = this.instrumentById(t.instrument);
      if (inst === undefined) continue;
      if (this.fillChannels.has(t.makerAccountId)) {
        getOr(pending, t.makerAccountId, () => []).push(fillJson(t, inst, 'maker'));
      }
      if (this.fillChannels.has(t.takerAccountId)) {
        getOr(pending, t.takerAccountId, () => []).push(fillJson(t, inst, 'taker'));
      }
    }
    let sent = 0;
    for (const [accountId, items] of pending) {
      sent += (this.fillChannels.get(accountId) as AccountChannel).publish(items);
    }
    pending.clear();
    return sent;
  }
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    v = make();
    map.set(key, v);
  }
  return v;
}
