/**
 * A seeded generator of random order-book commands for the property and determinism tests: every order type,
 * time in force, icebergs, post-only, self-trade prevention modes, several owners, amends, cancels, mass
 * cancels, time advances that expire DAY and GTD orders, reference price moves, and a share of deliberately
 * invalid commands. Prices stay in a narrow range so books stay small and cross often.
 *
 * The generator is deterministic given its seed and the book it reads (it looks orders up to pick amend and
 * cancel targets), so the same seed against books that behave alike yields the same stream.
 */
import {
  ANY_OWNER,
  OrderType,
  SelfTradePrevention,
  Side,
  TimeInForce,
  type AmendOrder,
  type InstrumentRules,
  type OrderBook,
  type PlaceOrder,
} from '../../src/book/index.js';
import { Rng } from './helpers.js';

export type Command =
  | { kind: 'place'; order: PlaceOrder; invalid: boolean }
  | { kind: 'cancel'; orderId: number; owner: number; timeUs: number }
  | { kind: 'amend'; amend: AmendOrder }
  | { kind: 'massCancel'; owner: number; side: number; timeUs: number }
  | { kind: 'advanceTime'; timeUs: number }
  | { kind: 'setReferencePrice'; price: number; timeUs: number };

export interface Profile {
  name: string;
  rules: Partial<InstrumentRules>;
  /** Centre of the price range, a multiple of the tick size. */
  mid: number;
  /** Prices go from mid - halfRange ticks to mid + halfRange ticks. */
  halfRange: number;
  owners: number;
  /** Live orders the generator steers towards. */
  targetOrders: number;
  /** When set, the reference price is set to `mid` first and moved now and then. */
  reference: boolean;
}

export const PROFILES: readonly Profile[] = [
  { name: 'plain', rules: {}, mid: 100, halfRange: 6, owners: 4, targetOrders: 200, reference: false },
  {
    name: 'rules-and-band',
    // Lot 2, min 2, max 40; a band of 3% around the reference (30 ticks of 1 at 1000, i.e. 15 ticks of 2),
    // following the last trade; prices reach 17 ticks of 2 from the mid, so some limits fall outside it and
    // market orders meet its edge.
    rules: {
      tickSize: 2,
      lotSize: 2,
      qtyMin: 2,
      qtyMax: 40,
      priceBandBps: 300,
      referenceFollowsLastTrade: true,
    },
    mid: 1000,
    halfRange: 17,
    owners: 3,
    targetOrders: 150,
    reference: true,
  },
  { name: 'two-owners', rules: {}, mid: 50, halfRange: 3, owners: 2, targetOrders: 80, reference: false },
];

/** Applies a command; returns its result as a number (true/false as 1/0). */
export function apply(book: OrderBook, c: Command): number {
  switch (c.kind) {
    case 'place':
      return book.place(c.order);
    case 'cancel':
      return book.cancel(c.orderId, c.owner, c.timeUs);
    case 'amend':
      return book.amend(c.amend);
    case 'massCancel':
      return book.massCancel(c.owner, c.side, c.timeUs);
    case 'advanceTime':
      return book.advanceTime(c.timeUs) ? 1 : 0;
    case 'setReferencePrice':
      return book.setReferencePrice(c.price, c.timeUs) ? 1 : 0;
  }
}

const LIMIT_TIFS = [
  TimeInForce.GTC,
  TimeInForce.GTC,
  TimeInForce.GTC,
  TimeInForce.IOC,
  TimeInForce.FOK,
  TimeInForce.DAY,
  TimeInForce.GTD,
] as const;
const RESTING_TIFS = [TimeInForce.GTC, TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GTD] as const;
const STOP_TYPES = [
  OrderType.StopMarket,
  OrderType.StopLimit,
  OrderType.TakeProfit,
  OrderType.TakeProfitLimit,
];

