/**
 * Reader for the shared order-book workload files (LOBOPS01, see ../shared/bench/orderbook/FORMAT.md): a
 * 32-byte header, then records of five little-endian int32 (type, side, id, price, qty).
 */
import { readFileSync } from 'node:fs';

export const OpType = { Limit: 1, Market: 2, Cancel: 3, Move: 4, LimitIoc: 5 } as const;

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

const MAGIC = 'LOBOPS01';
const HEADER_BYTES = 32;
const RECORD_BYTES = 20;

export function readWorkload(path: string): Workload {
  const buf = readFileSync(path);
  if (buf.length < HEADER_BYTES || buf.toString('ascii', 0, 8) !== MAGIC) {
    throw new Error(`${path}: not a LOBOPS01 workload file`);
  }
  const count = buf.readUInt32LE(8);
  const recordBytes = buf.readUInt32LE(12);
  if (recordBytes !== RECORD_BYTES) throw new Error(`${path}: unsupported record size ${recordBytes}`);
  if (buf.length !== HEADER_BYTES + count * RECORD_BYTES) {
    throw new Error(`${path}: ${buf.length} bytes, expected ${HEADER_BYTES + count * RECORD_BYTES} for ${count} ops`);
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
    w.type[i] = buf.readInt32LE(o);
    w.side[i] = buf.readInt32LE(o + 4);
    w.id[i] = buf.readInt32LE(o + 8);
    w.price[i] = buf.readInt32LE(o + 12);
    w.qty[i] = buf.readInt32LE(o + 16);
  }
  return w;
}

/** The expected result of every operation (`NAME.expected.bin` beside `NAME.bin`), or undefined when absent. */
export function readExpected(opsPath: string): Int32Array | undefined {
  const path = opsPath.replace(/\.bin$/, '.expected.bin');
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return undefined;
  }
  const out = new Int32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt32LE(i * 4);
  return out;
}

export interface FinalBook {
  resting: number;
  bidLevels: number;
  askLevels: number;
  bidQty: number;
  askQty: number;
  bestBid: number | null;
  bestAsk: number | null;
}

/** `book.final` of `NAME.meta.json`, or undefined when absent. */
export function readExpectedFinalBook(opsPath: string): FinalBook | undefined {
  try {
    const meta = JSON.parse(readFileSync(opsPath.replace(/\.bin$/, '.meta.json'), 'utf8')) as {
      book?: { final?: FinalBook };
    };
    return meta.book?.final;
  } catch {
    return undefined;
  }
}
