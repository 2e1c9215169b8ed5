/**
 * What the audit trail costs the venue's main thread per event: the audit file's groups chained, written and
 * synced on the calling thread (`thread: 'caller'`) against on a worker thread of the file's own
 * (`thread: 'worker'`, the venue's). Prints one JSON line.
 *
 *   npm run bench:audit-thread [-- --events N] [--turn N] [--passes N] [--maker fixed|generic]
 *
 * Each pass makes `--events` events like a WebSocket placement's (`makeFixedEvent` with the connection's
 * actor object, as the gateway does; `--maker generic`: `makeEvent`, as it did before 2026-12-02) and
 * commits them through an `AuditWriter` into a fresh audit file, `--turn` events per turn of the event loop (as
 * requests arrive), then waits until every one is durable; the modes alternate. The figure is this (main)
 * thread's CPU time per event, read from /proc (Linux) for this thread alone, making the events included;
 * the median of the passes. `processCpuUsPerEvent` is the whole process's (the file's worker, where it has
 * one, and the collector's threads included).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuditFile,
  AuditWriter,
  makeEvent,
  makeFixedEvent,
  type AuditEventInput,
} from '../src/audit/index.js';
import { WS_AUDIT_DETAILS } from '../src/gateway/audit/ws.js';
import { benchArgs } from './common.js';

/** This (main) thread's CPU time so far, user + system, in microseconds (10 ms resolution). */
function mainThreadCpuUs(): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A WebSocket placement's event made the generic way (makeEvent, its details as an object), order `i`. */
function genericEvent(i: number): AuditEventInput {
  return makeEvent({
    id: randomUUID(),
    timeUs: Date.UTC(2026, 11, 1) * 1000 + i,
    actor: { id: 'key:3f2a9c', role: 'trader', ip: '127.0.0.1' },
    action: 'order.place',
    target: { kind: 'account', id: String(1 + (i % 8)) },
    result: { status: 'ok', code: null },
    requestId: String(i),
    details: {
      symbol: i % 2 === 0 ? 'BTC-USDT' : 'ETH-USDT',
      side: i % 3 === 0 ? 'sell' : 'buy',
      order_type: 'limit',
      quantity: '0.0100',
      price: '65000.00',
      client_order_id: `c-${i}`,
      transport: 'ws',
      order_id: String(1000 + i),
    },
  });
}

/** One connection's actor, as the gateway keeps it. */
const ACTOR = { id: 'key:3f2a9c', role: 'trader', ip: '127.0.0.1' };

/** A WebSocket placement's event as gateway/audit/ws.ts makes it, order `i`. */
function fixedEvent(i: number): AuditEventInput {
  return makeFixedEvent({
    id: randomUUID(),
    timeUs: Date.UTC(2026, 11, 1) * 1000 + i,
    actor: ACTOR,
    action: 'order.place',
    target: { kind: 'account', id: String(1 + (i % 8)) },
    result: { status: 'ok', code: null },
    requestId: String(i),
    shape: WS_AUDIT_DETAILS['order.place'],
    values: [
      i % 2 === 0 ? 'BTC-USDT' : 'ETH-USDT',
      i % 3 === 0 ? 'sell' : 'buy',
      'limit',
      '0.0100',
      '65000.00',
      `c-${i}`,
      'ws',
      String(1000 + i),
    ],
  });
}

let placementEvent = fixedEvent;

interface Pass {
  main: number;
  process: number;
}

const processCpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function pass(thread: 'caller' | 'worker', events: number, turn: number): Promise<Pass> {
  const dir = mkdtempSync(join(tmpdir(), 'rialto-bench-audit-'));
  const file = await AuditFile.open(dir, { thread });
  try {
    const writer = new AuditWriter({ append: (es) => file.append(es) });
    // Warm: code compiled, the worker running, the file made.
    for (let i = 0; i < turn; i++) writer.tryReserve()?.commit(placementEvent(i));
    await writer.flush();
    const cpu0 = mainThreadCpuUs();
    const all0 = processCpuUs();
    for (let at = 0; at < events; at += turn) {
      for (let i = at; i < Math.min(at + turn, events); i++) {
        const ticket = writer.tryReserve() ?? (await writer.reserve());
        ticket.commit(placementEvent(turn + i));
      }
      await nextTurn();
    }
    await writer.flush();
    const cpuUs = mainThreadCpuUs() - cpu0;
    const allUs = processCpuUs() - all0;
    await writer.close();
    return { main: cpuUs / events, process: allUs / events };
  } finally {
    await file.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = benchArgs('audit-thread', {
    options: {
      events: { type: 'string', default: '50000' },
      turn: { type: 'string', default: '256' },
      passes: { type: 'string', default: '5' },
      maker: { type: 'string', default: 'fixed' },
    },
  });
  if (values.maker !== 'fixed' && values.maker !== 'generic')
    throw new Error('--maker must be fixed or generic');
  placementEvent = values.maker === 'fixed' ? fixedEvent : genericEvent;
  const events = Number(values.events);
  const turn = Number(values.turn);
  const passes = Number(values.passes);
  for (const [name, n] of [
    ['events', events],
    ['turn', turn],
    ['passes', passes],
  ] as const) {
    if (!(Number.isSafeInteger(n) && n >= 1)) throw new Error(`--${name} must be a whole number >= 1`);
  }
  const runs: { caller: Pass[]; worker: Pass[] } = { caller: [], worker: [] };
  for (let i = 0; i < passes; i++) {
    runs.caller.push(await pass('caller', events, turn));
    runs.worker.push(await pass('worker', events, turn));
  }
  const figure = (ps: Pass[], k: keyof Pass): number => Number(median(ps.map((p) => p[k])).toFixed(2));
  const caller = figure(runs.caller, 'main');
  const worker = figure(runs.worker, 'main');
  const passes2 = (ps: Pass[]): number[] => ps.map((p) => Number(p.main.toFixed(2)));
  console.log(
    JSON.stringify({
      bench: 'audit-thread',
      node: process.version,
      events,
      turn,
      passes,
      maker: values.maker,
      caller: {
        mainThreadCpuUsPerEvent: caller,
        processCpuUsPerEvent: figure(runs.caller, 'process'),
        passes: passes2(runs.caller),
      },
      worker: {
        mainThreadCpuUsPerEvent: worker,
        processCpuUsPerEvent: figure(runs.worker, 'process'),
        passes: passes2(runs.worker),
      },
      mainThreadCpuRatio: Number((worker / caller).toFixed(3)),
    }),
  );
}

await main();
