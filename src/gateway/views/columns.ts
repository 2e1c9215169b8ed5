/**
 * Numeric storage that the garbage collector does not walk: rows in typed arrays instead of an object each
 * (docs/performance.md, "The trading API"). The views keep hundreds of thousands of ended orders and ledger
 * entries; as objects, with their boxed numbers, they made the old generation large and each full collection of
 * the venue's main thread long.
 */

/** A ring's first capacity; it doubles as it fills, up to what the bound needs. */
const RING_START = 1024;

/**
 * A FIFO of fixed-width numeric rows in one Float64Array ring, addressed by absolute position (the count of
 * rows ever pushed before it): row p sits at (p mod capacity). Grows by doubling; never holds objects. The
 * capacity is a power of two below 2^31, so `p & mask` is p mod capacity for any position up to 2^53.
 */
export class Ring {
  private data: Float64Array;
  private mask: number;
  /** Absolute positions: the oldest row kept, and the next row to push. */
  head = 0;
  tail = 0;

  constructor(private readonly width: number) {
    this.data = new Float64Array(RING_START * width);
    this.mask = RING_START - 1;
  }

  get length(): number {
    return this.tail - this.head;
  }

  /** Makes room for one more row and returns the offset of row `tail` in `data` (the caller fills it). */
  push(): number {
    if (this.tail - this.head > this.mask) this.grow();
    const at = (this.tail & this.mask) * this.width;
    this.tail++;
    return at;
  }

  /** The offset in `data` of the row at absolute position `p` (head <= p < tail). */
  at(p: number): number {
    return (p & this.mask) * this.width;
  }

  get(p: number, field: number): number {
    return this.data[(p & this.mask) * this.width + field];
  }

  set(offset: number, field: number, value: number): void {
    this.data[offset + field] = value;
  }

  /** Writes one field of the row at absolute position `p`. */
  put(p: number, field: number, value: number): void {
    this.data[(p & this.mask) * this.width + field] = value;
  }

  private grow(): void {
    const old = this.data;
    const oldMask = this.mask;
    const capacity = (oldMask + 1) * 2;
    this.data = new Float64Array(capacity * this.width);
    this.mask = capacity - 1;
    const w = this.width;
    for (let p = this.head; p < this.tail; p++) {
      const from = (p & oldMask) * w;
      const to = (p & this.mask) * w;
      for (let f = 0; f < w; f++) this.data[to + f] = old[from + f];
    }
  }
}

/**
 * A map from positive safe integers (ids) to numbers, open addressing with linear probing over two
 * Float64Arrays (key 0 marks an empty slot). Deletion shifts the following run back, so no tombstones build up.
 */
export class IdIndex {
  private keys: Float64Array;
  private vals: Float64Array;
  private bits: number;
  private count = 0;

  constructor() {
    this.bits = 10;
    this.keys = new Float64Array(1 << this.bits);
    this.vals = new Float64Array(1 << this.bits);
  }

  get size(): number {
    return this.count;
  }

  /** Fibonacci hashing of the id's two 32-bit halves: the top `bits` bits of the product. */
  private home(key: number): number {
    const mixed = (key | 0) ^ Math.imul((key / 4294967296) | 0, 0x85ebca6b);
    return Math.imul(mixed, 0x9e3779b1) >>> (32 - this.bits);
  }

  private slot(key: number): number {
    const mask = (1 << this.bits) - 1;
    let i = this.home(key);
    while (this.keys[i] !== 0 && this.keys[i] !== key) i = (i + 1) & mask;
    return i;
  }

  get(key: number): number | undefined {
    if (!(key > 0)) return undefined;
    const i = this.slot(key);
    return this.keys[i] === key ? this.vals[i] : undefined;
  }

  set(key: number, value: number): void {
    if (!(Number.isSafeInteger(key) && key > 0)) throw new RangeError(`id index: bad id ${key}`);
    let i = this.slot(key);
    if (this.keys[i] !== key) {
      if ((this.count + 1) * 2 > 1 << this.bits) {
        this.grow();
        i = this.slot(key);
      }
      this.keys[i] = key;
      this.count++;
    }
    this.vals[i] = value;
  }

  delete(key: number): boolean {
    if (!(key > 0)) return false;
    const mask = (1 << this.bits) - 1;
    let i = this.slot(key);
    if (this.keys[i] !== key) return false;
    // Backward shift: move each later entry of the run whose home is not in (i, j] into the hole.
    for (let j = (i + 1) & mask; this.keys[j] !== 0; j = (j + 1) & mask) {
      const h = this.home(this.keys[j]);
      const between = i <= j ? i < h && h <= j : i < h || h <= j;
      if (!between) {
        this.keys[i] = this.keys[j];
        this.vals[i] = this.vals[j];
        i = j;
      }
    }
    this.keys[i] = 0;
    this.count--;
    return true;
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.bits++;
    this.keys = new Float64Array(1 << this.bits);
    this.vals = new Float64Array(1 << this.bits);
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue;
      const j = this.slot(keys[i]);
      this.keys[j] = keys[i];
      this.vals[j] = vals[i];
    }
  }
}
