/**
 * The rebuild over a byte stream, still without I/O: `push` chunks of a message file as they are read (lines
 * may straddle chunks), `finish` at the end. Each message is parsed, applied to the book, and the book written
 * as one order-book row to the sink. A malformed line throws LobsterFormatError naming it.
 */
import { LobsterBook } from './book.js';
import { LINE_BYTES_MAX } from './limits.js';
import { LobsterFormatError, MessageFields, MessageParser } from './parse.js';
import { LobsterReport, type LobsterReportJson } from './report.js';
import { RowEncoder, type ByteSink } from './rows.js';
import { seedBook, type BookRow } from './seed.js';

const NEWLINE = 0x0a;

export interface ReplayOptions {
  /** Levels per output row, 1..LEVELS_MAX. */
  levels: number;
  /** The initial order-book row (the book after the first message), for a file that starts mid-day. */
  seed?: BookRow | null;
  /** Receives the output rows, in pieces of whole rows; must consume or copy them before returning. */
  sink: ByteSink;
}

export class LobsterReplay {
  readonly report = new LobsterReport();
  readonly book = new LobsterBook(this.report);
  private readonly encoder: RowEncoder;
  private readonly parser = new MessageParser();
  private readonly fields = new MessageFields();
  private readonly carry = new Uint8Array(LINE_BYTES_MAX);
  private carryLen = 0;
  private line = 0;
  private seed: BookRow | null;

  constructor(options: ReplayOptions) {
    this.encoder = new RowEncoder(options.levels, options.sink);
    this.seed = options.seed ?? null;
  }

  /** Lines read so far. */
  get lines(): number {
    return this.line;
  }

  /** Output bytes handed to the sink so far. */
  get bytesOut(): number {
    return this.encoder.bytesOut;
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    if (this.carryLen > 0) {
      const nl = chunk.indexOf(NEWLINE);
      const to = nl < 0 ? chunk.length : nl;
      this.toCarry(chunk, 0, to);
      if (nl < 0) return;
      this.message(this.carry, 0, this.carryLen);
      this.carryLen = 0;
      pos = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, pos);
      if (nl < 0) break;
      if (nl - pos > LINE_BYTES_MAX) this.tooLong();
      this.message(chunk, pos, nl);
      pos = nl + 1;
    }
    this.toCarry(chunk, pos, chunk.length);
  }

  /** Applies a last line without a newline, hands on the remaining rows, and returns the report. */
  finish(): LobsterReportJson {
    if (this.carryLen > 0) this.message(this.carry, 0, this.carryLen);
    this.carryLen = 0;
    this.encoder.flush();
    return this.report.toJSON({ ordersOpen: this.book.ordersOpen, anonymousLeft: this.book.anonymousLeft() });
  }

  private toCarry(bytes: Uint8Array, from: number, to: number): void {
    if (this.carryLen + (to - from) > LINE_BYTES_MAX) this.tooLong();
    this.carry.set(bytes.subarray(from, to), this.carryLen);
    this.carryLen += to - from;
  }

  private tooLong(): never {
    throw new LobsterFormatError(this.line + 1, `line is longer than ${LINE_BYTES_MAX} bytes`);
  }

  private message(bytes: Uint8Array, start: number, end: number): void {
    const f = this.fields;
    this.parser.parse(bytes, start, end, ++this.line, f);
    this.report.line = this.line;
    if (this.seed !== null) {
      seedBook(this.book, this.seed, f, this.report);
      this.seed = null;
    }
    this.book.apply(f.timeNs, f.type, f.id, f.size, f.price, f.direction);
    this.encoder.write(this.book);
  }
}
