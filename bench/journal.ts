/**
 * Durability benchmark: the engine end to end (worker thread, sequencer, journal with group commit and
 * fdatasync, the core executing every command) and recovery. Prints one JSON line.
 *
 *   npm run bench:journal [-- --ops FILE.bin] [--clients N] [--seconds S] [--flush N] [--recovery-commands N]
 *                          [--rate N] [--rate-seconds S] [--dir DIR] [--no-tune]
 *
 * 1. Durable throughput: N clients (default 1,000) each submit one command, wait for its acknowledgement
 *    (durable: its batch fsynced), and submit the next, for S seconds (default 5) after a one-second warm-up.
 *    Commands are the shared order-book workload through the core (src/cli/core-workload.ts: 1,000 funded
 *    accounts with limits, fees on). Reports durable commands per second, fsyncs per second, the mean batch
 *    size (commands per journal write and fsync), acknowledgement latency (submit to acknowledgement)
 *    percentiles, and the process's CPU time per command (both threads). --flush sets the engine's
 *    flushCommands (commands gathered before a batch goes to the worker; default the engine's, 256).
 *    With --rate N (1,000 .. 1,000,000), also the engine at N commands a second for --rate-seconds (default 5):
 *    one command per submit, those due submitted every millisecond; `fixedRate` has the CPU per command, the
 *    acknowledgement latency, and the engine's batches and fsyncs a second.
 * 2. Recovery: a journal of 10,000,000 commands (the workload, its ids shifted on each pass over the file)
 *    written with the journal writer, then recovered by the engine's start-up path (no snapshot: a full replay
 *    into the core). Reports commands recovered per second.
 * The default directory is under the system's temporary directory, on the disk it is on. The process applies
 * the matching V8 setting (src/ops/v8-tuning.ts) as `rialto` does; --no-tune leaves V8's defaults.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { coreCommandAt, ownersOf, setupCommands } from '../src/cli/core-workload.js';
import { readWorkload, type Workload } from '../src/cli/workload.js';
import type { Command } from '../src/core/index.js';
import { ENGINE_LIMITS, Engine, EngineHost, wallClockUs } from '../src/engine/index.js';
import { openJournal } from '../src/journal/index.js';
import { tuneV8ForMatching } from '../src/ops/index.js';
import { benchArgs, LatencyHistogram, peakRssMB } from './common.js';

const DEFAULT_OPS = '/tmp/orderbook-bench/ops-1m-s42.bin';

/** The workload's commands, endlessly: each pass over the file shifts order ids past the previous pass's. */
function commandSource(w: Workload): () => Command {
  const owners = ownersOf(w);
  let maxId = 0;
  for (let i = 0; i < w.count; i++) maxId = Math.max(maxId, w.id[i]);
  let i = 0;
  let pass = 0;
  return () => {
    if (i === w.count) {
      i = 0;
      pass++;
    }
    const c = coreCommandAt(w, owners, i++);
    if ('orderId' in c) c.orderId += pass * (maxId + 1);
    return c;
  };
}

async function durable(
  w: Workload,
  dir: string,
  clients: number,
  seconds: number,
  flushCommands: number | undefined,
): Promise<Record<string, number>> {
  // The command source first: its set-up garbage (a map over the whole workload) left to the main thread
  // while clients run measured the engine at half speed (main-thread time per command doubled).
  const next = commandSource(w);
  const engine = await Engine.start({ dir, snapshotEveryCommands: 0, snapshotEveryMs: 0, flushCommands });
  await engine.submit(setupCommands(w));
  const latencies = new LatencyHistogram();
  // Each client's submit time in a slot of its own: nothing per command is allocated by the measuring.
  const startedAt = new Float64Array(clients);
  let measuring = false;
  let stop = false;
  let done = 0;
  const client = async (k: number): Promise<void> => {
    while (!stop) {
      startedAt[k] = performance.now();
      await engine.submit([next()]);
      if (measuring) {
        latencies.record((performance.now() - startedAt[k]) * 1000);
        done++;
      }
    }
  };
  const running = Array.from({ length: clients }, (_, k) => client(k));
  await new Promise((r) => setTimeout(r, 1000));
  const before = await engine.stats();
  measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const after = await engine.stats();
  stop = true;
  await Promise.all(running);
  await engine.close();
  const syncs = after.syncs - before.syncs;
  const batches = after.batches - before.batches;
  return {
    durableCommandsPerSec: Math.round(done / elapsed),
    fsyncsPerSec: Math.round(syncs / elapsed),
    meanBatchSize: batches === 0 ? 0 : Math.round(((after.records - before.records) / batches) * 10) / 10,
    ackP50Us: latencies.percentile(0.5),
    ackP99Us: latencies.percentile(0.99),
    cpuUsPerCommand: Math.round(((cpu.user + cpu.system) / done) * 100) / 100,
  };
}

/**
 * The engine at a fixed rate: every millisecond the commands due by then are submitted, one command per submit,
 * as a gateway's requests come (each with its own acknowledgement). Measures what each command costs the
 * process (both threads) and its acknowledgement latency when the engine is not saturated, where fixed costs
 * per batch and per group commit (messages between threads, the journal's write and fsync) dominate.
 */
