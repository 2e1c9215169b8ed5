/**
 * A map from non-negative safe integers to int32 values, in two typed arrays: no allocation per entry, no
 * boxing, and lookups that touch one or two cache lines. Open addressing with linear probing and
 * backward-shift deletion (no tombstones, so probe lengths stay short under churn). The core keys its order
 * and position tables with it; it is a leaf module that any domain may import.
 */
import type { SnapshotReader, SnapshotWriter } from './snapshot.js';

const EMPTY_KEY = -1;
const INITIAL_BITS = 4;
/** 2^26 entries: 768 MiB of table, far past any limit the callers set. */
const MAX_BITS = 26;

export class IntMap {
  declare private keys: Float64Array;
  declare private values: Int32Array;
  declare private bits: number;
  declare private mask: number;
  size = 0;

  constructor(capacityKeys = 16) {
    this.bits = INITIAL_BITS;
    while (1 << this.bits < capacityKeys * 2) this.bits++;
    if (this.bits > MAX_BITS) throw new Error(`IntMap capacity ${capacityKeys} is beyond the limit`);
    this.keys = new Float64Array(1 << this.bits).fill(EMPTY_KEY);
    this.values = new Int32Array(1 << this.bits);
    this.mask = (1 << this.bits) - 1;
  }

  /** Fibonacci hashing of the key's low and high 32-bit halves. */
  private home(key: number): number {
    const lo = key | 0;
    const hi = (key / 4294967296) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> (32 - this.bits);
  }

  /** The value under `key`, or `missing`. */
  get(key: number, missing = -1): number {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    for (;;) {
      const k = keys[i];
      if (k === key) return this.values[i];
      if (k === EMPTY_KEY) return missing;
      i = (i + 1) & mask;
    }
  }

  has(key: number): boolean {
    let i = this.home(key);
    for (;;) {
      const k = this.keys[i];
      if (k === key) return true;
      if (k === EMPTY_KEY) return false;
      i = (i + 1) & this.mask;
    }
  }

  /** Sets `key` to `value`, adding the key if it is absent. */
  set(key: number, value: number): void {
    if (!(key >= 0 && Number.isSafeInteger(key)))
      throw new Error(`IntMap key ${key} is not a safe integer >= 0`);
    let i = this.home(key);
    for (;;) {
      const k = this.keys[i];
      if (k === key) {
        this.values[i] = value;
        return;
      }
      if (k === EMPTY_KEY) break;
      i = (i + 1) & this.mask;
    }
    // Grow past a load factor of 1/2, then find the free entry again in the bigger table.
    if ((this.size + 1) * 2 > this.mask + 1) {
      this.rehash();
      i = this.home(key);
      while (this.keys[i] !== EMPTY_KEY) i = (i + 1) & this.mask;
    }
    this.keys[i] = key;
    this.values[i] = value;
    this.size++;
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: number): boolean {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    for (;;) {
      const k = keys[i];
      if (k === EMPTY_KEY) return false;
      if (k === key) break;
      i = (i + 1) & mask;
    }
    // Backward-shift: move later entries of the probe run into the hole when their home allows it.
    let hole = i;
    let j = (i + 1) & mask;
    for (;;) {
      const k = keys[j];
      if (k === EMPTY_KEY) break;
      const h = this.home(k);
      // The entry at j may move to the hole if its home is not cyclically within (hole, j].
      const movable = hole <= j ? h <= hole || h > j : h <= hole && h > j;
      if (movable) {
        keys[hole] = k;
        this.values[hole] = this.values[j];
        hole = j;
      }
      j = (j + 1) & mask;
    }
    keys[hole] = EMPTY_KEY;
    this.size--;
    return true;
  }

  /** Calls `fn` for every entry, in table order (deterministic for the same history of operations). */
  forEach(fn: (value: number, key: number) => void): void {
    for (let i = 0; i <= this.mask; i++) if (this.keys[i] !== EMPTY_KEY) fn(this.values[i], this.keys[i]);
  }

  clear(): void {
    this.keys.fill(EMPTY_KEY);
    this.size = 0;
  }

  /** Writes the table as it is (entries keep their places, so iteration order survives a restore). */
  writeSnapshot(w: SnapshotWriter): void {
    w.tag('IMAP');
    w.u8(this.bits);
    w.u32(this.size);
    w.f64s(this.keys);
    w.i32s(this.values);
  }

  /** Replaces this map's contents with a table written by writeSnapshot. */
  readSnapshot(r: SnapshotReader): void {
    r.tag('IMAP');
    const bits = r.u8();
    if (bits < INITIAL_BITS || bits > MAX_BITS) r.fail(`int map of 2^${bits} entries`);
    const size = r.count('int map size', 1 << (bits - 1));
    const keys = new Float64Array(1 << bits);
    const values = new Int32Array(1 << bits);
    r.f64sExact(keys, 1 << bits, 'int map keys');
    r.i32sExact(values, 1 << bits, 'int map values');
    this.bits = bits;
    this.mask = (1 << bits) - 1;
    this.keys = keys;
    this.values = values;
    this.size = size;
    // Every key is where a lookup finds it, and the entries are as many as the size says.
    let found = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k === EMPTY_KEY) continue;
      if (!(k >= 0 && Number.isSafeInteger(k))) r.fail(`int map key ${k}`);
      let j = this.home(k);
      while (keys[j] !== k && keys[j] !== EMPTY_KEY) j = (j + 1) & this.mask;
      if (j !== i) r.fail(`int map key ${k} is out of its place`);
      found++;
    }
    if (found !== size) r.fail(`int map holds ${found} keys, not ${size}`);
  }

  private rehash(): void {
    if (this.bits + 1 > MAX_BITS) throw new Error('IntMap is full');
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.bits++;
    this.mask = (1 << this.bits) - 1;
    this.keys = new Float64Array(1 << this.bits).fill(EMPTY_KEY);
    this.values = new Int32Array(1 << this.bits);
    for (let j = 0; j < oldKeys.length; j++) {
      const k = oldKeys[j];
      if (k === EMPTY_KEY) continue;
      let i = this.home(k);
      while (this.keys[i] !== EMPTY_KEY) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.values[i] = oldValues[j];
    }
  }
}