export class CommandGenerator {
  private readonly rng: Rng;
  private readonly tick: number;
  private readonly lot: number;
  private nextId = 1;
  private clock = 0;
  /** Ids that may still be live; dead ones are dropped when picked. */
  private readonly ids: number[] = [];
  private started = false;

  constructor(
    seed: number,
    readonly profile: Profile,
  ) {
    this.rng = new Rng(seed);
    this.tick = profile.rules.tickSize ?? 1;
    this.lot = profile.rules.lotSize ?? 1;
  }

  next(book: OrderBook): Command {
    const rng = this.rng;
    if (!this.started) {
      this.started = true;
      if (this.profile.reference) return { kind: 'setReferencePrice', price: this.profile.mid, timeUs: 0 };
    }
    // Weights of the command kinds; a crowded book gets more cancels, market orders and mass cancels.
    const crowded = book.orderCount > this.profile.targetOrders;
    const w = {
      place: 36,
      cancel: crowded ? 16 : 8,
      amend: 16,
      market: crowded ? 8 : 4,
      stop: 9,
      advance: 4,
      mass: crowded ? 2 : 0.5,
      reference: this.profile.reference ? 1 : 0,
      invalid: 2.5,
    };
    let r = rng.next() * Object.values(w).reduce((a, b) => a + b, 0);
    if ((r -= w.place) < 0) return this.place(book);
    if ((r -= w.cancel) < 0) return this.cancel(book);
    if ((r -= w.amend) < 0) return this.amend(book);
    if ((r -= w.market) < 0) return this.marketOrder();
    if ((r -= w.stop) < 0) return this.stopOrder();
    if ((r -= w.advance) < 0) {
      this.clock += rng.range(1, 40);
      return { kind: 'advanceTime', timeUs: this.clock };
    }
    if ((r -= w.mass) < 0) {
      const owner = rng.chance(0.1) ? ANY_OWNER : rng.int(this.profile.owners);
      const side = rng.chance(0.02) ? 2 : rng.pick([-1, Side.Buy, Side.Sell]);
      return { kind: 'massCancel', owner, side, timeUs: this.time() };
    }
    if ((r -= w.reference) < 0) {
      const price = rng.chance(0.05) ? rng.pick([0, -4, 1.5]) : this.price(6);
      return { kind: 'setReferencePrice', price, timeUs: this.time() };
    }
    return this.invalidPlace(book);
  }

  /** A command time: usually now or a little later, sometimes earlier than the book's clock. */
  private time(): number {
    const rng = this.rng;
    if (rng.chance(0.03)) return Math.max(0, this.clock - rng.range(1, 5));
    this.clock += rng.int(3);
    return this.clock;
  }

  private price(halfRange = this.profile.halfRange): number {
    return this.profile.mid + this.tick * this.rng.range(-halfRange, halfRange);
  }

  private qty(): number {
    const q = this.lot * this.rng.range(1, 12);
    const max = this.profile.rules.qtyMax;
    return max === undefined ? q : Math.min(q, max - (max % this.lot));
  }

  private base(): PlaceOrder {
    const rng = this.rng;
    const orderId = this.nextId++;
    const stp = rng.chance(0.5)
      ? SelfTradePrevention.None
      : rng.pick([
          SelfTradePrevention.CancelIncoming,
          SelfTradePrevention.CancelResting,
          SelfTradePrevention.CancelBoth,
          SelfTradePrevention.DecrementBoth,
        ]);
    return {
      orderId,
      owner: rng.int(this.profile.owners),
      side: rng.chance(0.5) ? Side.Buy : Side.Sell,
      type: OrderType.Limit,
      tif: TimeInForce.GTC,
      price: 0,
      triggerPrice: 0,
      qty: this.qty(),
      displayQty: 0,
      postOnly: false,
      stp,
      expireTimeUs: 0,
      timeUs: this.time(),
    };
  }

  /** Iceberg display size for a resting-capable order, or 0. */
  private display(qty: number): number {
    const lots = qty / this.lot;
    if (lots < 2 || !this.rng.chance(0.2)) return 0;
    return this.lot * this.rng.range(1, lots - 1);
  }

