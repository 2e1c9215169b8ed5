/**
 * Exchange-core benchmark: the shared order-book workload through the whole core (risk gate, holds, matching,
 * settlement, positions), with 1,000 funded accounts taking turns as owners, fees on and risk limits on
 * (src/cli/core-workload.ts). Prints one JSON line.
 *
 *   npm run bench:core -- --ops FILE.bin [--peer] [--no-tune]
 *
 * The bare book (the same replay as bench:book) runs in the same process, pass for pass alternating with the
 * core, so that `ratioToBook` compares the two under the same machine conditions: two warm-up passes each,
 * then five measured passes each, medians compared. Setting up the accounts is not timed. --peer runs
 * nodejs-order-book (../shared/bench/orderbook/peer.sh) before and after, as bench:book does. A last pass
 * checks the core: every operation's result against NAME.expected.bin, the final book against
 * NAME.meta.json, no order refused by risk, and the ledger balanced per asset with holds equal to the held
 * balances.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { EVENT_STRIDE, EventType } from '../src/book/index.js';
import { CORE_WORKLOAD, coreStepResult, makeCoreReplayer, ownersOf } from '../src/cli/core-workload.js';
import {
  expectedPathOf,
  finalBookOf,
  makeReplayer,
  readExpected,
  readExpectedFinalBook,
  readWorkload,
  sameFinalBook,
  type Workload,
} from '../src/cli/workload.js';
import { F_INSTRUMENT } from '../src/core/index.js';
import { trialBalance } from '../src/ledger/index.js';
import { tuneV8ForMatching } from '../src/ops/index.js';
import { median, peakRssMB, peerOpsPerSec } from './common.js';

const WARMUP_PASSES = 2;
const MEASURED_PASSES = 5;

function bookPass(w: Workload): number {
  const r = makeReplayer(w);
  const t0 = performance.now();
  for (let i = 0; i < w.count; i++) r.step(i);
  return Math.round(w.count / ((performance.now() - t0) / 1000));
}

function corePass(w: Workload, owners: Int32Array): number {
  const r = makeCoreReplayer(w, owners);
  const t0 = performance.now();
  for (let i = 0; i < w.count; i++) r.step(i);
  return Math.round(w.count / ((performance.now() - t0) / 1000));
}

function validate(w: Workload, owners: Int32Array, path: string): Record<string, unknown> {
  const expected = existsSync(expectedPathOf(path)) ? readExpected(expectedPathOf(path), w.count) : undefined;
  const r = makeCoreReplayer(w, owners);
  let mismatches = 0;
  let riskRejects = 0;
  for (let i = 0; i < w.count; i++) {
    r.step(i);
    if (expected !== undefined && coreStepResult(r, w, i) !== expected[i]) mismatches++;
    const d = r.core.events.data;
    for (let k = 0; k < r.core.events.count; k++) {
      const o = k * EVENT_STRIDE;
      if (d[o] === EventType.OrderRejected && d[o + 8] >= 3000 && d[o + F_INSTRUMENT] >= 0) riskRejects++;
    }
  }
  const book = r.core.book(CORE_WORKLOAD.instrument);
  if (book === undefined) throw new Error('the instrument is missing');
  const finalBook = finalBookOf(book);
  const expectedFinal = readExpectedFinalBook(path);
  const tb = trialBalance(r.core.ledger);
  const ledgerBalanced = Object.values(tb.imbalanceByAsset).every((x) => x === 0);
  let holdsMatch = true;
  for (const [key, held] of r.core.holdsByAccountAsset()) {
    const [account, asset] = key.split(':').map(Number);
    if (r.core.ledger.held(account, asset) !== held) holdsMatch = false;
  }
  return {
    mismatches: expected ? mismatches : null,
    finalBookMatches: expectedFinal ? sameFinalBook(finalBook, expectedFinal) : null,
    riskRejects,
    ledgerBalanced,
    holdsMatch,
    entries: r.core.ledger.entryCount,
    stateHash: r.core.stateHash(),
  };
}

function run(path: string, peer: boolean, v8Flags: readonly string[]): void {
  const w = readWorkload(path);
  const owners = ownersOf(w);
  const peerBefore = peer ? peerOpsPerSec(path) : null;
  const coldOpsPerSec = corePass(w, owners);
  const coldBookOpsPerSec = bookPass(w);
  for (let k = 1; k < WARMUP_PASSES; k++) {
    corePass(w, owners);
    bookPass(w);
  }
  const passes: number[] = [];
  const bookPasses: number[] = [];
  for (let k = 0; k < MEASURED_PASSES; k++) {
    bookPasses.push(bookPass(w));
    passes.push(corePass(w, owners));
  }
  const opsPerSec = median(passes);
  const bookOpsPerSec = median(bookPasses);
  const peerAfter = peer ? peerOpsPerSec(path) : null;
  const peerRate =
    peerBefore !== null && peerAfter !== null ? Math.round((peerBefore + peerAfter) / 2) : null;
  const check = validate(w, owners, path);
  console.log(
    JSON.stringify({
      bench: 'core',
      file: basename(path),
      ops: w.count,
      node: process.version,
      v8Flags,
      accounts: CORE_WORKLOAD.accounts,
      makerFeePpm: CORE_WORKLOAD.makerFeePpm,
      takerFeePpm: CORE_WORKLOAD.takerFeePpm,
      riskLimits: true,
      opsPerSec,
      passesOpsPerSec: passes,
      coldOpsPerSec,
      bookOpsPerSec,
      bookPassesOpsPerSec: bookPasses,
      coldBookOpsPerSec,
      ratioToBook: +(opsPerSec / bookOpsPerSec).toFixed(2),
      peerOpsPerSec: peerRate,
      peerRunsOpsPerSec: peerBefore !== null && peerAfter !== null ? [peerBefore, peerAfter] : null,
      ratioToPeer: peerRate ? +(opsPerSec / peerRate).toFixed(1) : null,
      ...check,
      peakRssMB: peakRssMB(),
    }),
  );
}

const { values } = parseArgs({
  options: {
    ops: { type: 'string' },
    peer: { type: 'boolean', default: false },
    'no-tune': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help || !values.ops) {
  console.log(`usage: npm run bench:core -- --ops FILE.bin [--peer] [--no-tune]
Prints one JSON line. Make the standard workload with:
  node ../shared/bench/orderbook/gen-workload.js --ops=1000000 --seed=42 --out=/tmp/orderbook-bench/ops-1m-s42`);
  process.exit(values.help ? 0 : 2);
}
run(values.ops, values.peer, values['no-tune'] ? [] : tuneV8ForMatching());
