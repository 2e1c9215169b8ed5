/**
 * Every kind of issue the rebuild reports, each from a small message file built for it: the code, the line
 * it is filed under, and what the book did about it (as docs/marketdata.md documents); then malformed input,
 * which stops the rebuild with an error naming the line.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  ISSUE_CODES,
  LobsterFormatError,
  parseBookRow,
  type IssueCode,
} from '../../../src/marketdata/index.js';
import { MID, TICK } from './generate.js';
import { csv, rebuild, type Msg } from './reference.js';

const E = '9999999999,0,-9999999999,0';
const T = 34_200e9;
const bid = (id: number, size: number, price = MID): Msg => ({ t: T, type: 1, id, size, price, dir: 1 });
const ask = (id: number, size: number, price = MID + TICK): Msg => ({
  t: T,
  type: 1,
  id,
  size,
  price,
  dir: -1,
});
const msg = (type: number, id: number, size: number, price: number, dir: number, t = T): Msg => ({
  t,
  type,
  id,
  size,
  price,
  dir,
});

interface Case {
  code: IssueCode;
  msgs: Msg[];
  /** The order-book row (1 level) after the last message. */
  last: string;
  seed?: string;
  skipped?: number;
}

const cases: Case[] = [
  { code: 'TIME_BACKWARDS', msgs: [bid(1, 10), { ...bid(2, 5), t: T - 1 }], last: `9999999999,0,${MID},15` },
  {
    code: 'BAD_DIRECTION',
    msgs: [bid(1, 10), msg(2, 1, 5, MID, 0)],
    last: `9999999999,0,${MID},10`,
    skipped: 1,
  },
  { code: 'BAD_SIZE', msgs: [bid(1, 10), msg(4, 1, -3, MID, 1)], last: `9999999999,0,${MID},10`, skipped: 1 },
  { code: 'BAD_SIZE', msgs: [bid(1, 0)], last: E, skipped: 1 },
  { code: 'BAD_PRICE', msgs: [bid(1, 10, 0)], last: E, skipped: 1 },
  { code: 'BAD_PRICE', msgs: [ask(1, 10, 9_999_999_999)], last: E, skipped: 1 },
  { code: 'BAD_HALT_PRICE', msgs: [bid(1, 10), msg(7, 0, 0, 5, -1)], last: `9999999999,0,${MID},10` },
  {
    code: 'DUPLICATE_ORDER',
    msgs: [bid(1, 10), bid(1, 7, MID - TICK)],
    last: `9999999999,0,${MID},10`,
    skipped: 1,
  },
  // A known order is reduced where it rests, whatever price or side the message gives.
  { code: 'PRICE_MISMATCH', msgs: [bid(1, 10), msg(2, 1, 4, MID - TICK, 1)], last: `9999999999,0,${MID},6` },
  { code: 'SIDE_MISMATCH', msgs: [bid(1, 10), msg(4, 1, 4, MID, -1)], last: `9999999999,0,${MID},6` },
  {
    code: 'CANCEL_EXCEEDS_ORDER',
    msgs: [bid(1, 10), bid(2, 3), msg(2, 1, 15, MID, 1)],
    last: `9999999999,0,${MID},3`,
  },
  { code: 'EXECUTION_EXCEEDS_ORDER', msgs: [ask(1, 10), msg(4, 1, 11, MID + TICK, -1)], last: E },
  {
    code: 'DELETE_SIZE_MISMATCH',
    msgs: [ask(1, 10), ask(2, 1), msg(3, 1, 4, MID + TICK, -1)],
    last: `${MID + TICK},1,-9999999999,0`,
  },
  {
    code: 'UNKNOWN_ORDER_NO_ANONYMOUS',
    msgs: [bid(1, 10), msg(3, 42, 5, MID, 1)],
    last: `9999999999,0,${MID},10`,
    skipped: 1,
  },
  // Seeded with 10 anonymous at MID (the first message, a hidden execution, takes nothing back).
  {
    code: 'UNKNOWN_ORDER_EXCEEDS_ANONYMOUS',
    seed: `9999999999,0,${MID},10`,
    msgs: [msg(5, 0, 1, MID, 1), bid(1, 4), msg(4, 42, 11, MID, 1)],
    last: `9999999999,0,${MID},4`,
  },
  {
    code: 'CROSSED_BOOK',
    msgs: [ask(1, 10), bid(2, 5, MID + 2 * TICK), bid(3, 1, MID + 2 * TICK)],
    last: `${MID + TICK},10,${MID + 2 * TICK},6`,
  },
];

