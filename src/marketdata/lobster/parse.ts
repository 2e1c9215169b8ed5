/**
 * Parsing of message lines straight from bytes, without making strings: `time,type,order id,size,price,
 * direction` (../shared/formats/lobster.md). A line that is not six numbers, or whose type is not 1..7, is
 * malformed: a LobsterFormatError naming the line, and the rebuild stops ("corrupt data is worse than no
 * data"). Values that parse but make no sense (a direction of 0, a negative size) are not malformed: the book
 * reports them as issues.
 */
import { INTEGER_DIGITS_MAX, TIME_DECIMALS_MAX, TIME_SECONDS_DIGITS_MAX } from './limits.js';

export class LobsterFormatError extends Error {
  override name = 'LobsterFormatError';
  /** `line` is 1-based. */
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const CR = 0x0d;
const COLUMNS = ['time', 'type', 'order id', 'size', 'price', 'direction'] as const;

/** The fields of the last parsed line (one reused record: the hot loop allocates nothing). */
export class MessageFields {
  timeNs = 0;
  type = 0;
  id = 0;
  size = 0;
  price = 0;
  direction = 0;
}

/** 10^(9 - decimals): what a fraction of `decimals` digits is worth in nanoseconds. */
const FRACTION_SCALE = Float64Array.from(
  { length: TIME_DECIMALS_MAX + 1 },
  (_, d) => 10 ** (TIME_DECIMALS_MAX - d),
);

const isDigit = (b: number): boolean => b >= ZERO && b <= ZERO + 9;

/** The bytes as text, for an error message (cut short when long). */
function shown(bytes: Uint8Array, start: number, end: number): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(end - start, 60)).toString(
    'latin1',
  );
  return JSON.stringify(end - start > 60 ? text + '…' : text);
}

export class MessageParser {
  private start = 0;
  private pos = 0;
  private end = 0;
  private line = 0;
  private bytes: Uint8Array = new Uint8Array(0);

  /** Parses `bytes[start, end)` (a line without its newline; a trailing CR is allowed) into `out`. */
  parse(bytes: Uint8Array, start: number, end: number, line: number, out: MessageFields): void {
    if (end > start && bytes[end - 1] === CR) end--;
    this.bytes = bytes;
    this.start = start;
    this.pos = start;
    this.end = end;
    this.line = line;
    const columns = this.countColumns(start, end);
    if (columns !== COLUMNS.length) {
      const text = end === start ? 'an empty line' : `${columns} in ${shown(bytes, start, end)}`;
      throw new LobsterFormatError(line, `expected 6 columns (${COLUMNS.join(', ')}), found ${text}`);
    }
    out.timeNs = this.time();
    out.type = this.integer(1);
    if (!(out.type >= 1 && out.type <= 7)) {
      throw new LobsterFormatError(line, `type ${out.type} is not a message type (1..7)`);
    }
    out.id = this.integer(2);
    if (out.id < 0) throw new LobsterFormatError(line, `order id ${out.id} is negative`);
    out.size = this.integer(3);
    out.price = this.integer(4);
    out.direction = this.integer(5);
  }

  private countColumns(start: number, end: number): number {
    if (end === start) return 0;
    let n = 1;
    for (let i = start; i < end; i++) if (this.bytes[i] === COMMA) n++;
    return n;
  }

  private fail(column: number, what: string): never {
    let s = this.pos;
    while (s > this.start && this.bytes[s - 1] !== COMMA) s--;
    let e = this.pos;
    while (e < this.end && this.bytes[e] !== COMMA) e++;
    throw new LobsterFormatError(
      this.line,
      `column ${column + 1} (${COLUMNS[column]}) is not ${what}: ${shown(this.bytes, s, e)}`,
    );
  }

  /** Steps over the comma after a column, or checks the line ends after the last one. */
  private separator(column: number, what: string): void {
    if (column === COLUMNS.length - 1) {
      if (this.pos !== this.end) this.fail(column, what);
    } else {
      if (this.bytes[this.pos] !== COMMA) this.fail(column, what);
      this.pos++;
    }
  }

  private integer(column: number): number {
    const bytes = this.bytes;
    const what = 'a whole number';
    let negative = false;
    if (bytes[this.pos] === MINUS) {
      negative = true;
      this.pos++;
    }
    const first = this.pos;
    let n = 0;
    while (this.pos < this.end && isDigit(bytes[this.pos])) n = n * 10 + (bytes[this.pos++] - ZERO);
    const digits = this.pos - first;
    if (digits === 0) this.fail(column, what);
    if (digits > INTEGER_DIGITS_MAX)
      this.fail(column, `a whole number of at most ${INTEGER_DIGITS_MAX} digits`);
    this.separator(column, what);
    return negative ? -n : n;
  }

  /** Seconds after midnight with up to nanosecond decimals, as integer nanoseconds. */
  private time(): number {
    const bytes = this.bytes;
    const what = 'a time in seconds (up to 9 decimals)';
    const first = this.pos;
    let seconds = 0;
    while (this.pos < this.end && isDigit(bytes[this.pos]))
      seconds = seconds * 10 + (bytes[this.pos++] - ZERO);
    const digits = this.pos - first;
    if (digits === 0 || digits > TIME_SECONDS_DIGITS_MAX) this.fail(0, what);
    let fraction = 0;
    let decimals = 0;
    if (bytes[this.pos] === DOT) {
      this.pos++;
      while (this.pos < this.end && isDigit(bytes[this.pos])) {
        if (++decimals > TIME_DECIMALS_MAX) this.fail(0, what);
        fraction = fraction * 10 + (bytes[this.pos++] - ZERO);
      }
      if (decimals === 0) this.fail(0, what);
    }
    this.separator(0, what);
    return seconds * 1e9 + fraction * FRACTION_SCALE[decimals];
  }
}
