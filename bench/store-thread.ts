/**
 * What PGlite's writes cost the thread that calls them: in-process (`thread: 'caller'`) against a worker thread
 * of its own (`thread: 'worker'`, the venue's store). Prints one JSON line.
 *
 *   npm run bench:store-thread [-- --rows N] [--batch N] [--passes N]
 *
 * Each pass writes `--rows` market data ticks (the rows the venue writes for every trade) in transactions of
 * `--batch` rows through `MarketDataStore.write`, as the market data writer does, into a fresh database in
 * memory for each mode, the modes alternating. The figure is the calling thread's CPU time per row, read from
 * /proc (Linux) for this thread alone, and the wall time per row; the median of the passes.
 */
import { readFileSync } from 'node:fs';
import { MarketDataStore, type TickRow } from '../src/marketdata/index.js';
import { migrate, openPgliteStore } from '../src/store/index.js';
import { benchArgs } from './common.js';

/** This (main) thread's CPU time so far, user + system, in microseconds (10 ms resolution). */
function mainThreadCpuUs(): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function ticks(from: number, n: number): TickRow[] {
  const out: TickRow[] = [];
  const t0 = Date.UTC(2026, 11, 1) * 1000;
  for (let i = from; i < from + n; i++) {
    out.push({
      instrument: i % 2 === 0 ? 'BTC-USDT' : 'ETH-USDT',
      timeUs: t0 + i * 100,
      timeNs: 0,
      eventId: `bench-${i}`,
      kind: 'trade',
      price: 6_500_000 + (i % 50),
      size: 10 + (i % 7),
      side: i % 3 === 0 ? 'sell' : 'buy',
      bidPrice: null,
      bidSize: null,
      askPrice: null,
      askSize: null,
      tradeId: i + 1,
      flags: 0,
      source: 'venue',
    });
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface PassFigures {
  readonly cpuUsPerRow: number;
  readonly wallUsPerRow: number;
}

async function pass(thread: 'caller' | 'worker', rows: number, batch: number): Promise<PassFigures> {
  const store = await openPgliteStore({ dir: null, create: true, thread });
  try {
    await migrate(store);
    const md = new MarketDataStore(store);
    await md.write({ ticks: ticks(0, batch), bars: [], progress: null }); // partitions made, code warm
    const batches: TickRow[][] = [];
    for (let at = batch; at < batch + rows; at += batch)
      batches.push(ticks(at, Math.min(batch, batch + rows - at)));
    const cpu0 = mainThreadCpuUs();
    const wall0 = performance.now();
    for (const b of batches) await md.write({ ticks: b, bars: [], progress: null });
    const wallUs = (performance.now() - wall0) * 1000;
    return { cpuUsPerRow: (mainThreadCpuUs() - cpu0) / rows, wallUsPerRow: wallUs / rows };
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const { values } = benchArgs('store-thread', {
    options: {
      rows: { type: 'string', default: '20000' },
      batch: { type: 'string', default: '500' },
      passes: { type: 'string', default: '3' },
    },
  });
  const rows = Number(values.rows);
  const batch = Number(values.batch);
  const passes = Number(values.passes);
  for (const [name, n] of [
    ['rows', rows],
    ['batch', batch],
    ['passes', passes],
  ] as const) {
    if (!(Number.isSafeInteger(n) && n >= 1)) throw new Error(`--${name} must be a whole number >= 1`);
  }
  const runs: { caller: PassFigures[]; worker: PassFigures[] } = { caller: [], worker: [] };
  for (let i = 0; i < passes; i++) {
    runs.caller.push(await pass('caller', rows, batch));
    runs.worker.push(await pass('worker', rows, batch));
  }
  const fig = (rs: readonly PassFigures[]) => ({
    mainThreadCpuUsPerRow: Number(median(rs.map((r) => r.cpuUsPerRow)).toFixed(2)),
    wallUsPerRow: Number(median(rs.map((r) => r.wallUsPerRow)).toFixed(2)),
  });
  const caller = fig(runs.caller);
  const worker = fig(runs.worker);
  console.log(
    JSON.stringify({
      bench: 'store-thread',
      node: process.version,
      rows,
      batch,
      passes,
      caller,
      worker,
      mainThreadCpuRatio: Number((worker.mainThreadCpuUsPerRow / caller.mainThreadCpuUsPerRow).toFixed(3)),
    }),
  );
}

await main();
