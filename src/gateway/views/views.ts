/**
 * The gateway's read side: orders with their status, open orders per account, recent trades and the depth of
 * every book, and a few statistics, all projected from the engine's durable event records. It is pure (no
 * I/O, no clock): `applyCommand` takes one command's records as the engine publishes them (or as a replay of
 * the journal through a fresh core makes them), so the same journal always gives the same views. The engine
 * calls its subscribers before it resolves receipts, so a request that awaited its receipt finds its order here.
 *
 * Order ids are unique per instrument in the core; the gateway assigns them from one counter above the
 * engine's highest, so here an id names one order. An order's life is one table (`NEXT`): an event that the
 * table does not allow for the order's status is a broken invariant and throws, because a view that went
 * wrong once is wrong from then on.
 */
import {
  CommandKind,
  EVENT_STRIDE,
  EventType,
  F_A,
  F_B,
  F_C,
  F_E,
  F_ORDER_ID,
  F_OWNER,
  F_PRICE,
  F_QTY,
  F_REJECTED_TIF,
  F_REJECTED_TYPE,
  F_SIDE,
  Side,
  knownOrderType,
  knownTimeInForce,
  type OrderType,
  type TimeInForce,
} from '../../book/index.js';
import {
  F_INSTRUMENT,
  LedgerRecordType,
  S_BUY_ORDER,
  S_REFUND,
  S_RELEASE,
  S_SELLER_NET,
  S_SELL_ORDER,
  EntryDecoder,
} from '../../core/index.js';
import { IdSet, intShardedMap } from '../../collections/index.js';
import { EndedOrders, InsertionLog } from './ended.js';
import { EntryHistory } from './entries.js';
import { VIEW_LIMITS } from './limits.js';

export type OrderStatus = 'pending' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected' | 'expired';

/** One order as the gateway shows it. Integers are the core's units: price units (ticks) and quantity units (lots). */
export interface OrderView {
  readonly orderId: number;
  readonly instrument: number;
  readonly accountId: number;
  readonly side: Side;
  readonly type: OrderType;
  readonly tif: TimeInForce;
  /** The limit price (0 for market orders), as amended. */
  priceTicks: number;
  readonly triggerPriceTicks: number;
  /** When a DAY or GTD order expires, microseconds since 1970; 0 for the other times in force. */
  readonly expireTimeUs: number;
  /** The order's total quantity: filled plus remaining (amends change it). */
  qtyLots: number;
  filledLots: number;
  /** Live quantity; 0 once the order has ended. */
  remainingLots: number;
  /** Sum of fill price times fill quantity, exact: the average price is this over filledLots. */
  notional: bigint;
  /**
   * From the ledger's settlements of its fills, in minor units of the quote asset: what a buy order paid (the
   * value and its fees), or what a sell order received (the value less its fees). The fees are the difference
   * to notional × the instrument's quoteScale (http/present.ts).
   */
  settledMinor: number;
  status: OrderStatus;
  /** The reject code (book 1000s, risk 3000s, core 5000s), 0 unless rejected. */
  readonly rejectCode: number;
  /** Why the rest was cancelled (the book's CancelReason), 0 unless cancelled. */
  cancelReason: number;
  readonly createdUs: number;
  updatedUs: number;
  /** The sequence number of the command that last changed it. */
  updatedSeq: number;
}

export interface TradeView {
  readonly tradeId: number;
  readonly instrument: number;
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly aggressorSide: Side;
  readonly takerOrderId: number;
  readonly makerOrderId: number;
  readonly takerAccountId: number;
  readonly makerAccountId: number;
  readonly timeUs: number;
  readonly seq: number;
  /**
   * From the trade's settlement (the ledger's record after it, in the same command), in minor units of the
   * quote asset: what the buyer paid (value plus the buyer's fee) and what the seller received (value less
   * the seller's fee). A negative fee, a rebate, makes the buyer pay less or the seller receive more.
   */
  buyerPaidMinor: number;
  sellerNetMinor: number;
}

export interface Level {
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly orders: number;
}

export interface InstrumentStats {
  readonly instrument: number;
  lastPriceTicks: number;
  trades: number;
  volumeLots: number;
  highTicks: number;
  lowTicks: number;
}

