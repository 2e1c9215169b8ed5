/**
 * A text written as UTF-8 bytes into one reused buffer, piece by piece, then read out as one flat string (or
 * copied out as bytes). Concatenating a text of many pieces made a string per piece (a cons node, or a copy
 * while it was short) and a flat copy of the whole when it was first read as bytes: for the venue's hottest
 * texts (an acknowledgement's order, an audit event's canonical JSON) most of what a request allocated. Here
 * the pieces are copied into the buffer, and the only allocation is the result.
 *
 * `units` counts the UTF-16 code units written (what `.length` of the same text as a string would be).
 *
 * A piece that ends with a high surrogate holds it back until the next piece: when that one starts with a low
 * surrogate the two are one character (four bytes), as in the joined string; otherwise, or when the text is
 * read out first, it is a lone surrogate, written as U+FFFD like any other.
 */
export class TextBytes {
  private buf: Buffer;
  private at = 0;
  /** UTF-16 code units written since the last `reset`. */
  units = 0;
  /** Whether every byte written since the last `reset` is ASCII (the text reads out as latin1 then). */
  private ascii = true;
  /** A high surrogate that ended the last piece, not written yet (0: none). */
  private pendingHigh = 0;

  constructor(bytes = 1024) {
    this.buf = Buffer.allocUnsafeSlow(bytes);
  }

  /** Bytes written since the last `reset` (a held-back surrogate counted as the U+FFFD it is so far). */
  get length(): number {
    return this.pendingHigh === 0 ? this.at : this.at + 3;
  }

  /** Forgets what was written. */
  reset(): this {
    this.at = 0;
    this.units = 0;
    this.ascii = true;
    this.pendingHigh = 0;
    return this;
  }

  /** A text written as it is (its UTF-8). */
  text(s: string): void {
    const n = s.length;
    if (n === 0) return;
    this.units += n;
    this.room(n * 3 + 4);
    const last = s.charCodeAt(n - 1);
    if (this.pendingHigh !== 0 || (last >= 0xd800 && last <= 0xdbff)) {
      this.textAcross(s);
      return;
    }
    const buf = this.buf;
    let at = this.at;
    if (n <= 64) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at++] = c;
      }
      if (i === n) {
        this.at = at;
        return;
      }
      at = this.at;
    }
    const written = buf.write(s, at, 'utf8');
    // Every character that is not ASCII takes more than one byte per code unit.
    if (written !== n) this.ascii = false;
    this.at = at + written;
  }

  /**
   * `text` of a piece that a surrogate pair may cross: the one held back before it joins its first unit when
   * that is a low surrogate, and its own last unit is held back when it is a high surrogate. Rare: substrings.
   */
  private textAcross(s: string): void {
    let from = 0;
    if (this.pendingHigh !== 0) {
      const first = s.charCodeAt(0);
      if (first >= 0xdc00 && first <= 0xdfff) {
        this.at += this.buf.write(String.fromCharCode(this.pendingHigh, first), this.at, 'utf8');
        this.pendingHigh = 0;
        this.ascii = false;
        from = 1;
      } else this.flushPending();
    }
    let to = s.length;
    const last = s.charCodeAt(to - 1);
    if (to > from && last >= 0xd800 && last <= 0xdbff) {
      this.pendingHigh = last;
      to--;
    }
    if (to > from) {
      const part = s.slice(from, to);
      const written = this.buf.write(part, this.at, 'utf8');
      if (written !== part.length) this.ascii = false;
      this.at += written;
    }
  }

  /** Writes a held-back high surrogate as the lone surrogate it turned out to be (U+FFFD). */
  private flushPending(): void {
    if (this.pendingHigh === 0) return;
    this.pendingHigh = 0;
    this.room(3);
    this.buf[this.at++] = 0xef;
    this.buf[this.at++] = 0xbf;
    this.buf[this.at++] = 0xbd;
    this.ascii = false;
  }

  /** A text as a JSON string, as `JSON.stringify(s)` writes it. */
  json(s: string): void {
    this.flushPending();
    const n = s.length;
    this.room(n + 2);
    const buf = this.buf;
    const start = this.at;
    let at = start;
    buf[at++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      // Escaped (a control character, a quote, a backslash) or not ASCII: JSON.stringify's own text.
      if (c < 0x20 || c >= 0x80 || c === 0x22 || c === 0x5c) {
        this.text(JSON.stringify(s));
        return;
      }
      buf[at++] = c;
    }
    buf[at++] = 0x22;
    this.at = at;
    this.units += n + 2;
  }

  /** A text as a JSON string, or `null`. */
  jsonOrNull(s: string | null): void {
    if (s === null) this.text('null');
    else this.json(s);
  }

  /** A number as `String(n)` writes it (digits directly for a safe integer; -0 is `0`). */
  int(n: number): void {
    this.flushPending();
    if (!Number.isSafeInteger(n)) {
      this.text(String(n));
      return;
    }
    this.room(17);
    const buf = this.buf;
    let at = this.at;
    const start = at;
    let v = n;
    if (v < 0) {
      buf[at++] = 0x2d;
      v = -v;
    }
    let digits = 1;
    for (let p = 10; p <= v; p *= 10) digits++;
    for (let k = at + digits - 1; k >= at; k--) {
      const q = Math.floor(v / 10);
      buf[k] = 0x30 + (v - q * 10);
      v = q;
    }
    at += digits;
    this.units += at - start;
    this.at = at;
  }

  /** `true` or `false`. */
  bool(b: boolean): void {
    this.text(b ? 'true' : 'false');
  }

  /** The text written, as one flat string. */
  toString(): string {
    this.flushPending();
    return this.buf.toString(this.ascii ? 'latin1' : 'utf8', 0, this.at);
  }

  /**
   * The bytes written, copied into a buffer as `Buffer.allocUnsafe` gives one (a slice of node's pool when
   * small): for a text that is only ever sent, no string of it at all.
   */
  toBuffer(): Buffer {
    this.flushPending();
    const out = Buffer.allocUnsafe(this.at);
    this.buf.copy(out, 0, 0, this.at);
    return out;
  }

  /** The bytes written, copied into an ArrayBuffer of their own (to transfer to another thread, say). */
  bytes(): Uint8Array<ArrayBuffer> {
    this.flushPending();
    const out = new Uint8Array(this.at);
    out.set(this.buf.subarray(0, this.at));
    return out;
  }

  /** Room for `n` more bytes. */
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}
