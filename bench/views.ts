/**
 * The gateway views' cost (src/gateway/views): what applying the engine's durable batches takes of the venue's
 * main thread per command, and what the views then hold in the heap. Prints one JSON line.
 *
 *   npm run bench:views [-- --commands N] [--batch N] [--passes N]
 *
 * A stream in the mix of bench:api (resting limit orders 50 %, crossing IOC orders 15 %, cancels of resting
 * orders 35 %, eight funded accounts, one instrument, fees on) is executed once by an exchange core into
 * batches of `--batch` commands, as the engine publishes them; then each pass applies all of them to fresh
 * views (`applyBatch`), timed by CPU time (the median of the passes is printed). The heap the views keep is
 * measured on the first pass (heap used after two full collections, less the heap before they were made): on
 * later passes the old views were not always collected yet, which made the difference unreliable. Needs
 * `--expose-gc` (the npm script passes it).
 */
import { OrderType, SelfTradePrevention, Side, TimeInForce } from '../src/book/index.js';
import { AccountType, ExchangeCore, type Command } from '../src/core/index.js';
import { Views } from '../src/gateway/views/index.js';
import { benchArgs } from './common.js';

const T = 1_767_225_600_000_000;
const MID = 100_000;

function args() {
  const { values } = benchArgs('views', {
    options: {
      commands: { type: 'string', default: '200000' },
      batch: { type: 'string', default: '64' },
      passes: { type: 'string', default: '3' },
    },
  });
  const whole = (name: string, text: string): number => {
    const n = Number(text);
    if (!(Number.isSafeInteger(n) && n >= 1)) throw new Error(`--${name} must be a whole number >= 1`);
    return n;
  };
  return {
    commands: whole('commands', values.commands),
    batch: whole('batch', values.batch),
    passes: whole('passes', values.passes),
  };
}

function setupCommands(): Command[] {
  const cmds: Command[] = [
    { kind: 'addAsset', timeUs: T, asset: 0, code: 'USD', decimals: 2 },
    { kind: 'addAsset', timeUs: T, asset: 1, code: 'BTC', decimals: 8 },
    {
      kind: 'defineInstrument',
      timeUs: T,
      spec: {
        instrument: 1,
        symbol: 'BTC-USD',
        baseAsset: 1,
        quoteAsset: 0,
        baseScale: 100,
        quoteScale: 1,
        makerFeePpm: -50,
        takerFeePpm: 200,
        referencePrice: MID,
      },
    },
  ];
  for (let a = 1; a <= 8; a++) {
    cmds.push({ kind: 'createAccount', timeUs: T, accountId: a, accountType: AccountType.Customer });
    cmds.push({ kind: 'deposit', timeUs: T, accountId: a, asset: 0, amount: 1e14, ref: a });
    cmds.push({ kind: 'deposit', timeUs: T, accountId: a, asset: 1, amount: 1e14, ref: a });
  }
  return cmds;
}

/** The mix, from a fixed seed. */
function mixCommands(n: number): Command[] {
  let seed = 12345;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const resting: [number, number][] = [];
  const out: Command[] = [];
  let nextId = 1;
  while (out.length < n) {
    const r = rnd();
    const accountId = 1 + Math.floor(rnd() * 8);
    if (r < 0.35 && resting.length > 0) {
      const k = Math.floor(rnd() * resting.length);
      const [orderId, owner] = resting[k];
      resting[k] = resting[resting.length - 1];
      resting.pop();
      out.push({ kind: 'cancelOrder', timeUs: T, accountId: owner, instrument: 1, orderId });
      continue;
    }
    const side = rnd() < 0.5 ? Side.Buy : Side.Sell;
    const cross = r >= 0.85;
    const off = 1 + Math.floor(rnd() * 50);
    const away = side === Side.Buy ? -off : off;
    const orderId = nextId++;
    out.push({
      kind: 'placeOrder',
      timeUs: T,
      accountId,
      instrument: 1,
      orderId,
      side,
      type: OrderType.Limit,
      tif: cross ? TimeInForce.IOC : TimeInForce.GTC,
      price: MID + (cross ? -away : away),
      triggerPrice: 0,
      qty: 10 * (1 + Math.floor(rnd() * 10)),
      displayQty: 0,
      postOnly: false,
      stp: SelfTradePrevention.None,
      expireTimeUs: 0,
    });
    if (!cross) resting.push([orderId, accountId]);
  }
  return out;
}

interface Batch {
  events: Float64Array;
  ends: Int32Array;
}

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with --expose-gc (npm run bench:views does)');
  g();
  g();
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const a = args();
  const setup = setupCommands();
  const core = new ExchangeCore();
  const setupBatches: Batch[] = [];
  for (const c of setup) {
    core.events.clear();
    core.execute(c);
    setupBatches.push({
      events: core.events.data.slice(0, core.events.count * 16),
      ends: Int32Array.of(core.events.count),
    });
  }
  const batches: Batch[] = [];
  const cmds = mixCommands(a.commands);
  let records = 0;
  for (let i = 0; i < cmds.length; i += a.batch) {
    core.events.clear();
    const n = Math.min(a.batch, cmds.length - i);
    const ends = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      core.execute(cmds[i + k]);
      ends[k] = core.events.count;
    }
    records += core.events.count;
    batches.push({ events: core.events.data.slice(0, core.events.count * 16), ends });
  }
  const us: number[] = [];
  let heapMb = 0;
  let kept = { orders: 0, entries: 0 };
  for (let pass = 0; pass < a.passes; pass++) {
    gc();
    const before = process.memoryUsage().heapUsed;
    let views: Views | null = new Views();
    let seq = 0;
    for (const b of setupBatches) views.applyBatch(++seq, T, b.events, b.ends);
    const cpu = process.cpuUsage();
    for (const b of batches) {
      views.applyBatch(seq + 1, T, b.events, b.ends);
      seq += b.ends.length;
    }
    const used = process.cpuUsage(cpu);
    us.push((used.user + used.system) / cmds.length);
    gc();
    if (pass === 0) heapMb = (process.memoryUsage().heapUsed - before) / 1048576;
    kept = { orders: views.orderHistory(null, Number.MAX_SAFE_INTEGER).length, entries: views.entries.size };
    views = null;
  }
  console.log(
    JSON.stringify({
      bench: 'views',
      node: process.version,
      commands: cmds.length,
      records,
      batch: a.batch,
      passes: a.passes,
      applyUsPerCommand: Math.round(median(us) * 100) / 100,
      heapMb: Math.round(heapMb * 10) / 10,
      kept,
    }),
  );
}

main();
