/**
 * Writes the book as LOBSTER order-book rows (../shared/formats/lobster.md): `levels` groups of `ask price, ask
 * size, bid price, bid size`, best first, an empty level as 9999999999,0 (ask) or -9999999999,0 (bid). Digits
 * go straight into one reusable byte buffer; the buffer is handed to the sink when the next row might not fit,
 * and the sink must consume (or copy) it before returning. Most messages change nothing within the row's
 * depth (deep levels, hidden executions, trades, halts): then the last row's bytes are copied, not encoded.
 */
import type { LobsterBook } from './book.js';
import type { SideLevels } from './levels.js';
import {
  EMPTY_ASK_PRICE,
  EMPTY_BID_PRICE,
  INTEGER_CHARS_MAX,
  LEVELS_MAX,
  OUTPUT_BUFFER_BYTES,
} from './limits.js';

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const MINUS = 0x2d;
const ZERO = 0x30;
const EMPTY_ASK = new TextEncoder().encode(`${EMPTY_ASK_PRICE},0,`);
const EMPTY_BID = new TextEncoder().encode(`${EMPTY_BID_PRICE},0,`);

export type ByteSink = (bytes: Uint8Array) => void;

export class RowEncoder {
  private readonly buf = new Uint8Array(OUTPUT_BUFFER_BYTES);
  private len = 0;
  private readonly rowBytesMax: number;
  /** Where the last row is in `buf`, or -1 after a flush (then it is in `saved`). */
  private lastStart = -1;
  private lastEnd = 0;
  private readonly saved: Uint8Array;
  private savedLen = 0;
  /** Bytes handed to the sink so far. */
  bytesOut = 0;

  constructor(
    private readonly levels: number,
    private readonly sink: ByteSink,
  ) {
    if (!(Number.isInteger(levels) && levels >= 1 && levels <= LEVELS_MAX)) {
      throw new Error(`RowEncoder: levels ${levels} is not in 1..${LEVELS_MAX}`);
    }
    this.rowBytesMax = levels * 4 * (INTEGER_CHARS_MAX + 1);
    this.saved = new Uint8Array(this.rowBytesMax);
  }

  write(book: LobsterBook): void {
    if (this.len + this.rowBytesMax > this.buf.length) this.flush();
    const asks = book.asks;
    const bids = book.bids;
    const start = this.len;
    const unchanged = asks.touchedDepth >= this.levels && bids.touchedDepth >= this.levels;
    if (unchanged && this.lastStart >= 0) {
      this.buf.copyWithin(start, this.lastStart, this.lastEnd);
      this.len += this.lastEnd - this.lastStart;
    } else if (unchanged && this.savedLen > 0) {
      this.buf.set(this.saved.subarray(0, this.savedLen), start);
      this.len += this.savedLen;
    } else {
      for (let depth = 0; depth < this.levels; depth++) {
        this.level(asks, depth, EMPTY_ASK);
        this.level(bids, depth, EMPTY_BID);
      }
      // The last comma becomes the row's newline.
      this.buf[this.len - 1] = NEWLINE;
    }
    this.lastStart = start;
    this.lastEnd = this.len;
    asks.touchedDepth = Number.MAX_SAFE_INTEGER;
    bids.touchedDepth = Number.MAX_SAFE_INTEGER;
  }

  private level(side: SideLevels, depth: number, empty: Uint8Array): void {
    if (depth < side.count) {
      this.integer(side.price(depth));
      this.buf[this.len++] = COMMA;
      this.integer(side.size(depth));
      this.buf[this.len++] = COMMA;
    } else {
      this.buf.set(empty, this.len);
      this.len += empty.length;
    }
  }

  /** A safe integer in decimal. */
  private integer(n: number): void {
    const buf = this.buf;
    if (n < 0) {
      buf[this.len++] = MINUS;
      n = -n;
    }
    if (n <= 0x7fffffff) {
      // Int32 arithmetic, the common case (prices up to $214,748, sizes up to 2^31 - 1).
      let digits = 1;
      for (let t = n; t >= 10; t = (t / 10) | 0) digits++;
      let p = this.len + digits;
      this.len = p;
      do {
        const q = (n / 10) | 0;
        buf[--p] = ZERO + n - q * 10;
        n = q;
      } while (n > 0);
      return;
    }
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.len + digits;
    this.len = p;
    do {
      const d = n % 10;
      buf[--p] = ZERO + d;
      n = (n - d) / 10;
    } while (n > 0);
  }

  flush(): void {
    if (this.len === 0) return;
    if (this.lastStart >= 0) {
      this.saved.set(this.buf.subarray(this.lastStart, this.lastEnd));
      this.savedLen = this.lastEnd - this.lastStart;
      this.lastStart = -1;
    }
    this.sink(this.buf.subarray(0, this.len));
    this.bytesOut += this.len;
    this.len = 0;
  }
}
