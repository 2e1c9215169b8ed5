/**
 * The LOBSTER rebuild against a known book and against the plain reference (test/marketdata/lobster/reference.ts),
 * row by row: generated valid days with all seven message types, random (often invalid) message sequences, and
 * mid-day replays seeded from an order-book row.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseBookRow } from '../../../src/marketdata/index.js';
import { generateDay, knownBook, MID, TICK } from './generate.js';
import { csv, issueCounts, rebuild, ReferenceBook, referenceRows, type Msg } from './reference.js';

const E_ASK = '9999999999,0';
const E_BID = '-9999999999,0';

describe('LOBSTER rebuild: a known book', () => {
  it('writes the known book after its submits, best first, with empty levels marked', () => {
    const { rows, report } = rebuild(csv(knownBook(34_200e9)), 6);
    assert.equal(rows.length, 20);
    assert.equal(
      rows[0],
      ['9999999999,0', `${MID},100`, ...Array<string>(5).fill(`${E_ASK},${E_BID}`)].join(','),
    );
    const levels = [0, 1, 2, 3, 4].map(
      (k) => `${MID + (k + 1) * TICK},${101 * (k + 1) - k},${MID - k * TICK},${201 * (k + 1) - k}`,
    );
    assert.equal(rows[19], [...levels, `${E_ASK},${E_BID}`].join(','));
    assert.equal(report.issuesTotal, 0);
  });

  it('applies each message type as the format says', () => {
    const book = knownBook(34_200e9);
    const t = 34_300e9;
    const msgs: Msg[] = [
      ...book,
      { t, type: 2, id: 1, size: 30, price: MID, dir: 1 }, // bid level 1: 201 -> 171
      { t, type: 4, id: 2, size: 50, price: MID + TICK, dir: -1 }, // ask level 1: 101 -> 51 (order 2 gone)
      { t, type: 3, id: 4, size: 51, price: MID + TICK, dir: -1 }, // ask level 1 emptied
      { t, type: 5, id: 0, size: 10, price: MID + 50, dir: 1 }, // hidden execution: nothing
      { t, type: 6, id: 77, size: 500, price: MID, dir: -1 }, // cross trade: nothing
      { t, type: 7, id: 0, size: 0, price: -1, dir: -1 }, // halt: nothing
      { t, type: 1, id: 500, size: 9, price: MID + 50, dir: -1 }, // a new best ask between levels
    ];
    const { rows, report } = rebuild(csv(msgs), 2);
    assert.deepEqual(rows.slice(20), [
      `${MID + TICK},101,${MID},171,${MID + 2 * TICK},201,${MID - TICK},401`,
      `${MID + TICK},51,${MID},171,${MID + 2 * TICK},201,${MID - TICK},401`,
      `${MID + 2 * TICK},201,${MID},171,${MID + 3 * TICK},301,${MID - TICK},401`,
      `${MID + 2 * TICK},201,${MID},171,${MID + 3 * TICK},301,${MID - TICK},401`,
      `${MID + 2 * TICK},201,${MID},171,${MID + 3 * TICK},301,${MID - TICK},401`,
      `${MID + 2 * TICK},201,${MID},171,${MID + 3 * TICK},301,${MID - TICK},401`,
      `${MID + 50},9,${MID},171,${MID + 2 * TICK},201,${MID - TICK},401`,
    ]);
    assert.equal(report.issuesTotal, 0);
    assert.deepEqual(report.byType, { '1': 21, '2': 1, '3': 1, '4': 1, '5': 1, '6': 1, '7': 1 });
    assert.equal(report.ordersOpen, 19);
  });

  for (const seed of [1, 2, 3]) {
    it(`matches the reference on every row of a generated day (seed ${seed})`, () => {
      const day = generateDay(seed, 3000);
      const expected = referenceRows(day, 10);
      const { rows, report } = rebuild(csv(day), 10);
      assert.equal(rows.length, day.length);
      for (let i = 0; i < rows.length; i++) assert.equal(rows[i], expected[i], `row ${i + 1}`);
      assert.equal(report.issuesTotal, 0, JSON.stringify(report.examples));
      for (let type = 1; type <= 7; type++) assert.ok(report.byType[String(type)] > 0, `type ${type} occurs`);
      assert.equal(report.messages, day.length);
    });
  }

  it('matches the reference at 200 levels, through many full output buffers', () => {
    // About 5 KiB a row: the 1 MiB output buffer fills every couple of hundred rows, and rows the message did
    // not change are copied from the last row, which a flush has moved out of the buffer.
    const day = generateDay(4, 2000);
    const expected = referenceRows(day, 200);
    const { rows } = rebuild(csv(day), 200);
    for (let i = 0; i < rows.length; i++) assert.equal(rows[i], expected[i], `row ${i + 1}`);
  });

  it('gives the same rows however the input is cut into chunks', () => {
    const text = csv(generateDay(9, 400));
    const whole = rebuild(text, 5).rows;
    for (const chunk of [1, 7, 64, 1000])
      assert.deepEqual(rebuild(text, 5, null, chunk).rows, whole, `chunks of ${chunk}`);
    assert.deepEqual(rebuild(text.replace(/\n$/, ''), 5).rows, whole, 'no newline at the end');
    assert.deepEqual(rebuild(text.replace(/\n/g, '\r\n'), 5).rows, whole, 'CRLF line ends');
  });
});

/** Random messages over a small space of ids, prices and sizes: duplicates, unknown ids and overshoots abound. */
const messageArb = fc.record({
  dt: fc.constantFrom(-1, 0, 1, 1, 1, 2),
  type: fc.constantFrom(1, 1, 1, 2, 3, 4, 4, 5, 6, 7),
  id: fc.integer({ min: 1, max: 15 }),
  size: fc.oneof(fc.constantFrom(-5, 0), fc.integer({ min: 1, max: 60 })),
  tick: fc.integer({ min: -4, max: 4 }),
  dir: fc.constantFrom(1, -1, 1, -1, 0),
  haltPrice: fc.constantFrom(-1, 0, 1, 2),
});
const seedLevelArb = fc.record({
  ticks: fc.integer({ min: 1, max: 4 }),
  size: fc.integer({ min: 1, max: 50 }),
});