  private expiry(tif: TimeInForce): number {
    return tif === TimeInForce.DAY || tif === TimeInForce.GTD ? this.clock + this.rng.range(1, 3000) : 0;
  }

  private remember(o: PlaceOrder): Command {
    this.ids.push(o.orderId);
    return { kind: 'place', order: o, invalid: false };
  }

  private place(book: OrderBook): Command {
    const rng = this.rng;
    const o = this.base();
    o.tif = rng.pick(LIMIT_TIFS);
    // Passive more often than not, so that the book fills up.
    const passive = rng.chance(0.85);
    const off = this.tick * rng.range(0, Math.ceil(this.profile.halfRange / 2));
    const anchor =
      o.side === Side.Buy ? book.bestAsk() || this.profile.mid : book.bestBid() || this.profile.mid;
    o.price = passive
      ? o.side === Side.Buy
        ? anchor - off - this.tick
        : anchor + off + this.tick
      : this.price();
    // Keep passive prices near the range, so that the book does not drift away from it.
    const edge = this.tick * (this.profile.halfRange + 4);
    o.price = Math.min(this.profile.mid + edge, Math.max(this.profile.mid - edge, o.price, this.tick));
    o.expireTimeUs = this.expiry(o.tif);
    const resting = o.tif !== TimeInForce.IOC && o.tif !== TimeInForce.FOK;
    if (resting) o.displayQty = this.display(o.qty);
    if (resting && rng.chance(0.12)) o.postOnly = true;
    return this.remember(o);
  }

  private marketOrder(): Command {
    const rng = this.rng;
    const o = this.base();
    o.type = OrderType.Market;
    o.tif = rng.chance(0.7) ? TimeInForce.IOC : TimeInForce.FOK;
    o.price = rng.chance(0.3) ? this.price() : 0;
    return this.remember(o);
  }

  private stopOrder(): Command {
    const rng = this.rng;
    const o = this.base();
    o.type = rng.pick(STOP_TYPES);
    o.tif = rng.pick(RESTING_TIFS);
    o.triggerPrice = this.price();
    const limitType = o.type === OrderType.StopLimit || o.type === OrderType.TakeProfitLimit;
    o.price = limitType || rng.chance(0.2) ? this.price() : 0;
    if (limitType) o.displayQty = this.display(o.qty);
    o.expireTimeUs = this.expiry(o.tif);
    return this.remember(o);
  }

  /** A place command with one bad field. */
  private invalidPlace(book: OrderBook): Command {
    const rng = this.rng;
    const o = this.base();
    o.price = this.price();
    const huge = 2 ** 53 + 2;
    switch (rng.int(16)) {
      case 0:
        o.orderId = rng.pick([0, -5, 1.5, NaN, huge]);
        break;
      case 1:
        o.owner = rng.pick([-1, -7, 2 ** 31, 0.5, NaN]);
        break;
      case 2:
        o.side = rng.pick([2, -1, NaN]) as Side;
        break;
      case 3:
        o.type = rng.pick([0, 7, 1.5, NaN]) as OrderType;
        break;
      case 4:
        o.tif = rng.pick([0, 6, 2.5, NaN]) as TimeInForce;
        break;
      case 5:
        o.qty = rng.pick([0, -3, 2.5, NaN, huge, Infinity]);
        break;
      case 6:
        // Off the tick grid too, where there is one.
        o.price = rng.pick(
          this.tick > 1 ? [0, -1, 1.5, NaN, huge, this.profile.mid + 1] : [0, -1, 1.5, NaN, huge],
        );
        break;
      case 7:
        o.triggerPrice = this.price();
        break;
      case 8:
        o.displayQty = o.qty + this.lot;
        break;
      case 9:
        o.tif = TimeInForce.IOC;
        o.postOnly = true;
        break;
      case 10:
        o.stp = rng.pick([5, -1, NaN]) as SelfTradePrevention;
        break;
      case 11:
        o.tif = TimeInForce.GTD;
        o.expireTimeUs = book.timeUs;
        break;
      case 12:
        o.timeUs = rng.pick([-1, NaN, 0.5, huge]);
        break;
      case 13:
        o.type = OrderType.Market;
        o.tif = TimeInForce.GTC;
        break;
      case 14: {
        const live = this.liveId(book);
        // At the book's own time, so that the order cannot expire before the duplicate arrives.
        o.timeUs = book.timeUs;
        if (live !== undefined) o.orderId = live;
        else o.qty = 0;
        break;
      }
      default:
        o.type = OrderType.StopLimit;
        o.triggerPrice = 0;
        break;
    }
    return { kind: 'place', order: o, invalid: true };
  }

