/**
 * Order id -> order slot, for the book's cancel and amend paths. Open addressing with linear probing and
 * backward-shift deletion (no tombstones, so probe lengths stay short under heavy churn). Each table entry is
 * the slot and the low 32 bits of its id, side by side, so a probe compares within the table and touches an
 * order record only on a candidate match, where the full id (`ids[slot << idShift]`) settles it. The book
 * passes its records on every call because it reallocates them as it grows.
 */
const EMPTY = -1;

export class IdIndex {
  /** Pairs (slot, low 32 bits of the id); slot EMPTY marks a free entry. */
  private table: Int32Array;
  private bits: number;
  private mask: number;
  size = 0;

  /** `idShift`: log2 of the record stride, in elements, of the array the ids are read from. */
  constructor(
    capacityKeys: number,
    private readonly idShift: number,
  ) {
    this.bits = 4;
    while (1 << this.bits < capacityKeys * 2) this.bits++;
    this.table = new Int32Array(2 << this.bits).fill(EMPTY);
    this.mask = (1 << this.bits) - 1;
  }

  /** Fibonacci hashing of a safe-integer id: spreads sequential ids evenly over the table. */
  private home(id: number): number {
    const lo = id >>> 0;
    const hi = (id / 4294967296) >>> 0;
    return Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) >>> (32 - this.bits);
  }

  /** The slot of `id`, or -1. */
  get(id: number, ids: Float64Array): number {
    const table = this.table;
    const mask = this.mask;
    const lo = id | 0;
    let i = this.home(id);
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
    const id = ids[slot << this.idShift];
    let i = this.home(id);
    while (table[2 * i] !== EMPTY) i = (i + 1) & mask;
    table[2 * i] = slot;
    table[2 * i + 1] = id | 0;
    this.size++;
  }

  /** Removes the entry of `id`; returns its slot or -1. */
  remove(id: number, ids: Float64Array): number {
    const table = this.table;
    const mask = this.mask;
    const lo = id | 0;
    let i = this.home(id);
    for (;;) {
      const slot = table[2 * i];
      if (slot === EMPTY) return EMPTY;
      if (table[2 * i + 1] === lo && ids[slot << this.idShift] === id) break;
      i = (i + 1) & mask;
    }
    const removed = table[2 * i];
    // Backward shift: pull later entries of the probe run into the hole when that does not move them before
    // their home position.
    let hole = i;
    let j = (i + 1) & mask;
    while (table[2 * j] !== EMPTY) {
      const h = this.home(ids[table[2 * j] << this.idShift]);
      if (((j - h) & mask) >= ((j - hole) & mask)) {
        table[2 * hole] = table[2 * j];
        table[2 * hole + 1] = table[2 * j + 1];
        hole = j;
      }
      j = (j + 1) & mask;
    }
    table[2 * hole] = EMPTY;
    this.size--;
    return removed;
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
