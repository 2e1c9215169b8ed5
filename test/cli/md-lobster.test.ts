/**
 * End-to-end tests of `rialto md lobster`: the built CLI on message files written to a temporary directory,
 * its rows compared with the plain reference's, its report, notices and exit codes.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateDay } from '../marketdata/lobster/generate.js';
import { csv, referenceRows } from '../marketdata/lobster/reference.js';
import { assertCleanFailure, rialto } from './helpers.js';

describe('rialto md lobster (built CLI)', () => {
  let dir = '';
  const day = generateDay(11, 2500);
  const path = (name: string): string => join(dir, name);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rialto-lobster-'));
    writeFileSync(path('day.csv'), csv(day));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has its help under `md`', () => {
    const md = rialto('md', '--help');
    assert.equal(md.status, 0);
    assert.match(md.stdout, /^\s+lobster\s/m);
    const help = rialto('md', 'lobster', '--help');
    assert.equal(help.status, 0);
    for (const option of [
      '--messages <file>',
      '--levels <n>',
      '--initial-book <file>',
      '--output <file>',
      '--report <file>',
      '--strict',
    ]) {
      assert.ok(help.stdout.includes(option), option);
    }
    assert.match(rialto('--help').stdout, /^\s+md\s/m);
  });

  it('writes one row per message to stdout, as the reference rebuilds them', () => {
    const r = rialto('md', 'lobster', '--messages', path('day.csv'), '--levels', '10');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, referenceRows(day, 10).join('\n') + '\n');
  });

  it('writes rows to --output, a summary to stdout and the report to --report', () => {
    const r = rialto(
      'md',
      'lobster',
      '--messages',
      path('day.csv'),
      '--levels',
      '3',
      '--output',
      path('out.csv'),
      '--report',
      path('report.json'),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(path('out.csv'), 'utf8'), referenceRows(day, 3).join('\n') + '\n');
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(summary.messages, day.length);
    assert.equal(summary.issuesTotal, 0);
    assert.ok(typeof summary.messagesPerSec === 'number');
    const report = JSON.parse(readFileSync(path('report.json'), 'utf8')) as {
      messages: number;
      byType: Record<string, number>;
    };
    assert.equal(report.messages, day.length);
    assert.equal(
      Object.values(report.byType).reduce((a, b) => a + b, 0),
      day.length,
    );
  });

  it('starts mid-day from --initial-book and reproduces the order-book file', () => {
    const cut = 1200;
    const book = referenceRows(day, 100).slice(cut);
    writeFileSync(path('book.csv'), book.join('\n') + '\n');
    writeFileSync(path('late.csv'), csv(day.slice(cut)));
    const r = rialto(
      'md',
      'lobster',
      '--messages',
      path('late.csv'),
      '--levels',
      '100',
      '--initial-book',
      path('book.csv'),
      '--output',
      path('late-book.csv'),
      '--strict',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(path('late-book.csv'), 'utf8'), book.join('\n') + '\n');
    const without = rialto('md', 'lobster', '--messages', path('late.csv'), '--output', path('late-out.csv'));
    assert.equal(without.status, 0);
    assert.match(
      without.stderr,
      /^md lobster: \d+ issues in 1300 messages: UNKNOWN_ORDER_NO_ANONYMOUS \d+ \(run with --report FILE for examples\)$/m,
    );
    const strict = rialto(
      'md',
      'lobster',
      '--messages',
      path('late.csv'),
      '--output',
      path('late-out.csv'),
      '--strict',
    );
    assert.equal(strict.status, 1);
    assert.match(strict.stderr, /^rialto: \d+ issues \(--strict\)$/m);
  });

  it('exits 1 naming the file and line of a malformed message', () => {
    writeFileSync(path('bad.csv'), csv(day.slice(0, 4)) + '34200.5,1,77,10,1000000\n');
    assertCleanFailure(
      rialto('md', 'lobster', '--messages', path('bad.csv'), '--output', path('bad-out.csv')),
      1,
      /^rialto: .*bad\.csv line 5: expected 6 columns \(time, type, order id, size, price, direction\), found 5 in "34200\.5,1,77,10,1000000"$/m,
    );
    writeFileSync(path('type.csv'), '34200.5,8,77,10,1000000,1\n');
    assertCleanFailure(
      rialto('md', 'lobster', '--messages', path('type.csv')),
      1,
      /^rialto: .*type\.csv line 1: type 8 is not a message type \(1\.\.7\)$/m,
    );
  });

  it('exits 1 on a missing or malformed file, 2 on a bad option', () => {
    assertCleanFailure(
      rialto('md', 'lobster', '--messages', path('none.csv')),
      1,
      /^rialto: cannot read messages .*none\.csv: no such file$/m,
    );
    writeFileSync(path('badbook.csv'), '1000100,5,1000000\n');
    assertCleanFailure(
      rialto('md', 'lobster', '--messages', path('day.csv'), '--initial-book', path('badbook.csv')),
      1,
      /^rialto: .*badbook\.csv line 1: expected groups of 4 columns/m,
    );
    for (const levels of ['0', '201', 'ten']) {
      const r = rialto('md', 'lobster', '--messages', path('day.csv'), '--levels', levels);
      assert.equal(r.status, 2, levels);
      assert.match(r.stderr, /N must be a whole number from 1 to 200/);
    }
    const missing = rialto('md', 'lobster');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /required option '--messages <file>'/);
  });
});
