/**
 * Ended orders kept in columns (src/gateway/views/ended.ts): fed a seeded random venue's records in batches,
 * every order the views return reads exactly as it stood when the batch that last changed it was published
 * (live orders are objects, ended ones are made again from their row), the order history lists every kept
 * order newest first in the order they entered, and a bound on ended orders forgets the ones that ended
 * first while live orders and newer ended ones stay, the same as the unbounded views have them.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ExchangeCore } from '../../../src/core/index.js';
import { InsertionLog } from '../../../src/gateway/views/ended.js';
import { Views, isTerminal, type OrderView } from '../../../src/gateway/views/index.js';
import { Rng } from '../../book/helpers.js';
import { RandomCommands } from '../../core/random-commands.js';

interface Model {
  /** Each order as the last batch that changed it published it. */
  last: Map<number, OrderView>;
  /** Order ids in the order they first appeared (entered the views). */
  entered: number[];
  /** The batch in which each order ended. */
  endedIn: Map<number, number>;
}

function feed(commands: number, ...views: Views[]): Model {
  const gen = new RandomCommands(11);
  const rng = new Rng(5);
  const core = new ExchangeCore();
  const model: Model = { last: new Map(), entered: [], endedIn: new Map() };
  let seq = 0;
  // The set-up, one command at a time.
  for (const c of gen.setup()) {
    core.events.clear();
    core.execute(c);
    seq++;
    for (const v of views) v.applyCommand(seq, c.timeUs, core.events.data, 0, core.events.count);
  }
  for (let batch = 0, n = 0; n < commands; batch++) {
    const size = 1 + rng.int(6);
    core.events.clear();
    const ends = new Int32Array(size);
    let timeUs = 0;
    for (let k = 0; k < size; k++) {
      const c = gen.next();
      timeUs = c.timeUs;
      core.execute(c);
      ends[k] = core.events.count;
    }
    for (const v of views) v.applyBatch(seq + 1, timeUs, core.events.data, ends);
    seq += size;
    n += size;
    for (const o of views[0].changes.orders) {
      if (!model.last.has(o.orderId)) model.entered.push(o.orderId);
      model.last.set(o.orderId, { ...o });
      if (isTerminal(o.status)) model.endedIn.set(o.orderId, batch);
    }
  }
  return model;
}

describe('ended orders in columns', () => {
  const full = new Views();
  const bound = 150;
  const small = new Views({ endedOrdersKept: bound });
  const model = feed(6_000, full, small);

  it('read back as they stood when they last changed, live and ended', () => {
    assert.ok(model.endedIn.size > 2 * bound, `orders ended (${model.endedIn.size})`);
    assert.ok(model.last.size > model.endedIn.size, 'some orders are live');
    for (const [id, expected] of model.last) assert.deepEqual(full.order(id), expected, `order ${id}`);
    const withFills = [...model.last.values()].filter((o) => isTerminal(o.status) && o.filledLots > 0);
    assert.ok(withFills.length > 20 && withFills.every((o) => o.settledMinor !== 0 && o.notional > 0n));
    assert.ok([...model.last.values()].some((o) => o.status === 'rejected'));
  });

  it('list every kept order newest first, in the order they entered', () => {
    const history = full.orderHistory(null, 1e9).map((o) => o.orderId);
    assert.deepEqual(history, [...model.entered].reverse());
    const account = full.orderHistory(null, 1)[0].accountId;
    assert.deepEqual(
      full.orderHistory([account], 7).map((o) => o.orderId),
      history.filter((id) => model.last.get(id)?.accountId === account).slice(0, 7),
    );
  });

  it('forget the orders that ended first beyond the bound, as the unbounded views have the rest', () => {
    const kept = model.entered.filter((id) => small.order(id) !== undefined);
    const keptEnded = kept.filter((id) => model.endedIn.has(id));
    assert.equal(keptEnded.length, bound);
    const forgotten = model.entered.filter((id) => small.order(id) === undefined);
    assert.equal(forgotten.length, model.endedIn.size - bound);
    const newestForgotten = Math.max(...forgotten.map((id) => model.endedIn.get(id) as number));
    const oldestKept = Math.min(...keptEnded.map((id) => model.endedIn.get(id) as number));
    assert.ok(newestForgotten <= oldestKept);
    for (const id of kept) assert.deepEqual(small.order(id), full.order(id));
    assert.deepEqual(
      small.orderHistory(null, 1e9).map((o) => o.orderId),
      [...kept].reverse(),
    );
    assert.equal(small.venue.openOrders, full.venue.openOrders);
  });
});

