/**
 * The LOBSTER order book rebuild, without I/O: applies one message at a time (the seven types of
 * ../shared/formats/lobster.md) to a price-level book that tracks every order it saw submitted (id → price,
 * side, remaining size) and an anonymous quantity per level for orders that rested before the first message.
 * A reference to an unknown order id acts on the anonymous quantity at its price. Whatever does not fit (see
 * the issue codes in report.ts and docs/marketdata.md) is counted in the report, with examples, and applied in
 * the documented way or skipped; the book itself never becomes inconsistent (levels are never negative, and a
 * level always holds at least its orders' quantity).
 *
 * Hot path: numbers only. Orders live in typed-array columns indexed by a slot from an IntMap; freed slots are
 * reused; nothing is allocated per message except a kept example's reason.
 */
import { growFloat64, growInt32, growUint8, IntMap } from '../../collections/index.js';
import { EMPTY_ASK_PRICE } from './limits.js';
import { SideLevels } from './levels.js';
import { Issue, type LobsterReport } from './report.js';

/** The message types of the format. */
export const MessageType = {
  Submit: 1,
  Cancel: 2,
  Delete: 3,
  Execute: 4,
  ExecuteHidden: 5,
  Cross: 6,
  Halt: 7,
} as const;

/** Sides as stored: 0 bid (direction 1, buy), 1 ask (direction -1, sell). */
const BID = 0;
const ASK = 1;
const INITIAL_ORDERS = 1 << 12;

const sideName = (side: number): string => (side === BID ? 'buy' : 'sell');

export class LobsterBook {
  readonly bids = new SideLevels(false);
  readonly asks = new SideLevels(true);
  private readonly slotOf = new IntMap(INITIAL_ORDERS);
  private orderPrice = new Float64Array(INITIAL_ORDERS);
  private orderLeft = new Float64Array(INITIAL_ORDERS);
  private orderSide = new Uint8Array(INITIAL_ORDERS);
  private freeSlots = new Int32Array(INITIAL_ORDERS);
  private freeCount = 0;
  private slotsUsed = 0;
  private lastTimeNs = -1;
  private crossed = false;

  constructor(private readonly report: LobsterReport) {}

  get ordersOpen(): number {
    return this.slotOf.size;
  }

  /** Adds anonymous quantity at a level (seeding from an order-book row); `direction` 1 bid, -1 ask. */
  seed(direction: number, price: number, qty: number): void {
    if (!(direction === 1 || direction === -1)) throw new Error(`seed: direction ${direction}`);
    this.levels(direction === 1 ? BID : ASK).add(price, qty, true);
  }

  private levels(side: number): SideLevels {
    return side === BID ? this.bids : this.asks;
  }

  /** Applies one message (fields as in the file; time in integer nanoseconds after midnight). */
  apply(timeNs: number, type: number, id: number, size: number, price: number, direction: number): void {
    const report = this.report;
    report.messages++;
    report.byType[type]++;
    if (timeNs < this.lastTimeNs && report.note(Issue.TIME_BACKWARDS)) {
      report.example(Issue.TIME_BACKWARDS, `time ${timeNs / 1e9} s is before the previous message's`);
    }
    this.lastTimeNs = timeNs;
    if (type >= MessageType.ExecuteHidden) {
      // Hidden executions and cross trades leave the visible book alone; so do halts, once checked.
      if (type === MessageType.Halt && !(price === -1 || price === 0 || price === 1)) {
        report.add(Issue.BAD_HALT_PRICE, `halt with price ${price} (expected -1, 0 or 1)`);
      }
      return;
    }
    if (!this.fieldsValid(size, price, direction)) {
      report.skipped++;
      return;
    }
    const side = direction === 1 ? BID : ASK;
    if (type === MessageType.Submit) this.submit(id, size, price, side);
    else {
      const slot = this.slotOf.get(id);
      if (slot >= 0) this.reduceOrder(type, id, slot, size, price, side);
      else this.reduceAnonymous(id, size, price, side);
    }
    this.checkCrossed();
  }

  private fieldsValid(size: number, price: number, direction: number): boolean {
    const report = this.report;
    if (!(direction === 1 || direction === -1)) {
      report.add(Issue.BAD_DIRECTION, `direction ${direction} (expected 1 buy or -1 sell)`);
      return false;
    }
    if (!(size > 0)) {
      report.add(Issue.BAD_SIZE, `size ${size} is not positive`);
      return false;
    }
    if (!(price > 0 && price < EMPTY_ASK_PRICE)) {
      report.add(Issue.BAD_PRICE, `price ${price} is not in 1..${EMPTY_ASK_PRICE - 1}`);
      return false;
    }
    return true;
  }

