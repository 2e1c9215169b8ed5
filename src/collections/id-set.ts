/**
 * A set of safe integers (order ids) that stays one Set while it is small and splits into PARTS Sets by a hash
 * of the id once it passes `splitAt` ids. A JavaScript Set grows by doubling and rehashing every id at once:
 * an account with a quarter of a million open orders made the thread that keeps them stop for tens of
 * milliseconds at each doubling (docs/performance.md, "Stalls of the main thread"). Split, a growth rehashes a
 * 1/PARTS part. Small sets, the common case (one per account), cost what a Set costs.
 *
 * Iteration order is unspecified (insertion order within a part).
 */
import { intShard } from './sharded-map.js';

/** A power of two. */
const PARTS = 64;
const PART_SHIFT = 2; // intShard gives 8 bits; PARTS uses the top 6 of them

export const ID_SET_SPLIT_AT_DEFAULT = 8192;

export class IdSet {
  /** The ids while the set is small; null once split. */
  private small: Set<number> | null = new Set();
  private parts: Set<number>[] | null = null;
  private count = 0;

  constructor(private readonly splitAt = ID_SET_SPLIT_AT_DEFAULT) {
    if (!(Number.isSafeInteger(splitAt) && splitAt >= 1)) throw new RangeError('splitAt must be 1 or more');
  }

  get size(): number {
    return this.count;
  }

  /** Whether the set has split into parts. */
  get split(): boolean {
    return this.parts !== null;
  }

  /** Ids in the fullest part (all of them before the split): what one growth rehashes at most is about that. */
  get largestPartSize(): number {
    if (this.small !== null) return this.small.size;
    let most = 0;
    for (const part of this.parts as Set<number>[]) most = Math.max(most, part.size);
    return most;
  }

  has(id: number): boolean {
    return this.small !== null ? this.small.has(id) : this.partOf(id).has(id);
  }

  /** Adds `id`; false when it was there already. */
  add(id: number): boolean {
    const set = this.small ?? this.partOf(id);
    const before = set.size;
    set.add(id);
    if (set.size === before) return false;
    this.count++;
    if (this.small !== null && this.count > this.splitAt) this.splitUp();
    return true;
  }

  /** Removes `id`; false when it was not there. */
  delete(id: number): boolean {
    const deleted = (this.small ?? this.partOf(id)).delete(id);
    if (deleted) this.count--;
    return deleted;
  }

  *values(): IterableIterator<number> {
    if (this.small !== null) yield* this.small.values();
    else for (const part of this.parts as Set<number>[]) yield* part.values();
  }

  [Symbol.iterator](): IterableIterator<number> {
    return this.values();
  }

  private partOf(id: number): Set<number> {
    return (this.parts as Set<number>[])[intShard(id) >>> PART_SHIFT];
  }

  /** Once, at `splitAt` ids: that many ids rehashed once, then each growth is a part's. */
  private splitUp(): void {
    const parts: Set<number>[] = [];
    for (let i = 0; i < PARTS; i++) parts.push(new Set());
    this.parts = parts;
    for (const id of this.small as Set<number>) this.partOf(id).add(id);
    this.small = null;
  }
}
