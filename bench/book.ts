/**
 * Order-book benchmark: replays a shared workload file and prints one JSON line.
 *
 *   npm run bench:book -- --ops FILE.bin          throughput, per-operation latency, mismatches
 *   npm run bench:book -- --resting 1000000       bytes per resting order above the empty process
 *
 * Each pass runs on a fresh book. The throughput pass comes first, so it runs as cold as the peer harness
 * (../shared/bench/orderbook/bench.js) measures nodejs-order-book; compare the two in the same run.
 */
import { performance } from 'node:perf_hooks';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { EventBuffer, OrderBook, OrderType, SelfTradePrevention, TimeInForce } from '../src/book/index.js';
import { finalBookOf, makeReplayer, sameFinalBook } from './replay.js';
import { readExpected, readExpectedFinalBook, readWorkload, type Workload } from './workload.js';

const hr = process.hrtime.bigint;
const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function throughput(w: Workload): { opsPerSec: number; seconds: number } {
  const r = makeReplayer(w);
  const n = w.count;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) r.step(i);
  const seconds = (performance.now() - t0) / 1000;
  return { opsPerSec: Math.round(n / seconds), seconds: +seconds.toFixed(4) };
}

function latency(w: Workload): Record<string, number> {
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
  const expected = readExpected(path);
  const r = makeReplayer(w);
  let mismatches = 0;
  const firstMismatches: { i: number; type: number; got: number; expected: number }[] = [];
  for (let i = 0; i < w.count; i++) {
    const got = r.step(i);
    if (expected && got !== expected[i]) {
      mismatches++;
      if (firstMismatches.length < 5) firstMismatches.push({ i, type: w.type[i], got, expected: expected[i] });
    }
  }
  const finalBook = finalBookOf(r.book);
  const expectedFinal = readExpectedFinalBook(path);
  return {
    mismatches: expected ? mismatches : null,
    firstMismatches,
    finalBookMatches: expectedFinal ? sameFinalBook(finalBook, expectedFinal) : null,
    finalBook,
    stateHash: r.book.stateHash(),
  };
}

function runOps(path: string): void {
  const w = readWorkload(path);
  const tp = throughput(w);
  gc();
  const latencyNs = latency(w);
  gc();
  const check = validate(w, path);
  console.log(
    JSON.stringify({
      bench: 'book',
      file: basename(path),
      ops: w.count,
      node: process.version,
      opsPerSec: tp.opsPerSec,
      seconds: tp.seconds,
      p50: latencyNs.p50,
      p99: latencyNs.p99,
      p999: latencyNs.p999,
      latencyNs,
      ...check,
      peakRssMB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
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
  const cmd = {
    orderId: 0,
    owner: 0,
    side: 0 as 0 | 1,
    type: OrderType.Limit,
    tif: TimeInForce.GTC,
    price: 0,
    triggerPrice: 0,
    qty: 0,
    displayQty: 0,
    postOnly: false,
    stp: SelfTradePrevention.None,
    expireTimeUs: 0,
    timeUs: 0,
  };
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
  if (book.orderCount !== count) throw new Error(`expected ${count} resting orders, found ${book.orderCount}`);
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
      peakRssMB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    }),
  );
}

const { values } = parseArgs({
  options: {
    ops: { type: 'string' },
    resting: { type: 'string' },
    presize: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help || (!values.ops && !values.resting)) {
  console.log(`usage: npm run bench:book -- --ops FILE.bin
       npm run bench:book -- --resting COUNT [--presize]
Prints one JSON line. Make a workload with:
  node ../shared/bench/orderbook/gen-workload.js --ops=1000000 --seed=42 --out=/tmp/orderbook-bench/ops-1m-s42`);
  process.exit(values.help ? 0 : 2);
}
if (values.ops) runOps(values.ops);
else runResting(Number(values.resting), values.presize);
