/**
 * One instrument's order book: price-time priority matching with no I/O, no clock and no randomness. Commands
 * come in as method calls carrying their time; everything that happens goes out as records in an
 * EventBuffer, each with the book's own sequence number.
 *
 * Layout, chosen for a hot path that allocates nothing and touches few cache lines:
 * - Orders live in a pool of fixed-size records with a free list. The fields every order uses (id, price,
 *   remaining and filled quantity, priority, queue links, level, owner, packed flags) share one 64-byte
 *   record, a single cache line; the fields only some orders use (trigger, display size, expiry, an iceberg's
 *   visible slice) sit in a 32-byte cold record from a second pool, linked from the hot record; a plain
 *   limit order has none, and its visible quantity is its remaining quantity. An order id maps to its slot
 *   through IdIndex.
 * - A price level is a 32-byte record in a second pool; its orders form an intrusive doubly linked FIFO list.
 *   (Keeping the links in two dense arrays apart from the records made linking about 2.5% faster, but cost 8
 *   bytes an order, and 8 more of freed arrays while the pool doubles: over the memory budget.)
 * - Each side keeps its levels in a sorted array whose last element is the best price, so matching pops
 *   levels from the end and most insertions land near it. Keys are the price for bids and minus the price for
 *   asks, so both arrays ascend towards the best price. The price band bounds how many levels there can be.
 */
import type { SnapshotReader, SnapshotWriter } from '../collections/index.js';
import * as codes from './codes.js';
import * as events from './events.js';
import { EventBuffer } from './events.js';
import { ExpiryHeap } from './expiry-heap.js';
import { IdIndex } from './id-index.js';
import { StateHasher } from './state-hash.js';
import { StopQueue } from './stop-queue.js';
import * as types from './types.js';
import {
  DEFAULT_RULES,
  type Side,
  type AmendOrder,
  type BestBidOffer,
  type InstrumentRules,
  type LevelView,
  type OrderView,
  type PlaceOrder,
} from './types.js';

// Module-local copies of the imported constants. V8 reads an imported binding through its module cell on every
// use (a hole check, and for an object a map check and a load: about eight instructions), while it compiles a
// module-local constant, or a property of a frozen module-local object, to an immediate. Event writing alone
// uses a dozen of them per operation.
const BookReject = Object.freeze({ ...codes.BookReject });
const CommandKind = Object.freeze({ ...codes.CommandKind });
const EventType = Object.freeze({ ...events.EventType });
const CancelReason = Object.freeze({ ...types.CancelReason });
const OrderType = Object.freeze({ ...types.OrderType });
const SelfTradePrevention = Object.freeze({ ...types.SelfTradePrevention });
const TimeInForce = Object.freeze({ ...types.TimeInForce });
const ANY_OWNER = types.ANY_OWNER;
const F_A = events.F_A;
const F_B = events.F_B;
const F_C = events.F_C;
const F_D = events.F_D;
const F_E = events.F_E;
const F_F = events.F_F;

const NONE = -1;
const BUY = 0;
const SELL = 1;

// Hot order record: 8 float64 = 16 int32 = 64 bytes. Float fields first, then int32 fields.
const HOT_SHIFT_F = 3;
const HOT_SHIFT_I = 4;
const HOT_BYTES = 64;
const HF_ID = 0;
const HF_PRICE = 1;
const HF_LEFT = 2;
const HF_FILLED = 3;
const HF_PRIORITY = 4;
const HI_PREV = 10;
const HI_NEXT = 11;
const HI_LEVEL = 12;
const HI_OWNER = 13;
const HI_META = 14;
/** Index of the order's cold record in the cold pool, when it has one (M_COLD). */
const HI_COLD = 15;

// Cold order record: 4 float64 = 32 bytes, in a pool of its own sized by the orders that need one (M_COLD).
const COLD_SHIFT = 2;
const C_TRIGGER = 0;
const C_PEAK = 1;
const C_EXPIRE = 2;
const C_VISIBLE = 3;

// Packed order flags in HI_META.
const M_SIDE = 1;
const M_TYPE_SHIFT = 1;
const M_TIF_SHIFT = 4;
const M_POST_ONLY = 1 << 7;
const M_STP_SHIFT = 8;
const M_STATE_SHIFT = 11;
const M_STATE_BITS = 3 << M_STATE_SHIFT;
/** An iceberg: its visible slice is C_VISIBLE, not its remaining quantity. */
const M_ICEBERG = 1 << 13;
const M_EXPIRES = 1 << 14;
/** The cold record holds this order's trigger, display size, expiry and visible slice. */
const M_COLD = 1 << 15;

// Order states.
const FREE = 0;
const RESTING = 1;
const PENDING_TRIGGER = 2;
/** Being matched as the incoming order: in no queue. */
const ACTIVE = 3;

// Level record: 4 float64 = 8 int32 = 32 bytes.
const LEVEL_SHIFT_F = 2;
const LEVEL_SHIFT_I = 3;
const LEVEL_BYTES = 32;
const LF_PRICE = 0;
const LF_QTY = 1;
const LI_COUNT = 4;
const LI_HEAD = 5;
const LI_TAIL = 6;
/** 1 + side while the level is in use, 0 when free: lets the price cache tell a live level from a reused one. */
const LI_SIDE = 7;

/** Entries of each side's direct-mapped price -> level cache. */
const LEVEL_CACHE_BITS = 12;
const LEVEL_CACHE_SIZE = 1 << LEVEL_CACHE_BITS;

const OWNER_MAX = 0x7fffffff;
/** Below this many elements a plain loop moves sorted-array entries faster than copyWithin's call. */
const SHIFT_BY_LOOP_MAX = 24;

/** Book limits: one place, checked at construction. */
export const BOOK_LIMITS = Object.freeze({
  ordersInitial: 1024,
  /** 2^24 orders: 1.5 GiB of records, the most one ArrayBuffer-backed pool here is allowed to grow to. */
  ordersMax: 1 << 24,
  levelsInitial: 256,
});

export interface BookOptions {
  /** Order slots to allocate up front (the pool doubles when full). */
  capacityOrders?: number;
  /** Live orders (resting and pending) beyond which new orders are rejected with BookFull. */
  ordersMax?: number;
  rules?: Partial<InstrumentRules>;
}

export class OrderBook {
  declare readonly events: EventBuffer;
  declare private rules: InstrumentRules;
  declare private ordersMax: number;

  private clockUs = 0;
  private seq = 0;
  private tradeSeq = 0;
  private prioritySeq = 0;
  private lastTradePx = 0;
  private referencePx = 0;
  private bandLo = -Infinity;
  private bandHi = Infinity;

  // Order pool: hot records seen as float64 (hf) and int32 (hi) over one buffer, cold records apart.
  private capacity = 0;
  private freeHead = NONE;
  private live = 0;
  private hf = new Float64Array(0);
  private hi = new Int32Array(0);
  private cold = new Float64Array(0);
  private coldCapacity = 0;
  /** Free cold records, linked through their first field. */
  private coldFree = NONE;
  declare private readonly index: IdIndex;

  // Level pool, likewise.
  private levelCapacity = 0;
  private levelFree = NONE;
  private lf = new Float64Array(0);
  private li = new Int32Array(0);

  // Per side: level slots sorted by key ascending, best last.
  private readonly sideKeys: [Float64Array, Float64Array] = [new Float64Array(0), new Float64Array(0)];
  private readonly sideLevels: [Int32Array, Int32Array] = [new Int32Array(0), new Int32Array(0)];
  private readonly depthOf = new Int32Array(2);
  /**
   * Each side's best level (NONE when the side is empty) and its price, kept beside the sorted arrays: crossing
   * checks, level events and the top of book read them on nearly every command, and a field read costs a
   * fraction of a read through the array of per-side arrays.
   */
  private bidTop = NONE;
  private askTop = NONE;
  private bidTopPx = 0;
  private askTopPx = 0;
  /**
   * Side << LEVEL_CACHE_BITS | price & (LEVEL_CACHE_SIZE - 1) -> a level slot that may hold that price; checked
   * on use. One array for both sides, indexed by side, rather than one array per side.
   */
  private readonly levelCache = new Int32Array(2 * LEVEL_CACHE_SIZE).fill(NONE);

  private readonly rising = new StopQueue(true);
  private readonly falling = new StopQueue(false);
  private readonly expiries = new ExpiryHeap();
  private liveWithExpiry = 0;

  // Last published top of book, and whether a best level may have changed since.
  private topDirty = false;
  private topBidPx = 0;
  private topBidQty = 0;
  private topAskPx = 0;
  private topAskQty = 0;

  constructor(events: EventBuffer = new EventBuffer(), options: BookOptions = {}) {
    this.events = events;
    this.rules = { ...DEFAULT_RULES, ...options.rules };
    const problem = rulesProblem(this.rules);
    if (problem) throw new Error(`invalid instrument rules: ${problem}`);
    this.ordersMax = options.ordersMax ?? BOOK_LIMITS.ordersMax;
    const initial = Math.max(16, options.capacityOrders ?? BOOK_LIMITS.ordersInitial);
    if (this.ordersMax > BOOK_LIMITS.ordersMax || initial > BOOK_LIMITS.ordersMax) {
      throw new Error(`a book holds at most ${BOOK_LIMITS.ordersMax} orders`);
    }
    this.index = new IdIndex(initial, HOT_SHIFT_F);
    this.growOrders(initial);
    this.growLevels(BOOK_LIMITS.levelsInitial);
  }

  // ---------------------------------------------------------------- commands

  /** Places an order. Returns the quantity it filled on entry (0 when rejected or pending a trigger). */
  place(cmd: PlaceOrder): number {
    const code = this.advanceClock(cmd.timeUs) ? this.placeProblem(cmd) : BookReject.InvalidTime;
    if (code !== 0) {
      this.emitReject(
        cmd.orderId,
        cmd.owner,
        cmd.side,
        cmd.price,
        cmd.qty,
        code,
        CommandKind.Place,
        cmd.type,
        cmd.tif,
      );
      return 0;
    }
    const t = this.allocOrder(cmd);
    this.emitAccepted(t);
    const lastBefore = this.lastTradePx;
    if (cmd.type >= OrderType.StopMarket) {
      this.enqueueStop(t);
      this.afterCommand(lastBefore, true);
      return 0;
    }
    // Most limit orders cross nothing and rest at once: no matching, so no trade, trigger or band move.
    const rests = cmd.tif === TimeInForce.GTC || cmd.tif === TimeInForce.DAY || cmd.tif === TimeInForce.GTD;
    if (cmd.type === OrderType.Limit && rests && !this.crosses(cmd.side, cmd.price)) {
      this.rest(t, false);
      this.publishTop();
      return 0;
    }
    const filled = this.activate(t, false);
    this.afterCommand(lastBefore, false);
    return filled;
  }

