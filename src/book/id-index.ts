/**
 * Order id -> order slot, for the book's place, cancel and amend paths.
 *
 * The core's sequencer hands out increasing ids, and most live orders are recent. So the index is a
 * direct-mapped ring over a sliding window of ids, [base, base + WINDOW), whose entry for an id is the slot
 * itself: one array read, no hashing, no probing. The window keeps half of itself ahead of the newest id, so
 * a new order's duplicate check lands inside it too. Everything else (an order that has lived longer than
 * the window, ids that jump far ahead, or ids in no order at all) goes to IdHash, so any id pattern is
 * correct, and only sequential ones are fast.
 *
 * The window only slides forward. Sliding moves the live entries it leaves behind into the hash; each ring
 * entry is read once per WINDOW ids, so sliding costs one read per id on average. An id more than a window
 * ahead goes to the hash, unless the window holds nothing, in which case the window jumps to it for free.
 * Such an id may later fall inside the window while still in the hash, so lookups in the window that find
 * nothing ask the hash too, for ids up to the largest id ever sent there from ahead (none, for sequential
 * ids).
 */
import type { SnapshotReader, SnapshotWriter } from '../collections/index.js';
import { IdHash } from './id-hash.js';

const EMPTY = -1;
/** Ids covered by the window: 2^17 entries, 512 KiB. */
const WINDOW_BITS = 17;
const WINDOW = 1 << WINDOW_BITS;
const WINDOW_MASK = WINDOW - 1;
const WINDOW_AHEAD = WINDOW >> 1;

export class IdIndex {
  private readonly ring = new Int32Array(WINDOW).fill(EMPTY);
  /** Smallest id the window covers; ids in [base, base + WINDOW) live in the ring. */
  private base = 1;
  private liveInRing = 0;
  /** The largest id that went to the hash from ahead of the window, or 0. */
  private aheadMax = 0;
  declare private readonly hash: IdHash;

  /** `idShift`: log2 of the record stride, in elements, of the array the ids are read from. */
  constructor(
    capacityKeys: number,
    private readonly idShift: number,
  ) {
    this.hash = new IdHash(Math.min(capacityKeys, 1024), idShift);
  }

  get size(): number {
    return this.liveInRing + this.hash.size;
  }

  /** The slot of `id`, or -1. */
  get(id: number, ids: Float64Array): number {
    const offset = id - this.base;
    if (offset >= 0 && offset < WINDOW) {
      const slot = this.ring[id & WINDOW_MASK];
      return slot === EMPTY && id <= this.aheadMax ? this.hash.get(id, ids) : slot;
    }
    return this.hash.get(id, ids);
  }

  /** Adds `slot` under the id in its record; the caller has checked the id is absent. */
  insert(slot: number, ids: Float64Array): void {
    const id = ids[slot << this.idShift];
    let offset = id - this.base;
    if (offset >= WINDOW) {
      if (offset < 2 * WINDOW || this.liveInRing === 0) this.slideTo(id - WINDOW_AHEAD, ids);
      offset = id - this.base;
    }
    if (offset >= 0 && offset < WINDOW) {
      this.ring[id & WINDOW_MASK] = slot;
      this.liveInRing++;
    } else {
      if (offset > 0 && id > this.aheadMax) this.aheadMax = id;
      this.hash.insert(slot, ids);
    }
  }

  /** Removes the entry of `slot`, whose id is `id`; returns false when it is not there. */
  remove(slot: number, id: number): boolean {
    const offset = id - this.base;
    if (offset >= 0 && offset < WINDOW) {
      const at = id & WINDOW_MASK;
      if (this.ring[at] !== slot) return id <= this.aheadMax ? this.hash.remove(slot, id) : false;
      this.ring[at] = EMPTY;
      this.liveInRing--;
      return true;
    }
    return this.hash.remove(slot, id);
  }

  /** Moves the window's base forward to `newBase`, handing the live entries left behind to the hash. */
  private slideTo(newBase: number, ids: Float64Array): void {
    if (newBase <= this.base) return;
    if (this.liveInRing > 0) {
      const end = Math.min(newBase, this.base + WINDOW);
      for (let id = this.base; id < end && this.liveInRing > 0; id++) {
        const at = id & WINDOW_MASK;
        const slot = this.ring[at];
        if (slot === EMPTY) continue;
        this.ring[at] = EMPTY;
        this.liveInRing--;
        this.hash.insert(slot, ids);
      }
    }
    this.base = newBase;
  }

  /** Writes the window (its live entries as (position, slot) pairs) and the hash behind it. */
  writeSnapshot(w: SnapshotWriter): void {
    w.tag('IDIX');
    w.f64(this.base);
    w.f64(this.aheadMax);
    const pairs = new Int32Array(2 * this.liveInRing);
    let n = 0;
    for (let i = 0; i < WINDOW && n < pairs.length; i++) {
      if (this.ring[i] === EMPTY) continue;
      pairs[n++] = i;
      pairs[n++] = this.ring[i];
    }
    if (n !== pairs.length) throw new Error(`id index: ${n / 2} ring entries, ${this.liveInRing} counted`);
    w.i32s(pairs);
    this.hash.writeSnapshot(w);
  }

  /** Replaces this index with one written by writeSnapshot; the book checks its entries against its orders. */
  readSnapshot(r: SnapshotReader): void {
    r.tag('IDIX');
    this.base = r.safeInt('id window base', 1);
    this.aheadMax = r.safeInt('id index aheadMax', 0);
    const pairs = new Int32Array(2 * WINDOW);
    const n = r.i32sInto(pairs, 'id window entries');
    if (n % 2 !== 0) r.fail('id window entries are not pairs');
    this.ring.fill(EMPTY);
    for (let k = 0; k < n; k += 2) {
      const at = pairs[k];
      if (!(at >= 0 && at < WINDOW) || this.ring[at] !== EMPTY || pairs[k + 1] < 0)
        r.fail(`id window entry ${at}`);
      this.ring[at] = pairs[k + 1];
    }
    this.liveInRing = n / 2;
    this.hash.readSnapshot(r);
  }

  /** Bytes held, for memory accounting. */
  get bytes(): number {
    return this.ring.byteLength + this.hash.bytes;
  }
}
