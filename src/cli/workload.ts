/**
 * Reader and replayer for the shared order-book workload files (LOBOPS01, see
 * ../shared/bench/orderbook/FORMAT.md). The file is checked as it is read: a workload that is not what the
 * format says stops the replay with the file and the record at fault, rather than producing numbers on doubt.
 *
 * The benchmark (bench/book.ts) uses this reader too.
 */
import { readFileSync } from 'node:fs';
import * as book from '../book/index.js';
import { EventBuffer, OrderBook, newPlaceOrder, type AmendOrder, type Side } from '../book/index.js';

// Module-local copies of imported constants, which V8 compiles to immediates in the replay loop (an imported
// binding is read through its module cell on every use; see src/book/order-book.ts).
const ANY_OWNER = book.ANY_OWNER;
const OrderType = Object.freeze({ ...book.OrderType });
const TimeInForce = Object.freeze({ ...book.TimeInForce });

/** Operation types of the format. */
export const OpType = { Limit: 1, Market: 2, Cancel: 3, Move: 4, LimitIoc: 5 } as const;
export type OpType = (typeof OpType)[keyof typeof OpType];

const MAGIC = 'LOBOPS01';
const HEADER_BYTES = 32;
const RECORD_BYTES = 20;
const RESULT_BYTES = 4;
/** Order slots the replay book starts with: the shared profiles keep a few thousand orders resting. */
const REPLAY_CAPACITY_ORDERS = 16384;

/** A workload file that cannot be read or is not what the format says. Its message names the file. */
export class WorkloadError extends Error {
  override name = 'WorkloadError';
}

export interface Workload {
  count: number;
  seed: number;
  initialMid: number;
  type: Int32Array;
  side: Int32Array;
  id: Int32Array;
  price: Int32Array;
  qty: Int32Array;
}

function readBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(err);
    throw new WorkloadError(`cannot read ${what} ${path}: ${reason}`);
  }
}

export function readWorkload(path: string): Workload {
  const buf = readBytes(path, 'workload');
  if (buf.length < HEADER_BYTES || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new WorkloadError(`${path}: not a ${MAGIC} workload file (bad header)`);
  }
  const count = buf.readUInt32LE(8);
  const recordBytes = buf.readUInt32LE(12);
  if (recordBytes !== RECORD_BYTES) {
    throw new WorkloadError(`${path}: record size ${recordBytes}, this reader supports ${RECORD_BYTES}`);
  }
  const bytesExpected = HEADER_BYTES + count * RECORD_BYTES;
  if (buf.length !== bytesExpected) {
    throw new WorkloadError(
      `${path}: ${buf.length} bytes, expected ${bytesExpected} for ${count} operations`,
    );
  }
  const w: Workload = {
    count,
    seed: buf.readUInt32LE(16),
    initialMid: buf.readInt32LE(20),
    type: new Int32Array(count),
    side: new Int32Array(count),
    id: new Int32Array(count),
    price: new Int32Array(count),
    qty: new Int32Array(count),
  };
  for (let i = 0, o = HEADER_BYTES; i < count; i++, o += RECORD_BYTES) {
    const type = buf.readInt32LE(o);
    const side = buf.readInt32LE(o + 4);
    const id = buf.readInt32LE(o + 8);
    if (type < OpType.Limit || type > OpType.LimitIoc) throw recordError(path, i, `unknown type ${type}`);
    if (side !== 0 && side !== 1) throw recordError(path, i, `side ${side} is neither 0 nor 1`);
    if (id <= 0) throw recordError(path, i, `order id ${id} is not positive`);
    w.type[i] = type;
    w.side[i] = side;
    w.id[i] = id;
    w.price[i] = buf.readInt32LE(o + 12);
    w.qty[i] = buf.readInt32LE(o + 16);
  }
  return w;
}

function recordError(path: string, i: number, problem: string): WorkloadError {
  return new WorkloadError(`${path}: operation ${i} (byte ${HEADER_BYTES + i * RECORD_BYTES}): ${problem}`);
}

/** `NAME.expected.bin` for `NAME.bin`. */
export function expectedPathOf(opsPath: string): string {
  return opsPath.endsWith('.bin')
    ? opsPath.slice(0, -'.bin'.length) + '.expected.bin'
    : opsPath + '.expected.bin';
}

