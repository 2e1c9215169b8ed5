/**
 * The audit projection's COPY text of a line (one `audit_events` row, log.ts) read straight off the line's
 * canonical JSON, without parsing it into an event and writing its details again. Every line the venue writes
 * is canonical (keys in one known order, no white space: event.ts), so its columns are slices of the text.
 * Parsing the line (JSON.parse, the event's checks) and writing its details' canonical JSON again was about
 * two thirds of the projection's cost on the venue's main thread (docs/performance.md, bg-pglite).
 *
 * It takes only what it can read exactly as the general path (log.ts: `eventOfJson`, then `canonicalJson` of
 * the details) would, and gives null for anything else (another order of keys, white space, a number in
 * another form, details that are not a flat object of strings, integers, booleans and nulls in canonical
 * order, a raw control character): the caller then takes the general path. For a line it takes, the text is the same as
 * the general path's (test/audit/copy-row.test.ts checks this on generated events).
 */
import { RESULT_STATUSES, canonicalJson } from './event.js';
import { eventOfJson } from './file.js';

/** COPY text's special characters: the escape itself and the row and column separators. */
const COPY_SPECIAL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** A column's value in COPY's text format (`\N` for null, the special characters escaped). */
export const copyField = (v: string | number | null): string =>
  v === null ? '\\N' : typeof v === 'number' ? String(v) : v.replace(COPY_SPECIAL, (c) => COPY_ESCAPES[c]);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;

/** A failed read: the line is not in the form this reader takes (the general path decides). */
const NOT_CANONICAL = null;

/** A left-to-right reader of one canonical event's JSON. */
class Reader {
  at = 0;
  /** Whether the last string read held an escape (its value was then parsed by JSON.parse). */
  escaped = false;

  constructor(private readonly json: string) {}

  /** Takes `text` at the reading position; false when it is not there. */
  literal(text: string): boolean {
    if (!this.json.startsWith(text, this.at)) return false;
    this.at += text.length;
    return true;
  }

  /** The end (after the closing quote) of the string starting at `from`, or -1 (unterminated, a raw control). */
  private stringEnd(from: number): number {
    const json = this.json;
    this.escaped = false;
    for (let i = from + 1; i < json.length; i++) {
      const c = json.charCodeAt(i);
      if (c === QUOTE) return i + 1;
      if (c < SPACE) return -1;
      if (c === BACKSLASH) {
        this.escaped = true;
        i++;
      }
    }
    return -1;
  }

  /**
   * A JSON string as a COPY text field; undefined when there is none here, or it does not parse. Without an
   * escape the text between the quotes is the value, and holds nothing COPY escapes (no backslash, no raw
   * control character): it is the field as it is.
   */
  copyString(): string | undefined {
    if (this.json.charCodeAt(this.at) !== QUOTE) return undefined;
    const end = this.stringEnd(this.at);
    if (end < 0) return undefined;
    const from = this.at;
    this.at = end;
    if (!this.escaped) return this.json.slice(from + 1, end - 1);
    try {
      return copyField(JSON.parse(this.json.slice(from, end)) as string);
    } catch {
      return undefined;
    }
  }

  /** A JSON string or null as a COPY text field (`\N`); undefined when neither is here. */
  copyStringOrNull(): string | undefined {
    if (this.literal('null')) return '\\N';
    return this.copyString();
  }

  /** A safe integer written as canonical JSON writes one (`0`, `-12`, `1796083200000000`); else undefined. */
  integer(): number | undefined {
    const json = this.json;
    const from = this.at;
    let i = from;
    if (json.charCodeAt(i) === 0x2d) i++;
    const digits = i;
    while (i < json.length && json.charCodeAt(i) >= 0x30 && json.charCodeAt(i) <= 0x39) i++;
    if (i === digits || (json.charCodeAt(digits) === 0x30 && i - digits > 1)) return undefined;
    const n = Number(json.slice(from, i));
    if (!Number.isSafeInteger(n) || Object.is(n, -0)) return undefined;
    this.at = i;
    return n;
  }

  /**
   * The text of a details object whose canonical JSON is itself: its keys in ascending order of UTF-16 code
   * units, each value a string, a safe integer, true, false or null, no white space; undefined for any other
   * object (nested values go the general way, as do escapes).
   */
  flatDetails(): string | undefined {
    const from = this.at;
    if (!this.literal('{')) return undefined;
    if (this.literal('}')) return '{}';
    let previous: string | null = null;
    for (;;) {
      const key = this.copyString();
      if (key === undefined || this.escaped) return undefined;
      if (previous !== null && !(previous < key)) return undefined;
      previous = key;
      if (!this.literal(':')) return undefined;
      if (this.literal('true') || this.literal('false') || this.literal('null')) {
        // A scalar written as canonical JSON writes it.
      } else if (this.json.charCodeAt(this.at) === QUOTE) {
        if (this.copyString() === undefined || this.escaped) return undefined;
      } else if (this.integer() === undefined) return undefined;
      if (this.literal('}')) return this.json.slice(from, this.at);
      if (!this.literal(',')) return undefined;
    }
  }

