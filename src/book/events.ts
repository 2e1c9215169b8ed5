/**
 * Book events, written into a flat Float64Array of fixed-width records so that matching allocates nothing.
 * The owner of the buffer (the core, a benchmark, a test) reads the records after each command and clears the
 * buffer; decodeEvent turns one record into a plain object where allocation does not matter.
 *
 * Record layout: 16 numbers. The first eight are common to all types; the rest depend on the type.
 */
import type { SnapshotReader, SnapshotWriter } from '../collections/index.js';
import type { BookReject, CommandKind } from './codes.js';
import type { CancelReason, OrderType, SelfTradePrevention, Side, TimeInForce } from './types.js';

export const EventType = {
  OrderAccepted: 1,
  OrderRejected: 2,
  TradeExecuted: 3,
  OrderPartiallyFilled: 4,
  OrderFilled: 5,
  OrderCancelled: 6,
  OrderReduced: 7,
  OrderExpired: 8,
  OrderTriggered: 9,
  OrderAmended: 10,
  LevelChanged: 11,
  TopOfBookChanged: 12,
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Record width in numbers. Also a module-local constant: V8 reads exported bindings through a cell. */
const STRIDE = 16;
export const EVENT_STRIDE = STRIDE;
// Common fields.
export const F_TYPE = 0;
export const F_SEQ = 1;
export const F_TIME = 2;
export const F_ORDER_ID = 3;
export const F_OWNER = 4;
export const F_SIDE = 5;
export const F_PRICE = 6;
export const F_QTY = 7;
// Type-specific fields.
export const F_A = 8;
export const F_B = 9;
export const F_C = 10;
export const F_D = 11;
export const F_E = 12;
export const F_F = 13;
/**
 * The order's slot in its book's pool (TradeExecuted: the taker's; F_MAKER_SLOT the maker's; -1 in a reject):
 * a handle valid from the order's acceptance until it ends, so a consumer that keeps its own columns per order
 * (the core) finds them without hashing the id again. Slots follow from the commands alone: deterministic.
 */
export const F_SLOT = 14;
export const F_MAKER_SLOT = F_F;
/**
 * OrderRejected of a place: the order's type and time in force as the command gave them, so that a rejected
 * order shows what was asked for (0 in the rejects of other commands).
 */
export const F_REJECTED_TYPE = F_C;
export const F_REJECTED_TIF = F_D;

const EVENTS_INITIAL = 1024;
const EVENTS_MAX = 1 << 26;
/** Every record offset below EVENTS_MAX * STRIDE (2^30), a multiple of STRIDE. */
const AT_MASK = 0x3ffffff0;

export class EventBuffer {
  // Defined by the constructor's assignment (declare), not as an ES2022 class field, which would be undefined
  // first: V8 would then not know that it holds a Float64Array and check its map at every record written.
  declare data: Float64Array;
  /** Number of records written since the last clear. */
  count = 0;

  constructor(capacityEvents: number = EVENTS_INITIAL) {
    this.data = new Float64Array(Math.max(16, capacityEvents) * STRIDE);
  }

  clear(): void {
    this.count = 0;
  }

  /** Reserves the next record and returns its offset. Re-read `data` after calling: it may have grown. */
  reserve(): number {
    // The mask changes nothing (count * STRIDE stays below 2^30), but it tells the compiler so: the book's writes
    // at `at + field` then need no overflow check.
    const at = (this.count * STRIDE) & AT_MASK;
    if (at + STRIDE > this.data.length) this.grow();
    this.count++;
    return at;
  }

  type(i: number): EventType {
    return this.data[i * STRIDE + F_TYPE] as EventType;
  }

  field(i: number, f: number): number {
    return this.data[i * STRIDE + f];
  }

  /**
   * Writes the buffer as it is: its records, and the bytes of earlier records beyond them, up to the last
   * non-zero one. Those bytes are not state, but they are not noise either: a record leaves the fields its type
   * does not use as they were, so the bytes of the next records depend on them. A buffer restored with them
   * makes the same bytes as the one that never stopped.
   */
  writeSnapshot(w: SnapshotWriter): void {
    const words = new Int32Array(this.data.buffer, this.data.byteOffset, this.data.length * 2);
    let end = words.length;
    while (end > 0 && words[end - 1] === 0) end--;
    const used = Math.max(this.count, Math.ceil(end / (2 * STRIDE)));
    w.tag('EVTS');
    w.u32(this.data.length / STRIDE);
    w.u32(this.count);
    w.f64s(this.data, used * STRIDE);
  }

  /** Replaces the buffer's records and contents with those written by writeSnapshot. */
  readSnapshot(r: SnapshotReader): void {
    r.tag('EVTS');
    const capacity = r.count('event capacity', EVENTS_MAX);
    if (capacity < 1) r.fail('event buffer of no capacity');
    const count = r.count('events', capacity);
    const data = new Float64Array(capacity * STRIDE);
    const used = r.f64sInto(data, 'event records');
    if (used % STRIDE !== 0 || used < count * STRIDE) r.fail(`event records of ${used} numbers for ${count}`);
    this.data = data;
    this.count = count;
  }

  private grow(): void {
    const events = this.data.length / STRIDE;
    // A single command can emit an event per order in the book (a mass cancel), so the buffer grows; the cap
    // stops a runaway loop from eating the machine instead of failing loudly.
    if (events * 2 > EVENTS_MAX) throw new Error(`event buffer exceeds ${EVENTS_MAX} events`);
    const bigger = new Float64Array(this.data.length * 2);
    bigger.set(this.data);
    this.data = bigger;
  }
}

interface EventBase {
  seq: number;
  timeUs: number;
}
interface OrderEventBase extends EventBase {
  orderId: number;
  owner: number;
  side: Side;
}
export interface OrderAccepted extends OrderEventBase {
  type: 'OrderAccepted';
  orderType: OrderType;
  tif: TimeInForce;
  price: number;
  qty: number;
  triggerPrice: number;
  displayQty: number;
  expireTimeUs: number;
  postOnly: boolean;
  stp: SelfTradePrevention;
}
export interface OrderRejected extends OrderEventBase {
  type: 'OrderRejected';
  command: CommandKind;
  code: BookReject;
  price: number;
  qty: number;
  /** A refused place's type and time in force as the command gave them; 0 for other commands. */
  orderType: number;
  tif: number;
}
export interface TradeExecuted extends EventBase {
  type: 'TradeExecuted';
  tradeId: number;
  price: number;
  qty: number;
  aggressorSide: Side;
  takerOrderId: number;
  takerOwner: number;
  makerOrderId: number;
  makerOwner: number;
  takerQtyLeft: number;
  makerQtyLeft: number;
}
export interface OrderFill extends OrderEventBase {
  type: 'OrderPartiallyFilled' | 'OrderFilled';
  /** Fill price and quantity of this one fill. */
  price: number;
  qty: number;
  qtyLeft: number;
  qtyFilled: number;
  tradeId: number;
  maker: boolean;
}
export interface OrderCancelled extends OrderEventBase {
  type: 'OrderCancelled';
  price: number;
  /** The remaining quantity that was cancelled. */
  qty: number;
  qtyFilled: number;
  reason: CancelReason;
}
export interface OrderReduced extends OrderEventBase {
  type: 'OrderReduced';
  price: number;
  /** The quantity taken off; the order stays live with qtyLeft. */
  qty: number;
  qtyLeft: number;
  reason: CancelReason;
}
export interface OrderExpired extends OrderEventBase {
  type: 'OrderExpired';
  price: number;
  qty: number;
  qtyFilled: number;
}
export interface OrderTriggered extends OrderEventBase {
  type: 'OrderTriggered';
  price: number;
  qty: number;
  triggerPrice: number;
  lastTradePrice: number;
}
export interface OrderAmended extends OrderEventBase {
  type: 'OrderAmended';
  price: number;
  /** New remaining quantity. */
  qty: number;
  oldPrice: number;
  oldQtyLeft: number;
  triggerPrice: number;
  priorityKept: boolean;
}
export interface LevelChanged extends EventBase {
  type: 'LevelChanged';
  side: Side;
  price: number;
  /** Total visible quantity; 0 with orders 0 when the level is gone. */
  qty: number;
  orders: number;
}
export interface TopOfBookChanged extends EventBase {
  type: 'TopOfBookChanged';
  bidPrice: number;
  bidQty: number;
  askPrice: number;
  askQty: number;
}

export type BookEvent =
  | OrderAccepted
  | OrderRejected
  | TradeExecuted
  | OrderFill
  | OrderCancelled
  | OrderReduced
  | OrderExpired
  | OrderTriggered
  | OrderAmended
  | LevelChanged
  | TopOfBookChanged;

/** Decodes record `i` of `buf` into a plain object. */
export function decodeEvent(buf: EventBuffer, i: number): BookEvent {
  const d = buf.data;
  const o = i * EVENT_STRIDE;
  const type = d[o + F_TYPE];
  const seq = d[o + F_SEQ];
  const timeUs = d[o + F_TIME];
  const order = {
    seq,
    timeUs,
    orderId: d[o + F_ORDER_ID],
    owner: d[o + F_OWNER],
    side: d[o + F_SIDE] as Side,
  };
  switch (type) {
    case EventType.OrderAccepted:
      return {
        type: 'OrderAccepted',
        ...order,
        price: d[o + F_PRICE],
        qty: d[o + F_QTY],
        orderType: d[o + F_A] as OrderType,
        tif: d[o + F_B] as TimeInForce,
        triggerPrice: d[o + F_C],
        displayQty: d[o + F_D],
        expireTimeUs: d[o + F_E],
        postOnly: (d[o + F_F] & 1) === 1,
        stp: (d[o + F_F] >> 1) as SelfTradePrevention,
      };
    case EventType.OrderRejected:
      return {
        type: 'OrderRejected',
        ...order,
        price: d[o + F_PRICE],
        qty: d[o + F_QTY],
        code: d[o + F_A] as BookReject,
        command: d[o + F_B] as CommandKind,
        orderType: d[o + F_REJECTED_TYPE],
        tif: d[o + F_REJECTED_TIF],
      };
    case EventType.TradeExecuted:
      return {
        type: 'TradeExecuted',
        seq,
        timeUs,
        tradeId: d[o + F_A],
        price: d[o + F_PRICE],
        qty: d[o + F_QTY],
        aggressorSide: d[o + F_SIDE] as Side,
        takerOrderId: d[o + F_ORDER_ID],
        takerOwner: d[o + F_OWNER],
        makerOrderId: d[o + F_B],
        makerOwner: d[o + F_C],
        takerQtyLeft: d[o + F_D],
        makerQtyLeft: d[o + F_E],
      };
    case EventType.OrderPartiallyFilled:
    case EventType.OrderFilled:
      return {
        type: type === EventType.OrderFilled ? 'OrderFilled' : 'OrderPartiallyFilled',
        ...order,
        price: d[o + F_PRICE],
        qty: d[o + F_QTY],
        qtyLeft: d[o + F_A],
        qtyFilled: d[o + F_B],
        tradeId: d[o + F_C],
        maker: d[o + F_D] === 1,
      };
    default:
      return decodeRest(d, o, type, order);
  }
}

function decodeRest(d: Float64Array, o: number, type: number, order: OrderEventBase): BookEvent {
  const { seq, timeUs } = order;
  switch (type) {
    case EventType.OrderCancelled:
      return {
        type: 'OrderCancelled',
        ...order,
        price: d[o + F_PRICE],
        qty: d[o + F_QTY],
        qtyFilled: d[o + F_A],
        reason: d[o + F_B] as CancelReason,
      };
    case EventType.OrderReduced:
      return {
        type: 'OrderReduced',
        ...order,
        price: d[o + F_PRICE],
        qty: d[o + F_QTY],
        qtyLeft: d[o + F_A],
        reason: d[o + F_B] as CancelReason,
      };
    case EventType.OrderExpired:
      return {
        type: 'OrderExpired',
        ...order,
        price: d[o + F_PRICE],
        qty: d[o + F_QTY],
        qtyFilled: d[o + F_A],
      };
    case EventType.OrderTriggered:
      return {
        type: 'OrderTriggered',
        ...order,
        price: d[o + F_PRICE],
        qty: d[o + F_QTY],
        triggerPrice: d[o + F_A],
        lastTradePrice: d[o + F_B],
      };
    case EventType.OrderAmended:
      return {
        type: 'OrderAmended',
        ...order,
        price: d[o + F_PRICE],
        qty: d[o + F_QTY],
        oldPrice: d[o + F_A],
        oldQtyLeft: d[o + F_B],
        triggerPrice: d[o + F_C],
        priorityKept: d[o + F_D] === 1,
      };
    case EventType.LevelChanged:
      return {
        type: 'LevelChanged',
        seq,
        timeUs,
        side: d[o + F_SIDE] as Side,
        price: d[o + F_PRICE],
        qty: d[o + F_QTY],
        orders: d[o + F_A],
      };
    case EventType.TopOfBookChanged:
      return {
        type: 'TopOfBookChanged',
        seq,
        timeUs,
        bidPrice: d[o + F_A],
        bidQty: d[o + F_B],
        askPrice: d[o + F_C],
        askQty: d[o + F_D],
      };
    default:
      throw new Error(`unknown book event type ${type} at record ${o / EVENT_STRIDE}`);
  }
}

/** Decodes every record in the buffer. */
export function decodeEvents(buf: EventBuffer): BookEvent[] {
  const out: BookEvent[] = [];
  for (let i = 0; i < buf.count; i++) out.push(decodeEvent(buf, i));
  return out;
}