  /** A random live order id, or undefined when the book has none the generator knows of. */
  private liveId(book: OrderBook): number | undefined {
    const ids = this.ids;
    while (ids.length > 0) {
      const at = this.rng.int(ids.length);
      const id = ids[at];
      if (book.order(id) !== undefined) return id;
      ids[at] = ids[ids.length - 1];
      ids.pop();
    }
    return undefined;
  }

  private cancel(book: OrderBook): Command {
    const rng = this.rng;
    const id = this.liveId(book);
    const timeUs = this.time();
    if (id === undefined || rng.chance(0.08)) {
      return {
        kind: 'cancel',
        orderId: rng.chance(0.5) ? this.nextId + 1000 : rng.range(1, this.nextId),
        owner: ANY_OWNER,
        timeUs,
      };
    }
    const owner = this.ownerFor(book, id);
    return { kind: 'cancel', orderId: id, owner, timeUs };
  }

  /** The order's owner mostly, an operator sometimes, someone else rarely. */
  private ownerFor(book: OrderBook, id: number): number {
    const rng = this.rng;
    const r = rng.next();
    if (r < 0.15) return ANY_OWNER;
    if (r < 0.2) return rng.int(this.profile.owners + 1);
    return book.order(id)?.owner ?? ANY_OWNER;
  }

  private amend(book: OrderBook): Command {
    const rng = this.rng;
    const id = this.liveId(book);
    const view = id === undefined ? undefined : book.order(id);
    const amend: AmendOrder = {
      orderId: id ?? this.nextId + 7,
      owner: ANY_OWNER,
      price: 0,
      qty: 0,
      triggerPrice: 0,
      timeUs: 0,
    };
    if (id === undefined || view === undefined) {
      amend.price = this.price();
      amend.timeUs = this.time();
      return { kind: 'amend', amend };
    }
    amend.owner = this.ownerFor(book, id);
    const market =
      view.type === OrderType.Market ||
      view.type === OrderType.StopMarket ||
      view.type === OrderType.TakeProfit;
    const what = rng.int(10);
    if ((what <= 3 || what === 8) && !market) amend.price = this.price();
    if (what >= 3 && what <= 6) amend.qty = view.qtyFilled + this.lot * rng.range(1, 12);
    if (what === 7 && view.pendingTrigger) amend.triggerPrice = this.price();
    if (what === 9) {
      // Usually invalid: the filled quantity, a fraction, the same values, or a trigger on a resting order.
      const bad = rng.int(4);
      if (bad === 0) amend.qty = view.qtyFilled > 0 ? view.qtyFilled : 1.5;
      else if (bad === 1) amend.price = market ? this.price() : -this.tick;
      else if (bad === 2) amend.qty = view.qtyFilled + view.qtyLeft;
      else amend.triggerPrice = view.pendingTrigger ? 0.5 : this.price();
    }
    if (amend.price === 0 && amend.qty === 0 && amend.triggerPrice === 0)
      amend.qty = view.qtyFilled + this.qty();
    amend.timeUs = this.time();
    return { kind: 'amend', amend };
  }
}