  /** Cancels a live order. Returns the quantity removed (0 when rejected). */
  cancel(orderId: number, owner: number, timeUs: number): number {
    const clockOk = this.advanceClock(timeUs);
    const slot = this.index.get(orderId, this.hf);
    const code = !clockOk
      ? BookReject.InvalidTime
      : slot === NONE
        ? BookReject.OrderNotFound
        : this.ownerProblem(slot, owner);
    if (code !== 0) {
      this.emitReject(orderId, owner, 0, 0, 0, code, CommandKind.Cancel);
      return 0;
    }
    const qty = this.hf[(slot << HOT_SHIFT_F) + HF_LEFT];
    this.removeLive(slot, EventType.OrderCancelled, CancelReason.Requested);
    this.publishTop();
    return qty;
  }

  /**
   * cancel(orderId, ANY_OWNER, timeUs) for an order the caller found at `slot` (slotOf) just before: the
   * same events, one id lookup less. The clock moves first, as in cancel(); when that expired the order (the
   * slot no longer holds it live), or the time is invalid, the command goes to cancel(), which refuses it.
   */
  cancelAt(slot: number, orderId: number, timeUs: number): number {
    const clockOk = this.advanceClock(timeUs);
    const live =
      slot >= 0 &&
      slot < this.capacity &&
      this.hf[(slot << HOT_SHIFT_F) + HF_ID] === orderId &&
      (this.stateOf(slot) === RESTING || this.stateOf(slot) === PENDING_TRIGGER);
    if (!clockOk || !live) return this.cancel(orderId, ANY_OWNER, timeUs);
    const qty = this.hf[(slot << HOT_SHIFT_F) + HF_LEFT];
    this.removeLive(slot, EventType.OrderCancelled, CancelReason.Requested);
    this.publishTop();
    return qty;
  }

  /**
   * Amends a live order's price, total quantity or trigger price. A quantity decrease alone keeps time
   * priority; anything else re-enters the order at the back of its new level, matching first if it crosses.
   * Returns the quantity left resting afterwards (0 when rejected, filled or pending a trigger).
   */
  amend(cmd: AmendOrder): number {
    const clockOk = this.advanceClock(cmd.timeUs);
    // Looked up after the clock moved: an order that just expired is gone.
    const slot = this.index.get(cmd.orderId, this.hf);
    const code = !clockOk
      ? BookReject.InvalidTime
      : slot === NONE
        ? BookReject.OrderNotFound
        : this.amendProblem(slot, cmd);
    if (code !== 0) {
      this.emitReject(cmd.orderId, cmd.owner, 0, cmd.price, cmd.qty, code, CommandKind.Amend);
      return 0;
    }
    const f = slot << HOT_SHIFT_F;
    const lastBefore = this.lastTradePx;
    const newPrice = cmd.price === 0 ? this.hf[f + HF_PRICE] : cmd.price;
    const newLeft = cmd.qty === 0 ? this.hf[f + HF_LEFT] : cmd.qty - this.hf[f + HF_FILLED];
    const newTrigger = cmd.triggerPrice === 0 ? this.triggerOf(slot) : cmd.triggerPrice;
    const pending = this.stateOf(slot) === PENDING_TRIGGER;
    if (pending) this.amendPending(slot, newPrice, newLeft, newTrigger);
    else this.amendResting(slot, newPrice, newLeft);
    this.afterCommand(lastBefore, pending);
    // No allocation happens inside a command, so a freed slot cannot have been reused by another order.
    return this.stateOf(slot) === RESTING ? this.hf[f + HF_LEFT] : 0;
  }

  /**
   * Cancels every live order of `owner` (or of everyone, with ANY_OWNER) on `side` (or both, with -1),
   * pending stops included. Returns the number of orders cancelled.
   */
  massCancel(owner: number, side: number, timeUs: number): number {
    const code = !this.advanceClock(timeUs)
      ? BookReject.InvalidTime
      : side !== -1 && side !== BUY && side !== SELL
        ? BookReject.InvalidSideFilter
        : owner !== ANY_OWNER && !isOwner(owner)
          ? BookReject.InvalidOwner
          : 0;
    if (code !== 0) {
      this.emitReject(0, owner, 0, 0, 0, code, CommandKind.MassCancel);
      return 0;
    }
    const doomed: number[] = [];
    const picks = (slot: number): boolean =>
      (side === -1 || this.sideOf(slot) === side) &&
      (owner === ANY_OWNER || this.hi[(slot << HOT_SHIFT_I) + HI_OWNER] === owner);
    const consider = (slot: number): void => {
      if (picks(slot)) doomed.push(slot);
    };
    this.forEachResting(BUY, consider);
    this.forEachResting(SELL, consider);
    this.rising.slotsInOrder().forEach(consider);
    this.falling.slotsInOrder().forEach(consider);
    for (const slot of doomed) this.removeLive(slot, EventType.OrderCancelled, CancelReason.MassCancel);
    this.publishTop();
    return doomed.length;
  }

  /**
   * Moves the book's clock to `timeUs`, expiring DAY and GTD orders that are due. Returns false for a time
   * that is not a non-negative safe integer (nothing changes).
   */
  advanceTime(timeUs: number): boolean {
    if (!this.advanceClock(timeUs)) return false;
    this.publishTop();
    return true;
  }

  /**
   * When the earliest DAY or GTD order is due to expire, microseconds; 0 when none is. It may be the time of an
   * order that ended meanwhile: advancing to it then expires nothing and drops that entry.
   */
  get nextExpiryUs(): number {
    return this.expiries.size === 0 ? 0 : this.expiries.peekTime();
  }

  /** Sets the reference price of the price band. Returns false (with a reject event) for a bad price. */
  setReferencePrice(price: number, timeUs: number): boolean {
    const code = !this.advanceClock(timeUs)
      ? BookReject.InvalidTime
      : isPositiveInt(price)
        ? 0
        : BookReject.InvalidReferencePrice;
    if (code !== 0) {
      this.emitReject(0, ANY_OWNER, 0, price, 0, code, CommandKind.SetReferencePrice);
      return false;
    }
    this.setReference(price);
    return true;
  }

  /** Replaces the instrument rules for orders that arrive from now on; resting orders stay as they are. */
  setRules(rules: Partial<InstrumentRules>): void {
    const next = { ...this.rules, ...rules };
    const problem = rulesProblem(next);
    if (problem) throw new Error(`invalid instrument rules: ${problem}`);
    this.rules = next;
    if (this.referencePx > 0) this.setReference(this.referencePx);
  }

  // ---------------------------------------------------------------- queries

  get instrumentRules(): Readonly<InstrumentRules> {
    return this.rules;
  }
  get sequence(): number {
    return this.seq;
  }
  get timeUs(): number {
    return this.clockUs;
  }
  get lastTradePrice(): number {
    return this.lastTradePx;
  }
  get referencePrice(): number {
    return this.referencePx;
  }
  /** Live orders: resting plus pending a trigger. */
  get orderCount(): number {
    return this.live;
  }
  get pendingTriggerCount(): number {
    return this.rising.size + this.falling.size;
  }

  levelCount(side: Side): number {
    return this.depthOf[side];
  }

  /** Best bid price, or 0 when there is none. */
  bestBid(): number {
    return this.bestPrice(BUY);
  }

  /** Best ask price, or 0 when there is none. */
  bestAsk(): number {
    return this.bestPrice(SELL);
  }

  bbo(): BestBidOffer {
    return {
      bidPrice: this.topBidPx,
      bidQty: this.topBidQty,
      askPrice: this.topAskPx,
      askQty: this.topAskQty,
    };
  }

  /** L2: up to `levels` levels of `side`, best first (all levels with Infinity). */
  depth(side: Side, levels: number): LevelView[] {
    const out: LevelView[] = [];
    const lv = this.sideLevels[side];
    for (let i = this.depthOf[side] - 1; i >= 0 && out.length < levels; i--) out.push(this.levelView(lv[i]));
    return out;
  }

  /** L3: the orders at one price, in queue order. */
  levelOrders(side: Side, price: number): OrderView[] {
    const at = this.findLevelIndex(side, price);
    if (at < 0) return [];
    const out: OrderView[] = [];
    const l = this.sideLevels[side][at];
    for (let o = this.li[(l << LEVEL_SHIFT_I) + LI_HEAD]; o !== NONE; o = this.nextOf(o))
      out.push(this.view(o));
    return out;
  }

  /** The live order's slot (as events report it in F_SLOT), or -1. */
  slotOf(orderId: number): number {
    return this.index.get(orderId, this.hf);
  }

  /** The price of the live order in `slot` (as slotOf returns it). */
  priceAt(slot: number): number {
    return this.hf[(slot << HOT_SHIFT_F) + HF_PRICE];
  }

  /** The open quantity of the live order in `slot`. */
  leftAt(slot: number): number {
    return this.hf[(slot << HOT_SHIFT_F) + HF_LEFT];
  }

  /** The filled quantity of the live order in `slot`. */
  filledAt(slot: number): number {
    return this.hf[(slot << HOT_SHIFT_F) + HF_FILLED];
  }

  /** The trigger price of the live order in `slot`, 0 when it has none. */
  triggerAt(slot: number): number {
    return this.triggerOf(slot);
  }

  order(orderId: number): OrderView | undefined {
    const slot = this.index.get(orderId, this.hf);
    return slot === NONE ? undefined : this.view(slot);
  }

  /** Orders waiting for a trigger, next to trigger first per direction (rising, then falling). */
  pendingOrders(): OrderView[] {
    return [...this.rising.slotsInOrder(), ...this.falling.slotsInOrder()].map((s) => this.view(s));
  }

  /**
   * A hash of everything that decides the book's future behaviour: counters, clock, prices, rules, and every
   * live order in queue order. Two books that took the same commands share it.
   */
  stateHash(): string {
    const h = new StateHasher();
    const r = this.rules;
    h.addAll([this.clockUs, this.seq, this.tradeSeq, this.prioritySeq, this.lastTradePx, this.referencePx]);
    h.addAll([
      r.tickSize,
      r.lotSize,
      r.qtyMin,
      r.qtyMax,
      r.priceBandBps,
      r.referenceFollowsLastTrade ? 1 : 0,
    ]);
    h.addAll([this.topBidPx, this.topBidQty, this.topAskPx, this.topAskQty, this.live]);
    for (const side of [BUY, SELL]) {
      h.add(this.depthOf[side]);
      const lv = this.sideLevels[side];
      for (let i = this.depthOf[side] - 1; i >= 0; i--) {
        const l = lv[i];
        const v = this.levelView(l);
        h.addAll([v.price, v.qty, v.orders]);
        for (let o = this.li[(l << LEVEL_SHIFT_I) + LI_HEAD]; o !== NONE; o = this.nextOf(o))
          this.hashOrder(h, o);
      }
    }
    for (const q of [this.rising, this.falling]) {
      h.add(q.size);
      for (const o of q.slotsInOrder()) this.hashOrder(h, o);
    }
    return h.digestHex();
  }