  private submit(id: number, size: number, price: number, side: number): void {
    if (this.slotOf.has(id)) {
      this.report.add(Issue.DUPLICATE_ORDER, `order ${id} is submitted again while it rests; skipped`);
      this.report.skipped++;
      return;
    }
    const slot = this.allocateSlot();
    this.slotOf.set(id, slot);
    this.orderPrice[slot] = price;
    this.orderLeft[slot] = size;
    this.orderSide[slot] = side;
    this.levels(side).add(price, size, false);
  }

  /** A cancel, delete or execution of a known order: applied to the order where it rests. */
  private reduceOrder(
    type: number,
    id: number,
    slot: number,
    size: number,
    price: number,
    side: number,
  ): void {
    const report = this.report;
    const restingPrice = this.orderPrice[slot];
    const restingSide = this.orderSide[slot];
    const left = this.orderLeft[slot];
    if (restingPrice !== price && report.note(Issue.PRICE_MISMATCH)) {
      report.example(Issue.PRICE_MISMATCH, `order ${id} rests at ${restingPrice}, message says ${price}`);
    }
    if (restingSide !== side && report.note(Issue.SIDE_MISMATCH)) {
      report.example(
        Issue.SIDE_MISMATCH,
        `order ${id} is a ${sideName(restingSide)} order, message says ${sideName(side)}`,
      );
    }
    let taken = size;
    if (type === MessageType.Delete) {
      if (size !== left && report.note(Issue.DELETE_SIZE_MISMATCH)) {
        report.example(Issue.DELETE_SIZE_MISMATCH, `delete of order ${id} for ${size}, it has ${left} left`);
      }
      taken = left;
    } else if (size > left) {
      const issue = type === MessageType.Cancel ? Issue.CANCEL_EXCEEDS_ORDER : Issue.EXECUTION_EXCEEDS_ORDER;
      if (report.note(issue)) {
        const what = type === MessageType.Cancel ? 'cancel' : 'execution';
        report.example(issue, `${what} of ${size} from order ${id}, which has ${left} left`);
      }
      taken = left;
    }
    this.levels(restingSide).removeAttributed(restingPrice, taken);
    if (taken === left) this.freeOrder(id, slot);
    else this.orderLeft[slot] = left - taken;
  }

  /** A cancel, delete or execution of an order id never seen: taken from the anonymous quantity at its price. */
  private reduceAnonymous(id: number, size: number, price: number, side: number): void {
    const report = this.report;
    const taken = this.levels(side).removeAnonymous(price, size);
    if (taken === 0) {
      if (report.note(Issue.UNKNOWN_ORDER_NO_ANONYMOUS)) {
        report.example(
          Issue.UNKNOWN_ORDER_NO_ANONYMOUS,
          `order ${id} is unknown and there is no anonymous ${sideName(side)} quantity at ${price}; skipped`,
        );
      }
      report.skipped++;
      return;
    }
    report.anonymousApplied++;
    if (taken < size && report.note(Issue.UNKNOWN_ORDER_EXCEEDS_ANONYMOUS)) {
      report.example(
        Issue.UNKNOWN_ORDER_EXCEEDS_ANONYMOUS,
        `order ${id} is unknown; ${size} asked of the anonymous ${sideName(side)} quantity at ${price}, ` +
          `${taken} there (all taken)`,
      );
    }
  }

  private checkCrossed(): void {
    const crossed = this.bids.count > 0 && this.asks.count > 0 && this.bids.price(0) >= this.asks.price(0);
    if (crossed && !this.crossed) {
      this.report.add(
        Issue.CROSSED_BOOK,
        `best bid ${this.bids.price(0)} is at or above best ask ${this.asks.price(0)} (kept as is)`,
      );
    }
    this.crossed = crossed;
  }

  private allocateSlot(): number {
    if (this.freeCount > 0) return this.freeSlots[--this.freeCount];
    if (this.slotsUsed === this.orderPrice.length) {
      const n = this.orderPrice.length * 2;
      this.orderPrice = growFloat64(this.orderPrice, n);
      this.orderLeft = growFloat64(this.orderLeft, n);
      this.orderSide = growUint8(this.orderSide, n);
      this.freeSlots = growInt32(this.freeSlots, n);
    }
    return this.slotsUsed++;
  }

  private freeOrder(id: number, slot: number): void {
    this.slotOf.delete(id);
    this.orderLeft[slot] = 0;
    this.freeSlots[this.freeCount++] = slot;
  }

  anonymousLeft(): number {
    return this.bids.anonymousTotal() + this.asks.anonymousTotal();
  }
}
