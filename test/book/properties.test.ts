/**
 * Randomized property tests of the order book: seeded random command streams (see random-commands.ts) with
 * the book's invariants checked after every single operation, from its queries and from its events.
 *
 * After each operation:
 * - event sequence numbers continue the previous operation's by exactly 1 each, and carry the book's time;
 * - the book is not crossed; depth() levels are strictly ordered (bids down, asks up);
 * - every level is FIFO by priority, and its qty and order count equal the sum of its orders' visible
 *   quantities and their number; every resting order shows 0 < visible <= left (visible <= display size for
 *   icebergs, visible = left otherwise);
 * - quantity is conserved per order: entered (OrderAccepted qty, adjusted by each OrderAmended) = filled +
 *   cancelled + reduced + expired + resting, with every event's qtyLeft/qtyFilled agreeing with that count,
 *   and the live orders in the book being exactly the ones the events left open;
 * - trades happen at the maker's price, within the taker's limit, best price first, maker fill then taker fill;
 * - LevelChanged and TopOfBookChanged events, replayed, reproduce depth() and bbo();
 * - no pending stop has a trigger the last trade price has reached; no live order is past its expiry;
 * - a rejected command emits exactly one OrderRejected (after any expiries its time caused) and nothing else;
 * - return values match the events (filled on entry, quantity cancelled, quantity left, count cancelled);
 * - an incoming order (a place, or an amend that re-enters) trades exactly as a plain model of price-time
 *   matching with icebergs and self-trade prevention predicts from the queues before the command, FOK is
 *   all or nothing by that model, and the order ends as the model says (filled, resting, or cancelled with
 *   the predicted reason: FillOrKill, SelfTrade, NoLiquidity, PriceBand, ImmediateRemainder);
 * - priorities change only on a lost-priority amend (priorityKept exactly for a quantity decrease alone),
 *   an iceberg refill or a trigger, and a new priority is behind its whole queue; stops with the same
 *   trigger fire in priority order; an amend that keeps priority takes an iceberg's hidden part first;
 * - no self trade under self-trade prevention; a post-only order never takes, and is rejected exactly when
 *   it would cross; accepted orders follow the tick, lot, size and band rules; mass cancel removes exactly
 *   the orders its filter selects; TopOfBookChanged is only published for a change.
 */
import { test } from 'node:test';
import { deepEqual, equal, fail, ok } from 'node:assert/strict';
import {
  ANY_OWNER,
  BookReject,
  CancelReason,
  CommandKind,
  EventBuffer,
  OrderBook,
  OrderType,
  SelfTradePrevention,
  Side,
  TimeInForce,
  decodeEvents,
  type BookEvent,
  type OrderFill,
  type OrderView,
} from '../../src/book/index.js';
import type { EventOf } from './helpers.js';
import { CommandGenerator, PROFILES, apply, type Command } from './random-commands.js';

/** Assertions whose messages are built only on failure: these checks run tens of millions of times. */
function check(condition: boolean, message: () => string): asserts condition {
  if (!condition) fail(message());
}
function same<T>(actual: T, expected: T, message: () => string): void {
  if (actual !== expected) equal(actual, expected, message());
}

interface Tracked {
  orderId: number;
  owner: number;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  price: number;
  triggerPrice: number;
  expireTimeUs: number;
  entered: number;
  filled: number;
  cancelled: number;
  reduced: number;
  expired: number;
  live: boolean;
  pending: boolean;
  stp: SelfTradePrevention;
  displayQty: number;
  postOnly: boolean;
}

interface PublishedLevel {
  qty: number;
  orders: number;
}

function remaining(t: Tracked): number {
  return t.entered - t.filled - t.cancelled - t.reduced - t.expired;
}

function isStop(type: OrderType): boolean {
  return type >= OrderType.StopMarket;
}

/** Buy stops and sell take-profits wait for a rise; sell stops and buy take-profits for a fall. */
function firesOnRise(side: Side, type: OrderType): boolean {
  const stop = type === OrderType.StopMarket || type === OrderType.StopLimit;
  return stop === (side === Side.Buy);
}

/** What the public queries showed of the book after a command: the input of the next command's checks. */
interface Snapshot {
  /** Per side, levels best first with their queues. */
  levels: [LevelSnap[], LevelSnap[]];
  /** Every live order (resting and pending) by id. */
  byId: Map<number, OrderView>;
  /** The highest priority in each queue (see queueKey). */
  queueMax: Map<number, number>;
}

function queueKey(v: OrderView): number {
  // Prices are positive: bids map to themselves, asks below -1, pending stops to -1.
  return v.pendingTrigger ? -1 : v.side === Side.Buy ? v.price : -1 - v.price;
}

interface LevelSnap {
  price: number;
  orders: OrderView[];
}

const EMPTY_SNAPSHOT: Snapshot = { levels: [[], []], byId: new Map(), queueMax: new Map() };

interface Incoming {
  orderId: number;
  side: Side;
  owner: number;
  stp: SelfTradePrevention;
  qty: number;
  limit: number;
  market: boolean;
  banded: boolean;
  tif: TimeInForce;
}