export interface VenueStats {
  /** The last command sequence number applied. */
  lastSeq: number;
  ordersPlaced: number;
  ordersRejected: number;
  trades: number;
  openOrders: number;
}

/** The best price a batch changed on each side of one book (NaN: none on that side). */
export interface BookChange {
  readonly instrument: number;
  /** The highest bid price whose level changed. */
  bidBestTicks: number;
  /** The lowest ask price whose level changed. */
  askBestTicks: number;
}

/**
 * What the last durable batch changed, for the feeds: the books whose levels changed (with the best changed
 * price per side, so that a feed showing the top N levels can tell a change beyond them), the trades in the
 * order they happened, and each order that changed, once, as it stands after the batch. Reset at the start of
 * every `applyBatch`; its arrays and objects are reused, so a reader copies what it keeps.
 */
export interface BatchChanges {
  firstSeq: number;
  lastSeq: number;
  timeUs: number;
  readonly books: BookChange[];
  readonly trades: TradeView[];
  readonly orders: OrderView[];
}

/** The book's order events after acceptance, by record type, as their names read in errors. */
const CHANGE_NAMES: Readonly<Record<number, string>> = {
  [EventType.OrderPartiallyFilled]: 'OrderPartiallyFilled',
  [EventType.OrderFilled]: 'OrderFilled',
  [EventType.OrderCancelled]: 'OrderCancelled',
  [EventType.OrderReduced]: 'OrderReduced',
  [EventType.OrderExpired]: 'OrderExpired',
  [EventType.OrderTriggered]: 'OrderTriggered',
  [EventType.OrderAmended]: 'OrderAmended',
};

/** The order life cycle: the events each status allows. Terminal statuses allow none. */
const LIVE_EVENTS: ReadonlySet<string> = new Set(Object.values(CHANGE_NAMES));
const NEXT: Readonly<Record<OrderStatus, ReadonlySet<string>>> = {
  pending: LIVE_EVENTS,
  partially_filled: LIVE_EVENTS,
  filled: new Set(),
  cancelled: new Set(),
  rejected: new Set(),
  expired: new Set(),
};

export const isTerminal = (s: OrderStatus): boolean => NEXT[s].size === 0;

/** One side of one book: prices ascending, with their levels. */
class BookSide {
  private readonly prices: number[] = [];
  private readonly levels = new Map<number, Level>();

  set(priceTicks: number, qtyLots: number, orders: number): void {
    const at = lowerBound(this.prices, priceTicks);
    const present = this.prices[at] === priceTicks;
    if (qtyLots === 0 && orders === 0) {
      if (present) {
        this.prices.splice(at, 1);
        this.levels.delete(priceTicks);
      }
      return;
    }
    if (!present) this.prices.splice(at, 0, priceTicks);
    this.levels.set(priceTicks, { priceTicks, qtyLots, orders });
  }

  /** The best `depth` levels: highest first when `descending` (bids), else lowest first. */
  top(depth: number, descending: boolean): Level[] {
    const n = Math.min(depth, this.prices.length);
    const out: Level[] = [];
    for (let k = 0; k < n; k++) {
      const price = descending ? this.prices[this.prices.length - 1 - k] : this.prices[k];
      out.push(this.levels.get(price) as Level);
    }
    return out;
  }

  get size(): number {
    return this.prices.length;
  }
}

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A bounded ring of the latest trades of one instrument, oldest overwritten first. */
class TradeRing {
  private readonly items: (TradeView | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<TradeView | undefined>(capacity);
  }

  push(t: TradeView): void {
    this.items[this.next] = t;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The newest `limit` trades with a trade id above `afterTradeId`, newest first. */
  latest(limit: number, afterTradeId: number): TradeView[] {
    const out: TradeView[] = [];
    for (let k = 0; k < this.count && out.length < limit; k++) {
      const t = this.items[(this.next - 1 - k + this.capacity) % this.capacity] as TradeView;
      if (t.tradeId <= afterTradeId) break;
      out.push(t);
    }
    return out;
  }
}

/** One side of a kept trade: the trade and whether that side provided liquidity. */
export interface FillView {
  readonly trade: TradeView;
  readonly liquidity: 'maker' | 'taker';
}

class InstrumentView {
  readonly bids = new BookSide();
  readonly asks = new BookSide();
  readonly trades: TradeRing;
  readonly stats: InstrumentStats;
  /** This book's entry in the batch's changes, reused; `changedInBatch` says whether it is listed now. */
  readonly change: BookChange;
  changedInBatch = false;