  // ---------------------------------------------------------------- validation

  private placeProblem(c: PlaceOrder): number {
    if (!isPositiveInt(c.orderId)) return BookReject.InvalidOrderId;
    if (!isOwner(c.owner)) return BookReject.InvalidOwner;
    if (c.side !== BUY && c.side !== SELL) return BookReject.InvalidSide;
    const type = c.type;
    if (!(type >= OrderType.Limit && type <= OrderType.TakeProfitLimit && Math.floor(type) === type)) {
      return BookReject.InvalidOrderType;
    }
    const qtyCode = this.qtyProblem(c.qty);
    if (qtyCode !== 0) return qtyCode;
    const priceCode = this.priceProblem(type, c.price);
    if (priceCode !== 0) return priceCode;
    // Most orders are plain limit or market orders; only the others need the full check of their options.
    const plain =
      c.triggerPrice === 0 &&
      c.displayQty === 0 &&
      c.expireTimeUs === 0 &&
      c.postOnly === false &&
      c.stp === SelfTradePrevention.None &&
      (c.tif === TimeInForce.IOC ||
        c.tif === TimeInForce.FOK ||
        (c.tif === TimeInForce.GTC && type === OrderType.Limit));
    if (!plain || type > OrderType.Market) {
      const optionCode = this.optionsProblem(c);
      if (optionCode !== 0) return optionCode;
    }
    if (this.index.get(c.orderId, this.hf) !== NONE) return BookReject.DuplicateOrderId;
    if (this.live >= this.ordersMax) return BookReject.BookFull;
    if (c.postOnly && this.crosses(c.side, c.price)) return BookReject.PostOnlyWouldTake;
    return 0;
  }

  private qtyProblem(qty: number): number {
    const r = this.rules;
    if (!isPositiveInt(qty)) return BookReject.InvalidQuantity;
    if (r.lotSize !== 1 && qty % r.lotSize !== 0) return BookReject.QuantityNotLotMultiple;
    if (qty < r.qtyMin) return BookReject.QuantityBelowMinimum;
    if (qty > r.qtyMax) return BookReject.QuantityAboveMaximum;
    return 0;
  }

  /** Limit types need a price inside the band; market types take 0 or a protection price. */
  private priceProblem(type: number, price: number): number {
    const market = isMarketType(type);
    if (market && price === 0) return 0;
    if (!isPositiveInt(price)) return BookReject.InvalidPrice;
    if (this.rules.tickSize !== 1 && price % this.rules.tickSize !== 0)
      return BookReject.PriceNotTickMultiple;
    if (!market && (price < this.bandLo || price > this.bandHi)) return BookReject.PriceOutsideBand;
    return 0;
  }

  private triggerProblem(triggerPrice: number): number {
    if (!isPositiveInt(triggerPrice)) return BookReject.InvalidTriggerPrice;
    if (this.rules.tickSize !== 1 && triggerPrice % this.rules.tickSize !== 0)
      return BookReject.InvalidTriggerPrice;
    return 0;
  }

  private optionsProblem(c: PlaceOrder): number {
    const type = c.type;
    const tif = c.tif;
    if (!(tif >= TimeInForce.GTC && tif <= TimeInForce.GTD && Math.floor(tif) === tif)) {
      return BookReject.InvalidTimeInForce;
    }
    const immediate = tif === TimeInForce.IOC || tif === TimeInForce.FOK;
    const triggered = type >= OrderType.StopMarket;
    // Plain market orders never rest; stops wait for their trigger, so they need a resting time in force.
    if (type === OrderType.Market ? !immediate : triggered && immediate) return BookReject.InvalidTimeInForce;
    if (triggered) {
      const triggerCode = this.triggerProblem(c.triggerPrice);
      if (triggerCode !== 0) return triggerCode;
    } else if (c.triggerPrice !== 0) return BookReject.InvalidTriggerPrice;
    if (c.displayQty !== 0) {
      const ok =
        isPositiveInt(c.displayQty) && c.displayQty <= c.qty && c.displayQty % this.rules.lotSize === 0;
      if (!ok || isMarketType(type) || immediate) return BookReject.InvalidDisplayQuantity;
    }
    if (c.postOnly !== false && (c.postOnly !== true || type !== OrderType.Limit || immediate)) {
      return BookReject.InvalidPostOnly;
    }
    const stp = c.stp;
    if (!(
      stp >= SelfTradePrevention.None &&
      stp <= SelfTradePrevention.DecrementBoth &&
      Math.floor(stp) === stp
    )) {
      return BookReject.InvalidSelfTradePrevention;
    }
    const expiring = tif === TimeInForce.DAY || tif === TimeInForce.GTD;
    if (expiring ? !(isPositiveInt(c.expireTimeUs) && c.expireTimeUs > this.clockUs) : c.expireTimeUs !== 0) {
      return BookReject.InvalidExpireTime;
    }
    return 0;
  }

  private ownerProblem(slot: number, owner: number): number {
    return owner === ANY_OWNER || owner === this.hi[(slot << HOT_SHIFT_I) + HI_OWNER]
      ? 0
      : BookReject.NotOrderOwner;
  }

  private amendProblem(slot: number, c: AmendOrder): number {
    const ownerCode = this.ownerProblem(slot, c.owner);
    if (ownerCode !== 0) return ownerCode;
    const f = slot << HOT_SHIFT_F;
    const type = this.typeOf(slot);
    const pending = this.stateOf(slot) === PENDING_TRIGGER;
    if (c.price !== 0) {
      if (isMarketType(type)) return BookReject.InvalidPrice;
      const priceCode = this.priceProblem(type, c.price);
      if (priceCode !== 0) return priceCode;
    }
    if (c.qty !== 0) {
      const qtyCode = this.qtyProblem(c.qty);
      if (qtyCode !== 0) return qtyCode;
      if (c.qty <= this.hf[f + HF_FILLED]) return BookReject.AmendQuantityNotAboveFilled;
    }
    if (c.triggerPrice !== 0) {
      if (!pending) return BookReject.InvalidTriggerPrice;
      const triggerCode = this.triggerProblem(c.triggerPrice);
      if (triggerCode !== 0) return triggerCode;
    }
    const samePrice = c.price === 0 || c.price === this.hf[f + HF_PRICE];
    const sameQty = c.qty === 0 || c.qty - this.hf[f + HF_FILLED] === this.hf[f + HF_LEFT];
    const sameTrigger = c.triggerPrice === 0 || c.triggerPrice === this.triggerOf(slot);
    if (samePrice && sameQty && sameTrigger) return BookReject.AmendNoChange;
    const postOnly = (this.hi[(slot << HOT_SHIFT_I) + HI_META] & M_POST_ONLY) !== 0;
    if (!pending && postOnly && !samePrice && this.crosses(this.sideOf(slot), c.price)) {
      return BookReject.PostOnlyWouldTake;
    }
    return 0;
  }

  // ---------------------------------------------------------------- order life cycle

  private allocOrder(c: PlaceOrder): number {
    if (this.freeHead === NONE) this.growOrders(this.capacity * 2);
    const t = this.freeHead;
    const f = t << HOT_SHIFT_F;
    const i = t << HOT_SHIFT_I;
    const hf = this.hf;
    const hi = this.hi;
    this.freeHead = this.hi[(t << HOT_SHIFT_I) + HI_NEXT];
    this.live++;
    const peak = c.displayQty === c.qty ? 0 : c.displayQty;
    const hasCold = c.triggerPrice !== 0 || peak !== 0 || c.expireTimeUs !== 0;
    hf[f + HF_ID] = c.orderId;
    hf[f + HF_PRICE] = c.price;
    hf[f + HF_LEFT] = c.qty;
    hf[f + HF_FILLED] = 0;
    hf[f + HF_PRIORITY] = 0;
    this.hi[(t << HOT_SHIFT_I) + HI_PREV] = NONE;
    this.hi[(t << HOT_SHIFT_I) + HI_NEXT] = NONE;
    hi[i + HI_LEVEL] = NONE;
    hi[i + HI_OWNER] = c.owner;
    hi[i + HI_META] =
      c.side |
      (c.type << M_TYPE_SHIFT) |
      (c.tif << M_TIF_SHIFT) |
      (c.postOnly ? M_POST_ONLY : 0) |
      (c.stp << M_STP_SHIFT) |
      (ACTIVE << M_STATE_SHIFT) |
      (peak !== 0 ? M_ICEBERG : 0) |
      (c.expireTimeUs !== 0 ? M_EXPIRES : 0) |
      (hasCold ? M_COLD : 0);
    if (hasCold) {
      const k = this.allocCold(t);
      const cold = this.cold;
      cold[k + C_TRIGGER] = c.triggerPrice;
      cold[k + C_PEAK] = peak;
      cold[k + C_EXPIRE] = c.expireTimeUs;
      cold[k + C_VISIBLE] = peak;
    }
    if (c.expireTimeUs !== 0) {
      this.expiries.push(c.expireTimeUs, c.orderId);
      this.liveWithExpiry++;
    }
    return t;
  }

  private freeOrder(t: number): void {
    const metaAt = (t << HOT_SHIFT_I) + HI_META;
    const meta = this.hi[metaAt];
    if ((meta & M_EXPIRES) !== 0) this.liveWithExpiry--;
    if ((meta & M_COLD) !== 0) this.freeCold(t);
    this.hi[metaAt] = (meta & ~M_STATE_BITS) | (FREE << M_STATE_SHIFT);
    this.hi[(t << HOT_SHIFT_I) + HI_NEXT] = this.freeHead;
    this.freeHead = t;
    this.live--;
  }

  /**
   * Runs an incoming (ACTIVE) order: fill-or-kill check, matching, then resting or cancelling the rest.
   * `indexed` says whether the id index already holds it (an amended or triggered order). Returns the
   * quantity filled here.
   */
  private activate(t: number, indexed: boolean): number {
    const f = t << HOT_SHIFT_F;
    const meta = this.hi[(t << HOT_SHIFT_I) + HI_META];
    const side = meta & M_SIDE;
    const tif = (meta >> M_TIF_SHIFT) & 7;
    const market = isMarketType((meta >> M_TYPE_SHIFT) & 7);
    const price = this.hf[f + HF_PRICE];
    const filledBefore = this.hf[f + HF_FILLED];
    let limit = price === 0 ? (side === BUY ? Infinity : -Infinity) : price;
    let banded = false;
    if (market && (side === BUY ? limit > this.bandHi : limit < this.bandLo)) {
      limit = side === BUY ? this.bandHi : this.bandLo;
      banded = true;
    }
    if (tif === TimeInForce.FOK && this.fillable(t, limit) < this.hf[f + HF_LEFT]) {
      this.finishIncoming(t, indexed, CancelReason.FillOrKill);
      return 0;
    }
    const killed = this.crosses(side, limit) ? this.match(t, limit) : false;
    const filled = this.hf[f + HF_FILLED] - filledBefore;
    if (this.hf[f + HF_LEFT] === 0) this.finishIncoming(t, indexed, 0);
    else if (killed) this.finishIncoming(t, indexed, CancelReason.SelfTrade);
    else if (market) {
      const stoppedByBand = banded && this.depthOf[side ^ 1] > 0;
      this.finishIncoming(t, indexed, stoppedByBand ? CancelReason.PriceBand : CancelReason.NoLiquidity);
    } else if (tif === TimeInForce.IOC || tif === TimeInForce.FOK) {
      this.finishIncoming(t, indexed, CancelReason.ImmediateRemainder);
    } else this.rest(t, indexed);
    return filled;
  }