interface Simulated {
  /** [price, qty, maker id] in order. */
  trades: [number, number, number][];
  /** Quantity filled or, under DecrementBoth, decremented. */
  used: number;
  /** Self-trade prevention stopped the incoming order (its remainder, if any, is cancelled). */
  stoppedBySelf: boolean;
  /** Matching stopped at a level beyond the limit. */
  stoppedByLimit: boolean;
}

/**
 * A plain model of price-time matching with icebergs and self-trade prevention, run on the queues the book
 * showed before the command: the reference the book's matching is compared with.
 */
function simulate(levels: readonly LevelSnap[], o: Incoming): Simulated {
  let need = o.qty;
  const out: Simulated = { trades: [], used: 0, stoppedBySelf: false, stoppedByLimit: false };
  for (const level of levels) {
    if (need === 0) break;
    if (o.side === Side.Buy ? level.price > o.limit : level.price < o.limit) {
      out.stoppedByLimit = true;
      break;
    }
    const q = level.orders.map((v) => ({
      id: v.orderId,
      owner: v.owner,
      left: v.qtyLeft,
      visible: v.qtyVisible,
      display: v.displayQty,
    }));
    while (need > 0 && q.length > 0) {
      const m = q[0];
      if (o.stp !== SelfTradePrevention.None && m.owner === o.owner) {
        if (o.stp === SelfTradePrevention.CancelResting) {
          q.shift();
          continue;
        }
        if (o.stp !== SelfTradePrevention.DecrementBoth) {
          out.stoppedBySelf = true;
          return out;
        }
        const cut = Math.min(need, m.left);
        out.used += cut;
        need -= cut;
        if (cut === m.left) q.shift();
        else {
          // The hidden part goes first.
          const hidden = m.left - m.visible;
          m.left -= cut;
          if (cut > hidden) m.visible = m.left;
        }
        if (need === 0) {
          out.stoppedBySelf = true;
          return out;
        }
        continue;
      }
      const fill = Math.min(m.visible, need);
      out.trades.push([level.price, fill, m.id]);
      out.used += fill;
      need -= fill;
      m.left -= fill;
      m.visible -= fill;
      if (m.visible === 0) {
        q.shift();
        if (m.left > 0) {
          m.visible = Math.min(m.display, m.left);
          q.push(m);
        }
      }
    }
  }
  return out;
}

const COMMAND_KIND: Record<Command['kind'], number> = {
  place: CommandKind.Place,
  cancel: CommandKind.Cancel,
  amend: CommandKind.Amend,
  massCancel: CommandKind.MassCancel,
  advanceTime: 0,
  setReferencePrice: CommandKind.SetReferencePrice,
};

class Checker {
  readonly book = new OrderBook(new EventBuffer(64), { capacityOrders: 16 });
  private readonly orders = new Map<number, Tracked>();
  private liveCount = 0;
  private seq = 0;
  private lastTradeId = 0;
  private ops = 0;
  /** The book as the queries showed it after the previous command. */
  private prev: Snapshot = EMPTY_SNAPSHOT;
  /** Per side, price -> level as the LevelChanged events published it. */
  private readonly levels: [Map<number, PublishedLevel>, Map<number, PublishedLevel>] = [
    new Map<number, PublishedLevel>(),
    new Map<number, PublishedLevel>(),
  ];
  private top = { bidPrice: 0, bidQty: 0, askPrice: 0, askQty: 0 };
  /** Statistics, to check that the stream really exercises the features. */
  readonly seen = new Map<string, number>();

  private count(what: string): void {
    this.seen.set(what, (this.seen.get(what) ?? 0) + 1);
  }