describe('LOBSTER rebuild: every issue is reported and handled as documented', () => {
  for (const c of cases) {
    it(`${c.code}: ${c.msgs.length} messages`, () => {
      const seed = c.seed === undefined ? null : parseBookRow(c.seed);
      const { rows, report } = rebuild(csv(c.msgs), 1, seed);
      assert.equal(rows.at(-1), c.last);
      assert.equal(report.issues[c.code], 1, JSON.stringify(report.issues));
      assert.equal(report.issuesTotal, 1, 'no other issue');
      assert.equal(report.skipped, c.skipped ?? 0);
      const line = c.code === 'CROSSED_BOOK' ? 2 : c.msgs.length;
      assert.deepEqual(
        report.examples.map((e) => [e.line, e.code]),
        [[line, c.code]],
      );
      assert.ok(report.examples[0].reason.length > 10);
    });
  }

  it('a book that stays crossed is reported once, when it crosses', () => {
    const cross = cases.find((c) => c.code === 'CROSSED_BOOK')!;
    assert.equal(rebuild(csv(cross.msgs), 1).report.issues.CROSSED_BOOK, 1);
  });

  it('covers every issue code in the tests', () => {
    const tested = new Set(cases.map((c) => c.code));
    tested.add('SEED_MISMATCH'); // rebuild.test.ts
    assert.deepEqual(
      [...ISSUE_CODES].filter((c) => !tested.has(c)),
      [],
    );
  });

  it('keeps every count but only the first examples of each kind', () => {
    const msgs = [bid(1, 10), ...Array.from({ length: 50 }, (_, i) => msg(3, 100 + i, 1, MID, 1))];
    const { report } = rebuild(csv(msgs), 1);
    assert.equal(report.issues.UNKNOWN_ORDER_NO_ANONYMOUS, 50);
    assert.equal(report.examples.length, 10);
    assert.deepEqual(
      report.examples.map((e) => e.line),
      [2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    );
  });
});

describe('LOBSTER rebuild: malformed input stops it, naming the line', () => {
  const good = '34200.000000001,1,1,10,1000000,1\n';
  const bad: [string, RegExp][] = [
    ['34200.1,1,2,10,1000000\n', /expected 6 columns .*found 5/],
    ['34200.1,1,2,10,1000000,1,7\n', /expected 6 columns .*found 7/],
    ['\n', /found an empty line/],
    ['34200.1,1,abc,10,1000000,1\n', /column 3 \(order id\) is not a whole number: "abc"/],
    ['34200.1,1,2,1x0,1000000,1\n', /column 4 \(size\) is not a whole number: "1x0"/],
    ['34200.1,1,2,10,1000000,\n', /column 6 \(direction\) is not a whole number/],
    ['34200.1,1,2,10,1000000,1.5\n', /column 6 \(direction\) is not a whole number: "1.5"/],
    ['noon,1,2,10,1000000,1\n', /column 1 \(time\) is not a time/],
    [
      '34200.1234567891,1,2,10,1000000,1\n',
      /column 1 \(time\) is not a time in seconds \(up to 9 decimals\)/,
    ],
    ['34200.,1,2,10,1000000,1\n', /column 1 \(time\)/],
    ['34200.1,9,2,10,1000000,1\n', /type 9 is not a message type \(1\.\.7\)/],
    ['34200.1,0,2,10,1000000,1\n', /type 0 is not a message type/],
    ['34200.1,1,-2,10,1000000,1\n', /order id -2 is negative/],
    ['34200.1,1,2,1234567890123456,1000000,1\n', /at most 15 digits/],
    [`34200.1,1,2,10,1000000,1${' '.repeat(1100)}\n`, /longer than 1024 bytes/],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text.slice(0, 40))}`, () => {
      for (const chunk of [1 << 16, 5]) {
        assert.throws(
          () => rebuild(good + good.replace(',1,1,', ',1,7,') + text, 1, null, chunk),
          (e: unknown) =>
            e instanceof LobsterFormatError &&
            e.line === 3 &&
            message.test(e.message) &&
            e.message.startsWith('line 3: '),
        );
      }
    });
  }
});

describe('LOBSTER initial book row', () => {
  it('parses levels best first and skips empty ones', () => {
    const row = parseBookRow(`${MID + TICK},5,${MID},7,${MID + 2 * TICK},1,-9999999999,0`);
    assert.deepEqual(row, {
      depth: 2,
      asks: [
        { price: MID + TICK, size: 5 },
        { price: MID + 2 * TICK, size: 1 },
      ],
      bids: [{ price: MID, size: 7 }],
    });
  });

  const bad: [string, RegExp][] = [
    ['1,2,3', /groups of 4 columns .*found 3/],
    ['1000100,5,x,7', /column 3 is not a whole number: "x"/],
    ['1000100,5,1000000,0', /bid level 1 has size 0/],
    ['9999999999,3,1000000,1', /ask level 1 is marked empty but has size 3/],
    ['9999999999,0,1000000,1,1000200,1,999900,1', /ask level 2 follows an empty level/],
    ['1000200,1,1000000,1,1000100,1,999900,1', /ask level 2 \(price 1000100\) is not worse/],
    ['1000200,1,1000000,1,1000300,1,1000000,1', /bid level 2 \(price 1000000\) is not worse/],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${text}`, () => {
      assert.throws(
        () => parseBookRow(text),
        (e: unknown) => e instanceof LobsterFormatError && e.line === 1 && message.test(e.message),
      );
    });
  }
});