  get done(): boolean {
    return this.at === this.json.length;
  }
}

/**
 * The COPY text row (columns in log.ts's order, newline included) of event `seq` with chain hash `hash`, read
 * from its canonical JSON; null when the JSON is not in the form this reader takes.
 */
export function copyRowOfCanonical(seq: number, hash: string, json: string): string | null {
  const r = new Reader(json);
  if (!r.literal('{"action":')) return NOT_CANONICAL;
  const action = r.copyString();
  if (action === undefined || !r.literal(',"actor":{"id":')) return NOT_CANONICAL;
  const actorId = r.copyStringOrNull();
  if (actorId === undefined || !r.literal(',"ip":')) return NOT_CANONICAL;
  const actorIp = r.copyStringOrNull();
  if (actorIp === undefined || !r.literal(',"role":')) return NOT_CANONICAL;
  const actorRole = r.copyStringOrNull();
  if (actorRole === undefined || !r.literal('},"details":')) return NOT_CANONICAL;
  // Canonical and without escapes: nothing in it for COPY to escape either.
  const details = r.flatDetails();
  if (details === undefined || !r.literal(',"id":')) return NOT_CANONICAL;
  const id = r.copyString();
  if (id === undefined || !r.literal(',"requestId":')) return NOT_CANONICAL;
  const requestId = r.copyStringOrNull();
  if (requestId === undefined || !r.literal(',"result":{"code":')) return NOT_CANONICAL;
  const code = r.copyStringOrNull();
  if (code === undefined || !r.literal(',"status":')) return NOT_CANONICAL;
  const status = r.copyString();
  if (status === undefined || r.escaped || !RESULT_STATUSES.some((s) => s === status)) return NOT_CANONICAL;
  // The number inside the text is not a column (the line's is): it is read only to step over it.
  if (!r.literal('},"seq":') || r.integer() === undefined) return NOT_CANONICAL;
  if (!r.literal(',"target":{"id":')) return NOT_CANONICAL;
  const targetId = r.copyStringOrNull();
  if (targetId === undefined || !r.literal(',"kind":')) return NOT_CANONICAL;
  const targetKind = r.copyString();
  if (targetKind === undefined || !r.literal('},"timeUs":')) return NOT_CANONICAL;
  const timeUs = r.integer();
  if (timeUs === undefined || !r.literal(',"v":1}') || !r.done) return NOT_CANONICAL;
  return (
    `${seq}\t${id}\t${timeUs}\t${actorId}\t${actorRole}\t${actorIp}\t${action}\t${targetKind}\t` +
    `${targetId}\t${status}\t${code}\t${requestId}\t${details}\t${copyField(hash)}\n`
  );
}

/**
 * A line's COPY text row the general way: its JSON parsed into its event, its details' canonical JSON written
 * again. Throws when the JSON is not an event (the file then holds something the venue did not write).
 */
export function copyRowOfEvent(seq: number, hash: string, json: string): string {
  const e = eventOfJson(json);
  if (e === null) throw new Error(`the audit file's event ${seq} is not an event`);
  return (
    `${seq}\t${copyField(e.id)}\t${e.timeUs}\t${copyField(e.actor.id)}\t${copyField(e.actor.role)}\t` +
    `${copyField(e.actor.ip)}\t${copyField(e.action)}\t${copyField(e.target.kind)}\t` +
    `${copyField(e.target.id)}\t${copyField(e.result.status)}\t${copyField(e.result.code)}\t` +
    `${copyField(e.requestId)}\t${copyField(canonicalJson(e.details))}\t${copyField(hash)}\n`
  );
}

/** A line's COPY text row: read off its canonical JSON, else (a line in another form) through its event. */
export const copyRowOfLine = (seq: number, hash: string, json: string): string =>
  copyRowOfCanonical(seq, hash, json) ?? copyRowOfEvent(seq, hash, json);

/**
 * COPY text made row by row as UTF-8 in a buffer of its own (which may be transferred to another thread).
 * Each row is written as it comes: a batch's rows concatenated into one string and encoded at the end cost
 * about three times as much (flattening a rope of thousands of pieces, then encoding it).
 */
export class CopyTextWriter {
  private buffer: ArrayBuffer;
  /** A Buffer over `buffer`, for its UTF-8 `write`. */
  private out: Buffer;
  private at = 0;

  constructor(bytesHint: number) {
    this.buffer = new ArrayBuffer(Math.max(1024, bytesHint));
    this.out = Buffer.from(this.buffer);
  }

  add(row: string): void {
    // At most three bytes of UTF-8 per UTF-16 code unit.
    if (this.out.length - this.at < row.length * 3) {
      this.buffer = new ArrayBuffer(Math.max(this.out.length * 2, this.at + row.length * 3));
      const grown = Buffer.from(this.buffer);
      this.out.copy(grown, 0, 0, this.at);
      this.out = grown;
    }
    this.at += this.out.write(row, this.at, 'utf8');
  }

  /** The text written (a view of the writer's own ArrayBuffer, which may be transferred). */
  bytes(): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.buffer, 0, this.at);
  }
}
