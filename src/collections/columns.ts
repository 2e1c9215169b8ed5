/**
 * Numeric storage that the garbage collector does not walk: rows in typed arrays instead of an object each
 * (docs/performance.md, "The trading API"). The views keep hundreds of thousands of ended orders and ledger
 * entries; as objects, with their boxed numbers, they made the old generation large and each full collection of
 * the venue's main thread long.
 */

/** Rows per chunk of a Ring: a power of two, so that `p & (CHUNK_ROWS - 1)` is p mod CHUNK_ROWS up to 2^53. */
const CHUNK_ROWS = 4096;

/**
 * A FIFO of fixed-width numeric rows, addressed by absolute position (the count of rows pushed before it), in
 * chunks of CHUNK_ROWS rows (one Float64Array each): a chunk is made when the tail reaches it and dropped when
 * the head leaves it, so the ring never copies its rows to grow (a doubling array of a million rows took tens of
 * milliseconds of the main thread at once) and gives memory back as it forgets.
 */
export class Ring {
  /** Chunks from the one holding `head` on. */
  private readonly chunks: Float64Array[] = [];
  /** The absolute chunk number of chunks[0]. */
  private firstChunk = 0;
  private headRow = 0;
  /** The next row to push (absolute). */
  tail = 0;

  constructor(private readonly width: number) {}

  /** The oldest row kept (absolute). */
  get head(): number {
    return this.headRow;
  }

  /** Forgets rows before `p` (at most `tail`). */
  set head(p: number) {
    if (!(p >= this.headRow && p <= this.tail))
      throw new RangeError(`ring: head ${p} outside ${this.headRow}..${this.tail}`);
    this.headRow = p;
    const chunk = Math.floor(p / CHUNK_ROWS);
    if (chunk > this.firstChunk) {
      this.chunks.splice(0, Math.min(chunk - this.firstChunk, this.chunks.length));
      this.firstChunk = chunk;
    }
  }

  get length(): number {
    return this.tail - this.headRow;
  }

  /** Adds a row (zeros) at the tail and returns its position; `put` fills it. */
  push(): number {
    const p = this.tail;
    if ((p & (CHUNK_ROWS - 1)) === 0 || this.chunks.length === 0) {
      if (this.chunks.length === 0) this.firstChunk = Math.floor(p / CHUNK_ROWS);
      this.chunks.push(new Float64Array(CHUNK_ROWS * this.width));
    }
    this.tail = p + 1;
    return p;
  }

  /** Field `field` of the row at position `p` (head <= p < tail). */
  get(p: number, field: number): number {
    const chunk = this.chunks[Math.floor(p / CHUNK_ROWS) - this.firstChunk];
    return chunk[(p & (CHUNK_ROWS - 1)) * this.width + field];
  }

  /** Writes field `field` of the row at position `p` (head <= p < tail). */
  put(p: number, field: number, value: number): void {
    const chunk = this.chunks[Math.floor(p / CHUNK_ROWS) - this.firstChunk];
    chunk[(p & (CHUNK_ROWS - 1)) * this.width + field] = value;
  }
}

/**
 * For backward-shift deletion in a table with linear probing: whether the entry in slot `slot`, whose home slot
 * is `home`, stays where it is when slot `hole` (before it in the run) empties: its home lies cyclically in
 * (hole, slot]. Otherwise it moves back into the hole.
 */
export function homeBetween(hole: number, home: number, slot: number): boolean {
  return hole <= slot ? hole < home && home <= slot : hole < home || home <= slot;
}

/**
 * A safe integer's two 32-bit halves mixed into one, for multiplicative hashing (IdIndex, ShardedMap): the low
 * half xored with the high half times an odd constant.
 */
export function mixSafeInteger(key: number): number {
  return (key | 0) ^ Math.imul((key / 4294967296) | 0, 0x85ebca6b);
}

/** IdIndex's parts: a power of two. */
const ID_SHARDS = 64;

/**
 * A map from positive safe integers (ids) to numbers, in ID_SHARDS open-addressing tables chosen by a hash of
 * the id: a table doubles and rehashes when half full, and one table of a million ids took about 70 ms of the
 * main thread to do it (docs/performance.md, "Stalls of the main thread"); split, one growth moves a 64th.
 */
export class IdIndex {
  private readonly tables: IdTable[] = [];
  private count = 0;

  constructor() {
    for (let i = 0; i < ID_SHARDS; i++) this.tables.push(new IdTable());
  }

  get size(): number {
    return this.count;
  }

  /** The table of `key`: bits of a multiplicative hash other than those the tables' own slots come from. */
  private tableOf(key: number): IdTable {
    return this.tables[Math.imul(mixSafeInteger(key), 0x2c1b3c6d) >>> 26];
  }

  get(key: number): number | undefined {
    return this.tableOf(key).get(key);
  }

  set(key: number, value: number): void {
    const table = this.tableOf(key);
    const before = table.size;
    table.set(key, value);
    this.count += table.size - before;
  }

  delete(key: number): boolean {
    const deleted = this.tableOf(key).delete(key);
    if (deleted) this.count--;
    return deleted;
  }
}

/**
 * One of IdIndex's tables: open addressing with linear probing over two Float64Arrays (key 0 marks an empty
 * slot). Deletion shifts the following run back, so no tombstones build up.
 */
class IdTable {
  private keys: Float64Array;
  private vals: Float64Array;
  private bits: number;
  private count = 0;

  constructor() {
    this.bits = 4;
    this.keys = new Float64Array(1 << this.bits);
    this.vals = new Float64Array(1 << this.bits);
  }

  get size(): number {
    return this.count;
  }

  /** Fibonacci hashing of the id's two 32-bit halves: the top `bits` bits of the product. */
  private home(key: number): number {
    return Math.imul(mixSafeInteger(key), 0x9e3779b1) >>> (32 - this.bits);
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
      if (!homeBetween(i, h, j)) {
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
