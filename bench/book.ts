/**
 * Order-book benchmark: replays a shared workload file and prints one JSON line.
 *
 *   npm run bench:book -- --ops FILE.bin [--peer] [--no-tune]
 *   npm run bench:book -- --resting 1000000 [--presize]
 *
 * With --ops: two passes on fresh books warm the JIT up (the first one's rate is `coldOpsPerSec`); five more
 * passes, each on a fresh book, give `opsPerSec` (their median); a timed pass gives per-operation latency; a
 * last pass checks every result against NAME.expected.bin and the final book against NAME.meta.json. No
 * garbage collection is forced between passes: a forced full collection that frees the previous pass's book
 * leaves the next one running in less optimized code for a while, which a venue, whose books live as long as
 * the process, never sees. --peer runs
 * ../shared/bench/orderbook/peer.sh (nodejs-order-book) on the same file in the same run, once before and
 * once after our passes (the machine's speed drifts; `peerOpsPerSec` is the mean of the two), and reports
 * the ratio. --no-tune leaves V8's inlining budget at its default (see src/ops/v8-tuning.ts).
 *
 * With --resting: the memory a book holding COUNT resting orders costs above the empty process. --presize
 * creates the book with capacity for them (as a venue configures a large instrument); without it the book
 * grows by doubling, and the resident figure then also counts freed arrays the C allocator keeps for reuse,
 * which varies from run to run.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { EventBuffer, OrderBook, newPlaceOrder } from '../src/book/index.js';
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
import { tuneV8ForMatching } from '../src/ops/index.js';
import { median, peakRssMB, peerOpsPerSec } from './common.js';

const hr = process.hrtime.bigint;
const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const WARMUP_PASSES = 2;
const MEASURED_PASSES = 5;

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function passOpsPerSec(w: Workload): number {
  const r = makeReplayer(w);
  const t0 = performance.now();
  for (let i = 0; i < w.count; i++) r.step(i);
  return Math.round(w.count / ((performance.now() - t0) / 1000));
}

function latencyNs(w: Workload): Record<string, number> {
  const overhead = new Float64Array(100_000);
  for (let i = 0; i < overhead.length; i++) {
    const a = hr();
    overhead[i] = Number(hr() - a);
  }
  overhead.sort();
  const r = makeReplayer(w);
  const lat = new Float64Array(w.count);
  for (let i = 0; i < w.count; i++) {
    const a = hr();
    r.step(i);
    lat[i] = Number(hr() - a);
  }
  lat.sort();
  return {
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    p999: percentile(lat, 99.9),
    max: lat[lat.length - 1],
    timerOverheadP50: percentile(overhead, 50),
  };
}

function validate(w: Workload, path: string): Record<string, unknown> {
  const expected = existsSync(expectedPathOf(path)) ? readExpected(expectedPathOf(path), w.count) : undefined;
  const r = makeReplayer(w);
  let mismatches = 0;
  for (let i = 0; i < w.count; i++) {
    const got = r.step(i);
    if (expected !== undefined && got !== expected[i]) mismatches++;
  }
  const finalBook = finalBookOf(r.book);
  const expectedFinal = readExpectedFinalBook(path);
  return {
    mismatches: expected ? mismatches : null,
    finalBookMatches: expectedFinal ? sameFinalBook(finalBook, expectedFinal) : null,
    finalBook,
    stateHash: r.book.stateHash(),
  };
}

function runOps(path: string, peer: boolean, v8Flags: readonly string[]): void {
  const w = readWorkload(path);
  const peerBefore = peer ? peerOpsPerSec(path) : null;
  const coldOpsPerSec = passOpsPerSec(w);
  for (let k = 1; k < WARMUP_PASSES; k++) passOpsPerSec(w);
  const passes: number[] = [];
  for (let k = 0; k < MEASURED_PASSES; k++) passes.push(passOpsPerSec(w));
  const opsPerSec = median(passes);
  // The peer again, after our passes: the machine's speed drifts, and the mean of both runs brackets ours.
  const peerAfter = peer ? peerOpsPerSec(path) : null;
  const peerRate =
    peerBefore !== null && peerAfter !== null ? Math.round((peerBefore + peerAfter) / 2) : null;
  const lat = latencyNs(w);
  const check = validate(w, path);
  console.log(
    JSON.stringify({
      bench: 'book',
      file: basename(path),
      ops: w.count,
      node: process.version,
      v8Flags,
      opsPerSec,
      passesOpsPerSec: passes,
      coldOpsPerSec,
      peerOpsPerSec: peerRate,
      peerRunsOpsPerSec: peerBefore !== null && peerAfter !== null ? [peerBefore, peerAfter] : null,
      ratioToPeer: peerRate ? +(opsPerSec / peerRate).toFixed(1) : null,
      p50: lat.p50,
      p99: lat.p99,
      p999: lat.p999,
      latencyNs: lat,
      ...check,
      peakRssMB: peakRssMB(),
    }),
  );
}

/** Fills a book with `count` resting orders (no crossing) and reports what they cost above the empty process. */
function runResting(count: number, presize: boolean): void {
  gc();
  gc();
  const rssEmpty = process.memoryUsage().rss;
  const events = new EventBuffer(64);
  const book = new OrderBook(events, presize ? { capacityOrders: count } : {});
  const levels = 2000;
  const cmd = newPlaceOrder();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    events.clear();
    const side = (i & 1) as 0 | 1;
    const offset = 1 + ((i >>> 1) % levels);
    cmd.orderId = i + 1;
    cmd.owner = i % 1000;
    cmd.side = side;
    cmd.price = side === 0 ? 100_000 - offset : 100_000 + offset;
    cmd.qty = 1 + (i % 50);
    book.place(cmd);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (book.orderCount !== count)
    throw new Error(`expected ${count} resting orders, found ${book.orderCount}`);
  gc();
  gc();
  const rssFull = process.memoryUsage().rss;
  console.log(
    JSON.stringify({
      bench: 'book-memory',
      restingOrders: count,
      presized: presize,
      bytesPerOrder: +((rssFull - rssEmpty) / count).toFixed(1),
      arrayBytesPerOrder: +(book.bytes / count).toFixed(1),
      rssEmptyMB: +(rssEmpty / 2 ** 20).toFixed(1),
      rssFullMB: +(rssFull / 2 ** 20).toFixed(1),
      placePerSec: Math.round(count / seconds),
      peakRssMB: peakRssMB(),
    }),
  );
}

const { values } = parseArgs({
  options: {
    ops: { type: 'string' },
    resting: { type: 'string' },
    presize: { type: 'boolean', default: false },
    peer: { type: 'boolean', default: false },
    'no-tune': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help || (!values.ops && !values.resting)) {
  console.log(`usage: npm run bench:book -- --ops FILE.bin [--peer] [--no-tune]
       npm run bench:book -- --resting COUNT [--presize]
Prints one JSON line. Make the standard workloads with:
  node ../shared/bench/orderbook/gen-workload.js --ops=1000000 --seed=42 --out=/tmp/orderbook-bench/ops-1m-s42
  node ../shared/bench/orderbook/gen-workload.js --profile=ecore --ops=1000000 --seed=42 --out=/tmp/orderbook-bench/ops-ecore-1m-s42`);
  process.exit(values.help ? 0 : 2);
}
const v8Flags = values['no-tune'] ? [] : tuneV8ForMatching();
if (values.ops) runOps(values.ops, values.peer, v8Flags);
else {
  const count = Number(values.resting);
  if (!Number.isSafeInteger(count) || count <= 0) {
    console.error(`--resting takes a positive integer, not ${String(values.resting)}`);
    process.exit(2);
  }
  runResting(count, values.presize);
}