  /** Ends an incoming order that will not rest: cancels any remainder with `reason`, frees the slot. */
  private finishIncoming(t: number, indexed: boolean, reason: number): void {
    if (this.hf[(t << HOT_SHIFT_F) + HF_LEFT] > 0) this.emitOrderClosed(t, EventType.OrderCancelled, reason);
    if (indexed) this.index.remove(t, this.hf[t << HOT_SHIFT_F]);
    this.freeOrder(t);
  }

  private rest(t: number, indexed: boolean): void {
    const f = t << HOT_SHIFT_F;
    const metaAt = (t << HOT_SHIFT_I) + HI_META;
    const meta = this.hi[metaAt];
    const side = meta & M_SIDE;
    if ((meta & M_ICEBERG) !== 0) {
      // Fills and decrements while matching leave the incoming iceberg's slice to be cut here.
      const k = this.coldBase(t);
      const left = this.hf[f + HF_LEFT];
      this.cold[k + C_VISIBLE] = this.cold[k + C_PEAK] < left ? this.cold[k + C_PEAK] : left;
    }
    const l = this.levelFor(side, this.hf[f + HF_PRICE]);
    this.hi[metaAt] = (meta & ~M_STATE_BITS) | (RESTING << M_STATE_SHIFT);
    this.hf[f + HF_PRIORITY] = ++this.prioritySeq;
    this.appendToLevel(t, l);
    if (!indexed) this.index.insert(t, this.hf);
    this.emitLevel(side, l);
  }

  private enqueueStop(t: number): void {
    const priority = ++this.prioritySeq;
    this.setState(t, PENDING_TRIGGER);
    this.hf[(t << HOT_SHIFT_F) + HF_PRIORITY] = priority;
    this.index.insert(t, this.hf);
    this.stopQueueOf(t).insert(t, this.triggerOf(t), priority);
  }

  private stopQueueOf(t: number): StopQueue {
    const type = this.typeOf(t);
    const stop = type === OrderType.StopMarket || type === OrderType.StopLimit;
    // Buy stops and sell take-profits fire on a rise; sell stops and buy take-profits on a fall.
    return stop === (this.sideOf(t) === BUY) ? this.rising : this.falling;
  }

  /** Removes a live order (resting or pending) with an OrderCancelled or OrderExpired event. */
  private removeLive(slot: number, event: number, reason: number): void {
    const meta = this.hi[(slot << HOT_SHIFT_I) + HI_META];
    if ((meta & M_STATE_BITS) === PENDING_TRIGGER << M_STATE_SHIFT) {
      this.stopQueueOf(slot).remove(slot, this.triggerOf(slot));
    } else {
      const side = meta & M_SIDE;
      const l = this.hi[(slot << HOT_SHIFT_I) + HI_LEVEL];
      this.unlinkFromLevel(slot, l);
      this.emitLevel(side, l);
      this.releaseLevelIfEmpty(side, l);
    }
    this.index.remove(slot, this.hf[slot << HOT_SHIFT_F]);
    this.emitOrderClosed(slot, event, reason);
    this.freeOrder(slot);
  }

  private amendPending(slot: number, price: number, left: number, trigger: number): void {
    const f = slot << HOT_SHIFT_F;
    const k = this.coldBase(slot);
    const oldPrice = this.hf[f + HF_PRICE];
    const oldLeft = this.hf[f + HF_LEFT];
    const keep = price === oldPrice && trigger === this.cold[k + C_TRIGGER] && left < oldLeft;
    const queue = this.stopQueueOf(slot);
    queue.remove(slot, this.cold[k + C_TRIGGER]);
    this.hf[f + HF_PRICE] = price;
    this.cold[k + C_TRIGGER] = trigger;
    this.setLeft(slot, left);
    if (!keep) this.hf[f + HF_PRIORITY] = ++this.prioritySeq;
    queue.insert(slot, trigger, this.hf[f + HF_PRIORITY]);
    this.emitAmended(slot, oldPrice, oldLeft, keep);
  }

  private amendResting(slot: number, price: number, left: number): void {
    const f = slot << HOT_SHIFT_F;
    const side = this.sideOf(slot);
    const oldPrice = this.hf[f + HF_PRICE];
    const oldLeft = this.hf[f + HF_LEFT];
    const l = this.hi[(slot << HOT_SHIFT_I) + HI_LEVEL];
    if (price === oldPrice && left < oldLeft) {
      const visibleBefore = this.visibleOf(slot);
      this.setLeft(slot, left);
      this.lf[(l << LEVEL_SHIFT_F) + LF_QTY] += this.visibleOf(slot) - visibleBefore;
      this.emitAmended(slot, oldPrice, oldLeft, true);
      this.emitLevel(side, l);
      return;
    }
    this.unlinkFromLevel(slot, l);
    this.emitLevel(side, l);
    this.releaseLevelIfEmpty(side, l);
    this.setState(slot, ACTIVE);
    this.hf[f + HF_PRICE] = price;
    this.hf[f + HF_LEFT] = left;
    this.emitAmended(slot, oldPrice, oldLeft, false);
    this.activate(slot, true);
  }

  /** Sets the remaining quantity of an order, taking an iceberg's from its hidden part first. */
  private setLeft(slot: number, left: number): void {
    const f = slot << HOT_SHIFT_F;
    if (this.isIceberg(slot)) {
      const k = this.coldBase(slot);
      const hidden = this.hf[f + HF_LEFT] - this.cold[k + C_VISIBLE];
      if (this.hf[f + HF_LEFT] - left > hidden) this.cold[k + C_VISIBLE] = left;
    }
    this.hf[f + HF_LEFT] = left;
  }

  // ---------------------------------------------------------------- matching

  /**
   * Matches incoming order `t` against the other side up to `limit`. Always works on the head of the best
   * level: fills remove or shorten the head, iceberg refills move it to the back. Returns true when
   * self-trade prevention killed the incoming order.
   */
  private match(t: number, limit: number): boolean {
    const hf = this.hf;
    const hi = this.hi;
    const lf = this.lf;
    const li = this.li;
    const tf = t << HOT_SHIFT_F;
    const tMeta = hi[(t << HOT_SHIFT_I) + HI_META];
    const side = tMeta & M_SIDE;
    const other = side ^ 1;
    const stp = (tMeta >> M_STP_SHIFT) & 7;
    const takerOwner = hi[(t << HOT_SHIFT_I) + HI_OWNER];
    let left = hf[tf + HF_LEFT];
    let killed = false;
    for (let l = this.topLevel(other); left > 0 && l !== NONE; l = this.topLevel(other)) {
      const lF = l << LEVEL_SHIFT_F;
      const px = lf[lF + LF_PRICE];
      if (side === BUY ? px > limit : px < limit) break;
      const countBefore = li[(l << LEVEL_SHIFT_I) + LI_COUNT];
      const qtyBefore = lf[lF + LF_QTY];
      let traded = false;
      let m = li[(l << LEVEL_SHIFT_I) + LI_HEAD];
      while (left > 0 && m !== NONE) {
        if (stp !== 0 && hi[(m << HOT_SHIFT_I) + HI_OWNER] === takerOwner) {
          hf[tf + HF_LEFT] = left;
          killed = this.preventSelfTrade(t, m, l, stp);
          left = hf[tf + HF_LEFT];
          if (killed) break;
          m = li[(l << LEVEL_SHIFT_I) + LI_HEAD];
          continue;
        }
        const mf = m << HOT_SHIFT_F;
        const iceberg = (hi[(m << HOT_SHIFT_I) + HI_META] & M_ICEBERG) !== 0;
        const makerLeftBefore = hf[mf + HF_LEFT];
        const visible = iceberg ? this.cold[this.coldBase(m) + C_VISIBLE] : makerLeftBefore;
        const q = visible < left ? visible : left;
        left -= q;
        const makerLeft = makerLeftBefore - q;
        hf[mf + HF_LEFT] = makerLeft;
        if (iceberg) this.cold[this.coldBase(m) + C_VISIBLE] = visible - q;
        hf[mf + HF_FILLED] += q;
        hf[tf + HF_FILLED] += q;
        lf[lF + LF_QTY] -= q;
        this.emitFill(t, m, px, q, left, makerLeft);
        traded = true;
        if (visible === q) {
          if (makerLeft > 0) this.refill(m, l);
          else this.removeFilledMaker(m, l);
          m = li[(l << LEVEL_SHIFT_I) + LI_HEAD];
        }
      }
      if (traded) this.lastTradePx = px;
      const countAfter = li[(l << LEVEL_SHIFT_I) + LI_COUNT];
      if (countAfter !== countBefore || lf[lF + LF_QTY] !== qtyBefore) this.emitLevel(other, l);
      if (countAfter === 0) this.releaseLevelIfEmpty(other, l);
      if (killed) break;
    }
    hf[tf + HF_LEFT] = left;
    return killed;
  }

  /** An iceberg whose visible slice is gone shows a new slice at the back of its queue. */
  private refill(m: number, l: number): void {
    const left = this.hf[(m << HOT_SHIFT_F) + HF_LEFT];
    const k = this.coldBase(m);
    this.unlinkFromLevel(m, l);
    this.cold[k + C_VISIBLE] = this.cold[k + C_PEAK] < left ? this.cold[k + C_PEAK] : left;
    this.hf[(m << HOT_SHIFT_F) + HF_PRIORITY] = ++this.prioritySeq;
    this.appendToLevel(m, l);
  }

  /** Frees maker `m`, the head of level `l`, now filled: its visible quantity is already off the level. */
  private removeFilledMaker(m: number, l: number): void {
    const lI = l << LEVEL_SHIFT_I;
    const next = this.hi[(m << HOT_SHIFT_I) + HI_NEXT];
    this.li[lI + LI_HEAD] = next;
    if (next === NONE) this.li[lI + LI_TAIL] = NONE;
    else this.hi[(next << HOT_SHIFT_I) + HI_PREV] = NONE;
    this.li[lI + LI_COUNT]--;
    this.index.remove(m, this.hf[m << HOT_SHIFT_F]);
    this.freeOrder(m);
  }

