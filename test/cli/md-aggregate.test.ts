/**
 * End-to-end tests of `rialto md aggregate`: the built CLI on trade files written here, checking the bars it
 * prints, where it writes them, and that bad input ends with a clear message naming the line.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAIN, assertCleanFailure, rialto } from './helpers.js';

const HEADER = 'start,end,open,high,low,close,volume,vwap,count';

describe('rialto md aggregate (built CLI)', () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  let trades: string;

  before(() => {
    assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`);
    dir = mkdtempSync(join(tmpdir(), 'rialto-md-'));
    trades = file(
      'trades.csv',
      [
        'time,price,size,id',
        '2024-01-02T09:30:00.1Z,100.5,2,1',
        '2024-01-02T09:30:30Z,101,1,2',
        '2024-01-02T09:30:59.999999999Z,99.25,3,3',
        '2024-01-02T09:31:00Z,100,1,4',
        '2024-01-02T09:30:10Z,100,1,5',
        '2024-01-02T09:31:00Z,100,1,4',
        '2024-01-02T09:33:00Z,102,1,6',
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is listed in the help, with its options', () => {
    assert.match(rialto('--help').stdout, /^\s+md\s/m);
    assert.match(rialto('md', '--help').stdout, /^\s+aggregate\s/m);
    const help = rialto('md', 'aggregate', '--help');
    assert.equal(help.status, 0);
    for (const option of ['--input <file>', '--bar <spec>', '--output <file>', '--date', '--lateness']) {
      assert.ok(help.stdout.includes(option), option);
    }
  });

  it('writes one-minute bars; a trade later than the lateness and a duplicate are dropped and counted', () => {
    const r = rialto('md', 'aggregate', '--input', trades, '--bar', 'time:1m');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        HEADER,
        '2024-01-02T09:30:00Z,2024-01-02T09:31:00Z,100.5,101,99.25,99.25,6,99.958333333333,3',
        '2024-01-02T09:31:00Z,2024-01-02T09:32:00Z,100,100,100,100,1,100,1',
        '2024-01-02T09:33:00Z,2024-01-02T09:34:00Z,102,102,102,102,1,102,1',
        '',
      ].join('\n'),
    );
    assert.match(r.stderr, /dropped trades: 1 late .*, 1 duplicate/);
  });

  it('with --lateness, the late trade counts and its bar is written once, corrected', () => {
    const r = rialto('md', 'aggregate', '--input', trades, '--bar', 'time:1m', '--lateness', '1m');
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n');
    assert.equal(rows.length, 4);
    assert.equal(
      rows[1],
      '2024-01-02T09:30:00Z,2024-01-02T09:31:00Z,100.5,101,99.25,99.25,7,99.964285714286,4',
    );
  });

  it('tick, volume and dollar bars count trades in event-time order, without splitting one', () => {
    const tick = rialto('md', 'aggregate', '-i', trades, '-b', 'tick:2', '--lateness', '1m');
    assert.equal(tick.status, 0, tick.stderr);
    assert.deepEqual(tick.stdout.trim().split('\n').slice(1), [
      '2024-01-02T09:30:00.100Z,2024-01-02T09:30:10Z,100.5,100.5,100,100,3,100.333333333333,2',
      '2024-01-02T09:30:30Z,2024-01-02T09:30:59.999999999Z,101,101,99.25,99.25,4,99.6875,2',
      '2024-01-02T09:31:00Z,2024-01-02T09:33:00Z,100,102,100,102,2,101,2',
    ]);
    const volume = rialto('md', 'aggregate', '-i', trades, '-b', 'volume:3', '--size-decimals', '0');
    assert.equal(volume.status, 0, volume.stderr);
    assert.deepEqual(
      volume.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((row) => row.split(',').slice(6).join(',')),
      ['3,100.666666666667,2', '3,99.25,1', '2,101,2'],
    );
    const dollar = rialto('md', 'aggregate', '-i', trades, '-b', 'dollar:500', '--price-decimals', '2');
    assert.equal(dollar.status, 0, dollar.stderr);
    // 598.75 reaches 500 with the third trade; the last two (202) make a short bar at the end.
    assert.deepEqual(
      dollar.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((row) => row.split(',').slice(6).join(',')),
      ['6,99.958333,3', '2,101,2'],
    );
  });

  it('reads seconds after midnight with --date, and writes --output', () => {
    const lobster = file('lobster.csv', 'time,price,size\n34200.004241176,585.33,18\n34260.5,585.5,2\n');
    const out = join(dir, 'bars.csv');
    const r = rialto('md', 'aggregate', '-i', lobster, '-b', 'time:1m', '--date', '2012-06-21', '-o', out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(
      readFileSync(out, 'utf8'),
      [
        HEADER,
        '2012-06-21T09:30:00Z,2012-06-21T09:31:00Z,585.33,585.33,585.33,585.33,18,585.33,1',
        '2012-06-21T09:31:00Z,2012-06-21T09:32:00Z,585.5,585.5,585.5,585.5,2,585.5,1',
        '',
      ].join('\n'),
    );
  });

  it('takes CRLF line ends and a byte order mark', () => {
    const input = file(
      'crlf.csv',
      '\uFEFFtime,price,size\r\n2024-01-02T09:30:00Z,1.5,2\r\n2024-01-02T09:30:01Z,2,1\r\n',
    );
    const r = rialto('md', 'aggregate', '-i', input, '-b', 'tick:2');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `${HEADER}\n2024-01-02T09:30:00Z,2024-01-02T09:30:01Z,1.5,2,1.5,2,3,1.666666666667,2\n`,
    );
  });

  it('a malformed trade exits 1 naming its line, and leaves no --output file', () => {
    const cases: [string, RegExp][] = [
      [
        'time,price,size\n2024-01-02T09:30:00Z,1,1\n2024-01-02T09:30:01Z,1.5.1,1\n',
        /^rialto: line 3: price "1\.5\.1"/,
      ],
      ['time,price,size\n2024-01-02T09:30:00Z,1\n', /^rialto: line 2: expected 3 fields, found 2/],
      ['time,price,size\n34200,1,1\n', /^rialto: line 2: time "34200" .*--date/],
      ['time,price,size\n\n', /^rialto: line 2: expected 3 fields, found 1/],
      ['time,price\n', /^rialto: line 1: the header must name the columns time, price and size/],
      ['', /is empty: the first line must be a header/],
      ['time,price,size\n2024-01-02T09:30:00Z,1,1e3\n', /^rialto: line 2: size "1e3" is not a decimal/],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const input = file(`bad-${i}.csv`, text);
      const out = join(dir, `bad-${i}.out.csv`);
      assertCleanFailure(rialto('md', 'aggregate', '-i', input, '-b', 'time:1s', '-o', out), 1, message);
      assert.equal(existsSync(out), false, 'no output file');
    }
  });

  it('a bar too large for its numbers is refused, naming the line', () => {
    const input = file(
      'big.csv',
      'time,price,size\n2024-01-02T09:30:00Z,1,90000000\n2024-01-02T09:30:01Z,1,90000000\n',
    );
    const r = rialto('md', 'aggregate', '-i', input, '-b', 'time:1m');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^rialto: line 3: a bar's volume passes 2\^53 size units/m);
  });

  it('a missing input exits 1; an option without meaning exits 2', () => {
    assertCleanFailure(
      rialto('md', 'aggregate', '-i', join(dir, 'nope.csv'), '-b', 'time:1m'),
      1,
      /no such input file/,
    );
    for (const args of [
      ['-b', 'time:7m'],
      ['-b', 'bars:5'],
      ['-b', 'time:1m', '--lateness', '5'],
      ['-b', 'time:1m', '--date', '2024-02-30'],
      ['-b', 'time:1m', '--price-decimals', '13'],
    ]) {
      const r = rialto('md', 'aggregate', '-i', trades, ...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /error: /);
    }
    const missing = rialto('md', 'aggregate', '-i', trades);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /required option '-b, --bar <spec>'/);
  });

  it('a long input prints no progress when stderr is not a terminal', () => {
    const lines = ['time,price,size'];
    for (let i = 0; i < 200_000; i++)
      lines.push(`2024-01-02T09:30:${String(i % 60).padStart(2, '0')}Z,${100 + (i % 7)},1`);
    const input = file('long.csv', lines.join('\n') + '\n');
    const r = rialto('md', 'aggregate', '-i', input, '-b', 'time:1h', '--lateness', '1m');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const row = r.stdout.trim().split('\n')[1].split(',');
    assert.equal(row[8], '200000');
    assert.equal(row[6], '200000');
  });
});
