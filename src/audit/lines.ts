/**
 * A group of the audit file's lines built from its events' canonical JSON (file.ts has the line's form):
 * each event chained onto the previous hash, in one buffer written with one write. Shared by the appender
 * on the caller's thread (file.ts) and on its worker (file-worker.ts).
 */
import { crc32 } from 'node:zlib';
import { chainDigestOf } from './event.js';

const NEWLINE = 0x0a;
const HASH_BYTES = 32;
/** `CRC ` before a line's body. */
export const CRC_FIELD_BYTES = 9;
/** A line's bytes besides its JSON: `CRC SEQ HASH ` and the newline (a sequence number has at most 16 digits). */
export const LINE_OVERHEAD_BYTES_MAX = CRC_FIELD_BYTES + 16 + 1 + 64 + 1 + 1;

export interface Group {
  /** The group's lines (a view of the builder's buffer: valid until its next group). */
  readonly bytes: Buffer;
  /** The hash of the group's last event (the previous hash for an empty group). */
  readonly hash: Buffer;
}

export class GroupLines {
  /** The previous hash and an event's canonical bytes, hashed together (grown as needed). */
  private scratch = Buffer.allocUnsafe(8 * 1024);
  /** A group's lines, as written (grown as needed; not reused before the group's write is done). */
  private out = Buffer.allocUnsafe(256 * 1024);

  /** The lines of events `firstSeq`, `firstSeq + 1`, ... whose canonical JSON is `jsons`, after hash `prev`. */
  build(prev: Buffer, firstSeq: number, jsons: readonly string[]): Group {
    let hash = prev;
    let end = 0;
    for (let i = 0; i < jsons.length; i++) {
      const json = jsons[i];
      this.scratchFor(json.length * 3);
      const jsonEnd = HASH_BYTES + this.scratch.write(json, HASH_BYTES, 'utf8');
      hash = this.link(hash, firstSeq + i, jsonEnd, end);
      end = this.lineEnd;
    }
    return { bytes: this.out.subarray(0, end), hash };
  }

  /**
   * `build` for canonical JSON given as UTF-8 bytes, `count` events joined by line breaks (as the venue's main
   * thread sends a group to the file's worker): no text decoded, split or encoded again here. Throws when
   * the bytes hold another number of lines. `hashes`, when given, gets each event's hash in hex, in order.
   */
  buildFromBytes(
    prev: Buffer,
    firstSeq: number,
    jsonLines: Uint8Array,
    count: number,
    hashes: string[] | null = null,
  ): Group {
    let hash = prev;
    let end = 0;
    let from = 0;
    for (let i = 0; i < count; i++) {
      const newline = jsonLines.indexOf(NEWLINE, from);
      const to = newline === -1 ? jsonLines.length : newline;
      if ((newline === -1) !== (i === count - 1)) {
        const lines = newline === -1 ? String(i + 1) : `more than ${count}`;
        throw new Error(`a group of ${count} events came as ${lines} lines`);
      }
      this.scratchFor(to - from);
      this.scratch.set(jsonLines.subarray(from, to), HASH_BYTES);
      hash = this.link(hash, firstSeq + i, HASH_BYTES + to - from, end);
      hashes?.push(this.lineHashHex);
      end = this.lineEnd;
      from = to + 1;
    }
    return { bytes: this.out.subarray(0, end), hash };
  }

  private lineEnd = 0;
  /** The last linked event's hash in hex (as its line holds it). */
  private lineHashHex = '';

  /** Makes room for an event's canonical bytes (at most `jsonBytesMax`) after the previous hash in `scratch`. */
  private scratchFor(jsonBytesMax: number): void {
    if (this.scratch.length < HASH_BYTES + jsonBytesMax)
      this.scratch = Buffer.allocUnsafe(HASH_BYTES + jsonBytesMax);
  }

  /**
   * Writes event `seq`'s line at `at` of the output buffer, chained onto `prev`, its canonical bytes being in
   * `scratch` from HASH_BYTES to `jsonEnd`; returns its hash (and leaves the end of the line in `lineEnd`).
   * The canonical bytes are hashed there, after the previous hash, copied into the line, and the line's CRC is
   * computed over the line's bytes: a Hash object per event, and encoding the text again for the file, cost
   * more than the rest of the line.
   */
  private link(prev: Buffer, seq: number, jsonEnd: number, at: number): Buffer {
    prev.copy(this.scratch, 0, 0, HASH_BYTES);
    const hash = chainDigestOf(this.scratch.subarray(0, jsonEnd));
    this.reserve(at + LINE_OVERHEAD_BYTES_MAX + jsonEnd - HASH_BYTES);
    const out = this.out;
    const bodyAt = at + CRC_FIELD_BYTES;
    this.lineHashHex = hash.toString('hex');
    let end = bodyAt + out.write(`${seq} ${this.lineHashHex} `, bodyAt, 'latin1');
    end += this.scratch.copy(out, end, HASH_BYTES, jsonEnd);
    const crc = crc32(out.subarray(bodyAt, end));
    out.write(crc.toString(16).padStart(8, '0') + ' ', at, 'latin1');
    out[end] = NEWLINE;
    this.lineEnd = end + 1;
    return hash;
  }

  /** Grows the output buffer to hold `bytes`, keeping what it holds. */
  private reserve(bytes: number): void {
    if (this.out.length >= bytes) return;
    const grown = Buffer.allocUnsafe(Math.max(bytes, this.out.length * 2));
    this.out.copy(grown);
    this.out = grown;
  }
}