  constructor(instrument: number, tradesKept: number) {
    this.change = { instrument, bidBestTicks: NaN, askBestTicks: NaN };
    this.trades = new TradeRing(tradesKept);
    this.stats = { instrument, lastPriceTicks: 0, trades: 0, volumeLots: 0, highTicks: 0, lowTicks: 0 };
  }
}

export interface ViewOptions {
  /** Trades kept per instrument (the ring's size). */
  tradesKept: number;
  /** Ended orders kept for lookups; the oldest ended ones are forgotten first. Live orders are always kept. */
  endedOrdersKept: number;
  /** Ledger entries kept for the entry history; the oldest are forgotten first. */
  entriesKept: number;
}

export class Views {
  /** Live orders (and those ended by the command being applied), as objects. */
  private readonly live = intShardedMap<OrderView>();
  /** Each live order's insertion number (InsertionLog). */
  private readonly liveInserted = intShardedMap<number>();
  /** Ended orders, in columns (ended.ts), oldest ended forgotten first beyond the bound. */
  private readonly ended = new EndedOrders();
  /** The order in which orders entered the views, live and ended alike, for the order history. */
  private readonly insertions = new InsertionLog();
  /** Whether an entry of `insertions` is still an order kept here (the log's compaction keeps those). */
  private readonly keptInsertion = (id: number, inserted: number): boolean =>
    this.liveInserted.get(id) === inserted || this.ended.inserted(id) === inserted;
  /**
   * Orders ended by the command being applied: they move to `ended` when it is applied, since its settlement
   * records, after the book's, still add to them.
   */
  private readonly endedNow: OrderView[] = [];
  /** Each account's open orders: an IdSet, which splits rather than rehash a quarter-million ids at once. */
  private readonly openByAccount = new Map<number, IdSet>();
  private readonly instruments = new Map<number, InstrumentView>();
  private readonly options: ViewOptions;
  private highestOrderIdSeen = 0;
  /** Decodes each ledger entry of an applied command into the same objects. */
  private readonly entryDecoder = new EntryDecoder();
  readonly venue: VenueStats = { lastSeq: 0, ordersPlaced: 0, ordersRejected: 0, trades: 0, openOrders: 0 };
  /** The ledger's entries per ledger account (the account routes' history). */
  readonly entries: EntryHistory;
  /** What the last `applyBatch` changed (empty before the first, and after replays through applyCommand). */
  readonly changes: BatchChanges = { firstSeq: 0, lastSeq: 0, timeUs: 0, books: [], trades: [], orders: [] };
  /** Orders listed in `changes.orders` during the batch being applied (cleared with it). */
  private readonly changedOrders = new Set<OrderView>();
  /** True only inside `applyBatch`: replays at start record nothing. */
  private recording = false;
  /**
   * The trades of the command being applied, in order, and how many of them their settlement records (which
   * the core writes after the book's records, one per trade, in trade order) have reached.
   */
  private readonly unsettled: TradeView[] = [];
  private settledCount = 0;

  constructor(options: Partial<ViewOptions> = {}) {
    this.options = {
      tradesKept: options.tradesKept ?? VIEW_LIMITS.tradesKeptDefault,
      endedOrdersKept: options.endedOrdersKept ?? VIEW_LIMITS.endedOrdersKeptDefault,
      entriesKept: options.entriesKept ?? VIEW_LIMITS.entriesKeptDefault,
    };
    this.entries = new EntryHistory(this.options.entriesKept);
    if (!(this.options.tradesKept >= 1 && this.options.tradesKept <= VIEW_LIMITS.tradesKeptMax))
      throw new RangeError(`tradesKept must be 1 to ${VIEW_LIMITS.tradesKeptMax}`);
    if (!(this.options.endedOrdersKept >= 0)) throw new RangeError('endedOrdersKept must be 0 or more');
  }

