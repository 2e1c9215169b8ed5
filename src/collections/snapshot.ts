/**
 * The byte codec of state snapshots: a growable little-endian byte buffer that each stateful class writes its
 * own fields into (`writeSnapshot(w)`) and reads them back from (`readSnapshot(r)`), next to the fields
 * themselves, so that a field added to a class is added to its snapshot in the same place.
 *
 * Scalars are fixed-width (u8, i32, u32, f64); strings are UTF-8 with a u32 byte length; typed arrays are
 * blocks of a u32 element count followed by the elements' bytes, copied as they are (so NaN payloads and the
 * int32 halves of a float64 record survive). Section tags (four ASCII bytes) mark where each class's part
 * starts, so a reader that lost its place says where instead of reading on.
 *
 * The reader checks every length against the bytes that remain and every count against a bound its caller
 * names, and throws a SnapshotError saying what and where: truncated or malformed input never yields a value
 * silently. Checksums and file framing belong to whoever stores the bytes (the journal).
 */

/** Snapshots copy typed arrays byte for byte, which is little-endian only on a little-endian machine. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const INITIAL_BYTES = 1 << 16;
/** 2^31 bytes: the most one snapshot buffer may grow to. */
const MAX_BYTES = 2 ** 31;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A snapshot that cannot be read: truncated, corrupted, of another version, or inconsistent. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(`snapshot: ${message}`);
    this.name = 'SnapshotError';
  }
}

export class SnapshotWriter {
  private buf = new Uint8Array(INITIAL_BYTES);
  private view = new DataView(this.buf.buffer);
  private at = 0;

  constructor() {
    if (!LITTLE_ENDIAN) throw new Error('snapshots need a little-endian machine');
  }

  /** Bytes written so far. */
  get length(): number {
    return this.at;
  }

  /** The bytes written, as a view of the writer's buffer (copy them to keep them past the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }

  tag(name: string): void {
    if (name.length !== 4) throw new Error(`snapshot tag ${name} is not four characters`);
    this.reserve(4);
    for (let i = 0; i < 4; i++) this.buf[this.at++] = name.charCodeAt(i) & 0x7f;
  }

  u8(x: number): void {
    this.reserve(1);
    this.buf[this.at++] = x;
  }

  bool(x: boolean): void {
    this.u8(x ? 1 : 0);
  }

  i32(x: number): void {
    if (!(Number.isInteger(x) && x >= -0x80000000 && x <= 0x7fffffff))
      throw new Error(`snapshot: ${x} is not an int32`);
    this.reserve(4);
    this.view.setInt32(this.at, x, true);
    this.at += 4;
  }

  u32(x: number): void {
    if (!(Number.isInteger(x) && x >= 0 && x <= 0xffffffff))
      throw new Error(`snapshot: ${x} is not a uint32`);
    this.reserve(4);
    this.view.setUint32(this.at, x, true);
    this.at += 4;
  }

  f64(x: number): void {
    this.reserve(8);
    this.view.setFloat64(this.at, x, true);
    this.at += 8;
  }

  string(s: string): void {
    const b = encoder.encode(s);
    this.u32(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  /** The first `n` elements of `a`, as a block. */
  f64s(a: Float64Array, n: number = a.length): void {
    this.block(a, n, 8);
  }

  i32s(a: Int32Array, n: number = a.length): void {
    this.block(a, n, 4);
  }

  u8s(a: Uint8Array, n: number = a.length): void {
    this.block(a, n, 1);
  }

  private block(a: Float64Array | Int32Array | Uint8Array, n: number, width: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= a.length))
      throw new Error(`snapshot: block of ${n} of ${a.length} elements`);
    this.u32(n);
    const bytes = n * width;
    this.reserve(bytes);
    this.buf.set(new Uint8Array(a.buffer, a.byteOffset, bytes), this.at);
    this.at += bytes;
  }

  private reserve(n: number): void {
    const need = this.at + n;
    if (need <= this.buf.length) return;
    if (need > MAX_BYTES) throw new Error(`snapshot: more than ${MAX_BYTES} bytes`);
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const buf = new Uint8Array(Math.min(size, MAX_BYTES));
    buf.set(this.buf.subarray(0, this.at));
    this.buf = buf;
    this.view = new DataView(buf.buffer);
  }
}

export class SnapshotReader {
  private readonly view: DataView;
  private at = 0;