  step(c: Command): void {
    const book = this.book;
    book.events.clear();
    const referenceBefore = book.referencePrice;
    const result = apply(book, c);
    const events = decodeEvents(book.events);
    book.events.clear();
    this.checkSequence(events);
    const touched = new Set<number>();
    const rejected = this.checkReject(c, events);
    const takerFills = new Map<number, number>();
    let cancelledQty = 0;
    let massCancelled = 0;
    /** Amended order id -> whether it kept its priority. */
    const amended = new Map<number, boolean>();
    /** Maker order id -> quantity filled as a maker in this command. */
    const makerFills = new Map<number, number>();
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      this.count(e.type);
      if ('orderId' in e && e.type !== 'OrderRejected') touched.add(e.orderId);
      switch (e.type) {
        case 'OrderAccepted': {
          const prior = this.orders.get(e.orderId);
          check(prior === undefined || !prior.live, () => `accepted id ${e.orderId} is already live`);
          ok(e.qty > 0);
          this.orders.set(e.orderId, {
            orderId: e.orderId,
            owner: e.owner,
            side: e.side,
            type: e.orderType,
            tif: e.tif,
            price: e.price,
            triggerPrice: e.triggerPrice,
            expireTimeUs: e.expireTimeUs,
            entered: e.qty,
            filled: 0,
            cancelled: 0,
            reduced: 0,
            expired: 0,
            live: true,
            pending: isStop(e.orderType),
            stp: e.stp,
            displayQty: e.displayQty,
            postOnly: e.postOnly,
          });
          this.checkAccepted(e, referenceBefore);
          this.liveCount++;
          if (e.displayQty > 0) this.count('iceberg');
          if (e.postOnly) this.count('postOnly');
          break;
        }
        case 'TradeExecuted':
          this.checkTrade(events, i, touched);
          i += 2; // the two fills were checked with the trade
          takerFills.set(e.takerOrderId, (takerFills.get(e.takerOrderId) ?? 0) + e.qty);
          makerFills.set(e.makerOrderId, (makerFills.get(e.makerOrderId) ?? 0) + e.qty);
          break;
        case 'OrderPartiallyFilled':
        case 'OrderFilled':
          fail(`a fill that does not follow its trade: ${JSON.stringify(e)}`);
          break;
        case 'OrderCancelled': {
          const t = this.live(e.orderId);
          same(e.qty, remaining(t), () => `cancel of ${e.orderId} takes its whole remaining quantity`);
          ok(e.qty > 0, 'cancelled quantity is positive');
          equal(e.qtyFilled, t.filled);
          t.cancelled += e.qty;
          this.close(t);
          this.count(`cancel:${e.reason}`);
          if (e.reason === CancelReason.Requested && c.kind === 'cancel') cancelledQty += e.qty;
          if (e.reason === CancelReason.MassCancel) {
            massCancelled++;
            check(
              c.kind === 'massCancel' &&
                (c.owner === ANY_OWNER || c.owner === e.owner) &&
                (c.side === -1 || c.side === e.side),
              () => `order ${e.orderId} mass-cancelled outside the filter of ${JSON.stringify(c)}`,
            );
          }
          break;
        }
        case 'OrderReduced': {
          const t = this.live(e.orderId);
          check(
            e.qty > 0 && e.qty < remaining(t),
            () => `reduction of ${e.orderId} by ${e.qty} leaves it live`,
          );
          t.reduced += e.qty;
          equal(e.qtyLeft, remaining(t));
          this.count('reduced');
          break;
        }
        case 'OrderExpired': {
          const t = this.live(e.orderId);
          ok(t.tif === TimeInForce.DAY || t.tif === TimeInForce.GTD, `only DAY and GTD orders expire`);
          check(
            t.expireTimeUs <= e.timeUs,
            () => `order ${e.orderId} expired at ${e.timeUs} before ${t.expireTimeUs}`,
          );
          equal(e.qty, remaining(t));
          equal(e.qtyFilled, t.filled);
          t.expired += e.qty;
          this.close(t);
          this.count('expired');
          break;
        }
        case 'OrderTriggered': {
          const t = this.live(e.orderId);
          check(t.pending, () => `triggered order ${e.orderId} was pending`);
          equal(e.triggerPrice, t.triggerPrice);
          equal(e.qty, remaining(t));
          const reached = firesOnRise(t.side, t.type)
            ? e.lastTradePrice >= t.triggerPrice
            : e.lastTradePrice <= t.triggerPrice;
          check(
            reached,
            () => `order ${e.orderId} triggered at ${e.lastTradePrice} with trigger ${t.triggerPrice}`,
          );
          this.checkTriggerOrder(t);
          t.pending = false;
          this.count('triggered');
          break;
        }
        case 'OrderAmended': {
          const t = this.live(e.orderId);
          same(e.oldQtyLeft, remaining(t), () => `amend of ${e.orderId}: old quantity left`);
          equal(e.oldPrice, t.price);
          ok(e.qty > 0);
          check(
            e.price !== e.oldPrice || e.qty !== e.oldQtyLeft || e.triggerPrice !== t.triggerPrice,
            () => `amend of ${e.orderId} changed nothing`,
          );
          // "A quantity decrease alone keeps time priority; anything else re-enters the order."
          const decreaseOnly =
            e.price === e.oldPrice && e.triggerPrice === t.triggerPrice && e.qty < e.oldQtyLeft;
          same(e.priorityKept, decreaseOnly, () => `amend of ${e.orderId}: priorityKept`);
          amended.set(e.orderId, e.priorityKept);
          t.entered += e.qty - e.oldQtyLeft;
          t.price = e.price;
          t.triggerPrice = e.triggerPrice;
          this.count(e.priorityKept ? 'amend:kept' : 'amend:lost');
          break;
        }
        case 'LevelChanged': {
          check(
            (e.side === Side.Buy || e.side === Side.Sell) &&
              Number.isSafeInteger(e.price) &&
              e.price > 0 &&
              Number.isSafeInteger(e.qty) &&
              Number.isSafeInteger(e.orders),
            () => `malformed LevelChanged: ${JSON.stringify(e)}`,
          );
          const m = this.levels[e.side];
          if (e.orders === 0) {
            equal(e.qty, 0, 'an empty level has no quantity');
            check(m.delete(e.price), () => `level ${e.side}@${e.price} removed before it existed`);
          } else {
            check(
              e.qty > 0 && e.orders > 0,
              () => `LevelChanged with orders but no quantity: ${JSON.stringify(e)}`,
            );
            m.set(e.price, { qty: e.qty, orders: e.orders });
          }
          break;
        }
        case 'TopOfBookChanged':
          check(
            e.bidPrice !== this.top.bidPrice ||
              e.bidQty !== this.top.bidQty ||
              e.askPrice !== this.top.askPrice ||
              e.askQty !== this.top.askQty,
            () => `TopOfBookChanged without a change: ${JSON.stringify(e)}`,
          );
          this.top = { bidPrice: e.bidPrice, bidQty: e.bidQty, askPrice: e.askPrice, askQty: e.askQty };
          break;
        case 'OrderRejected':
          this.count(`reject:${e.code}`);
          break;
      }
    }
    this.checkTradeThrough(events);
    this.checkMatching(c, events, referenceBefore);
    this.checkPlaceRejects(c, events, referenceBefore);
    const now = this.checkBook(touched);
    this.checkPriorities(now, amended, makerFills);
    if (c.kind === 'massCancel' && !rejected) this.checkMassCancel(now, c.owner, c.side);
    this.checkResult(c, result, rejected, takerFills, cancelledQty, massCancelled);
    this.prev = now;
  }

  /**
   * Compares the matching of an incoming order (a place, or an amend that re-enters) with the model run on
   * the queues before the command: the same trades in the same order, FOK all or nothing, and the same end
   * (filled, resting, or cancelled for the same reason). Skipped when expiries changed the book first.
   */
  private checkMatching(c: Command, events: BookEvent[], referenceBefore: number): void {
    if (events.some((e) => e.type === 'OrderExpired' || e.type === 'OrderRejected')) return;
    let o: Incoming | undefined;
    if (c.kind === 'place' && !isStop(c.order.type)) {
      const p = c.order;
      const market = p.type === OrderType.Market;
      let limit = p.price !== 0 ? p.price : p.side === Side.Buy ? Infinity : -Infinity;
      let banded = false;
      const bps = this.book.instrumentRules.priceBandBps;
      if (market && bps > 0 && referenceBefore > 0) {
        const width = Math.floor((referenceBefore * bps) / 10000);
        const edge = p.side === Side.Buy ? referenceBefore + width : referenceBefore - width;
        if (p.side === Side.Buy ? limit > edge : limit < edge) {
          limit = edge;
          banded = true;
        }
      }
      o = {
        orderId: p.orderId,
        side: p.side,
        owner: p.owner,
        stp: p.stp,
        qty: p.qty,
        limit,
        market,
        banded,
        tif: p.tif,
      };
    } else if (c.kind === 'amend') {
      const e = events.find((x) => x.type === 'OrderAmended');
      const before = this.prev.byId.get(c.amend.orderId);
      const t = this.orders.get(c.amend.orderId);
      if (e?.type !== 'OrderAmended' || e.priorityKept || before === undefined || before.pendingTrigger || !t)
        return;
      o = {
        orderId: e.orderId,
        side: e.side,
        owner: e.owner,
        stp: t.stp,
        qty: e.qty,
        limit: e.price,
        market: false,
        banded: false,
        tif: t.tif,
      };
    }
    if (o === undefined) return;
    const sim = simulate(this.prev.levels[o.side ^ 1], o);
    // The incoming order's own matching comes before any stop it triggers.
    const firstTrigger = events.findIndex((e) => e.type === 'OrderTriggered');
    const own = firstTrigger < 0 ? events : events.slice(0, firstTrigger);
    const trades = own
      .filter(
        (e): e is EventOf<'TradeExecuted'> => e.type === 'TradeExecuted' && e.takerOrderId === o.orderId,
      )
      .map((e) => [e.price, e.qty, e.makerOrderId]);
    const cancel = own.find((e) => e.type === 'OrderCancelled' && e.orderId === o.orderId);
    const reason = cancel?.type === 'OrderCancelled' ? cancel.reason : undefined;
    const killed = o.tif === TimeInForce.FOK && sim.used < o.qty;
    const expectedTrades = killed ? [] : sim.trades;
    if (JSON.stringify(trades) !== JSON.stringify(expectedTrades)) {
      deepEqual(
        trades,
        expectedTrades,
        `trades of incoming order ${o.orderId} (model: ${JSON.stringify(sim)})`,
      );
    }
    let expected: number | undefined;
    if (killed) expected = CancelReason.FillOrKill;
    else if (sim.stoppedBySelf) expected = CancelReason.SelfTrade;
    else if (sim.used === o.qty) expected = undefined;
    else if (o.market)
      expected = o.banded && sim.stoppedByLimit ? CancelReason.PriceBand : CancelReason.NoLiquidity;
    else if (o.tif === TimeInForce.IOC) expected = CancelReason.ImmediateRemainder;
    same(reason, expected, () => `end of incoming order ${o.orderId} (model: ${JSON.stringify(sim)})`);
    if (killed)
      deepEqual(
        events.filter((e) => e.type !== 'OrderAccepted' && e.type !== 'OrderCancelled'),
        [],
        'a killed FOK changes nothing',
      );
    this.count(killed ? 'fok:killed' : o.tif === TimeInForce.FOK ? 'fok:filled' : 'matched');
  }

  /**
   * Priorities only change when the order earns a new one: an amend that does not keep it, an iceberg refill
   * (after its whole visible slice traded), or a trigger. A new priority comes after every order that was in
   * the same queue before the command ("order of arrival in its queue").
   */
  private checkPriorities(
    now: Snapshot,
    amended: Map<number, boolean>,
    makerFills: Map<number, number>,
  ): void {
    for (const [id, v] of now.byId) {
      const before = this.prev.byId.get(id);
      const kept = amended.get(id);
      const last = this.prev.queueMax.get(queueKey(v)) ?? -Infinity;
      if (before === undefined || kept === false || (before.pendingTrigger && !v.pendingTrigger)) {
        check(v.priority > last, () => `order ${id} has a new priority, after its queue`);
        continue;
      }
      const filled = makerFills.get(id) ?? 0;
      if (before.displayQty > 0 && filled >= before.qtyVisible) {
        check(v.priority > last, () => `iceberg ${id} refilled at the back of its queue`);
      } else {
        same(v.priority, before.priority, () => `order ${id} kept its priority`);
        if (kept === true && !v.pendingTrigger) {
          // A quantity decrease takes an iceberg's hidden part first.
          same(
            v.qtyVisible,
            Math.min(before.qtyVisible, v.qtyLeft),
            () => `visible part of amended order ${id}`,
          );
        }
        equal(v.price, before.price);
      }
    }
  }

  /** An accepted order follows the instrument rules, and limit prices lie inside the band. */
  private checkAccepted(e: EventOf<'OrderAccepted'>, referenceBefore: number): void {
    const r = this.book.instrumentRules;
    check(e.qty % r.lotSize === 0 && e.qty >= r.qtyMin && e.qty <= r.qtyMax, () => `accepted qty ${e.qty}`);
    check(
      e.price % r.tickSize === 0 && e.triggerPrice % r.tickSize === 0,
      () => `accepted prices ${e.price}/${e.triggerPrice}`,
    );
    check(e.displayQty % r.lotSize === 0 && e.displayQty <= e.qty, () => `accepted display ${e.displayQty}`);
    const limitType =
      e.orderType === OrderType.Limit ||
      e.orderType === OrderType.StopLimit ||
      e.orderType === OrderType.TakeProfitLimit;
    if (limitType && r.priceBandBps > 0 && referenceBefore > 0) {
      const width = Math.floor((referenceBefore * r.priceBandBps) / 10000);
      check(
        e.price >= referenceBefore - width && e.price <= referenceBefore + width,
        () => `accepted price ${e.price} outside the band ${referenceBefore} +- ${width}`,
      );
    }
  }

  /**
   * A valid post-only place is rejected exactly when it would cross, and a PriceOutsideBand rejection is for
   * a price outside the band.
   */
  private checkPlaceRejects(c: Command, events: BookEvent[], referenceBefore: number): void {
    if (c.kind !== 'place' || c.invalid || events.some((e) => e.type === 'OrderExpired')) return;
    const reject = events.find((e) => e.type === 'OrderRejected');
    const code = reject?.type === 'OrderRejected' ? reject.code : 0;
    const o = c.order;
    if (o.postOnly && (code === 0 || code === BookReject.PostOnlyWouldTake)) {
      const best = this.prev.levels[o.side ^ 1][0]?.price;
      const crosses = best !== undefined && (o.side === Side.Buy ? best <= o.price : best >= o.price);
      equal(code === BookReject.PostOnlyWouldTake, crosses, `post-only at ${o.price} against best ${best}`);
    }
    if (code === BookReject.PriceOutsideBand) {
      const r = this.book.instrumentRules;
      const width = Math.floor((referenceBefore * r.priceBandBps) / 10000);
      ok(
        r.priceBandBps > 0 && Math.abs(o.price - referenceBefore) > width,
        `price ${o.price} is inside the band`,
      );
    }
  }

  private checkMassCancel(now: Snapshot, owner: number, side: number): void {
    for (const v of now.byId.values()) {
      const hit = (owner === ANY_OWNER || v.owner === owner) && (side === -1 || v.side === side);
      check(!hit, () => `order ${v.orderId} survived massCancel(${owner}, ${side})`);
    }
  }

  /** Stops with the same trigger price and direction fire in priority order. */
  private checkTriggerOrder(t: Tracked): void {
    const mine = this.prev.byId.get(t.orderId)?.priority ?? Infinity;
    const rising = firesOnRise(t.side, t.type);
    for (const v of this.prev.byId.values()) {
      if (!v.pendingTrigger || v.orderId === t.orderId || v.triggerPrice !== t.triggerPrice) continue;
      if (firesOnRise(v.side, v.type) !== rising) continue;
      const other = this.orders.get(v.orderId);
      if (other?.live !== true || !other.pending || other.triggerPrice !== v.triggerPrice) continue;
      check(
        v.priority > mine,
        () => `stop ${t.orderId} fired before the earlier stop ${v.orderId} with the same trigger`,
      );
    }
  }

  private live(orderId: number): Tracked {
    const t = this.orders.get(orderId);
    if (t === undefined || !t.live) return fail(`event for order ${orderId}, which is not live`);
    return t;
  }

  private close(t: Tracked): void {
    t.live = false;
    this.liveCount--;
  }

  private checkSequence(events: BookEvent[]): void {
    const book = this.book;
    for (const e of events) {
      equal(e.seq, ++this.seq, 'event sequence numbers go up by 1');
      equal(e.timeUs, book.timeUs, 'events carry the book time');
    }
    equal(book.sequence, this.seq);
  }

  /** Returns whether the command was rejected; checks that a rejection changed nothing. */
  private checkReject(c: Command, events: BookEvent[]): boolean {
    const at = events.findIndex((e) => e.type === 'OrderRejected');
    if (c.kind === 'place' && c.invalid) ok(at >= 0, 'an invalid place is rejected');
    if (at < 0) return false;
    equal(at, events.length - 1, 'a rejection is the last event of its command');
    for (let i = 0; i < at; i++) {
      const type = events[i].type;
      check(
        type === 'OrderExpired' || type === 'LevelChanged' || type === 'TopOfBookChanged',
        () => `a rejected command emitted ${type}`,
      );
    }
    const r = events[at];
    if (r.type === 'OrderRejected') equal(r.command, COMMAND_KIND[c.kind]);
    return true;
  }

  /** Checks a trade and the maker and taker fills that must follow it. */
  private checkTrade(events: BookEvent[], i: number, touched: Set<number>): void {
    const t = events[i];
    const mf: BookEvent | undefined = events[i + 1];
    const tf: BookEvent | undefined = events[i + 2];
    if (t.type !== 'TradeExecuted') return fail('not a trade');
    const isFill = (e: BookEvent | undefined): e is OrderFill =>
      e !== undefined && (e.type === 'OrderFilled' || e.type === 'OrderPartiallyFilled');
    if (!isFill(mf) || !isFill(tf))
      return fail(`trade ${t.tradeId} is not followed by the maker's and taker's fills`);
    touched.add(t.makerOrderId);
    touched.add(t.takerOrderId);
    ok(t.tradeId > this.lastTradeId, 'trade ids increase');
    this.lastTradeId = t.tradeId;
    const maker = this.live(t.makerOrderId);
    const taker = this.live(t.takerOrderId);
    ok(t.qty > 0);
    ok(!maker.pending && !taker.pending, 'pending stops do not trade');
    equal(t.aggressorSide, taker.side);
    ok(maker.side !== taker.side, 'a trade has a buyer and a seller');
    equal(t.makerOwner, maker.owner);
    equal(t.takerOwner, taker.owner);
    equal(t.price, maker.price, 'trades happen at the maker price');
    ok(!taker.postOnly, 'a post-only order never takes liquidity');
    if (taker.stp !== SelfTradePrevention.None)
      ok(maker.owner !== taker.owner, 'no self trade under prevention');
    if (taker.price !== 0) {
      ok(
        taker.side === Side.Buy ? t.price <= taker.price : t.price >= taker.price,
        'trade within the taker limit',
      );
    }
    for (const [fill, o, left, isMaker] of [
      [mf, maker, t.makerQtyLeft, true],
      [tf, taker, t.takerQtyLeft, false],
    ] as const) {
      equal(fill.orderId, o.orderId);
      equal(fill.maker, isMaker);
      equal(fill.tradeId, t.tradeId);
      equal(fill.price, t.price);
      equal(fill.qty, t.qty);
      o.filled += t.qty;
      same(fill.qtyFilled, o.filled, () => `qtyFilled of ${o.orderId}`);
      same(fill.qtyLeft, remaining(o), () => `qtyLeft of ${o.orderId}`);
      equal(left, remaining(o));
      check(remaining(o) >= 0, () => `order ${o.orderId} overfilled`);
      equal(fill.type === 'OrderFilled', remaining(o) === 0, 'OrderFilled exactly when nothing is left');
      if (remaining(o) === 0) this.close(o);
    }
    this.count('trade');
  }

  /** Within one command, each taker meets prices from best to worse. */
  private checkTradeThrough(events: BookEvent[]): void {
    const last = new Map<number, number>();
    for (const e of events) {
      if (e.type !== 'TradeExecuted') continue;
      const prev = last.get(e.takerOrderId);
      if (prev !== undefined) {
        check(
          e.aggressorSide === Side.Buy ? e.price >= prev : e.price <= prev,
          () => `trade-through: ${prev} then ${e.price}`,
        );
      }
      last.set(e.takerOrderId, e.price);
    }
  }

  private checkView(v: OrderView, pending: boolean): void {
    const t = this.orders.get(v.orderId);
    check(t !== undefined && t.live, () => `book holds order ${v.orderId}, which events closed`);
    equal(v.pendingTrigger, pending);
    same(t.pending, pending, () => `order ${v.orderId} pending state`);
    same(
      v.qtyLeft,
      remaining(t),
      () => `order ${v.orderId}: qty left is entered - filled - cancelled - reduced - expired`,
    );
    equal(v.qtyFilled, t.filled);
    equal(v.price, t.price);
    equal(v.side, t.side);
    equal(v.owner, t.owner);
    equal(v.type, t.type);
    equal(v.triggerPrice, t.triggerPrice);
    equal(v.expireTimeUs, t.expireTimeUs);
    check(
      v.expireTimeUs === 0 || v.expireTimeUs > this.book.timeUs,
      () => `order ${v.orderId} is past its expiry`,
    );
  }

  /** Checks the book through its queries; returns what they showed. */
  private checkBook(touched: Set<number>): Snapshot {
    const book = this.book;
    const snap: Snapshot = { levels: [[], []], byId: new Map(), queueMax: new Map() };
    let seenOrders = 0;
    const best: number[] = [0, 0];
    for (const side of [Side.Buy, Side.Sell]) {
      const depth = book.depth(side, Infinity);
      equal(depth.length, book.levelCount(side));
      equal(depth.length, this.levels[side].size, 'LevelChanged events account for every level');
      let prevPrice = side === Side.Buy ? Infinity : -Infinity;
      for (const level of depth) {
        ok(
          side === Side.Buy ? level.price < prevPrice : level.price > prevPrice,
          'depth levels strictly ordered',
        );
        prevPrice = level.price;
        const published = this.levels[side].get(level.price);
        check(
          published !== undefined && published.qty === level.qty && published.orders === level.orders,
          () =>
            `LevelChanged for ${side}@${level.price} says ${JSON.stringify(published)}, depth says ${JSON.stringify(level)}`,
        );
        const orders = book.levelOrders(side, level.price);
        equal(orders.length, level.orders, 'level order count');
        ok(orders.length > 0, 'no empty level');
        let qty = 0;
        let prevPriority = -Infinity;
        for (const o of orders) {
          check(o.priority > prevPriority, () => `level ${side}@${level.price} is not FIFO by priority`);
          prevPriority = o.priority;
          equal(o.price, level.price);
          equal(o.side, side);
          check(
            o.qtyVisible > 0 && o.qtyVisible <= o.qtyLeft,
            () => `order ${o.orderId} visible ${o.qtyVisible} of ${o.qtyLeft}`,
          );
          if (o.displayQty === 0) equal(o.qtyVisible, o.qtyLeft, 'a plain order shows all of itself');
          else ok(o.qtyVisible <= o.displayQty, 'an iceberg shows at most its display size');
          qty += o.qtyVisible;
          this.checkView(o, false);
        }
        same(qty, level.qty, () => `level ${side}@${level.price} qty is the sum of visible quantities`);
        seenOrders += orders.length;
        snap.levels[side].push({ price: level.price, orders });
        for (const o of orders) snap.byId.set(o.orderId, o);
      }
      best[side] = depth.length > 0 ? depth[0].price : 0;
    }
    if (best[0] !== 0 && best[1] !== 0)
      check(best[0] < best[1], () => `book crossed: bid ${best[0]} ask ${best[1]}`);
    const bbo = book.bbo();
    equal(bbo.bidPrice, best[0]);
    equal(bbo.askPrice, best[1]);
    equal(bbo.bidQty, best[0] === 0 ? 0 : book.depth(Side.Buy, 1)[0].qty);
    equal(bbo.askQty, best[1] === 0 ? 0 : book.depth(Side.Sell, 1)[0].qty);
    check(
      bbo.bidPrice === this.top.bidPrice &&
        bbo.bidQty === this.top.bidQty &&
        bbo.askPrice === this.top.askPrice &&
        bbo.askQty === this.top.askQty,
      () => `TopOfBookChanged says ${JSON.stringify(this.top)}, bbo() says ${JSON.stringify(bbo)}`,
    );
    const last = book.lastTradePrice;
    for (const p of book.pendingOrders()) {
      this.checkView(p, true);
      snap.byId.set(p.orderId, p);
      if (last !== 0) {
        const reached = firesOnRise(p.side, p.type) ? p.triggerPrice <= last : p.triggerPrice >= last;
        check(
          !reached,
          () => `stop ${p.orderId} (trigger ${p.triggerPrice}) still pending with last trade at ${last}`,
        );
      }
      seenOrders++;
    }
    equal(book.pendingTriggerCount, book.pendingOrders().length);
    equal(seenOrders, book.orderCount, 'orderCount counts resting and pending orders');
    equal(seenOrders, this.liveCount, 'the book holds exactly the orders the events left live');
    if (++this.ops % 50 === 0) {
      // Now and then, look every live order up by id.
      for (const t of this.orders.values()) {
        if (t.live)
          same(
            book.order(t.orderId)?.qtyLeft,
            remaining(t),
            () => `order(${t.orderId}) finds the live order`,
          );
      }
    }
    for (const id of touched) {
      const t = this.orders.get(id);
      if (t === undefined) return fail(`event for unknown order ${id}`);
      if (t.live) {
        // order(id) finds live orders by id (the queues above were walked without the id lookup).
        same(book.order(id)?.qtyLeft, remaining(t), () => `order(${id}) finds the live order`);
        continue;
      }
      same(remaining(t), 0, () => `closed order ${id}: entered = filled + cancelled + reduced + expired`);
      same(book.order(id), undefined, () => `closed order ${id} is gone`);
      this.orders.delete(id);
    }
    for (const v of snap.byId.values()) {
      const key = queueKey(v);
      snap.queueMax.set(key, Math.max(v.priority, snap.queueMax.get(key) ?? -Infinity));
    }
    return snap;
  }

  private checkResult(
    c: Command,
    result: number,
    rejected: boolean,
    takerFills: Map<number, number>,
    cancelledQty: number,
    massCancelled: number,
  ): void {
    const book = this.book;
    switch (c.kind) {
      case 'place':
        if (rejected) equal(result, 0, 'a rejected place returns 0');
        else if (!isStop(c.order.type))
          equal(result, takerFills.get(c.order.orderId) ?? 0, 'place returns the quantity filled');
        else if (book.order(c.order.orderId)?.pendingTrigger === true)
          equal(result, 0, 'a pending stop has filled nothing');
        break;
      case 'cancel':
        equal(result, rejected ? 0 : cancelledQty, 'cancel returns the quantity removed');
        ok(rejected || result > 0);
        break;
      case 'amend': {
        const v = book.order(c.amend.orderId);
        const expected = !rejected && v !== undefined && !v.pendingTrigger ? v.qtyLeft : 0;
        equal(result, expected, 'amend returns the quantity left resting');
        break;
      }
      case 'massCancel':
        equal(result, rejected ? 0 : massCancelled, 'massCancel returns the number cancelled');
        break;
      case 'advanceTime':
        equal(result, 1);
        break;
      case 'setReferencePrice':
        equal(result, rejected ? 0 : 1);
        if (!rejected) equal(book.referencePrice, c.price);
        break;
    }
  }
}