  /**
   * Applies the records of command `seq` (stamped `timeUs`): records `from` .. `to` - 1 of `data`. Commands
   * must come in sequence order, each once.
   */
  applyCommand(seq: number, timeUs: number, data: Float64Array, from: number, to: number): void {
    if (seq <= this.venue.lastSeq) throw new Error(`views: command ${seq} after ${this.venue.lastSeq}`);
    this.entries.beginCommand();
    // The book's records are read in place (no object per record); only ledger entries are decoded.
    for (let i = from; i < to; i++) {
      const o = i * EVENT_STRIDE;
      const type = data[o];
      if (type >= EventType.OrderAccepted && type <= EventType.TopOfBookChanged) {
        this.applyBook(seq, timeUs, data, o, type);
      } else if (
        type === LedgerRecordType.HoldPosted ||
        type === LedgerRecordType.SettlementPosted ||
        type === LedgerRecordType.EntryPosted
      ) {
        if (type === LedgerRecordType.SettlementPosted) this.settled(data, o);
        // Decoded into reused objects: the history copies the entry into its columns at once.
        this.entries.entry(this.entryDecoder.decode(data, i));
      }
      // Core records and entries' continuation records are not shown here.
    }
    if (this.settledCount !== this.unsettled.length) {
      throw new Error(
        `views: command ${seq} has ${this.unsettled.length} trades, ${this.settledCount} settled`,
      );
    }
    this.unsettled.length = 0;
    this.settledCount = 0;
    if (this.endedNow.length !== 0) this.retireEnded();
    this.venue.lastSeq = seq;
  }

  /** Applies a durable batch as the engine publishes it. */
  applyBatch(firstSeq: number, timeUs: number, events: Float64Array, ends: Int32Array): void {
    this.clearChanges(firstSeq, timeUs);
    this.recording = true;
    try {
      let from = 0;
      for (let k = 0; k < ends.length; k++) {
        this.applyCommand(firstSeq + k, timeUs, events, from, ends[k]);
        from = ends[k];
      }
    } finally {
      this.recording = false;
    }
    this.changes.lastSeq = firstSeq + ends.length - 1;
  }

  private clearChanges(firstSeq: number, timeUs: number): void {
    const c = this.changes;
    for (const b of c.books) {
      const v = this.instruments.get(b.instrument) as InstrumentView;
      v.changedInBatch = false;
      b.bidBestTicks = NaN;
      b.askBestTicks = NaN;
    }
    c.books.length = 0;
    c.trades.length = 0;
    c.orders.length = 0;
    this.changedOrders.clear();
    c.firstSeq = firstSeq;
    c.lastSeq = firstSeq - 1;
    c.timeUs = timeUs;
  }

  private noteOrder(v: OrderView): void {
    if (!this.recording || this.changedOrders.has(v)) return;
    this.changedOrders.add(v);
    this.changes.orders.push(v);
  }

  private noteLevel(v: InstrumentView, side: number, priceTicks: number): void {
    if (!this.recording) return;
    const b = v.change;
    if (!v.changedInBatch) {
      v.changedInBatch = true;
      this.changes.books.push(b);
    }
    // NaN compares false: the first change on a side always takes.
    if (side === 0) {
      if (!(priceTicks <= b.bidBestTicks)) b.bidBestTicks = priceTicks;
    } else if (!(priceTicks >= b.askBestTicks)) b.askBestTicks = priceTicks;
  }

  /** An order, live or ended (as kept). An ended order is a new object each call. */
  order(orderId: number): Readonly<OrderView> | undefined {
    return this.live.get(orderId) ?? this.ended.get(orderId);
  }

  /** The open orders of an account, oldest first. */
  openOrders(accountId: number): Readonly<OrderView>[] {
    const ids = this.openByAccount.get(accountId);
    if (ids === undefined) return [];
    return [...ids].sort((a, b) => a - b).map((id) => this.live.get(id) as OrderView);
  }

  /** The newest orders (live and ended, as kept) of the given accounts, newest first, at most `limit`. */
  orderHistory(accountIds: readonly number[] | null, limit: number): Readonly<OrderView>[] {
    const out: OrderView[] = [];
    if (limit <= 0) return out;
    const wanted = accountIds === null ? null : new Set(accountIds);
    // Insertion order is id order here; an entry of the log whose order is no longer kept is skipped.
    this.insertions.walkNewestFirst((id, inserted) => {
      const live = this.live.get(id);
      if (live !== undefined && this.liveInserted.get(id) === inserted) {
        if (wanted === null || wanted.has(live.accountId)) out.push(live);
      } else if (this.ended.inserted(id) === inserted) {
        if (wanted === null || wanted.has(this.ended.accountOf(id)))
          out.push(this.ended.get(id) as OrderView);
      }
      return out.length < limit;
    });
    return out;
  }

