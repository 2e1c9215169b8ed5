/** The boundary's text forms: decimals, event times, bar specs, durations, trade lines and bar rows. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  barCsvRow,
  divRoundHalfEven,
  formatScaled,
  formatTime,
  parseBarSpec,
  parseDate,
  parseDuration,
  parseIsoTime,
  parseScaled,
  parseSecondsAfterMidnight,
  parseTradeHeader,
  parseTradeLine,
  vwapText,
  type TradeColumns,
  type TradeRow,
} from '../../src/marketdata/index.js';

describe('decimals', () => {
  it('parse exactly to units of the scale, or say why not', () => {
    assert.deepEqual(parseScaled('101.25', 2, 'price'), { ok: true, value: 10125 });
    assert.deepEqual(parseScaled('101.2500', 2, 'price'), { ok: true, value: 10125 });
    assert.deepEqual(parseScaled('7', 3, 'size'), { ok: true, value: 7000 });
    assert.deepEqual(parseScaled('0.1', 8, 'size'), { ok: true, value: 10_000_000 });
    for (const [text, problem] of [
      ['101.255', /more than 2 decimals/],
      ['0', /not positive/],
      ['-1', /not a decimal/],
      ['1e3', /not a decimal/],
      ['01.5', /not a decimal/],
      ['', /not a decimal/],
      [' 1', /not a decimal/],
      ['100000000000000', /past 2\^53/],
    ] as const) {
      const r = parseScaled(text, 2, 'price');
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.match(r.problem, problem);
    }
  });

  it('format back without trailing zeros, and round trip', () => {
    assert.equal(formatScaled(10125, 2), '101.25');
    assert.equal(formatScaled(10100, 2), '101');
    assert.equal(formatScaled(5, 3), '0.005');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 12 }),
        (u, d) => {
          assert.deepEqual(parseScaled(formatScaled(u, d), d, 'x'), { ok: true, value: u });
        },
      ),
    );
  });

  it('VWAP is correctly rounded, ties to even', () => {
    assert.equal(divRoundHalfEven(5n, 2n), 2n);
    assert.equal(divRoundHalfEven(7n, 2n), 4n);
    assert.equal(divRoundHalfEven(8n, 3n), 3n);
    assert.equal(divRoundHalfEven(7n, 3n), 2n);
    // 1/3 of a cent at 2 price decimals and 4 extra digits.
    assert.equal(vwapText(1n, 3, 2, 6), '0.003333');
    assert.equal(vwapText(2n, 3, 2, 6), '0.006667');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 80n }), fc.bigInt({ min: 1n, max: 2n ** 60n }), (n, d) => {
        const q = divRoundHalfEven(n, d);
        // |n/d − q| ≤ 1/2, i.e. |n − q·d| · 2 ≤ d.
        const err = n - q * d;
        assert.ok(2n * (err < 0n ? -err : err) <= d);
      }),
    );
  });
});

describe('event times', () => {
  it('ISO timestamps to the nanosecond, with zones', () => {
    assert.deepEqual(parseIsoTime('2024-01-02T09:30:00.123456789Z'), {
      timeUs: 1_704_187_800_123_456,
      timeNs: 789,
    });
    assert.deepEqual(parseIsoTime('2024-01-02T10:30:00+01:00'), parseIsoTime('2024-01-02T09:30:00Z'));
    assert.deepEqual(parseIsoTime('2024-01-02T04:30:00-05:00'), parseIsoTime('2024-01-02T09:30:00Z'));
    for (const bad of [
      '2024-02-30T00:00:00Z',
      '2024-01-02T24:00:00Z',
      '2024-01-02T09:30:00',
      '2024-01-02 09:30:00Z',
      '2024-01-02T09:30:00.1234567890Z',
      '1969-12-31T23:59:59Z',
      '34200.5',
    ]) {
      assert.equal(parseIsoTime(bad), null, bad);
    }
  });

  it('seconds after midnight of a date', () => {
    const midnight = parseDate('2012-06-21');
    assert.equal(midnight, 1_340_236_800);
    assert.equal(parseDate('2012-13-01'), null);
    assert.deepEqual(parseSecondsAfterMidnight('34200.004241176', 1_340_236_800), {
      timeUs: (1_340_236_800 + 34_200) * 1_000_000 + 4241,
      timeNs: 176,
    });
    assert.equal(parseSecondsAfterMidnight('86400', 0), null);
    assert.equal(parseSecondsAfterMidnight('1.', 0), null);
  });

  it('format as ISO and parse back exactly', () => {
    assert.equal(formatTime(1_704_187_800_000_000, 0), '2024-01-02T09:30:00Z');
    assert.equal(formatTime(1_704_187_800_100_000, 0), '2024-01-02T09:30:00.100Z');
    assert.equal(formatTime(1_704_187_800_000_001, 0), '2024-01-02T09:30:00.000001Z');
    assert.equal(formatTime(1_704_187_800_000_000, 5), '2024-01-02T09:30:00.000000005Z');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9_000_000_000_000_000 }),
        fc.integer({ min: 0, max: 999 }),
        (us, ns) => {
          assert.deepEqual(parseIsoTime(formatTime(us, ns)), { timeUs: us, timeNs: ns });
        },
      ),
    );
  });
});

describe('bar specs and durations', () => {
  it('parse each kind, in the input decimals', () => {
    assert.deepEqual(parseBarSpec('time:1s', 2, 0), { kind: 'time', periodSec: 1 });
    assert.deepEqual(parseBarSpec('time:5m', 2, 0), { kind: 'time', periodSec: 300 });
    assert.deepEqual(parseBarSpec('time:1h', 2, 0), { kind: 'time', periodSec: 3600 });
    assert.deepEqual(parseBarSpec('time:1d', 2, 0), { kind: 'time', periodSec: 86_400 });
    assert.deepEqual(parseBarSpec('tick:500', 2, 0), { kind: 'tick', ticks: 500 });
    assert.deepEqual(parseBarSpec('volume:1.5', 2, 1), { kind: 'volume', size: 15 });
    assert.deepEqual(parseBarSpec('dollar:1000000', 2, 3), {
      kind: 'dollar',
      notional: 1_000_000n * 10n ** 5n,
    });
    for (const bad of [
      'time:7m',
      'time:2d',
      'time:1',
      'time:0s',
      'tick:0',
      'tick:1.5',
      'volume:0.05',
      'bars:5',
      'x',
    ]) {
      assert.equal(typeof parseBarSpec(bad, 2, 1), 'string', bad);
    }
  });

  it('durations in whole µs', () => {
    assert.equal(parseDuration('0s', 'x'), 0);
    assert.equal(parseDuration('250ms', 'x'), 250_000);
    assert.equal(parseDuration('2m', 'x'), 120_000_000);
    for (const bad of ['1', '1.5s', '-1s', '1d', '01s'])
      assert.equal(typeof parseDuration(bad, 'x'), 'string', bad);
  });
});

describe('trade lines and bar rows', () => {
  const format = { priceDecimals: 2, sizeDecimals: 0, midnightSec: null };
  const row = (): TradeRow => ({ timeUs: 0, timeNs: 0, price: 0, size: 0, id: 0 });

  it('the header names the columns, in any order, with an optional id', () => {
    assert.deepEqual(parseTradeHeader('time,price,size'), { time: 0, price: 1, size: 2, id: -1, count: 3 });
    assert.deepEqual(parseTradeHeader('id,size,time,price'), { time: 2, price: 3, size: 1, id: 0, count: 4 });
    assert.match(parseTradeHeader('time,price') as string, /must name the columns/);
    assert.match(parseTradeHeader('time,price,size,side') as string, /unknown column "side"/);
    assert.match(parseTradeHeader('time,price,size,size') as string, /twice/);
  });

  it('a line becomes a trade, or a problem that names the field', () => {
    const cols = parseTradeHeader('time,price,size') as TradeColumns;
    const r = row();
    assert.equal(parseTradeLine('2024-01-02T09:30:00Z,101.5,3', cols, format, 7, r), null);
    assert.deepEqual(r, { timeUs: 1_704_187_800_000_000, timeNs: 0, price: 10150, size: 3, id: 7 });
    const problems: [string, RegExp][] = [
      ['2024-01-02T09:30:00Z,101.5', /expected 3 fields, found 2/],
      ['34200,101.5,3', /need --date/],
      ['2024-01-02T09:30:00Z,101.555,3', /price "101.555" has more than 2 decimals/],
      ['2024-01-02T09:30:00Z,101.5,0', /size "0" is not positive/],
      ['2024-01-02T09:30:00Z,abc,3', /price "abc" is not a decimal/],
    ];
    for (const [line, problem] of problems)
      assert.match(parseTradeLine(line, cols, format, 2, r) ?? '', problem);
    const withId = parseTradeHeader('time,price,size,id') as TradeColumns;
    assert.match(parseTradeLine('2024-01-02T09:30:00Z,1,1,x', withId, format, 2, r) ?? '', /id "x"/);
    const dated = { ...format, midnightSec: 1_704_153_600 };
    assert.equal(parseTradeLine('34200.5,1,1', cols, dated, 2, r), null);
    assert.equal(r.timeUs, (1_704_153_600 + 34_200) * 1_000_000 + 500_000);
  });

  it('a bar row has the documented columns', () => {
    const bar = {
      spec: 0,
      startUs: 1_704_187_800_000_000,
      startNs: 0,
      endUs: 1_704_187_860_000_000,
      endNs: 0,
      open: 10_050,
      high: 10_100,
      low: 9_925,
      close: 9_925,
      volume: 6,
      notional: 59_975n,
      count: 3,
      revision: 0,
    };
    assert.equal(
      barCsvRow(bar, 2, 0),
      '2024-01-02T09:30:00Z,2024-01-02T09:31:00Z,100.5,101,99.25,99.25,6,99.958333,3',
    );
  });
});