/** Runs `ops` random operations of `profile` from `seed`, checking everything after each. */
function run(profileIndex: number, seed: number, ops: number): Map<string, number> {
  const profile = PROFILES[profileIndex];
  const checker = new Checker();
  checker.book.setRules(profile.rules);
  const gen = new CommandGenerator(seed, profile);
  for (let i = 0; i < ops; i++) {
    const c = gen.next(checker.book);
    try {
      checker.step(c);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`profile ${profile.name}, seed ${seed}, operation ${i}: ${JSON.stringify(c)}\n${msg}`, {
        cause: err,
      });
    }
  }
  return checker.seen;
}

/** Features every run must have exercised, so a generator that stopped producing them is caught. */
const MUST_SEE = [
  'trade',
  'matched',
  'fok:filled',
  'fok:killed',
  'iceberg',
  'postOnly',
  'triggered',
  'expired',
  'reduced',
  'amend:kept',
  'amend:lost',
  `cancel:${CancelReason.Requested}`,
  `cancel:${CancelReason.MassCancel}`,
  `cancel:${CancelReason.ImmediateRemainder}`,
  `cancel:${CancelReason.NoLiquidity}`,
  `cancel:${CancelReason.FillOrKill}`,
  `cancel:${CancelReason.SelfTrade}`,
];