  depth(instrument: number, levels: number): { bids: Level[]; asks: Level[] } | undefined {
    const v = this.instruments.get(instrument);
    if (v === undefined) return undefined;
    return { bids: v.bids.top(levels, true), asks: v.asks.top(levels, false) };
  }

  trades(instrument: number, limit: number, afterTradeId = 0): TradeView[] {
    return this.instruments.get(instrument)?.trades.latest(limit, afterTradeId) ?? [];
  }

  /**
   * The newest fills (sides of the kept trades) of the given accounts (null: any), of one instrument or all,
   * of one order or any, newest first, at most `limit`. Only the trades each instrument keeps are searched.
   */
  fills(
    accountIds: readonly number[] | null,
    filter: { instrument?: number; orderId?: number },
    limit: number,
  ): FillView[] {
    const wanted = accountIds === null ? null : new Set(accountIds);
    const out: FillView[] = [];
    const side = (account: number, order: number): boolean =>
      (wanted === null || wanted.has(account)) && (filter.orderId === undefined || filter.orderId === order);
    for (const [id, v] of this.instruments) {
      if (filter.instrument !== undefined && filter.instrument !== id) continue;
      for (const t of v.trades.latest(v.trades.capacity, 0)) {
        if (side(t.takerAccountId, t.takerOrderId)) out.push({ trade: t, liquidity: 'taker' });
        if (side(t.makerAccountId, t.makerOrderId)) out.push({ trade: t, liquidity: 'maker' });
      }
    }
    out.sort((a, b) => b.trade.seq - a.trade.seq || b.trade.tradeId - a.trade.tradeId);
    return out.slice(0, limit);
  }

  stats(instrument: number): Readonly<InstrumentStats> | undefined {
    return this.instruments.get(instrument)?.stats;
  }

  /** The highest order id any order event carried: ids at or below it have been used. */
  get highestOrderId(): number {
    return this.highestOrderIdSeen;
  }

  /** Every live order, for tests that compare views. */
  liveOrderCount(): number {
    let n = 0;
    for (const s of this.openByAccount.values()) n += s.size;
    return n;
  }

  private instrument(id: number): InstrumentView {
    let v = this.instruments.get(id);
    if (v === undefined) {
      v = new InstrumentView(id, this.options.tradesKept);
      this.instruments.set(id, v);
    }
    return v;
  }

  /** A book record at offset `o` of `d`, of type `type`. */
  private applyBook(seq: number, timeUs: number, d: Float64Array, o: number, type: number): void {
    switch (type) {
      case EventType.OrderAccepted:
        this.accepted(seq, timeUs, d, o);
        return;
      case EventType.OrderRejected:
        this.rejected(seq, timeUs, d, o);
        return;
      case EventType.TradeExecuted:
        this.trade(seq, timeUs, d, o);
        return;
      case EventType.LevelChanged: {
        const v = this.instrument(d[o + F_INSTRUMENT]);
        const side = d[o + F_SIDE];
        const price = d[o + F_PRICE];
        (side === 0 ? v.bids : v.asks).set(price, d[o + F_QTY], d[o + F_A]);
        this.noteLevel(v, side, price);
        return;
      }
      case EventType.TopOfBookChanged:
        // The depth gives the BBO.
        return;
      default:
        this.changed(seq, timeUs, d, o, type);
    }
  }

  private accepted(seq: number, timeUs: number, d: Float64Array, o: number): void {
    const orderId = d[o + F_ORDER_ID];
    const owner = d[o + F_OWNER];
    const existing = this.order(orderId);
    if (existing !== undefined) {
      throw new Error(`views: order ${orderId} accepted twice (seq ${seq}, first at ${existing.updatedSeq})`);
    }
    const qty = d[o + F_QTY];
    const v: OrderView = {
      orderId,
      instrument: d[o + F_INSTRUMENT],
      accountId: owner,
      side: d[o + F_SIDE] as Side,
      type: d[o + F_A] as OrderType,
      tif: d[o + F_B] as TimeInForce,
      priceTicks: d[o + F_PRICE],
      triggerPriceTicks: d[o + F_C],
      expireTimeUs: d[o + F_E],
      qtyLots: qty,
      filledLots: 0,
      remainingLots: qty,
      notional: 0n,
      settledMinor: 0,
      status: 'pending',
      rejectCode: 0,
      cancelReason: 0,
      createdUs: timeUs,
      updatedUs: timeUs,
      updatedSeq: seq,
    };
    this.insert(v);
    this.noteOrder(v);
    this.noteId(orderId);
    let open = this.openByAccount.get(owner);
    if (open === undefined) {
      open = new IdSet();
      this.openByAccount.set(owner, open);
    }
    open.add(orderId);
    this.venue.ordersPlaced++;
    this.venue.openOrders++;
  }

