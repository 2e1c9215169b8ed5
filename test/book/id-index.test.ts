/**
 * The id index against a Map: sequential ids (the window), ids far ahead and far behind it (the hash), ids
 * that later fall inside the window while in the hash, and random 53-bit ids, with removals interleaved.
 */
import { describe, it } from 'node:test';
import { equal } from 'node:assert/strict';
import { IdIndex } from '../../src/book/id-index.js';
import { Rng } from './helpers.js';

const SHIFT = 3; // records of 8 float64, the id first, as in the book

class Harness {
  readonly index = new IdIndex(16, SHIFT);
  ids = new Float64Array(8 * 1024);
  readonly model = new Map<number, number>();
  /** Live ids, for picking one at random in O(1). */
  readonly live: number[] = [];
  private readonly position = new Map<number, number>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;

  add(id: number): void {
    if (this.model.has(id)) return;
    equal(this.index.get(id, this.ids), -1, `id ${id} is absent before it is added`);
    const slot = this.freeSlots.pop() ?? this.nextSlot++;
    if ((slot + 1) * 8 > this.ids.length) {
      const bigger = new Float64Array(this.ids.length * 2);
      bigger.set(this.ids);
      this.ids = bigger;
    }
    this.ids[slot << SHIFT] = id;
    this.index.insert(slot, this.ids);
    this.model.set(id, slot);
    this.position.set(id, this.live.length);
    this.live.push(id);
  }

  drop(id: number): void {
    const slot = this.model.get(id);
    if (slot === undefined) return;
    equal(this.index.remove(slot, id), true, `id ${id} is removed`);
    this.model.delete(id);
    this.freeSlots.push(slot);
    const at = this.position.get(id) ?? -1;
    const last = this.live.pop() ?? -1;
    if (last !== id) {
      this.live[at] = last;
      this.position.set(last, at);
    }
    this.position.delete(id);
  }

  check(probes: number[]): void {
    equal(this.index.size, this.model.size, 'size');
    for (const [id, slot] of this.model) equal(this.index.get(id, this.ids), slot, `slot of live id ${id}`);
    for (const id of probes)
      if (!this.model.has(id)) equal(this.index.get(id, this.ids), -1, `absent id ${id}`);
  }
}

function runPattern(seed: number, nextId: (rng: Rng, step: number) => number, steps: number): void {
  const rng = new Rng(seed);
  const h = new Harness();
  const probes: number[] = [];
  for (let step = 0; step < steps; step++) {
    const id = nextId(rng, step);
    probes.push(id + 1);
    h.add(id);
    // Drop a random live order most of the time, so some old ones live on and fall behind the window.
    if (rng.int(10) < 7 && h.live.length > 0) h.drop(h.live[rng.int(h.live.length)]);
    if (step % 9973 === 0) h.check(probes.slice(-50));
  }
  h.check(probes.slice(-200));
  for (const id of [...h.live]) h.drop(id);
  h.check(probes.slice(-200));
}

void describe('IdIndex', () => {
  void it('matches a Map for sequential ids, with old orders falling behind the window', () => {
    runPattern(1, (_rng, step) => step + 1, 400_000);
  });
  void it('matches a Map for ids that jump far ahead and later fall inside the window', () => {
    runPattern(
      2,
      (rng, step) => (rng.int(50) === 0 ? step + 1 + 300_000 + rng.int(500_000) : step + 1),
      300_000,
    );
  });
  void it('finds an id sent to the hash from far ahead once the window has slid over it', () => {
    const h = new Harness();
    h.add(1); // keeps the window from jumping: it is not empty
    const far = 1_000_000;
    h.add(far); // more than a window ahead of id 1: goes to the hash
    for (let id = 2; id < far; id += 7) {
      h.add(id);
      h.drop(id);
    }
    // The window now covers `far`, which still sits in the hash.
    h.check([far - 1, far + 1]);
    equal(h.index.get(far, h.ids), h.model.get(far), 'the far id is still found');
    h.drop(far);
    equal(h.index.get(far, h.ids), -1, 'and gone once removed');
    h.check([far]);
  });
  void it('matches a Map for random ids up to 2^53', () => {
    runPattern(3, (rng) => 1 + Math.floor(rng.next() * (Number.MAX_SAFE_INTEGER - 1)), 50_000);
  });
  void it('matches a Map for ids in bursts far apart (a sequencer restarted higher)', () => {
    runPattern(4, (_rng, step) => Math.floor(step / 20_000) * 10_000_000 + (step % 20_000) + 1, 120_000);
  });
});
