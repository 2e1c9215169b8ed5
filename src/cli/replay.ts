/**
 * `rialto book replay`: runs a shared workload file through a fresh order book, times it, and compares each
 * operation's result with the expected results written beside the file.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { expectedPathOf, makeReplayer, readExpected, readWorkload } from './workload.js';

/** Mismatches listed in the report; the count covers all of them. */
const MISMATCHES_LISTED_MAX = 5;

export interface ReplayOptions {
  /**
   * Expected results: a path, `true` for `NAME.expected.bin` beside the workload (which must then exist), or
   * undefined to use that file when it is there and skip the comparison when it is not.
   */
  expected?: string | true;
}

export interface ReplayReport {
  file: string;
  ops: number;
  seconds: number;
  opsPerSec: number;
  /** The expected-results file compared with, or null. */
  expected: string | null;
  /** Operations whose result differs from the expected one; null without an expected-results file. */
  mismatches: number | null;
  firstMismatches: { op: number; type: number; got: number; expected: number }[];
  restingOrders: number;
  stateHash: string;
}

function expectedPath(opsPath: string, option: string | true | undefined): string | null {
  if (typeof option === 'string') return option;
  const beside = expectedPathOf(opsPath);
  if (option === true || existsSync(beside)) return beside;
  return null;
}

export function replayFile(opsPath: string, options: ReplayOptions = {}): ReplayReport {
  const w = readWorkload(opsPath);
  const expPath = expectedPath(opsPath, options.expected);
  // Read before the run, so that a bad expected-results file fails fast.
  const expected = expPath === null ? null : readExpected(expPath, w.count);

  const r = makeReplayer(w);
  const results = new Int32Array(w.count);
  const t0 = performance.now();
  for (let i = 0; i < w.count; i++) results[i] = r.step(i);
  const seconds = (performance.now() - t0) / 1000;

  let mismatches: number | null = null;
  const firstMismatches: ReplayReport['firstMismatches'] = [];
  if (expected !== null) {
    mismatches = 0;
    for (let i = 0; i < w.count; i++) {
      if (results[i] === expected[i]) continue;
      mismatches++;
      if (firstMismatches.length < MISMATCHES_LISTED_MAX) {
        firstMismatches.push({ op: i, type: w.type[i], got: results[i], expected: expected[i] });
      }
    }
  }
  return {
    file: basename(opsPath),
    ops: w.count,
    seconds: +seconds.toFixed(4),
    opsPerSec: seconds > 0 ? Math.round(w.count / seconds) : 0,
    expected: expPath === null ? null : basename(expPath),
    mismatches,
    firstMismatches,
    restingOrders: r.book.orderCount,
    stateHash: r.book.stateHash(),
  };
}