  /** A refused place becomes a rejected order; a refused cancel or amend changes nothing here. */
  private rejected(seq: number, timeUs: number, d: Float64Array, o: number): void {
    if (d[o + F_B] !== CommandKind.Place) return;
    this.venue.ordersRejected++;
    const orderId = d[o + F_ORDER_ID];
    // A place refused for reusing a live id (DuplicateOrderId) must not replace the live order.
    if (!Number.isSafeInteger(orderId) || orderId <= 0) return;
    if (this.live.has(orderId) || this.ended.has(orderId)) return;
    const v: OrderView = {
      orderId,
      instrument: d[o + F_INSTRUMENT],
      accountId: d[o + F_OWNER],
      side: d[o + F_SIDE] as Side,
      // What the place asked for (0, shown as null, where the command carried no valid value).
      type: knownOrderType(d[o + F_REJECTED_TYPE]) as OrderType,
      tif: knownTimeInForce(d[o + F_REJECTED_TIF]) as TimeInForce,
      priceTicks: d[o + F_PRICE],
      triggerPriceTicks: 0,
      expireTimeUs: 0,
      qtyLots: d[o + F_QTY],
      filledLots: 0,
      remainingLots: 0,
      notional: 0n,
      settledMinor: 0,
      status: 'rejected',
      rejectCode: d[o + F_A],
      cancelReason: 0,
      createdUs: timeUs,
      updatedUs: timeUs,
      updatedSeq: seq,
    };
    this.insert(v);
    this.noteOrder(v);
    this.noteId(orderId);
    this.endedNow.push(v);
  }

  private trade(seq: number, timeUs: number, d: Float64Array, o: number): void {
    const instrument = d[o + F_INSTRUMENT];
    const v = this.instrument(instrument);
    const price = d[o + F_PRICE];
    const qty = d[o + F_QTY];
    const t: TradeView = {
      tradeId: d[o + F_A],
      instrument,
      priceTicks: price,
      qtyLots: qty,
      aggressorSide: d[o + F_SIDE] as Side,
      takerOrderId: d[o + F_ORDER_ID],
      takerAccountId: d[o + F_OWNER],
      makerOrderId: d[o + F_B],
      makerAccountId: d[o + F_C],
      timeUs,
      seq,
      buyerPaidMinor: 0,
      sellerNetMinor: 0,
    };
    this.unsettled.push(t);
    const takerBuys = t.aggressorSide === Side.Buy;
    this.entries.trade(
      t.tradeId,
      instrument,
      takerBuys ? t.takerOrderId : t.makerOrderId,
      takerBuys ? t.makerOrderId : t.takerOrderId,
    );
    v.trades.push(t);
    if (this.recording) this.changes.trades.push(t);
    const s = v.stats;
    s.lastPriceTicks = price;
    s.trades++;
    s.volumeLots += qty;
    s.highTicks = s.trades === 1 ? price : Math.max(s.highTicks, price);
    s.lowTicks = s.trades === 1 ? price : Math.min(s.lowTicks, price);
    this.venue.trades++;
  }

