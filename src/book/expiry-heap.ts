/**
 * Pending expiries: a binary min-heap of (expiry time, order id) in typed arrays. Entries are not removed when
 * an order leaves the book early; the book checks on pop that the order is still live with the same expiry
 * time, and calls `retain` to drop stale entries when they outnumber the live ones.
 */
import type { SnapshotReader, SnapshotWriter } from '../collections/index.js';

/** Entries at most: the book's 2^24 orders, twice over for stale entries, and the slack before `retain`. */
const CAPACITY_MAX = 1 << 26;

export class ExpiryHeap {
  private times: Float64Array;
  private ids: Float64Array;
  size = 0;

  constructor(capacity = 64) {
    this.times = new Float64Array(capacity);
    this.ids = new Float64Array(capacity);
  }

  /** Earliest expiry time, or +Infinity when empty. */
  peekTime(): number {
    return this.size === 0 ? Infinity : this.times[0];
  }

  peekId(): number {
    return this.ids[0];
  }

  push(timeUs: number, id: number): void {
    if (this.size === this.times.length) this.grow();
    let i = this.size++;
    const times = this.times;
    const ids = this.ids;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timeUs, id, times[parent], ids[parent])) break;
      times[i] = times[parent];
      ids[i] = ids[parent];
      i = parent;
    }
    times[i] = timeUs;
    ids[i] = id;
  }

  pop(): void {
    const n = --this.size;
    if (n === 0) return;
    const times = this.times;
    const ids = this.ids;
    const t = times[n];
    const id = ids[n];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(times[r], ids[r], times[l], ids[l]) ? r : l;
      if (!before(times[c], ids[c], t, id)) break;
      times[i] = times[c];
      ids[i] = ids[c];
      i = c;
    }
    times[i] = t;
    ids[i] = id;
  }

  /** Keeps only the entries `live` accepts, then restores the heap order. */
  retain(live: (timeUs: number, id: number) => boolean): void {
    const entries: [number, number][] = [];
    for (let i = 0; i < this.size; i++)
      if (live(this.times[i], this.ids[i])) entries.push([this.times[i], this.ids[i]]);
    this.size = 0;
    for (const [t, id] of entries) this.push(t, id);
  }

  /** Writes the capacity and the heap's entries in their array order. */
  writeSnapshot(w: SnapshotWriter): void {
    w.tag('EXPH');
    w.u32(this.times.length);
    w.f64s(this.times, this.size);
    w.f64s(this.ids, this.size);
  }

  /** Replaces this heap with one written by writeSnapshot. */
  readSnapshot(r: SnapshotReader): void {
    r.tag('EXPH');
    const capacity = r.count('expiry heap capacity', CAPACITY_MAX);
    if (capacity < 1) r.fail('expiry heap of no capacity');
    const times = new Float64Array(capacity);
    const ids = new Float64Array(capacity);
    const size = r.f64sInto(times, 'expiry times');
    r.f64sExact(ids, size, 'expiry order ids');
    for (let i = 1; i < size; i++) {
      const parent = (i - 1) >> 1;
      if (before(times[i], ids[i], times[parent], ids[parent])) r.fail(`expiry heap out of order at ${i}`);
    }
    this.times = times;
    this.ids = ids;
    this.size = size;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    const ids = new Float64Array(this.ids.length * 2);
    times.set(this.times);
    ids.set(this.ids);
    this.times = times;
    this.ids = ids;
  }
}

/** Earlier time first; for equal times the lower order id, so expiry order is deterministic. */
function before(t1: number, id1: number, t2: number, id2: number): boolean {
  return t1 < t2 || (t1 === t2 && id1 < id2);
}
