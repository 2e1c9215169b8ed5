/**
 * Order id -> order slot for ids outside IdIndex's window (see id-index.ts). Open addressing with linear probing and
 * backward-shift deletion (no tombstones, so probe lengths stay short under heavy churn). Each table entry is
 * the slot and the low 32 bits of its id, side by side, so a probe compares within the table and touches an
 * order record only on a candidate match, where the full id (`ids[slot << idShift]`) settles it. The book
 * passes its records on every call because it reallocates them as it grows.
 */
import type { SnapshotReader, SnapshotWriter } from '../collections/index.js';

const EMPTY = -1;
/** 2^26 entries (two int32 each): past the book's 2^24 orders at a load of 1/2. */
const BITS_MAX = 26;

export class IdHash {
  /** Pairs (slot, low 32 bits of the id); slot EMPTY marks a free entry. */
  declare private table: Int32Array;
  declare private bits: number;
  declare private mask: number;
  size = 0;

  /** `idShift`: log2 of the record stride, in elements, of the array the ids are read from. */
  constructor(
    capacityKeys: number,
    private readonly idShift: number,
  ) {
    this.bits = 4; // at least 16 entries, so a block of 8 fits
    while (1 << this.bits < capacityKeys * 2) this.bits++;
    this.table = new Int32Array(2 << this.bits).fill(EMPTY);
    this.mask = (1 << this.bits) - 1;
  }

  /**
   * The home entry of an id, from its low 32 bits (`lo`, as stored in the table, so that moving entries never
   * reads an order record). Ids come from a sequencer, so consecutive ids arrive together: blocks of 8
   * consecutive ids share one 64-byte line of the table, and Fibonacci hashing scatters the blocks, so ids in
   * any other pattern (a stride, say) still spread evenly.
   */
  private home(lo: number): number {
    const block = Math.imul(lo >>> 3, 0x9e3779b1) >>> (35 - this.bits);
    return (block << 3) | (lo & 7);
  }

  /** The slot of `id`, or -1. */
  get(id: number, ids: Float64Array): number {
    const table = this.table;
    const mask = this.mask;
    const lo = id | 0;
    let i = this.home(lo);
    for (;;) {
      const slot = table[2 * i];
      if (slot === EMPTY) return EMPTY;
      if (table[2 * i + 1] === lo && ids[slot << this.idShift] === id) return slot;
      i = (i + 1) & mask;
    }
  }

  /** Adds `slot` under the id in its record; the caller has checked the id is absent. */
  insert(slot: number, ids: Float64Array): void {
    // Grow past a load factor of 1/2.
    if ((this.size + 1) * 2 > this.mask + 1) this.rehash(ids);
    const table = this.table;
    const mask = this.mask;
    const lo = ids[slot << this.idShift] | 0;
    let i = this.home(lo);
    while (table[2 * i] !== EMPTY) i = (i + 1) & mask;
    table[2 * i] = slot;
    table[2 * i + 1] = lo;
    this.size++;
  }

  /** Removes the entry of `slot`, whose id is `id`; returns false when it is not there. */
  remove(slot: number, id: number): boolean {
    const table = this.table;
    const mask = this.mask;
    let i = this.home(id | 0);
    for (;;) {
      const s = table[2 * i];
      if (s === EMPTY) return false;
      if (s === slot) break;
      i = (i + 1) & mask;
    }
    // Backward shift: pull later entries of the probe run into the hole when that does not move them before
    // their home position.
    let hole = i;
    let j = (i + 1) & mask;
    while (table[2 * j] !== EMPTY) {
      const h = this.home(table[2 * j + 1]);
      if (((j - h) & mask) >= ((j - hole) & mask)) {
        table[2 * hole] = table[2 * j];
        table[2 * hole + 1] = table[2 * j + 1];
        hole = j;
      }
      j = (j + 1) & mask;
    }
    table[2 * hole] = EMPTY;
    this.size--;
    return true;
  }

  /** Writes the table as it is, entries in their places. */
  writeSnapshot(w: SnapshotWriter): void {
    w.tag('IDHS');
    w.u8(this.bits);
    w.u32(this.size);
    w.i32s(this.table);
  }

  /** Replaces this table with one written by writeSnapshot; the book checks its entries against its orders. */
  readSnapshot(r: SnapshotReader): void {
    r.tag('IDHS');
    const bits = r.u8();
    if (bits < 4 || bits > BITS_MAX) r.fail(`id hash of 2^${bits} entries`);
    const size = r.count('id hash size', 1 << (bits - 1));
    const table = new Int32Array(2 << bits);
    r.i32sExact(table, 2 << bits, 'id hash table');
    let found = 0;
    for (let i = 0; i < table.length; i += 2) if (table[i] !== EMPTY) found++;
    if (found !== size) r.fail(`id hash holds ${found} entries, not ${size}`);
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.table = table;
    this.size = size;
  }

  private rehash(ids: Float64Array): void {
    const old = this.table;
    this.bits++;
    this.mask = (1 << this.bits) - 1;
    this.table = new Int32Array(2 << this.bits).fill(EMPTY);
    const size = this.size;
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== EMPTY) this.insert(old[i], ids);
    if (this.size !== size) throw new Error(`id index rehash lost entries: ${this.size} of ${size}`);
  }

  /** Bytes held, for memory accounting. */
  get bytes(): number {
    return this.table.byteLength;
  }
}