describe('LOBSTER rebuild: random message sequences against the reference', () => {
  it('agrees on every row, every issue count, the skipped and the anonymous counts', () => {
    fc.assert(
      fc.property(
        fc.array(messageArb, { maxLength: 120 }),
        fc.uniqueArray(seedLevelArb, { selector: (l) => l.ticks, maxLength: 4 }),
        fc.uniqueArray(seedLevelArb, { selector: (l) => l.ticks, maxLength: 4 }),
        (raw, seedBids, seedAsks) => {
          let t = 34_200e9;
          // The first message is a hidden execution (no effect to take back), so the seed row is the book.
          const msgs: Msg[] = [{ t, type: 5, id: 0, size: 1, price: MID, dir: 1 }];
          for (const r of raw) {
            t = Math.max(0, t + r.dt * 1000);
            const price = r.type === 7 ? r.haltPrice : MID + r.tick * TICK;
            msgs.push({ t, type: r.type, id: r.id, size: r.size, price, dir: r.dir });
          }
          const bids = [...seedBids]
            .sort((a, b) => a.ticks - b.ticks)
            .map((l) => ({ price: MID - (l.ticks - 1) * TICK, size: l.size }));
          const asks = [...seedAsks]
            .sort((a, b) => a.ticks - b.ticks)
            .map((l) => ({ price: MID + l.ticks * TICK, size: l.size }));
          const ref = new ReferenceBook();
          for (const l of bids) ref.seedLevel(1, l.price, l.size);
          for (const l of asks) ref.seedLevel(-1, l.price, l.size);
          const expected = referenceRows(msgs, 6, ref);
          const seed = parseBookRow(rowOf(bids, asks, 6));
          const { rows, report } = rebuild(csv(msgs), 6, seed, 13);
          assert.deepEqual(rows, expected);
          assert.deepEqual(issueCounts(report), ref.issues);
          assert.equal(report.skipped, ref.skipped);
          assert.equal(report.anonymousApplied, ref.anonymousApplied);
          const firstLines = new Map<string, number>();
          for (const e of ref.issueLines) if (!firstLines.has(e.code)) firstLines.set(e.code, e.line);
          for (const [code, lineNo] of firstLines) {
            const first = report.examples.find((e) => e.code === code);
            assert.equal(first?.line, lineNo, `first ${code} example`);
          }
        },
      ),
      { numRuns: 300, seed: 20261201 },
    );
  });
});

