/**
 * End-to-end tests of the `rialto` command line: each runs the built CLI (dist/src/cli/main.js) in a child
 * process from the repository root, as a user would, and checks its output and exit code.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAIN, ROOT, assertCleanFailure, rialto, run } from './helpers.js';

const GENERATOR = join(ROOT, '..', 'shared', 'bench', 'orderbook', 'gen-workload.js');
const WORKLOAD_OPS = 20000;

describe('rialto (built CLI)', () => {
  before(() => {
    assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`);
  });

  it('--version prints the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = rialto('--version');
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('--help lists the commands and options', () => {
    const r = rialto('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: rialto /);
    assert.match(r.stdout, /^\s+demo\s/m);
    assert.match(r.stdout, /^\s+book\s/m);
    assert.match(r.stdout, /^\s+journal\s/m);
    assert.match(r.stdout, /^\s+snapshot\s/m);
    assert.match(r.stdout, /--version/);
  });

  it('each subcommand has its own help', () => {
    const demo = rialto('demo', '--help');
    assert.equal(demo.status, 0);
    assert.match(demo.stdout, /^Usage: rialto demo /);
    const book = rialto('book', '--help');
    assert.equal(book.status, 0);
    assert.match(book.stdout, /^\s+replay\s/m);
    const replay = rialto('book', 'replay', '--help');
    assert.equal(replay.status, 0);
    assert.match(replay.stdout, /^Usage: rialto book replay /);
    assert.match(replay.stdout, /--ops <file>/);
    assert.match(replay.stdout, /--expected \[file\]/);
  });

  it('exits 2 with a message on an unknown command, an unknown option or a missing option', () => {
    for (const args of [['frobnicate'], ['demo', '--no-such-option'], ['book', 'replay']]) {
      const r = rialto(...args);
      assert.equal(r.status, 2, `rialto ${args.join(' ')}`);
      assert.match(r.stderr, /error: (unknown command|unknown option|required option)/);
    }
  });

  it('demo runs a scripted session and prints events, depth and the state hash', () => {
    const r = rialto('demo');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const out = r.stdout;
    for (const type of [
      'OrderAccepted',
      'OrderRejected',
      'TradeExecuted',
      'OrderPartiallyFilled',
      'OrderFilled',
      'OrderTriggered',
      'OrderCancelled',
      'LevelChanged',
      'TopOfBookChanged',
    ]) {
      assert.match(out, new RegExp(`^\\s+\\d+  ${type} `, 'm'), `an ${type} line`);
    }
    assert.match(out, /showing 0\.500/, 'the iceberg');
    assert.match(out, /StopMarket/, 'the stop');
    assert.match(out, /Depth \(L2\) of BTC-USDT/);
    assert.match(out, /^State hash: [0-9a-f]{64}$/m);
    assert.equal(rialto('demo').stdout, out, 'the session is deterministic');
  });

  describe('book replay', () => {
    let dir = '';
    let ops = '';

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'rialto-cli-'));
      ops = join(dir, 'w.bin');
      assert.ok(existsSync(GENERATOR), `${GENERATOR} is missing: ../shared must sit beside the checkout`);
      const gen = run([`--ops=${WORKLOAD_OPS}`, '--seed=3', `--out=${join(dir, 'w')}`], GENERATOR);
      assert.equal(gen.status, 0, gen.stderr);
    });

    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('replays a generated workload with no mismatches', () => {
      const r = rialto('book', 'replay', '--ops', ops);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 1, 'one JSON line');
      const report = JSON.parse(lines[0]) as Record<string, unknown>;
      assert.equal(report.ops, WORKLOAD_OPS);
      assert.equal(report.expected, 'w.expected.bin');
      assert.equal(report.mismatches, 0);
      assert.equal(typeof report.seconds, 'number');
      assert.ok(typeof report.opsPerSec === 'number' && report.opsPerSec > 0);
      assert.match(String(report.stateHash), /^[0-9a-f]{64}$/);
    });

    it('--expected without a value requires the expected results beside the workload', () => {
      const lone = join(dir, 'lone.bin');
      copyFileSync(ops, lone);
      const without = rialto('book', 'replay', '--ops', lone);
      assert.equal(without.status, 0, without.stderr);
      assert.equal((JSON.parse(without.stdout) as { mismatches: unknown }).mismatches, null);
      assertCleanFailure(
        rialto('book', 'replay', '--ops', lone, '--expected'),
        1,
        /^rialto: cannot read expected results .*lone\.expected\.bin: no such file$/m,
      );
    });

    it('exits 1 when a result differs from the expected one', () => {
      const expected = readFileSync(join(dir, 'w.expected.bin'));
      expected.writeInt32LE(expected.readInt32LE(40) + 1, 40);
      const wrong = join(dir, 'wrong.expected.bin');
      writeFileSync(wrong, expected);
      const r = rialto('book', 'replay', '--ops', ops, '--expected', wrong);
      assert.equal(r.status, 1);
      const report = JSON.parse(r.stdout) as { mismatches: number; firstMismatches: { op: number }[] };
      assert.equal(report.mismatches, 1);
      assert.equal(report.firstMismatches[0].op, 10);
      assert.match(r.stderr, /^rialto: 1 of 20000 results differ from wrong\.expected\.bin$/m);
    });

    it('fails cleanly on a missing file', () => {
      const missing = join(dir, 'missing.bin');
      assertCleanFailure(
        rialto('book', 'replay', '--ops', missing),
        1,
        /^rialto: cannot read workload .*missing\.bin: no such file$/m,
      );
    });

    it('fails cleanly on a file that is not a workload', () => {
      const corrupt = join(dir, 'corrupt.bin');
      writeFileSync(corrupt, Buffer.from('this is not an order book workload file at all'));
      assertCleanFailure(
        rialto('book', 'replay', '--ops', corrupt),
        1,
        /^rialto: .*corrupt\.bin: not a LOBOPS01 workload file/m,
      );
    });

    it('fails cleanly on a truncated workload and on a corrupt record', () => {
      const whole = readFileSync(ops);
      const truncated = join(dir, 'truncated.bin');
      writeFileSync(truncated, whole.subarray(0, 1000));
      assertCleanFailure(
        rialto('book', 'replay', '--ops', truncated),
        1,
        /^rialto: .*truncated\.bin: 1000 bytes, expected 400032 for 20000 operations$/m,
      );
      const badRecord = Buffer.from(whole);
      badRecord.writeInt32LE(9, 32 + 7 * 20);
      const bad = join(dir, 'bad-record.bin');
      writeFileSync(bad, badRecord);
      assertCleanFailure(
        rialto('book', 'replay', '--ops', bad),
        1,
        /operation 7 \(byte 172\): unknown type 9$/m,
      );
    });
  });
});