/** The expected result of each of `count` operations: one little-endian int32 each. */
export function readExpected(path: string, count: number): Int32Array {
  const buf = readBytes(path, 'expected results');
  if (buf.length !== count * RESULT_BYTES) {
    throw new WorkloadError(
      `${path}: ${buf.length} bytes, expected ${count * RESULT_BYTES} (one int32 for each of ${count} operations)`,
    );
  }
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = buf.readInt32LE(i * RESULT_BYTES);
  return out;
}

export interface Replayer {
  book: OrderBook;
  events: EventBuffer;
  /** Applies operation `i` and returns its result as FORMAT.md defines it. */
  step(i: number): number;
}

/**
 * Drives a fresh OrderBook with `w`, one operation at a time, reusing one command object of each kind so that
 * the replay itself allocates nothing. Every order belongs to owner 1; cancels and moves act as the operator.
 */
export function makeReplayer(w: Workload): Replayer {
  const events = new EventBuffer(4096);
  const book = new OrderBook(events, { capacityOrders: REPLAY_CAPACITY_ORDERS });
  const place = newPlaceOrder();
  place.owner = 1;
  const amend: AmendOrder = { orderId: 0, owner: ANY_OWNER, price: 0, qty: 0, triggerPrice: 0, timeUs: 0 };
  // One record of five int32 per operation, as in the file: the replay reads one stream, not five.
  const ops = new Int32Array(w.count * 5);
  for (let i = 0; i < w.count; i++) {
    ops[5 * i] = w.type[i];
    ops[5 * i + 1] = w.side[i];
    ops[5 * i + 2] = w.id[i];
    ops[5 * i + 3] = w.price[i];
    ops[5 * i + 4] = w.qty[i];
  }

  function placeOp(o: number, orderType: book.OrderType, tif: book.TimeInForce, px: number): number {
    place.orderId = ops[o + 2];
    place.side = ops[o + 1] as Side;
    place.type = orderType;
    place.tif = tif;
    place.price = px;
    place.qty = ops[o + 4];
    return book.place(place);
  }

  function step(i: number): number {
    events.clear();
    const o = 5 * i;
    switch (ops[o]) {
      case OpType.Limit:
        return placeOp(o, OrderType.Limit, TimeInForce.GTC, ops[o + 3]);
      case OpType.Market:
        return placeOp(o, OrderType.Market, TimeInForce.IOC, 0);
      case OpType.Cancel:
        return book.cancel(ops[o + 2], ANY_OWNER, 0);
      case OpType.Move:
        amend.orderId = ops[o + 2];
        amend.price = ops[o + 3];
        return book.amend(amend);
      case OpType.LimitIoc:
        return placeOp(o, OrderType.Limit, TimeInForce.IOC, ops[o + 3]);
      default:
        // readWorkload rejects unknown types, so this is a broken invariant rather than bad input.
        throw new Error(`operation ${i}: unknown type ${ops[o]}`);
    }
  }
  return { book, events, step };
}

/** The book summarised as a workload's NAME.meta.json `book.final` is. */
export interface FinalBook {
  resting: number;
  bidLevels: number;
  askLevels: number;
  bidQty: number;
  askQty: number;
  bestBid: number | null;
  bestAsk: number | null;
}

const FINAL_BOOK_KEYS: readonly (keyof FinalBook)[] = [
  'resting',
  'bidLevels',
  'askLevels',
  'bidQty',
  'askQty',
  'bestBid',
  'bestAsk',
];

/** `book.final` of NAME.meta.json beside NAME.bin, or undefined when there is no such file. */
export function readExpectedFinalBook(opsPath: string): FinalBook | undefined {
  const path = opsPath.endsWith('.bin')
    ? opsPath.slice(0, -'.bin'.length) + '.meta.json'
    : opsPath + '.meta.json';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const meta = JSON.parse(text) as { book?: { final?: FinalBook } };
  const final = meta.book?.final;
  if (!final || FINAL_BOOK_KEYS.some((k) => !(k in final))) throw new WorkloadError(`${path}: no book.final`);
  return final;
}

export function finalBookOf(book: OrderBook): FinalBook {
  const bids = book.depth(0, Infinity);
  const asks = book.depth(1, Infinity);
  return {
    resting: book.orderCount,
    bidLevels: bids.length,
    askLevels: asks.length,
    bidQty: bids.reduce((a, l) => a + l.qty, 0),
    askQty: asks.reduce((a, l) => a + l.qty, 0),
    bestBid: bids.length ? bids[0].price : null,
    bestAsk: asks.length ? asks[0].price : null,
  };
}

export function sameFinalBook(a: FinalBook, b: FinalBook): boolean {
  return FINAL_BOOK_KEYS.every((k) => a[k] === b[k]);
}