function rowOf(
  bids: { price: number; size: number }[],
  asks: { price: number; size: number }[],
  depth: number,
): string {
  const cells: (string | number)[] = [];
  for (let i = 0; i < depth; i++) {
    cells.push(...(asks[i] ? [asks[i].price, asks[i].size] : [E_ASK]));
    cells.push(...(bids[i] ? [bids[i].price, bids[i].size] : [E_BID]));
  }
  return cells.join(',');
}

describe('LOBSTER rebuild: a replay that starts mid-day', () => {
  const day = generateDay(5, 3000);
  const full = referenceRows(day, 200);
  const cuts = [1, 2, 3, 4, 5].map((type) => day.findIndex((m, i) => i > 100 && m.type === type));

  for (const [i, cut] of cuts.entries()) {
    it(`seeded from a deep book row, matches the full replay from a first message of type ${i + 1}`, () => {
      assert.ok(cut > 0);
      const seed = parseBookRow(full[cut]);
      const { rows, report } = rebuild(csv(day.slice(cut)), 200, seed);
      const expected = full.slice(cut);
      for (let r = 0; r < rows.length; r++) assert.equal(rows[r], expected[r], `row ${r + 1} after the cut`);
      assert.equal(report.issuesTotal, 0, JSON.stringify(report.examples));
      assert.ok(
        report.anonymousApplied > 0,
        'orders resting before the cut were found as anonymous quantity',
      );
    });
  }

  it('without the initial book, reports every reference to an order it never saw', () => {
    const cut = cuts[3];
    const { report } = rebuild(csv(day.slice(cut)), 10);
    assert.ok(report.issues.UNKNOWN_ORDER_NO_ANONYMOUS > 0);
    assert.equal(report.anonymousApplied, 0);
    assert.equal(report.skipped, report.issues.UNKNOWN_ORDER_NO_ANONYMOUS);
  });

  it('seeded from a shallow row, starts right and reports the references to levels it could not see', () => {
    const cut = cuts[0];
    const shallow = referenceRows(day, 2)[cut];
    const { rows, report } = rebuild(csv(day.slice(cut)), 2, parseBookRow(shallow));
    assert.equal(rows[0], shallow);
    assert.ok(report.issuesTotal > 0);
  });

  it('reports a first submit that the initial book row does not show', () => {
    const first: Msg = { t: 1e9, type: 1, id: 9, size: 10, price: MID, dir: 1 };
    const row = `${MID + TICK},5,${MID},4,${E_ASK},${E_BID}`;
    const { rows, report } = rebuild(csv([first]), 2, parseBookRow(row));
    assert.equal(report.issues.SEED_MISMATCH, 1);
    assert.equal(report.examples[0].line, 1);
    assert.match(report.examples[0].reason, /submits 10 at 1000000, but the initial book row shows 4/);
    assert.equal(rows[0], `${MID + TICK},5,${MID},10,${E_ASK},${E_BID}`);
  });
});