  constructor(private readonly buf: Uint8Array) {
    if (!LITTLE_ENDIAN) throw new Error('snapshots need a little-endian machine');
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** The read position, in bytes from the start. */
  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.buf.length - this.at;
  }

  /** Throws unless every byte has been read. */
  end(): void {
    if (this.at !== this.buf.length)
      throw new SnapshotError(`${this.buf.length - this.at} unread bytes after byte ${this.at}`);
  }

  /** Throws a SnapshotError naming the read position. */
  fail(what: string): never {
    throw new SnapshotError(`${what} (at byte ${this.at})`);
  }

  tag(name: string): void {
    this.need(4, `section ${name}`);
    let got = '';
    for (let i = 0; i < 4; i++) got += String.fromCharCode(this.buf[this.at + i]);
    if (got !== name) this.fail(`expected section ${name}, found ${JSON.stringify(got)}`);
    this.at += 4;
  }

  u8(): number {
    this.need(1, 'a byte');
    return this.buf[this.at++];
  }

  bool(): boolean {
    const x = this.u8();
    if (x > 1) this.fail(`flag ${x} is neither 0 nor 1`);
    return x === 1;
  }

  i32(): number {
    this.need(4, 'an int32');
    const x = this.view.getInt32(this.at, true);
    this.at += 4;
    return x;
  }

  u32(): number {
    this.need(4, 'a uint32');
    const x = this.view.getUint32(this.at, true);
    this.at += 4;
    return x;
  }

  f64(): number {
    this.need(8, 'a float64');
    const x = this.view.getFloat64(this.at, true);
    this.at += 8;
    return x;
  }

  /** An int32 in [lo, hi], or a SnapshotError naming `what`. */
  int(what: string, lo: number, hi: number): number {
    const x = this.i32();
    if (!(x >= lo && x <= hi)) this.fail(`${what} ${x} is outside ${lo}..${hi}`);
    return x;
  }

  /** A u32 count in [0, max]. */
  count(what: string, max: number): number {
    const n = this.u32();
    if (n > max) this.fail(`${what} ${n} is above ${max}`);
    return n;
  }

  /** A float64 that is a safe integer in [lo, hi]. */
  safeInt(what: string, lo = Number.MIN_SAFE_INTEGER, hi = Number.MAX_SAFE_INTEGER): number {
    const x = this.f64();
    if (!(Number.isSafeInteger(x) && x >= lo && x <= hi))
      this.fail(`${what} ${x} is not an integer in range`);
    return x;
  }

  string(maxBytes: number): string {
    const n = this.count('string length', maxBytes);
    this.need(n, 'a string');
    let s: string;
    try {
      s = decoder.decode(this.buf.subarray(this.at, this.at + n));
    } catch {
      this.fail('a string that is not UTF-8');
    }
    this.at += n;
    return s;
  }

  /** Reads a float64 block into the start of `into`; returns its element count. */
  f64sInto(into: Float64Array, what: string): number {
    return this.blockInto(into, 8, what);
  }

  i32sInto(into: Int32Array, what: string): number {
    return this.blockInto(into, 4, what);
  }

  u8sInto(into: Uint8Array, what: string): number {
    return this.blockInto(into, 1, what);
  }

  /** Reads a float64 block of exactly `n` elements into the start of `into`. */
  f64sExact(into: Float64Array, n: number, what: string): void {
    if (this.blockInto(into, 8, what) !== n) this.fail(`${what}: expected ${n} elements`);
  }

  i32sExact(into: Int32Array, n: number, what: string): void {
    if (this.blockInto(into, 4, what) !== n) this.fail(`${what}: expected ${n} elements`);
  }

  u8sExact(into: Uint8Array, n: number, what: string): void {
    if (this.blockInto(into, 1, what) !== n) this.fail(`${what}: expected ${n} elements`);
  }

  private blockInto(into: Float64Array | Int32Array | Uint8Array, width: number, what: string): number {
    const n = this.count(`${what} length`, into.length);
    const bytes = n * width;
    this.need(bytes, what);
    new Uint8Array(into.buffer, into.byteOffset, bytes).set(this.buf.subarray(this.at, this.at + bytes));
    this.at += bytes;
    return n;
  }

  private need(n: number, what: string): void {
    if (this.at + n > this.buf.length)
      this.fail(`truncated: ${what} needs ${n} bytes, ${this.buf.length - this.at} remain`);
  }
}
