/**
 * What a placement with a client order id costs beside the engine: `LocalOrderEntry` and an `Engine` in this
 * process, on a fresh data directory (no gateway, no views, no audit). Prints one JSON line.
 *
 *   npm run bench:order-entry [-- --placements N] [--in-flight N] [--paced N]
 *
 * Saturated: `--placements` placements (after a fifth as many to warm up), `--in-flight` at a time, each with
 * its own client order id; the figures are this (main) thread's CPU per placement, read from /proc (Linux)
 * for this thread alone, and the process's (every thread: the engine's worker, the file system's pool).
 * Paced: `--paced` placements one at a time, 2 ms apart, and their acknowledgement latency (durable in the
 * journal), which is one write and one fdatasync each.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, PlaceOrder } from '../src/core/index.js';
import { Engine } from '../src/engine/index.js';
import { LocalOrderEntry } from '../src/gateway/trading/order-entry.js';
import type { Store } from '../src/store/index.js';
import { benchArgs } from './common.js';

/** This (main) thread's CPU time so far, user + system, in microseconds (10 ms resolution). */
function mainThreadCpuUs(): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const ACCOUNTS = 8;

function setup(): Command[] {
  const out: Command[] = [
    { kind: 'addAsset', timeUs: 0, asset: 0, code: 'USD', decimals: 2 },
    { kind: 'addAsset', timeUs: 0, asset: 1, code: 'BTC', decimals: 8 },
    {
      kind: 'defineInstrument',
      timeUs: 0,
      spec: { instrument: 1, symbol: 'BTC-USD', baseAsset: 1, quoteAsset: 0, tickSize: 1 },
    },
  ];
  for (let a = 1; a <= ACCOUNTS; a++) {
    out.push({ kind: 'createAccount', timeUs: 0, accountId: a, accountType: 1 });
    for (const asset of [0, 1]) {
      out.push({ kind: 'deposit', timeUs: 0, accountId: a, asset, amount: 1e14, ref: a * 2 + asset });
    }
  }
  return out;
}

/** The i-th placement: both sides around one price, so that some trade and some rest. */
function place(i: number): PlaceOrder {
  return {
    kind: 'placeOrder',
    timeUs: 0,
    accountId: 1 + (i % ACCOUNTS),
    instrument: 1,
    orderId: 0,
    side: (i & 1) as 0 | 1,
    type: 1,
    tif: 1,
    price: 9_980 + ((i * 7) % 40) + (i & 1 ? 30 : 0),
    triggerPrice: 0,
    qty: 1 + (i % 3),
    displayQty: 0,
    postOnly: false,
    stp: 0,
    expireTimeUs: 0,
    clientOrderId: undefined,
  };
}

async function main(): Promise<void> {
  const { values } = benchArgs('order-entry', {
    options: {
      placements: { type: 'string', default: '60000' },
      'in-flight': { type: 'string', default: '512' },
      paced: { type: 'string', default: '1000' },
    },
  });
  const placements = Number(values.placements);
  const inFlightMax = Number(values['in-flight']);
  const pacedCount = Number(values.paced);
  const dir = mkdtempSync(join(tmpdir(), 'rialto-bench-entry-'));
  const engine = await Engine.start({ dir, snapshotEveryMs: 0 });
  // No legacy client order ids to read: the order entry only queries the store's old table.
  const store = { query: () => Promise.resolve([]) } as unknown as Store;
  try {
    await engine.submit(setup());
    const journal = { dir, lastSeq: engine.recovery.lastSeq, journaled: null };
    const entry = await LocalOrderEntry.open(engine, store, journal, await engine.highestOrderId());
    let n = 0;
    const saturate = async (count: number): Promise<{ mainUs: number; processUs: number }> => {
      const main0 = mainThreadCpuUs();
      const cpu0 = process.cpuUsage();
      const running = new Set<Promise<unknown>>();
      for (let k = 0; k < count; k++) {
        const i = n++;
        const p: Promise<unknown> = entry.place(place(i), `c-${i}`).then(() => running.delete(p));
        running.add(p);
        if (running.size >= inFlightMax) await Promise.race(running);
      }
      await Promise.all(running);
      const cpu = process.cpuUsage(cpu0);
      return { mainUs: (mainThreadCpuUs() - main0) / count, processUs: (cpu.user + cpu.system) / count };
    };
    await saturate(Math.ceil(placements / 5));
    const saturated = await saturate(placements);
    const latencies: number[] = [];
    for (let k = 0; k < pacedCount; k++) {
      const i = n++;
      const t0 = performance.now();
      await entry.place(place(i), `c-${i}`);
      latencies.push(performance.now() - t0);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number): number =>
      Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 1000) / 1000;
    console.log(
      JSON.stringify({
        bench: 'order-entry',
        node: process.version,
        placements,
        inFlight: inFlightMax,
        mainThreadCpuUsPerPlacement: Math.round(saturated.mainUs * 100) / 100,
        processCpuUsPerPlacement: Math.round(saturated.processUs * 100) / 100,
        pacedAckMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99) },
      }),
    );
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