  /**
   * Applies incoming order `t`'s self-trade prevention against resting order `m` of the same owner.
   * Returns true when the incoming order must stop.
   */
  private preventSelfTrade(t: number, m: number, l: number, stp: number): boolean {
    if (stp === SelfTradePrevention.CancelIncoming) return true;
    if (stp === SelfTradePrevention.CancelResting || stp === SelfTradePrevention.CancelBoth) {
      this.cancelMakerInMatch(m, l, CancelReason.SelfTrade);
      return stp === SelfTradePrevention.CancelBoth;
    }
    // DecrementBoth: take the smaller remaining quantity off both, no trade.
    const tf = t << HOT_SHIFT_F;
    const mf = m << HOT_SHIFT_F;
    const takerLeft = this.hf[tf + HF_LEFT];
    const makerLeft = this.hf[mf + HF_LEFT];
    const cut = takerLeft < makerLeft ? takerLeft : makerLeft;
    if (cut === makerLeft) this.cancelMakerInMatch(m, l, CancelReason.SelfTrade);
    else {
      const visibleBefore = this.visibleOf(m);
      this.setLeft(m, makerLeft - cut);
      this.lf[(l << LEVEL_SHIFT_F) + LF_QTY] += this.visibleOf(m) - visibleBefore;
      this.emitReduced(m, cut, CancelReason.SelfTrade);
    }
    // An incoming order used up this way stops here, and the caller cancels its remainder.
    if (cut === takerLeft) return true;
    this.hf[tf + HF_LEFT] = takerLeft - cut;
    this.emitReduced(t, cut, CancelReason.SelfTrade);
    return false;
  }

  /** Cancels resting order `m` while its level is being matched; the caller publishes the level. */
  private cancelMakerInMatch(m: number, l: number, reason: number): void {
    this.unlinkFromLevel(m, l);
    this.index.remove(m, this.hf[m << HOT_SHIFT_F]);
    this.emitOrderClosed(m, EventType.OrderCancelled, reason);
    this.freeOrder(m);
  }

  /**
   * How much incoming order `t` could fill (or, under DecrementBoth, use up) right now up to `limit`, stopping
   * once that reaches its quantity. Exact under self-trade prevention: a same-owner order that stops the
   * incoming one ends the count, and icebergs queued before it count only their visible slice, since their
   * refills go to the back of the queue, behind it.
   */
  private fillable(t: number, limit: number): number {
    const meta = this.hi[(t << HOT_SHIFT_I) + HI_META];
    const side = meta & M_SIDE;
    const other = side ^ 1;
    const stp = (meta >> M_STP_SHIFT) & 7;
    const need = this.hf[(t << HOT_SHIFT_F) + HF_LEFT];
    const owner = this.hi[(t << HOT_SHIFT_I) + HI_OWNER];
    const stops = stp === SelfTradePrevention.CancelIncoming || stp === SelfTradePrevention.CancelBoth;
    const levels = this.sideLevels[other];
    let total = 0;
    for (let i = this.depthOf[other] - 1; i >= 0 && total < need; i--) {
      const l = levels[i];
      const px = this.lf[(l << LEVEL_SHIFT_F) + LF_PRICE];
      if (side === BUY ? px > limit : px < limit) break;
      let full = 0;
      let beforeStop = 0;
      for (let o = this.li[(l << LEVEL_SHIFT_I) + LI_HEAD]; o !== NONE; o = this.nextOf(o)) {
        const self = stp !== 0 && this.hi[(o << HOT_SHIFT_I) + HI_OWNER] === owner;
        if (self && stops) return total + beforeStop;
        if (self && stp === SelfTradePrevention.CancelResting) continue;
        const left = this.hf[(o << HOT_SHIFT_F) + HF_LEFT];
        full += left;
        beforeStop += self ? left : this.visibleOf(o);
        if (total + beforeStop >= need) return need;
      }
      total += full;
    }
    return total < need ? total : need;
  }

  // ---------------------------------------------------------------- levels

  /** Whether an order on `side` limited to `limit` would trade with the best opposite level. */
  private crosses(side: number, limit: number): boolean {
    return side === BUY
      ? this.askTop !== NONE && this.askTopPx <= limit
      : this.bidTop !== NONE && this.bidTopPx >= limit;
  }

  /** The best price of `side`, or 0 when it is empty. */
  private bestPrice(side: number): number {
    return side === BUY ? this.bidTopPx : this.askTopPx;
  }

  /** The best level of `side`, or NONE. */
  private topLevel(side: number): number {
    return side === BUY ? this.bidTop : this.askTop;
  }

  /** Re-reads the best level of `side` after its sorted array changed at the best end. */
  private syncTop(side: number): void {
    const n = this.depthOf[side];
    const l = n === 0 ? NONE : this.sideLevels[side][n - 1];
    const px = l === NONE ? 0 : this.lf[(l << LEVEL_SHIFT_F) + LF_PRICE];
    if (side === BUY) {
      this.bidTop = l;
      this.bidTopPx = px;
    } else {
      this.askTop = l;
      this.askTopPx = px;
    }
  }

  /** Index in the side's sorted array of the level at `price`, or -1. */
  private findLevelIndex(side: number, price: number): number {
    const keys = this.sideKeys[side];
    const key = side === BUY ? price : -price;
    const at = lowerBound(keys, this.depthOf[side], key);
    return at < this.depthOf[side] && keys[at] === key ? at : -1;
  }

  /** The level at `price` on `side`, created in its sorted place when missing. */
  private levelFor(side: number, price: number): number {
    const cache = this.levelCache;
    const c = (side << LEVEL_CACHE_BITS) | (price & (LEVEL_CACHE_SIZE - 1));
    const cached = cache[c];
    if (
      cached !== NONE &&
      this.li[(cached << LEVEL_SHIFT_I) + LI_SIDE] === side + 1 &&
      this.lf[(cached << LEVEL_SHIFT_F) + LF_PRICE] === price
    ) {
      return cached;
    }
    const keys = this.sideKeys[side];
    const n = this.depthOf[side];
    const key = side === BUY ? price : -price;
    // Most orders join the best level or one near it, at the end of the array.
    const at = n === 0 || keys[n - 1] < key ? n : lowerBoundFromEnd(keys, n, key);
    const l = at < n && keys[at] === key ? this.sideLevels[side][at] : this.insertLevel(side, at, price, key);
    cache[c] = l;
    return l;
  }

  private insertLevel(side: number, at: number, price: number, key: number): number {
    if (this.levelFree === NONE) this.growLevels(this.levelCapacity * 2);
    const n = this.depthOf[side];
    if (n === this.sideKeys[side].length) this.growSide(side);
    const keys = this.sideKeys[side];
    const levels = this.sideLevels[side];
    const l = this.levelFree;
    const lI = l << LEVEL_SHIFT_I;
    this.levelFree = this.li[lI + LI_HEAD];
    this.lf[(l << LEVEL_SHIFT_F) + LF_PRICE] = price;
    this.lf[(l << LEVEL_SHIFT_F) + LF_QTY] = 0;
    this.li[lI + LI_COUNT] = 0;
    this.li[lI + LI_HEAD] = NONE;
    this.li[lI + LI_TAIL] = NONE;
    this.li[lI + LI_SIDE] = side + 1;
    if (n - at <= SHIFT_BY_LOOP_MAX) {
      for (let j = n; j > at; j--) {
        keys[j] = keys[j - 1];
        levels[j] = levels[j - 1];
      }
    } else {
      keys.copyWithin(at + 1, at, n);
      levels.copyWithin(at + 1, at, n);
    }
    keys[at] = key;
    levels[at] = l;
    this.depthOf[side] = n + 1;
    if (at === n) this.syncTop(side);
    return l;
  }

  private releaseLevelIfEmpty(side: number, l: number): void {
    const lI = l << LEVEL_SHIFT_I;
    if (this.li[lI + LI_COUNT] !== 0) return;
    const n = this.depthOf[side];
    const keys = this.sideKeys[side];
    const levels = this.sideLevels[side];
    const wasTop = levels[n - 1] === l;
    if (!wasTop) {
      const at = this.findLevelIndex(side, this.lf[(l << LEVEL_SHIFT_F) + LF_PRICE]);
      if (n - at <= SHIFT_BY_LOOP_MAX) {
        for (let j = at; j < n - 1; j++) {
          keys[j] = keys[j + 1];
          levels[j] = levels[j + 1];
        }
      } else {
        keys.copyWithin(at, at + 1, n);
        levels.copyWithin(at, at + 1, n);
      }
    }
    this.depthOf[side] = n - 1;
    if (wasTop) this.syncTop(side);
    this.li[lI + LI_SIDE] = 0;
    this.li[lI + LI_HEAD] = this.levelFree;
    this.levelFree = l;
  }

  private appendToLevel(o: number, l: number): void {
    const hi = this.hi;
    const li = this.li;
    const oI = o << HOT_SHIFT_I;
    const lI = l << LEVEL_SHIFT_I;
    const tail = li[lI + LI_TAIL];
    hi[oI + HI_PREV] = tail;
    hi[oI + HI_NEXT] = NONE;
    if (tail === NONE) li[lI + LI_HEAD] = o;
    else hi[(tail << HOT_SHIFT_I) + HI_NEXT] = o;
    li[lI + LI_TAIL] = o;
    hi[oI + HI_LEVEL] = l;
    li[lI + LI_COUNT]++;
    this.lf[(l << LEVEL_SHIFT_F) + LF_QTY] += this.visibleOf(o);
  }

  private unlinkFromLevel(o: number, l: number): void {
    const hi = this.hi;
    const li = this.li;
    const oI = o << HOT_SHIFT_I;
    const lI = l << LEVEL_SHIFT_I;
    const prev = this.hi[(o << HOT_SHIFT_I) + HI_PREV];
    const next = this.hi[(o << HOT_SHIFT_I) + HI_NEXT];
    if (prev === NONE) li[lI + LI_HEAD] = next;
    else this.hi[(prev << HOT_SHIFT_I) + HI_NEXT] = next;
    if (next === NONE) li[lI + LI_TAIL] = prev;
    else this.hi[(next << HOT_SHIFT_I) + HI_PREV] = prev;
    li[lI + LI_COUNT]--;
    this.lf[(l << LEVEL_SHIFT_F) + LF_QTY] -= this.visibleOf(o);
    hi[oI + HI_LEVEL] = NONE;
  }

  private forEachResting(side: number, fn: (slot: number) => void): void {
    const levels = this.sideLevels[side];
    for (let i = this.depthOf[side] - 1; i >= 0; i--) {
      for (let o = this.li[(levels[i] << LEVEL_SHIFT_I) + LI_HEAD]; o !== NONE; o = this.nextOf(o)) fn(o);
    }
  }

  // ---------------------------------------------------------------- time, triggers, band