async function fixedRate(
  w: Workload,
  dir: string,
  rate: number,
  seconds: number,
): Promise<Record<string, number>> {
  const next = commandSource(w);
  const engine = await Engine.start({ dir, snapshotEveryCommands: 0, snapshotEveryMs: 0 });
  await engine.submit(setupCommands(w));
  const latencies = new LatencyHistogram();
  let measuring = false;
  let submitted = 0;
  let acknowledged = 0;
  const t0 = performance.now();
  const tick = setInterval(() => {
    const due = Math.floor((performance.now() - t0) * (rate / 1000));
    while (submitted < due) {
      submitted++;
      const at = performance.now();
      const counted = measuring;
      void engine.submit([next()]).then(() => {
        if (!counted) return;
        latencies.record((performance.now() - at) * 1000);
        acknowledged++;
      });
    }
  }, 1);
  await new Promise((r) => setTimeout(r, 1000));
  const before = await engine.stats();
  const sentBefore = submitted;
  measuring = true;
  const cpu0 = process.cpuUsage();
  const m0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - m0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sent = submitted - sentBefore;
  const after = await engine.stats();
  clearInterval(tick);
  await engine.close();
  const syncs = after.syncs - before.syncs;
  return {
    rate,
    offeredPerSec: Math.round(sent / elapsed),
    acknowledgedPerSec: Math.round(acknowledged / elapsed),
    engineBatchesPerSec: Math.round((after.submits - before.submits) / elapsed),
    fsyncsPerSec: Math.round(syncs / elapsed),
    meanSyncUs: syncs === 0 ? 0 : Math.round((after.syncUs - before.syncUs) / syncs),
    ackP50Us: latencies.percentile(0.5),
    ackP99Us: latencies.percentile(0.99),
    cpuUsPerCommand: Math.round(((cpu.user + cpu.system) / sent) * 10) / 10,
  };
}

async function recovery(w: Workload, dir: string, commands: number): Promise<Record<string, number>> {
  const opened = await openJournal({ dir, clockUs: wallClockUs });
  const writer = opened.writer;
  await writer.append(setupCommands(w));
  const next = commandSource(w);
  const CHUNK = 20_000;
  for (let n = 0; n < commands; n += CHUNK) {
    const chunk: Command[] = [];
    for (let k = 0; k < Math.min(CHUNK, commands - n); k++) chunk.push(next());
    await writer.append(chunk);
  }
  await writer.close();
  const t0 = performance.now();
  const { host, recovery: report } = await EngineHost.open({
    dir,
    snapshotEveryCommands: 0,
    snapshotEveryMs: 0,
  });
  const ms = performance.now() - t0;
  await host.close();
  return {
    recoveryCommands: report.replayed,
    recoverySeconds: Math.round(ms) / 1000,
    recoveryCommandsPerSec: Math.round(report.replayed / (ms / 1000)),
  };
}

async function main(): Promise<void> {
  const { values } = benchArgs('journal', {
    options: {
      ops: { type: 'string', default: DEFAULT_OPS },
      clients: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '5' },
      'recovery-commands': { type: 'string', default: '10000000' },
      flush: { type: 'string' },
      rate: { type: 'string' },
      'rate-seconds': { type: 'string', default: '5' },
      dir: { type: 'string' },
      'no-tune': { type: 'boolean', default: false },
    },
  });
  const v8Flags = values['no-tune'] ? [] : tuneV8ForMatching();
  if (!existsSync(values.ops)) {
    throw new Error(
      `${values.ops} is missing: node ../shared/bench/orderbook/gen-workload.js --ops=1000000 --seed=42 --out=/tmp/orderbook-bench/ops-1m-s42`,
    );
  }
  const w = readWorkload(values.ops);
  const root = mkdtempSync(join(values.dir ?? tmpdir(), 'rialto-bench-journal-'));
  try {
    const flush = values.flush === undefined ? undefined : Number(values.flush);
    const d = await durable(w, join(root, 'durable'), Number(values.clients), Number(values.seconds), flush);
    const rate = values.rate === undefined ? null : Number(values.rate);
    if (rate !== null && !(Number.isSafeInteger(rate) && rate >= 1000 && rate <= 1_000_000)) {
      throw new Error(
        `--rate must be an integer from 1,000 to 1,000,000 commands a second, not ${String(values.rate)}`,
      );
    }
    const f =
      rate === null
        ? null
        : await fixedRate(w, join(root, 'fixed-rate'), rate, Number(values['rate-seconds']));
    const r = await recovery(w, join(root, 'recovery'), Number(values['recovery-commands']));
    console.log(
      JSON.stringify({
        bench: 'journal',
        node: process.version,
        durability: 'batch',
        clients: Number(values.clients),
        flushCommands: flush ?? ENGINE_LIMITS.flushCommandsDefault,
        v8Flags,
        nodeFlags: process.execArgv,
        ...d,
        fixedRate: f,
        ...r,
        peakRssMB: peakRssMB(),
      }),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
