/**
 * Determinism: the same command stream on two fresh books gives byte-identical event records, equal return
 * values and an equal stateHash, whatever the books' initial capacities (so allocation history does not leak
 * into behaviour); a different stream gives a different hash.
 */
import { describe, it } from 'node:test';
import { deepEqual, equal, notEqual, ok } from 'node:assert/strict';
import { EVENT_STRIDE, EventBuffer, OrderBook, type InstrumentRules } from '../../src/book/index.js';
import { snapshot } from './helpers.js';
import { CommandGenerator, PROFILES, apply, type Command } from './random-commands.js';

/** The bytes of the events written since the buffer was last cleared. */
function eventBytes(book: OrderBook): Buffer {
  const d = book.events.data;
  return Buffer.from(
    d.buffer,
    d.byteOffset,
    book.events.count * EVENT_STRIDE * Float64Array.BYTES_PER_ELEMENT,
  );
}

function makeBook(
  rules: Partial<InstrumentRules>,
  capacityOrders: number,
  capacityEvents: number,
): OrderBook {
  return new OrderBook(new EventBuffer(capacityEvents), { capacityOrders, rules });
}

/** Generates `n` commands from `seed`, running them on a book (the generator reads it to pick targets). */
function stream(profileIndex: number, seed: number, n: number): Command[] {
  const profile = PROFILES[profileIndex];
  const book = makeBook(profile.rules, 1024, 1024);
  const gen = new CommandGenerator(seed, profile);
  const out: Command[] = [];
  for (let i = 0; i < n; i++) {
    const c = gen.next(book);
    // Commands are plain data: keep a deep copy, so that nothing the book does to them can matter.
    out.push(structuredClone(c));
    book.events.clear();
    apply(book, c);
  }
  return out;
}

/** Runs `commands` on a fresh book and returns its final hash. */
function finalHash(profileIndex: number, commands: readonly Command[]): string {
  const book = makeBook(PROFILES[profileIndex].rules, 1024, 1024);
  for (const c of commands) {
    book.events.clear();
    apply(book, c);
  }
  return book.stateHash();
}

const N = 20_000;

void describe('determinism', () => {
  for (let p = 0; p < PROFILES.length; p++) {
    void it(`the same stream gives byte-identical events and equal hashes: ${PROFILES[p].name}`, () => {
      const commands = stream(p, 100 + p, N);
      // One book starts tiny and grows many times; the other starts large.
      const a = makeBook(PROFILES[p].rules, 16, 16);
      const b = makeBook(PROFILES[p].rules, 1 << 16, 1 << 12);
      equal(a.stateHash(), b.stateHash());
      let events = 0;
      for (let i = 0; i < commands.length; i++) {
        a.events.clear();
        b.events.clear();
        const ra = apply(a, commands[i]);
        const rb = apply(b, commands[i]);
        equal(ra, rb, `command ${i} result`);
        equal(a.events.count, b.events.count, `command ${i}: event count`);
        ok(
          eventBytes(a).equals(eventBytes(b)),
          `command ${i}: event records differ (${JSON.stringify(commands[i])})`,
        );
        events += a.events.count;
        if (i % 1000 === 999) equal(a.stateHash(), b.stateHash(), `hash after command ${i}`);
      }
      equal(a.stateHash(), b.stateHash());
      equal(snapshot(a), snapshot(b));
      equal(a.sequence, events, 'every event was compared');
      ok(events > N, `the stream did something (${events} events)`);
    });
  }

  void it('the hash depends only on the commands, and querying does not change it', () => {
    const commands = stream(0, 7, 5000);
    const book = makeBook(PROFILES[0].rules, 16, 16);
    for (const c of commands) {
      book.events.clear();
      apply(book, c);
    }
    const h = book.stateHash();
    snapshot(book);
    book.order(1);
    book.bbo();
    equal(book.stateHash(), h);
    equal(finalHash(0, commands), h);
    ok(/^[0-9a-f]{64}$/.test(h), h);
  });

  void it('a different stream gives a different hash', () => {
    const one = stream(0, 1, 5000);
    const two = stream(0, 2, 5000);
    notEqual(finalHash(0, one), finalHash(0, two));
  });

  void it('changing a single command changes the hash', () => {
    const commands = stream(0, 3, 3000);
    const base = finalHash(0, commands);
    // Bump the quantity of one GTC limit order placed late in the stream that is still resting at the end.
    const book = makeBook(PROFILES[0].rules, 1024, 1024);
    for (const c of commands) {
      book.events.clear();
      apply(book, c);
    }
    let changed: Command[] | undefined;
    for (let i = commands.length - 1; i >= 0 && changed === undefined; i--) {
      const c = commands[i];
      if (c.kind !== 'place' || c.invalid) continue;
      const v = book.order(c.order.orderId);
      if (v === undefined || v.pendingTrigger || v.qtyFilled > 0 || v.displayQty > 0) continue;
      const copy = structuredClone(commands);
      const target = copy[i];
      if (target.kind === 'place') target.order.qty += 1;
      changed = copy;
    }
    ok(changed !== undefined, 'found a resting order to change');
    notEqual(finalHash(0, changed), base);
    // And the same stream again gives the same hash.
    deepEqual(finalHash(0, structuredClone(commands)), base);
  });
});