  /** Returns false, changing nothing, for a time that is not a non-negative safe integer. */
  private advanceClock(timeUs: number): boolean {
    // The book's own time is valid; most commands of a burst carry it.
    if (timeUs !== this.clockUs) {
      if (!(timeUs >= 0 && timeUs <= Number.MAX_SAFE_INTEGER && Math.floor(timeUs) === timeUs)) return false;
      // The clock never runs backwards: a command stamped earlier than the book's time acts at the book's time.
      if (timeUs > this.clockUs) this.clockUs = timeUs;
    }
    if (this.expiries.size !== 0 && this.expiries.peekTime() <= this.clockUs) this.expireDue();
    return true;
  }

  private expireDue(): void {
    const now = this.clockUs;
    while (this.expiries.peekTime() <= now) {
      const id = this.expiries.peekId();
      const due = this.expiries.peekTime();
      this.expiries.pop();
      const slot = this.index.get(id, this.hf);
      if (slot !== NONE && this.expiryOf(slot) === due) {
        this.removeLive(slot, EventType.OrderExpired, 0);
      }
    }
    this.publishTop();
    if (this.expiries.size > 2 * this.liveWithExpiry + 1024) {
      this.expiries.retain((due, id) => {
        const slot = this.index.get(id, this.hf);
        return slot !== NONE && this.expiryOf(slot) === due;
      });
    }
  }

  /**
   * After a command that may have traded or queued a stop: fire triggered stops, move the band, publish the
   * top of book.
   */
  private afterCommand(lastBefore: number, stopQueued: boolean): void {
    const traded = this.lastTradePx !== lastBefore;
    if ((traded || stopQueued) && this.rising.size + this.falling.size > 0) this.fireTriggers();
    if (this.lastTradePx !== lastBefore && this.rules.referenceFollowsLastTrade) {
      this.setReference(this.lastTradePx);
    }
    this.publishTop();
  }

  /**
   * Fires every stop the last trade price has reached, one at a time, in the order the price reached their
   * triggers: within a direction the nearest trigger price first, equal triggers earliest placed first (the
   * convention of CME and most venues); between the two directions, earliest placed first. Each fired order
   * runs at once, so its own trades can fire more.
   */
  private fireTriggers(): void {
    for (;;) {
      const last = this.lastTradePx;
      if (last === 0) return; // no trade yet: nothing can have reached a trigger
      const up = this.rising.size > 0 && this.rising.nextTrigger() <= last;
      const down = this.falling.size > 0 && this.falling.nextTrigger() >= last;
      if (!up && !down) return;
      const upFirst =
        up && (!down || this.priorityOf(this.rising.nextSlot()) < this.priorityOf(this.falling.nextSlot()));
      const t = upFirst ? this.rising.popNext() : this.falling.popNext();
      this.setState(t, ACTIVE);
      this.emitTriggered(t, last);
      this.activate(t, true);
    }
  }

  private setReference(price: number): void {
    this.referencePx = price;
    const bps = this.rules.priceBandBps;
    if (bps === 0) {
      this.bandLo = -Infinity;
      this.bandHi = Infinity;
      return;
    }
    // floor(price * bps / 10000) exactly, even where the product passes 2^53.
    const width = Number((BigInt(price) * BigInt(bps)) / 10000n);
    this.bandLo = price - width;
    this.bandHi = price + width;
  }

  // ---------------------------------------------------------------- events

  private publishTop(): void {
    if (!this.topDirty) return;
    this.topDirty = false;
    const bidPx = this.bidTopPx;
    const askPx = this.askTopPx;
    const bidQty = this.bidTop === NONE ? 0 : this.lf[(this.bidTop << LEVEL_SHIFT_F) + LF_QTY];
    const askQty = this.askTop === NONE ? 0 : this.lf[(this.askTop << LEVEL_SHIFT_F) + LF_QTY];
    if (
      bidPx === this.topBidPx &&
      askPx === this.topAskPx &&
      bidQty === this.topBidQty &&
      askQty === this.topAskQty
    ) {
      return;
    }
    this.topBidPx = bidPx;
    this.topBidQty = bidQty;
    this.topAskPx = askPx;
    this.topAskQty = askQty;
    const at = this.events.reserve();
    const d = this.events.data;
    d[at] = EventType.TopOfBookChanged;
    d[at + 1] = ++this.seq;
    d[at + 2] = this.clockUs;
    d[at + F_A] = bidPx;
    d[at + F_B] = bidQty;
    d[at + F_C] = askPx;
    d[at + F_D] = askQty;
  }

  /** Writes the common head of an order event for slot `o`; returns the record offset. */
  private orderEvent(type: number, o: number, price: number, qty: number): number {
    const at = this.events.reserve();
    const d = this.events.data;
    d[at] = type;
    d[at + 1] = ++this.seq;
    d[at + 2] = this.clockUs;
    d[at + 3] = this.hf[o << HOT_SHIFT_F];
    d[at + 4] = this.hi[(o << HOT_SHIFT_I) + HI_OWNER];
    d[at + 5] = this.hi[(o << HOT_SHIFT_I) + HI_META] & M_SIDE;
    d[at + 6] = price;
    d[at + 7] = qty;
    d[at + 14] = o;
    return at;
  }

  private emitAccepted(t: number): void {
    const f = t << HOT_SHIFT_F;
    const meta = this.hi[(t << HOT_SHIFT_I) + HI_META];
    const at = this.orderEvent(EventType.OrderAccepted, t, this.hf[f + HF_PRICE], this.hf[f + HF_LEFT]);
    const d = this.events.data;
    d[at + F_A] = (meta >> M_TYPE_SHIFT) & 7;
    d[at + F_B] = (meta >> M_TIF_SHIFT) & 7;
    if ((meta & M_COLD) === 0) {
      d[at + F_C] = 0;
      d[at + F_D] = 0;
      d[at + F_E] = 0;
    } else {
      const k = this.coldBase(t);
      d[at + F_C] = this.cold[k + C_TRIGGER];
      d[at + F_D] = this.cold[k + C_PEAK];
      d[at + F_E] = this.cold[k + C_EXPIRE];
    }
    d[at + F_F] = ((meta & M_POST_ONLY) === 0 ? 0 : 1) | (((meta >> M_STP_SHIFT) & 7) << 1);
  }

  private emitReject(
    orderId: number,
    owner: number,
    side: number,
    price: number,
    qty: number,
    code: number,
    command: number,
    type = 0,
    tif = 0,
  ): void {
    const at = this.events.reserve();
    const d = this.events.data;
    d[at] = EventType.OrderRejected;
    d[at + 1] = ++this.seq;
    d[at + 2] = this.clockUs;
    d[at + 3] = orderId;
    d[at + 4] = owner;
    d[at + 5] = side;
    d[at + 6] = price;
    d[at + 7] = qty;
    d[at + F_A] = code;
    d[at + F_B] = command;
    d[at + F_C] = type;
    d[at + F_D] = tif;
    d[at + F_E] = 0;
    d[at + F_F] = 0;
    d[at + 14] = NONE;
  }

  /** One fill: the trade, then the maker's fill, then the taker's. */
  private emitFill(t: number, m: number, px: number, q: number, takerLeft: number, makerLeft: number): void {
    const tradeId = ++this.tradeSeq;
    const at = this.orderEvent(EventType.TradeExecuted, t, px, q);
    const d = this.events.data;
    d[at + F_A] = tradeId;
    d[at + F_B] = this.hf[m << HOT_SHIFT_F];
    d[at + F_C] = this.hi[(m << HOT_SHIFT_I) + HI_OWNER];
    d[at + F_D] = takerLeft;
    d[at + F_E] = makerLeft;
    d[at + F_F] = m;
    this.emitOrderFill(m, px, q, makerLeft, tradeId, 1);
    this.emitOrderFill(t, px, q, takerLeft, tradeId, 0);
  }

  private emitOrderFill(
    o: number,
    px: number,
    q: number,
    left: number,
    tradeId: number,
    maker: number,
  ): void {
    const type = left === 0 ? EventType.OrderFilled : EventType.OrderPartiallyFilled;
    const at = this.orderEvent(type, o, px, q);
    const d = this.events.data;
    d[at + F_A] = left;
    d[at + F_B] = this.hf[(o << HOT_SHIFT_F) + HF_FILLED];
    d[at + F_C] = tradeId;
    d[at + F_D] = maker;
  }

  /** OrderCancelled or OrderExpired for the whole remaining quantity of `o`. */
  private emitOrderClosed(o: number, type: number, reason: number): void {
    const f = o << HOT_SHIFT_F;
    const at = this.orderEvent(type, o, this.hf[f + HF_PRICE], this.hf[f + HF_LEFT]);
    const d = this.events.data;
    d[at + F_A] = this.hf[f + HF_FILLED];
    d[at + F_B] = reason;
  }

  private emitReduced(o: number, cut: number, reason: number): void {
    const f = o << HOT_SHIFT_F;
    const at = this.orderEvent(EventType.OrderReduced, o, this.hf[f + HF_PRICE], cut);
    const d = this.events.data;
    d[at + F_A] = this.hf[f + HF_LEFT];
    d[at + F_B] = reason;
  }

  private emitTriggered(o: number, last: number): void {
    const f = o << HOT_SHIFT_F;
    const at = this.orderEvent(EventType.OrderTriggered, o, this.hf[f + HF_PRICE], this.hf[f + HF_LEFT]);
    const d = this.events.data;
    d[at + F_A] = this.triggerOf(o);
    d[at + F_B] = last;
  }

  private emitAmended(o: number, oldPrice: number, oldLeft: number, priorityKept: boolean): void {
    const f = o << HOT_SHIFT_F;
    const at = this.orderEvent(EventType.OrderAmended, o, this.hf[f + HF_PRICE], this.hf[f + HF_LEFT]);
    const d = this.events.data;
    d[at + F_A] = oldPrice;
    d[at + F_B] = oldLeft;
    d[at + F_C] = this.triggerOf(o);
    d[at + F_D] = priorityKept ? 1 : 0;
  }

  private emitLevel(side: number, l: number): void {
    // A change to the best level (or to a new best, or to one about to go) changes the top of book.
    if (this.topLevel(side) === l) this.topDirty = true;
    const at = this.events.reserve();
    const d = this.events.data;
    d[at] = EventType.LevelChanged;
    d[at + 1] = ++this.seq;
    d[at + 2] = this.clockUs;
    d[at + 5] = side;
    d[at + 6] = this.lf[(l << LEVEL_SHIFT_F) + LF_PRICE];
    d[at + 7] = this.lf[(l << LEVEL_SHIFT_F) + LF_QTY];
    d[at + F_A] = this.li[(l << LEVEL_SHIFT_I) + LI_COUNT];
  }

  // ---------------------------------------------------------------- record accessors