describe('the insertion log', () => {
  it('walks its entries newest first across its chunks, and keeps their order when compacted', () => {
    const log = new InsertionLog();
    const n = 3 * 4096 + 17;
    for (let id = 1; id <= n; id++) assert.equal(log.add(1000 + id), id);
    assert.equal(log.entries, n);
    const walked: number[] = [];
    log.walkNewestFirst((orderId, inserted) => {
      assert.equal(orderId, 1000 + inserted);
      walked.push(inserted);
      return true;
    });
    assert.deepEqual(
      walked,
      Array.from({ length: n }, (_, k) => n - k),
    );
    // A walk stops where the visitor says.
    let visits = 0;
    log.walkNewestFirst(() => ++visits < 5000);
    assert.equal(visits, 5000);
    // Compacted to every third entry, then added to: insertion numbers go on from where they were.
    compact(log, (_orderId, inserted) => inserted % 3 === 0);
    const kept = Math.floor(n / 3);
    assert.equal(log.entries, kept);
    assert.equal(log.add(7), n + 1);
    const after: number[] = [];
    log.walkNewestFirst((orderId, inserted) => {
      after.push(inserted);
      return true;
    });
    assert.deepEqual(after, [n + 1, ...Array.from({ length: kept }, (_, k) => 3 * (kept - k))]);
    compact(log, () => false);
    assert.equal(log.entries, 0);
    log.walkNewestFirst(() => assert.fail('an empty log has no entries'));
    assert.equal(log.add(8), n + 2);
  });
});

/** A whole compaction pass, step by step. */
function compact(log: InsertionLog, kept: (orderId: number, inserted: number) => boolean): void {
  let steps = 0;
  do {
    log.compactStep(kept);
    steps++;
  } while (log.compacting);
  assert.ok(steps <= Math.ceil(log.entries / 512) + 200, `${steps} steps`);
}

describe('the insertion log compacted a step at a time', () => {
  it('walks every entry still kept, newest first, while orders enter and are forgotten during a pass', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), n: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ kind: fc.constant('forget' as const), n: fc.integer({ min: 0, max: 99 }) }),
      fc.record({ kind: fc.constant('step' as const), n: fc.integer({ min: 1, max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const log = new InsertionLog();
        let added = 0;
        const forgotten = new Set<number>();
        const kept = (orderId: number, inserted: number): boolean => {
          assert.equal(orderId, 5000 + inserted);
          return !forgotten.has(inserted);
        };
        const check = (): void => {
          const walked: number[] = [];
          log.walkNewestFirst((orderId, inserted) => {
            assert.equal(orderId, 5000 + inserted);
            walked.push(inserted);
            return true;
          });
          assert.equal(walked.length, log.entries);
          for (let k = 1; k < walked.length; k++) assert.ok(walked[k] < walked[k - 1], 'newest first');
          const present = new Set(walked);
          for (let n = 1; n <= added; n++)
            if (!forgotten.has(n)) assert.ok(present.has(n), `entry ${n} lost`);
        };
        for (const o of ops) {
          if (o.kind === 'add') for (let k = 0; k < o.n; k++) assert.equal(log.add(5000 + ++added), added);
          else if (o.kind === 'forget') {
            // Forgets a hundredth share of the entries, those whose number ends in o.n (mod 100).
            for (let n = 1; n <= added; n++) if (n % 100 === o.n) forgotten.add(n);
          } else for (let k = 0; k < o.n; k++) log.compactStep(kept);
          check();
        }
        // A whole pass from here leaves exactly the kept entries.
        if (log.compacting) compact(log, kept);
        compact(log, kept);
        check();
        assert.equal(log.entries, added - forgotten.size);
      }),
      { numRuns: 150 },
    );
  });
});