  /** A settlement record at offset `o`: the amounts of the next unsettled trade of the command, and its orders'. */
  private settled(data: Float64Array, o: number): void {
    const t = this.unsettled[this.settledCount++];
    const buyOrder = data[o + S_BUY_ORDER];
    const sellOrder = data[o + S_SELL_ORDER];
    const takerBuys = t !== undefined && t.aggressorSide === Side.Buy;
    if (
      t === undefined ||
      buyOrder !== (takerBuys ? t.takerOrderId : t.makerOrderId) ||
      sellOrder !== (takerBuys ? t.makerOrderId : t.takerOrderId)
    ) {
      throw new Error(`views: a settlement of orders ${buyOrder}/${sellOrder} does not follow its trade`);
    }
    t.buyerPaidMinor = data[o + S_RELEASE] - data[o + S_REFUND];
    t.sellerNetMinor = data[o + S_SELLER_NET];
    const buy = this.live.get(buyOrder);
    const sell = this.live.get(sellOrder);
    if (buy !== undefined) buy.settledMinor += t.buyerPaidMinor;
    else this.ended.addSettled(buyOrder, t.buyerPaidMinor);
    if (sell !== undefined) sell.settledMinor += t.sellerNetMinor;
    else this.ended.addSettled(sellOrder, t.sellerNetMinor);
  }

  /** An order event after acceptance (fill, cancel, reduce, expire, trigger, amend). */
  private changed(seq: number, timeUs: number, d: Float64Array, o: number, type: number): void {
    const orderId = d[o + F_ORDER_ID];
    const name = CHANGE_NAMES[type];
    const v = this.live.get(orderId);
    if (v === undefined) {
      const status = this.ended.status(orderId);
      if (status !== undefined) {
        throw new Error(`views: ${name} at seq ${seq} for order ${orderId}, which is ${status}`);
      }
      // An order forgotten after it ended cannot change again; one never seen is a gap in the stream.
      throw new Error(`views: ${name} at seq ${seq} for unknown order ${orderId}`);
    }
    if (!NEXT[v.status].has(name)) {
      throw new Error(`views: ${name} at seq ${seq} for order ${orderId}, which is ${v.status}`);
    }
    v.updatedUs = timeUs;
    v.updatedSeq = seq;
    this.noteOrder(v);
    switch (type) {
      case EventType.OrderPartiallyFilled:
      case EventType.OrderFilled:
        v.filledLots = d[o + F_B];
        v.remainingLots = d[o + F_A];
        v.notional += BigInt(d[o + F_PRICE]) * BigInt(d[o + F_QTY]);
        if (type === EventType.OrderFilled) this.end(v, 'filled');
        else v.status = 'partially_filled';
        return;
      case EventType.OrderCancelled:
        v.cancelReason = d[o + F_B];
        this.end(v, 'cancelled');
        return;
      case EventType.OrderExpired:
        this.end(v, 'expired');
        return;
      case EventType.OrderReduced:
        v.remainingLots = d[o + F_A];
        v.qtyLots = v.filledLots + v.remainingLots;
        return;
      case EventType.OrderAmended:
        v.priceTicks = d[o + F_PRICE];
        v.remainingLots = d[o + F_QTY];
        v.qtyLots = v.filledLots + v.remainingLots;
        return;
      case EventType.OrderTriggered:
        // A stop became a live order; its status stays what it was.
        return;
    }
  }

  private end(v: OrderView, status: OrderStatus): void {
    v.status = status;
    v.remainingLots = 0;
    const open = this.openByAccount.get(v.accountId);
    if (open === undefined || !open.delete(v.orderId)) {
      throw new Error(`views: order ${v.orderId} ended but was not open`);
    }
    if (open.size === 0) this.openByAccount.delete(v.accountId);
    this.venue.openOrders--;
    this.endedNow.push(v);
  }

  private noteId(orderId: number): void {
    if (orderId > this.highestOrderIdSeen) this.highestOrderIdSeen = orderId;
  }

  private insert(v: OrderView): void {
    this.live.set(v.orderId, v);
    this.liveInserted.set(v.orderId, this.insertions.add(v.orderId));
  }

  /** Moves the orders the command ended into columns, and forgets the oldest ended orders beyond the bound. */
  private retireEnded(): void {
    for (const v of this.endedNow) {
      const inserted = this.liveInserted.get(v.orderId) as number;
      this.live.delete(v.orderId);
      this.liveInserted.delete(v.orderId);
      this.ended.add(v, inserted);
    }
    this.endedNow.length = 0;
    while (this.ended.size > this.options.endedOrdersKept) this.ended.forgetOldest();
    // Drop the log's forgotten orders a step at a time, so that it does not grow with every order ever placed.
    const kept = this.live.size + this.ended.size;
    if (this.insertions.compacting || this.insertions.entries > 2 * kept + 4096) {
      this.insertions.compactStep(this.keptInsertion);
    }
  }
}