  private sideOf(o: number): number {
    return this.hi[(o << HOT_SHIFT_I) + HI_META] & M_SIDE;
  }
  private typeOf(o: number): number {
    return (this.hi[(o << HOT_SHIFT_I) + HI_META] >> M_TYPE_SHIFT) & 7;
  }
  private stateOf(o: number): number {
    return (this.hi[(o << HOT_SHIFT_I) + HI_META] & M_STATE_BITS) >> M_STATE_SHIFT;
  }
  private setState(o: number, state: number): void {
    const i = (o << HOT_SHIFT_I) + HI_META;
    this.hi[i] = (this.hi[i] & ~M_STATE_BITS) | (state << M_STATE_SHIFT);
  }
  /** Offset in `cold` of order `o`'s cold record; only for orders that have one (M_COLD). */
  private coldBase(o: number): number {
    return this.hi[(o << HOT_SHIFT_I) + HI_COLD] << COLD_SHIFT;
  }
  private nextOf(o: number): number {
    return this.hi[(o << HOT_SHIFT_I) + HI_NEXT];
  }
  private priorityOf(o: number): number {
    return this.hf[(o << HOT_SHIFT_F) + HF_PRIORITY];
  }
  private isIceberg(o: number): boolean {
    return (this.hi[(o << HOT_SHIFT_I) + HI_META] & M_ICEBERG) !== 0;
  }
  /** The quantity the order shows in its level: an iceberg's slice, else all that remains. */
  private visibleOf(o: number): number {
    return this.isIceberg(o)
      ? this.cold[this.coldBase(o) + C_VISIBLE]
      : this.hf[(o << HOT_SHIFT_F) + HF_LEFT];
  }
  private coldField(o: number, field: number): number {
    return (this.hi[(o << HOT_SHIFT_I) + HI_META] & M_COLD) === 0 ? 0 : this.cold[this.coldBase(o) + field];
  }
  private triggerOf(o: number): number {
    return this.coldField(o, C_TRIGGER);
  }
  private expiryOf(o: number): number {
    return this.coldField(o, C_EXPIRE);
  }

  private levelView(l: number): LevelView {
    return {
      price: this.lf[(l << LEVEL_SHIFT_F) + LF_PRICE],
      qty: this.lf[(l << LEVEL_SHIFT_F) + LF_QTY],
      orders: this.li[(l << LEVEL_SHIFT_I) + LI_COUNT],
    };
  }

  private view(o: number): OrderView {
    const f = o << HOT_SHIFT_F;
    const meta = this.hi[(o << HOT_SHIFT_I) + HI_META];
    return {
      orderId: this.hf[f + HF_ID],
      owner: this.hi[(o << HOT_SHIFT_I) + HI_OWNER],
      side: (meta & M_SIDE) as Side,
      type: ((meta >> M_TYPE_SHIFT) & 7) as types.OrderType,
      tif: ((meta >> M_TIF_SHIFT) & 7) as types.TimeInForce,
      price: this.hf[f + HF_PRICE],
      triggerPrice: this.triggerOf(o),
      qtyLeft: this.hf[f + HF_LEFT],
      qtyVisible: this.visibleOf(o),
      qtyFilled: this.hf[f + HF_FILLED],
      displayQty: this.coldField(o, C_PEAK),
      postOnly: (meta & M_POST_ONLY) !== 0,
      stp: ((meta >> M_STP_SHIFT) & 7) as types.SelfTradePrevention,
      expireTimeUs: this.expiryOf(o),
      priority: this.hf[f + HF_PRIORITY],
      pendingTrigger: this.stateOf(o) === PENDING_TRIGGER,
    };
  }

  private hashOrder(h: StateHasher, o: number): void {
    const v = this.view(o);
    h.addAll([v.orderId, v.owner, v.side, v.type, v.tif, v.postOnly ? 1 : 0, v.stp, this.stateOf(o)]);
    h.addAll([v.price, v.triggerPrice, v.qtyLeft, v.qtyVisible, v.displayQty, v.qtyFilled, v.priority]);
    h.add(v.expireTimeUs);
  }

  // ---------------------------------------------------------------- storage

  private growOrders(capacity: number): void {
    const n = Math.min(capacity, BOOK_LIMITS.ordersMax);
    if (n <= this.capacity) throw new Error(`order pool cannot grow past ${this.capacity} slots`);
    const hot = grownBuffer(this.hf.buffer, this.capacity * HOT_BYTES, n * HOT_BYTES);
    this.hf = new Float64Array(hot);
    this.hi = new Int32Array(hot);
    // New slots join the free list in ascending order.
    for (let s = n - 1; s >= this.capacity; s--) {
      this.hi[(s << HOT_SHIFT_I) + HI_NEXT] = this.freeHead;
      this.freeHead = s;
    }
    this.capacity = n;
  }

  /** Takes a cold record for order `t` and returns its offset in `cold`. */
  private allocCold(t: number): number {
    if (this.coldFree === NONE) this.growCold(Math.max(64, this.coldCapacity * 2));
    const c = this.coldFree;
    this.coldFree = this.cold[c << COLD_SHIFT];
    this.hi[(t << HOT_SHIFT_I) + HI_COLD] = c;
    return c << COLD_SHIFT;
  }

  private freeCold(t: number): void {
    const c = this.hi[(t << HOT_SHIFT_I) + HI_COLD];
    this.cold[c << COLD_SHIFT] = this.coldFree;
    this.coldFree = c;
  }

  private growCold(capacity: number): void {
    const cold = new Float64Array(capacity << COLD_SHIFT);
    cold.set(this.cold);
    this.cold = cold;
    for (let c = capacity - 1; c >= this.coldCapacity; c--) {
      cold[c << COLD_SHIFT] = this.coldFree;
      this.coldFree = c;
    }
    this.coldCapacity = capacity;
  }

  private growLevels(capacity: number): void {
    const buf = grownBuffer(this.lf.buffer, this.levelCapacity * LEVEL_BYTES, capacity * LEVEL_BYTES);
    this.lf = new Float64Array(buf);
    this.li = new Int32Array(buf);
    for (let l = capacity - 1; l >= this.levelCapacity; l--) {
      this.li[(l << LEVEL_SHIFT_I) + LI_HEAD] = this.levelFree;
      this.levelFree = l;
    }
    this.levelCapacity = capacity;
    for (const side of [BUY, SELL]) if (this.sideKeys[side].length < capacity) this.growSide(side);
  }

  private growSide(side: number): void {
    const n = Math.max(this.levelCapacity, this.sideKeys[side].length * 2, 16);
    const keys = new Float64Array(n);
    keys.set(this.sideKeys[side]);
    const levels = new Int32Array(n);
    levels.set(this.sideLevels[side]);
    this.sideKeys[side] = keys;
    this.sideLevels[side] = levels;
  }

  // ---------------------------------------------------------------- snapshot

  /**
   * Writes the book's whole state as it is in memory: the pools with their free lists, the levels, the sorted
   * sides, the level cache, the stop queues, the expiry heap, the id index, the rules and every counter, so
   * that a book restored from it continues byte for byte as this one would, event slots included. The order
   * pool goes up to its high-water mark: the slots above it never held an order (their ids are 0; every order
   * has a positive id) and are the free list's ascending tail, which reading rebuilds.
   */
  writeSnapshot(w: SnapshotWriter): void {
    const r = this.rules;
    w.tag('BOOK');
    w.f64(this.ordersMax);
    for (const x of [r.tickSize, r.lotSize, r.qtyMin, r.qtyMax, r.priceBandBps]) w.f64(x);
    w.bool(r.referenceFollowsLastTrade);
    w.f64(this.clockUs);
    w.f64(this.seq);
    w.f64(this.tradeSeq);
    w.f64(this.prioritySeq);
    w.f64(this.lastTradePx);
    w.f64(this.referencePx);
    w.f64(this.bandLo);
    w.f64(this.bandHi);
    let used = this.capacity;
    while (used > 0 && this.hf[(used - 1) << HOT_SHIFT_F] === 0) used--;
    w.u32(this.capacity);
    w.i32(this.freeHead);
    w.u32(this.live);
    w.f64s(this.hf, used << HOT_SHIFT_F);
    w.u32(this.coldCapacity);
    w.i32(this.coldFree);
    w.f64s(this.cold);
    w.u32(this.levelCapacity);
    w.i32(this.levelFree);
    w.f64s(this.lf);
    for (const side of [BUY, SELL]) {
      w.u32(this.sideKeys[side].length);
      w.f64s(this.sideKeys[side], this.depthOf[side]);
      w.i32s(this.sideLevels[side], this.depthOf[side]);
    }
    w.i32(this.bidTop);
    w.i32(this.askTop);
    w.f64(this.bidTopPx);
    w.f64(this.askTopPx);
    w.i32s(this.levelCache);
    this.rising.writeSnapshot(w);
    this.falling.writeSnapshot(w);
    this.expiries.writeSnapshot(w);
    w.u32(this.liveWithExpiry);
    w.bool(this.topDirty);
    w.f64(this.topBidPx);
    w.f64(this.topBidQty);
    w.f64(this.topAskPx);
    w.f64(this.topAskQty);
    this.index.writeSnapshot(w);
  }

  /**
   * Replaces this book's whole state (rules and order limit included) with one written by writeSnapshot, then
   * checks that what it read hangs together (free lists, levels, queues, the id index against the orders):
   * malformed input throws a SnapshotError rather than leaving a book that fails later. Events go on into this
   * book's event buffer.
   */
  readSnapshot(r: SnapshotReader): void {
    r.tag('BOOK');
    this.ordersMax = r.safeInt('book order limit', 1, BOOK_LIMITS.ordersMax);
    const rules: InstrumentRules = {
      tickSize: r.f64(),
      lotSize: r.f64(),
      qtyMin: r.f64(),
      qtyMax: r.f64(),
      priceBandBps: r.f64(),
      referenceFollowsLastTrade: r.bool(),
    };
    const problem = rulesProblem(rules);
    if (problem) r.fail(`book rules: ${problem}`);
    this.rules = rules;
    this.clockUs = r.safeInt('book clock', 0);
    this.seq = r.safeInt('book sequence', 0);
    this.tradeSeq = r.safeInt('trade sequence', 0);
    this.prioritySeq = r.safeInt('priority sequence', 0);
    this.lastTradePx = r.safeInt('last trade price', 0);
    this.referencePx = r.safeInt('reference price', 0);
    this.bandLo = r.f64();
    this.bandHi = r.f64();
    this.readOrders(r);
    this.readLevels(r);
    this.rising.readSnapshot(r);
    this.falling.readSnapshot(r);
    this.expiries.readSnapshot(r);
    this.liveWithExpiry = r.count('orders with an expiry', this.live);
    this.topDirty = r.bool();
    this.topBidPx = r.f64();
    this.topBidQty = r.f64();
    this.topAskPx = r.f64();
    this.topAskQty = r.f64();
    this.index.readSnapshot(r);
    const inconsistency = this.restoredProblem();
    if (inconsistency !== '') r.fail(`book state: ${inconsistency}`);
  }

