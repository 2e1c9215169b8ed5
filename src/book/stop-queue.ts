/**
 * Orders waiting for a trigger, on one direction: `rising` triggers when the last trade price reaches the
 * trigger price from below (buy stops, sell take-profits), `falling` from above (sell stops, buy
 * take-profits). Slots are kept sorted so that the next one to trigger sits at the end: popping is O(1),
 * insertion a binary search and a short move. Ties between equal trigger prices go to the earlier order.
 */
import type { SnapshotReader, SnapshotWriter } from '../collections/index.js';

/** The book's 2^24 orders. */
const CAPACITY_MAX = 1 << 24;

export class StopQueue {
  private slots: Int32Array;
  private keys: Float64Array; // trigger price, negated for the falling queue, so that keys descend to the end
  private prios: Float64Array;
  size = 0;

  constructor(
    readonly rising: boolean,
    capacity = 16,
  ) {
    this.slots = new Int32Array(capacity);
    this.keys = new Float64Array(capacity);
    this.prios = new Float64Array(capacity);
  }

  /** The trigger price of the next order to trigger, or NaN when empty. */
  nextTrigger(): number {
    if (this.size === 0) return NaN;
    const k = this.keys[this.size - 1];
    return this.rising ? k : -k;
  }

  nextSlot(): number {
    return this.slots[this.size - 1];
  }

  popNext(): number {
    return this.slots[--this.size];
  }

  insert(slot: number, triggerPrice: number, priority: number): void {
    if (this.size === this.slots.length) this.grow();
    const key = this.rising ? triggerPrice : -triggerPrice;
    // Sorted by key descending, then priority descending: the smallest key and earliest priority is last.
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const k = this.keys[mid];
      if (k > key || (k === key && this.prios[mid] > priority)) lo = mid + 1;
      else hi = mid;
    }
    this.slots.copyWithin(lo + 1, lo, this.size);
    this.keys.copyWithin(lo + 1, lo, this.size);
    this.prios.copyWithin(lo + 1, lo, this.size);
    this.slots[lo] = slot;
    this.keys[lo] = key;
    this.prios[lo] = priority;
    this.size++;
  }

  /** Removes `slot`, which was inserted with `triggerPrice`; returns false when it is not here. */
  remove(slot: number, triggerPrice: number): boolean {
    const key = this.rising ? triggerPrice : -triggerPrice;
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.keys[mid] > key) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.size && this.keys[i] === key; i++) {
      if (this.slots[i] !== slot) continue;
      this.slots.copyWithin(i, i + 1, this.size);
      this.keys.copyWithin(i, i + 1, this.size);
      this.prios.copyWithin(i, i + 1, this.size);
      this.size--;
      return true;
    }
    return false;
  }

  /** Slots in trigger order (next first), for queries and the state hash. */
  slotsInOrder(): number[] {
    const out: number[] = [];
    for (let i = this.size - 1; i >= 0; i--) out.push(this.slots[i]);
    return out;
  }

  /** Writes the direction, the capacity and the queue in its array order. */
  writeSnapshot(w: SnapshotWriter): void {
    w.tag('STPQ');
    w.bool(this.rising);
    w.u32(this.slots.length);
    w.i32s(this.slots, this.size);
    w.f64s(this.keys, this.size);
    w.f64s(this.prios, this.size);
  }

  /** Replaces this queue with one of the same direction written by writeSnapshot. */
  readSnapshot(r: SnapshotReader): void {
    r.tag('STPQ');
    if (r.bool() !== this.rising) r.fail('stop queue of the other direction');
    const capacity = r.count('stop queue capacity', CAPACITY_MAX);
    if (capacity < 1) r.fail('stop queue of no capacity');
    const slots = new Int32Array(capacity);
    const keys = new Float64Array(capacity);
    const prios = new Float64Array(capacity);
    const size = r.i32sInto(slots, 'stop slots');
    r.f64sExact(keys, size, 'stop keys');
    r.f64sExact(prios, size, 'stop priorities');
    for (let i = 1; i < size; i++) {
      const ordered = keys[i - 1] > keys[i] || (keys[i - 1] === keys[i] && prios[i - 1] > prios[i]);
      if (!ordered) r.fail(`stop queue out of order at ${i}`);
    }
    this.slots = slots;
    this.keys = keys;
    this.prios = prios;
    this.size = size;
  }

  private grow(): void {
    const n = this.slots.length * 2;
    const slots = new Int32Array(n);
    const keys = new Float64Array(n);
    const prios = new Float64Array(n);
    slots.set(this.slots);
    keys.set(this.keys);
    prios.set(this.prios);
    this.slots = slots;
    this.keys = keys;
    this.prios = prios;
  }
}