const RUNS: { profile: number; seed: number; ops: number }[] = [
  { profile: 0, seed: 1, ops: 150_000 },
  { profile: 0, seed: 2, ops: 150_000 },
  { profile: 0, seed: 3, ops: 150_000 },
  { profile: 1, seed: 4, ops: 150_000 },
  { profile: 1, seed: 5, ops: 150_000 },
  { profile: 1, seed: 6, ops: 100_000 },
  { profile: 2, seed: 7, ops: 100_000 },
  { profile: 2, seed: 8, ops: 50_000 },
];

void test('the random runs add up to at least 1,000,000 operations', () => {
  ok(RUNS.reduce((a, r) => a + r.ops, 0) >= 1_000_000);
});

for (const r of RUNS) {
  void test(`invariants hold after every operation: ${PROFILES[r.profile].name}, seed ${r.seed}, ${r.ops} ops`, () => {
    const seen = run(r.profile, r.seed, r.ops);
    for (const what of MUST_SEE) check((seen.get(what) ?? 0) > 0, () => `the run never produced ${what}`);
    if (PROFILES[r.profile].reference) {
      ok(
        (seen.get(`cancel:${CancelReason.PriceBand}`) ?? 0) > 0,
        'the run never stopped a market order at the band',
      );
    }
  });
}
