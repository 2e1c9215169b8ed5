/**
 * Recognizes duplicate ticks by trade id. An id is remembered while its tick could still be accepted, that
 * is while the tick's time is at or after the horizon (watermark − allowed lateness); a tick before the
 * horizon is dropped as late anyway, so forgetting the ids behind it loses nothing. The ids are kept in a
 * Set and, in arrival order, in a ring with their times, from whose front they are forgotten.
 */
import { BarError } from './types.js';

export class DedupWindow {
  private readonly ids = new Set<number>();
  private ringId: Float64Array;
  private ringUs: Float64Array;
  private head = 0;
  private count = 0;

  constructor(
    initial: number,
    private readonly max: number,
  ) {
    this.ringId = new Float64Array(initial);
    this.ringUs = new Float64Array(initial);
  }

  get size(): number {
    return this.ids.size;
  }

  /** True when `id` is new (and remembers it), false for a duplicate. */
  admit(id: number, timeUs: number): boolean {
    if (this.ids.has(id)) return false;
    if (this.count === this.ringId.length) this.grow();
    const cap = this.ringId.length;
    const at = (this.head + this.count) % cap;
    this.ringId[at] = id;
    this.ringUs[at] = timeUs;
    this.count++;
    this.ids.add(id);
    return true;
  }

  /**
   * Forgets ids of ticks before `horizonUs`, from the front of the arrival order: an id that arrived after a
   * newer one waits for it (held a little longer, which is harmless).
   */
  forgetBefore(horizonUs: number): void {
    const cap = this.ringId.length;
    while (this.count > 0 && this.ringUs[this.head] < horizonUs) {
      this.ids.delete(this.ringId[this.head]);
      this.head = (this.head + 1) % cap;
      this.count--;
    }
  }

  private grow(): void {
    const cap = this.ringId.length;
    if (cap * 2 > this.max) {
      throw new BarError(
        'DEDUP_WINDOW_FULL',
        `more than ${this.max} trade ids within the allowed lateness: advance the watermark, or lower the lateness`,
      );
    }
    const ids = new Float64Array(cap * 2);
    const us = new Float64Array(cap * 2);
    for (let k = 0; k < this.count; k++) {
      ids[k] = this.ringId[(this.head + k) % cap];
      us[k] = this.ringUs[(this.head + k) % cap];
    }
    this.ringId = ids;
    this.ringUs = us;
    this.head = 0;
  }
}
