/**
 * Ticks held back until the watermark passes them, then released in (time, id) order: tick, volume and dollar
 * bars count ticks in event-time order, so their bars do not depend on the order ticks arrived in. A binary
 * min-heap over parallel typed arrays (no object per tick), grown by doubling up to a bound.
 */
import { tickBefore } from './bar-state.js';
import { BarError } from './types.js';

export class ReorderBuffer {
  private timeUs: Float64Array;
  private timeNs: Float64Array;
  private price: Float64Array;
  private size: Float64Array;
  private id: Float64Array;
  length = 0;

  constructor(
    initial: number,
    private readonly max: number,
  ) {
    this.timeUs = new Float64Array(initial);
    this.timeNs = new Float64Array(initial);
    this.price = new Float64Array(initial);
    this.size = new Float64Array(initial);
    this.id = new Float64Array(initial);
  }

  push(timeUs: number, timeNs: number, price: number, size: number, id: number): void {
    if (this.length === this.timeUs.length) this.grow();
    let i = this.length++;
    // Sift up: move parents down until the new tick's place is found, then write it once.
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!tickBefore(timeUs, timeNs, id, this.timeUs[p], this.timeNs[p], this.id[p])) break;
      this.move(p, i);
      i = p;
    }
    this.write(i, timeUs, timeNs, price, size, id);
  }

  /** The least tick's time in µs (call only when length > 0). */
  peekTimeUs(): number {
    return this.timeUs[0];
  }

  /** Removes the least tick and hands it to `sink`. */
  pop(sink: (timeUs: number, timeNs: number, price: number, size: number, id: number) => void): void {
    if (this.length <= 0) throw new Error('ReorderBuffer.pop: empty');
    const tUs = this.timeUs[0];
    const tNs = this.timeNs[0];
    const pr = this.price[0];
    const sz = this.size[0];
    const id = this.id[0];
    const n = --this.length;
    if (n > 0) this.siftDownLast(n);
    sink(tUs, tNs, pr, sz, id);
  }

  /** Puts the element at index n (the old last) into the root's place and sifts it down. */
  private siftDownLast(n: number): void {
    const lUs = this.timeUs[n];
    const lNs = this.timeNs[n];
    const lPr = this.price[n];
    const lSz = this.size[n];
    const lId = this.id[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (
        r < n &&
        tickBefore(this.timeUs[r], this.timeNs[r], this.id[r], this.timeUs[c], this.timeNs[c], this.id[c])
      )
        c = r;
      if (!tickBefore(this.timeUs[c], this.timeNs[c], this.id[c], lUs, lNs, lId)) break;
      this.move(c, i);
      i = c;
    }
    this.write(i, lUs, lNs, lPr, lSz, lId);
  }

  private move(from: number, to: number): void {
    this.timeUs[to] = this.timeUs[from];
    this.timeNs[to] = this.timeNs[from];
    this.price[to] = this.price[from];
    this.size[to] = this.size[from];
    this.id[to] = this.id[from];
  }

  private write(i: number, timeUs: number, timeNs: number, price: number, size: number, id: number): void {
    this.timeUs[i] = timeUs;
    this.timeNs[i] = timeNs;
    this.price[i] = price;
    this.size[i] = size;
    this.id[i] = id;
  }

  private grow(): void {
    const capacity = this.timeUs.length * 2;
    if (capacity > this.max) {
      throw new BarError(
        'REORDER_BUFFER_FULL',
        `more than ${this.max} ticks wait for the watermark: advance it, or lower the allowed lateness`,
      );
    }
    const grown = (a: Float64Array): Float64Array => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    this.timeUs = grown(this.timeUs);
    this.timeNs = grown(this.timeNs);
    this.price = grown(this.price);
    this.size = grown(this.size);
    this.id = grown(this.id);
  }
}
