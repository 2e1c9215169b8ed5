/**
 * The shared order-book workloads (../shared/bench/orderbook, see FORMAT.md): generated at test time for the
 * default and the `ecore` profile, replayed through bench/replay.ts exactly as the benchmark replays them, and
 * checked against the generator's reference book: every operation's result and the final book.
 */
import { after, describe, it } from 'node:test';
import { equal, fail, ok } from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  OpType,
  expectedPathOf,
  finalBookOf,
  makeReplayer,
  readExpected,
  readExpectedFinalBook,
  readWorkload,
  sameFinalBook,
} from '../../src/cli/workload.js';

/** The generator, relative to the repository root (the tests run from there). */
const GENERATOR = '../shared/bench/orderbook/gen-workload.js';
const OPS = 100_000;
const SEED = 7;

const OP_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OpType).map(([name, t]) => [t, name]),
);

let dir = '';

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Fails the calling test with a clear message when ../shared is not next to the repository root. */
function requireGenerator(): void {
  const generator = resolve(process.cwd(), GENERATOR);
  if (!existsSync(generator)) {
    fail(
      `the shared workload generator is missing: ${generator} (resolved from the working directory ` +
        `${process.cwd()}; run the tests from the repository root, next to ../shared)`,
    );
  }
  if (dir === '') dir = mkdtempSync(join(tmpdir(), 'rialto-workloads-'));
}

/** Generates a workload into the temporary directory; returns the path of its .bin file. */
function generate(name: string, profileArgs: string[]): string {
  requireGenerator();
  const out = join(dir, name);
  const r = spawnSync(
    process.execPath,
    [GENERATOR, `--ops=${OPS}`, `--seed=${SEED}`, `--out=${out}`, ...profileArgs],
    { cwd: process.cwd(), encoding: 'utf8', timeout: 120_000, maxBuffer: 16 << 20 },
  );
  if (r.error !== undefined) fail(`could not run ${GENERATOR}: ${r.error.message}`);
  if (r.status !== 0)
    fail(`${GENERATOR} ${profileArgs.join(' ')} exited with ${String(r.status)}: ${r.stderr}`);
  for (const ext of ['.bin', '.expected.bin', '.meta.json'])
    ok(existsSync(out + ext), `generator wrote ${out}${ext}`);
  return out + '.bin';
}

function replayAndCheck(path: string, profile: string, mustHave: number[]): void {
  const w = readWorkload(path);
  equal(w.count, OPS);
  equal(w.seed, SEED);
  const meta = JSON.parse(readFileSync(path.replace(/\.bin$/, '.meta.json'), 'utf8')) as {
    params?: { profile?: string };
  };
  equal(meta.params?.profile, profile, 'the generator used the asked profile');
  if (!existsSync(expectedPathOf(path))) return fail(`${path}: no .expected.bin`);
  const expected = readExpected(expectedPathOf(path), w.count);
  const expectedFinal = readExpectedFinalBook(path);
  if (expectedFinal === undefined) return fail(`${path}: no book.final in .meta.json`);
  equal(expected.length, w.count);
  const seen = new Set<number>();
  for (let i = 0; i < w.count; i++) seen.add(w.type[i]);
  for (const t of mustHave) ok(seen.has(t), `the workload has ${OP_NAMES[t]} operations`);

  const r = makeReplayer(w);
  const mismatches: string[] = [];
  let count = 0;
  let total = 0;
  for (let i = 0; i < w.count; i++) {
    const got = r.step(i);
    total += got;
    if (got !== expected[i]) {
      count++;
      if (mismatches.length < 10) {
        mismatches.push(
          `op ${i}: ${OP_NAMES[w.type[i]] ?? w.type[i]} side ${w.side[i]} id ${w.id[i]} price ${w.price[i]} ` +
            `qty ${w.qty[i]}: got ${got}, expected ${expected[i]}`,
        );
      }
    }
  }
  equal(count, 0, `${count} of ${w.count} results differ from the reference book:\n${mismatches.join('\n')}`);
  ok(total > 0, 'the replay filled or removed something');
  const final = finalBookOf(r.book);
  ok(
    sameFinalBook(final, expectedFinal),
    `final book ${JSON.stringify(final)} differs from the reference ${JSON.stringify(expectedFinal)}`,
  );
}

void describe('shared workloads (generated at test time)', () => {
  void it(`default profile, ${OPS} operations, seed ${SEED}: every result and the final book match`, () => {
    const path = generate('w', []);
    replayAndCheck(path, 'default', [OpType.Limit, OpType.Market, OpType.Cancel]);
  });

  void it(`ecore profile, ${OPS} operations, seed ${SEED}: every result and the final book match`, () => {
    const path = generate('w-ecore', ['--profile=ecore']);
    replayAndCheck(path, 'ecore', [OpType.Limit, OpType.LimitIoc, OpType.Cancel, OpType.Move]);
  });
});
