/**
 * Book snapshots: a book restored from writeSnapshot (into a book built with other options, with its event
 * buffer restored beside it) continues byte for byte as the original, event slots included, with equal return
 * values and state hash; snapshot, restore, snapshot gives the same bytes; ids kept in the id index's hash
 * survive; truncated or altered bytes throw a SnapshotError.
 */
import { describe, it } from 'node:test';
import { equal, ok, throws } from 'node:assert/strict';
import {
  ANY_OWNER,
  EVENT_STRIDE,
  EventBuffer,
  OrderBook,
  Side,
  type InstrumentRules,
} from '../../src/book/index.js';
import { SnapshotError, SnapshotReader, SnapshotWriter } from '../../src/collections/index.js';
import { Rng, limit, snapshot } from './helpers.js';
import { CommandGenerator, PROFILES, apply } from './random-commands.js';

const COMMANDS = 30_000;
const POINTS = 6;

/** The book and its event buffer, as bytes. */
function save(book: OrderBook): Uint8Array {
  const w = new SnapshotWriter();
  book.events.writeSnapshot(w);
  book.writeSnapshot(w);
  return w.bytes().slice();
}

/** A book restored from `bytes`, built tiny and with other rules: the snapshot decides everything. */
function load(bytes: Uint8Array): OrderBook {
  const r = new SnapshotReader(bytes);
  const events = new EventBuffer(16);
  events.readSnapshot(r);
  const book = new OrderBook(events, { capacityOrders: 16, ordersMax: 5, rules: { tickSize: 7 } });
  book.readSnapshot(r);
  r.end();
  return book;
}

function eventBytes(book: OrderBook): Buffer {
  const d = book.events.data;
  return Buffer.from(d.buffer, d.byteOffset, book.events.count * EVENT_STRIDE * 8);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function makeBook(rules: Partial<InstrumentRules>): OrderBook {
  return new OrderBook(new EventBuffer(1024), { capacityOrders: 1024, rules });
}

void describe('book snapshots', () => {
  for (let p = 0; p < PROFILES.length; p++) {
    const profile = PROFILES[p];
    void it(`restored books continue byte for byte: ${profile.name}`, () => {
      const gen = new CommandGenerator(500 + p, profile);
      const rng = new Rng(600 + p);
      const at = new Set<number>();
      while (at.size < POINTS) at.add(rng.int(COMMANDS));
      const original = makeBook(profile.rules);
      let follower: OrderBook | undefined;
      let compared = 0;
      for (let i = 0; i < COMMANDS; i++) {
        if (at.has(i)) {
          const bytes = save(original);
          if (follower !== undefined) ok(same(save(follower), bytes), `state at ${i}`);
          follower = load(bytes);
          ok(same(save(follower), bytes), `snapshot, restore, snapshot at ${i}`);
          equal(follower.stateHash(), original.stateHash(), `hash after restoring at ${i}`);
          equal(snapshot(follower), snapshot(original));
        }
        const c = gen.next(original);
        original.events.clear();
        const expected = apply(original, c);
        if (follower === undefined) continue;
        follower.events.clear();
        equal(apply(follower, structuredClone(c)), expected, `command ${i}: result`);
        ok(eventBytes(follower).equals(eventBytes(original)), `command ${i}: records (${JSON.stringify(c)})`);
        compared += original.events.count;
      }
      ok(follower !== undefined);
      equal(follower.stateHash(), original.stateHash());
      ok(same(save(follower), save(original)));
      ok(compared > 10_000, `records compared: ${compared}`);
    });
  }

  void it('ids in the id index hash and ahead of its window survive a restore', () => {
    const book = makeBook({});
    // Ids far apart (the window covers 2^17): 270,000 goes to the hash from ahead of the window; 200,000 and
    // 300,000 slide the window over it, handing 1, 2 and 3 to the hash; 4, 6 and 7 come in behind the window.
    const ids = [1, 2, 3, 270_000, 200_000, 300_000, 4, 5_000_000, 6, 9_000_000_000, 7];
    ids.forEach((id, k) => {
      const buy = k % 2 === 0;
      limit(book, id, buy ? Side.Buy : Side.Sell, buy ? 100 - k : 200 + k, 5, { owner: k % 3 });
    });
    equal(book.orderCount, ids.length);
    const restored = load(save(book));
    for (const id of ids) equal(restored.slotOf(id), book.slotOf(id), `id ${id}`);
    for (const id of [...ids].reverse()) {
      book.events.clear();
      restored.events.clear();
      equal(restored.cancel(id, ANY_OWNER, 10), book.cancel(id, ANY_OWNER, 10));
      ok(eventBytes(restored).equals(eventBytes(book)), `cancel ${id}`);
    }
    equal(restored.orderCount, 0);
    equal(restored.stateHash(), book.stateHash());
  });

  void it('truncated or altered bytes throw a SnapshotError', () => {
    const gen = new CommandGenerator(9, PROFILES[0]);
    const book = makeBook(PROFILES[0].rules);
    for (let i = 0; i < 3_000; i++) {
      const c = gen.next(book);
      book.events.clear();
      apply(book, c);
    }
    const bytes = save(book);
    const isSnapshotError = (e: unknown): boolean => e instanceof SnapshotError;
    const rng = new Rng(10);
    for (let k = 0; k < 50; k++) {
      const n = rng.int(bytes.length);
      throws(() => load(bytes.subarray(0, n)), isSnapshotError, `${n} of ${bytes.length} bytes`);
    }
    const text = Buffer.from(bytes).toString('latin1');
    for (const tag of ['BOOK', 'STPQ', 'EXPH', 'IDIX', 'IDHS']) {
      const bad = bytes.slice();
      bad[text.indexOf(tag)] ^= 0x20;
      throws(() => load(bad), isSnapshotError, tag);
    }
  });
});