  private readOrders(r: SnapshotReader): void {
    const capacity = r.count('order capacity', BOOK_LIMITS.ordersMax);
    if (capacity < 1) r.fail('order pool of no capacity');
    this.freeHead = r.int('order free list head', NONE, capacity - 1);
    this.live = r.count('live orders', capacity);
    const hot = new ArrayBuffer(capacity * HOT_BYTES);
    this.hf = new Float64Array(hot);
    this.hi = new Int32Array(hot);
    this.capacity = capacity;
    const words = r.f64sInto(this.hf, 'order records');
    if (words % (1 << HOT_SHIFT_F) !== 0) r.fail('order records of a partial slot');
    const used = words >> HOT_SHIFT_F;
    // The never-used slots: each links to the next, the last ends the free list.
    for (let s = used; s < capacity; s++)
      this.hi[(s << HOT_SHIFT_I) + HI_NEXT] = s + 1 < capacity ? s + 1 : NONE;
    const coldCapacity = r.count('cold record capacity', BOOK_LIMITS.ordersMax);
    this.coldFree = r.int('cold free list head', NONE, coldCapacity - 1);
    this.cold = new Float64Array(coldCapacity << COLD_SHIFT);
    r.f64sExact(this.cold, coldCapacity << COLD_SHIFT, 'cold records');
    this.coldCapacity = coldCapacity;
  }

  private readLevels(r: SnapshotReader): void {
    const capacity = r.count('level capacity', BOOK_LIMITS.ordersMax);
    if (capacity < 1) r.fail('level pool of no capacity');
    this.levelFree = r.int('level free list head', NONE, capacity - 1);
    const buf = new ArrayBuffer(capacity * LEVEL_BYTES);
    this.lf = new Float64Array(buf);
    this.li = new Int32Array(buf);
    r.f64sExact(this.lf, capacity << LEVEL_SHIFT_F, 'level records');
    this.levelCapacity = capacity;
    for (const side of [BUY, SELL]) {
      const length = r.count('side array length', 2 * BOOK_LIMITS.ordersMax);
      if (length < capacity) r.fail(`side array of ${length} for ${capacity} levels`);
      const keys = new Float64Array(length);
      const levels = new Int32Array(length);
      const depth = r.f64sInto(keys, 'side keys');
      r.i32sExact(levels, depth, 'side levels');
      this.sideKeys[side] = keys;
      this.sideLevels[side] = levels;
      this.depthOf[side] = depth;
    }
    this.bidTop = r.int('best bid level', NONE, capacity - 1);
    this.askTop = r.int('best ask level', NONE, capacity - 1);
    this.bidTopPx = r.safeInt('best bid', 0);
    this.askTopPx = r.safeInt('best ask', 0);
    r.i32sExact(this.levelCache, 2 * LEVEL_CACHE_SIZE, 'level cache');
  }

  /** What is inconsistent in a restored book, or ''. Walks every live order once. */
  private restoredProblem(): string {
    const levelsFree = this.levelCapacity - this.depthOf[BUY] - this.depthOf[SELL];
    const inPools =
      freeListProblem(
        'order',
        this.freeHead,
        this.capacity - this.live,
        this.capacity,
        (s) => this.hi[(s << HOT_SHIFT_I) + HI_NEXT],
        (s) => this.stateOf(s) === FREE,
      ) ||
      freeListProblem(
        'level',
        this.levelFree,
        levelsFree,
        this.levelCapacity,
        (l) => this.li[(l << LEVEL_SHIFT_I) + LI_HEAD],
        (l) => this.li[(l << LEVEL_SHIFT_I) + LI_SIDE] === 0,
      ) ||
      freeListProblem(
        'cold record',
        this.coldFree,
        -1,
        this.coldCapacity,
        (c) => this.cold[c << COLD_SHIFT],
        () => true,
      );
    if (inPools !== '') return inPools;
    let orders = 0;
    let expiring = 0;
    for (const side of [BUY, SELL]) {
      const found = this.sideProblem(side);
      if (typeof found === 'string') return found;
      orders += found;
    }
    for (const q of [this.rising, this.falling]) {
      for (const o of q.slotsInOrder()) {
        if (!(o >= 0 && o < this.capacity) || this.stateOf(o) !== PENDING_TRIGGER) return `stop in slot ${o}`;
        if (this.index.get(this.hf[o << HOT_SHIFT_F], this.hf) !== o)
          return `stop in slot ${o} is not indexed`;
        orders++;
      }
    }
    for (let s = 0; s < this.capacity; s++) {
      const state = this.stateOf(s);
      if (state === ACTIVE) return `order in slot ${s} is mid-command`;
      if (state !== FREE && (this.hi[(s << HOT_SHIFT_I) + HI_META] & M_EXPIRES) !== 0) expiring++;
    }
    if (orders !== this.live || this.index.size !== this.live)
      return `${this.live} live orders, ${orders} in levels and queues, ${this.index.size} indexed`;
    if (expiring !== this.liveWithExpiry)
      return `${expiring} expiring orders, ${this.liveWithExpiry} counted`;
    for (let c = 0; c < this.levelCache.length; c++) {
      if (!(this.levelCache[c] >= NONE && this.levelCache[c] < this.levelCapacity))
        return `level cache entry ${c}`;
    }
    return '';
  }

  /** Checks one side's sorted levels and their queues; returns the number of orders in them, or a problem. */
  private sideProblem(side: number): number | string {
    const keys = this.sideKeys[side];
    const levels = this.sideLevels[side];
    const n = this.depthOf[side];
    let orders = 0;
    for (let i = 0; i < n; i++) {
      const l = levels[i];
      if (!(l >= 0 && l < this.levelCapacity) || this.li[(l << LEVEL_SHIFT_I) + LI_SIDE] !== side + 1)
        return `side ${side} level ${i}`;
      const price = this.lf[(l << LEVEL_SHIFT_F) + LF_PRICE];
      if (keys[i] !== (side === BUY ? price : -price) || (i > 0 && !(keys[i - 1] < keys[i])))
        return `side ${side} key ${i}`;
      let count = 0;
      let qty = 0;
      let prev = NONE;
      for (let o = this.li[(l << LEVEL_SHIFT_I) + LI_HEAD]; o !== NONE; o = this.nextOf(o)) {
        const oI = o << HOT_SHIFT_I;
        const linked =
          o >= 0 && o < this.capacity && this.hi[oI + HI_PREV] === prev && this.hi[oI + HI_LEVEL] === l;
        if (!linked || this.stateOf(o) !== RESTING || this.sideOf(o) !== side || count > this.live)
          return `order in slot ${o} at level ${l}`;
        if (this.index.get(this.hf[o << HOT_SHIFT_F], this.hf) !== o)
          return `order in slot ${o} is not indexed`;
        qty += this.visibleOf(o);
        count++;
        prev = o;
      }
      if (
        count === 0 ||
        count !== this.li[(l << LEVEL_SHIFT_I) + LI_COUNT] ||
        prev !== this.li[(l << LEVEL_SHIFT_I) + LI_TAIL]
      )
        return `level ${l}: ${count} orders`;
      if (qty !== this.lf[(l << LEVEL_SHIFT_F) + LF_QTY]) return `level ${l}: quantity ${qty}`;
      orders += count;
    }
    const top = n === 0 ? NONE : levels[n - 1];
    const topPx = top === NONE ? 0 : this.lf[(top << LEVEL_SHIFT_F) + LF_PRICE];
    if (top !== this.topLevel(side) || topPx !== this.bestPrice(side)) return `side ${side}: best level`;
    return orders;
  }

  /** Bytes held by the book's own arrays, for memory accounting. */
  get bytes(): number {
    const sides = (this.sideKeys[0].length + this.sideKeys[1].length) * 12;
    return this.hf.byteLength + this.cold.byteLength + this.lf.byteLength + sides + this.index.bytes;
  }
}

// ---------------------------------------------------------------- helpers

function isPositiveInt(x: number): boolean {
  return x > 0 && x <= Number.MAX_SAFE_INTEGER && Math.floor(x) === x;
}

function isOwner(x: number): boolean {
  return x >= 0 && x <= OWNER_MAX && Math.floor(x) === x;
}

// types.isMarketType as a module-local function: through the import (or a const alias of it) the book's place
// path counted about 5 more instructions an operation (bench:core-instructions).
function isMarketType(type: number): boolean {
  return type === OrderType.Market || type === OrderType.StopMarket || type === OrderType.TakeProfit;
}

/** A zeroed buffer of `bytes` holding the first `usedBytes` of `old`. */
function grownBuffer(old: ArrayBufferLike, usedBytes: number, bytes: number): ArrayBuffer {
  const buf = new ArrayBuffer(bytes);
  new Uint8Array(buf).set(new Uint8Array(old, 0, usedBytes));
  return buf;
}

/**
 * What is wrong with a free list from `head` through `next`, or '': it must stay in [0, capacity), end, reach
 * only entries `isFree` accepts and, unless `expected` is -1, hold `expected` entries.
 */
function freeListProblem(
  what: string,
  head: number,
  expected: number,
  capacity: number,
  next: (i: number) => number,
  isFree: (i: number) => boolean,
): string {
  let n = 0;
  for (let i = head; i !== NONE; i = next(i)) {
    if (!(i >= 0 && i < capacity && Number.isInteger(i))) return `${what} free list reaches ${i}`;
    if (++n > capacity) return `${what} free list loops`;
    if (!isFree(i)) return `${what} ${i} is on the free list but in use`;
  }
  return expected === -1 || n === expected ? '' : `${what} free list holds ${n}, not ${expected}`;
}

/** First index in keys[lo..n) whose key is >= `key` (keys ascend). */
function lowerBound(keys: Float64Array, n: number, key: number, from = 0): number {
  let lo = from;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * lowerBound for a key expected near the end (the best price): gallops back from the end in doubling steps,
 * then searches the bracket, so a key d places from the end costs about 2 log2(d) comparisons.
 */
function lowerBoundFromEnd(keys: Float64Array, n: number, key: number): number {
  let hi = n;
  let step = 1;
  while (hi - step > 0 && keys[hi - step] >= key) {
    hi -= step;
    step <<= 1;
  }
  const lo = hi - step > 0 ? hi - step : 0;
  return lowerBound(keys, hi, key, lo);
}

function rulesProblem(r: InstrumentRules): string | undefined {
  if (!isPositiveInt(r.tickSize)) return 'tickSize must be a positive integer';
  if (!isPositiveInt(r.lotSize)) return 'lotSize must be a positive integer';
  if (!isPositiveInt(r.qtyMin) || r.qtyMin % r.lotSize !== 0)
    return 'qtyMin must be a positive multiple of lotSize';
  if (!isPositiveInt(r.qtyMax) || r.qtyMax < r.qtyMin) return 'qtyMax must be an integer >= qtyMin';
  if (!Number.isInteger(r.priceBandBps) || r.priceBandBps < 0 || r.priceBandBps > 10000) {
    return 'priceBandBps must be an integer from 0 to 10000';
  }
  if (typeof r.referenceFollowsLastTrade !== 'boolean') return 'referenceFollowsLastTrade must be a boolean';
  return undefined;
}
