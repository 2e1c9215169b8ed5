/**
 * The REST order path's cost on the venue's main thread, without sockets: a venue in this process (PGlite,
 * rate limits on with the per-IP limit raised, the access log at `info` on stdout), driven through fastify's
 * `inject` by 64 concurrent loops of placements (60 %, resting limit orders with client order ids), cancels
 * (30 %) and cancels of an order already cancelled (10 %, answered 409 and logged). Prints one JSON line last.
 *
 *   npm run bench:rest-path [-- --base DIR] [--ops N] [--slices N] > /dev/null   (the JSON line on stderr too)
 *
 * With `--base DIR` (a checkout of another commit, built: DIR/dist) a venue of that build runs beside this
 * one in the same process, and the two are driven alternately, slice by slice (`--slices` of `--ops`
 * operations each, the order of the pair swapped every slice), so that a shared, loaded machine weighs on both
 * alike. The figure is the main thread's CPU per operation (/proc/self/task/PID/stat, in clock ticks of 10 ms:
 * keep a slice above a few hundred milliseconds of CPU), min and median over the slices; the process's CPU
 * (all threads, both venues' workers included) is beside it. node's HTTP parser and the socket writes are not
 * in it (`bench:api` measures those with the rest): this is the gateway's, fastify's and the venue's share.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

type Gateway = typeof import('../src/gateway/index.js');
type Cli = typeof import('../src/cli/venue.js');
type Helpers = typeof import('../test/gateway/helpers.js');
type Venue = Awaited<ReturnType<Gateway['startVenue']>>;

const CONCURRENCY = 64;
const WARMUP_OPS = 2_000;

interface Driven {
  readonly name: string;
  readonly venue: Venue;
  readonly keys: readonly string[];
  /** Resting orders placed and not yet cancelled: [key index, order id]. */
  readonly resting: [number, string][];
  /** The first order cancelled: cancelled again for the 409s. */
  cancelledOnce: [number, string] | null;
  placed: number;
  readonly slices: { mainUs: number; processUs: number }[];
}

const CLOCK_TICK_US = 10_000;

/** This thread's CPU time (user and system), microseconds, from /proc (node 20 has no per-thread usage). */
function mainThreadCpuUs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US;
}

async function open(name: string, root: string): Promise<Driven> {
  const dist = resolve(root, 'dist');
  const gateway = (await import(`${dist}/src/gateway/index.js`)) as Gateway;
  const cli = (await import(`${dist}/src/cli/venue.js`)) as Cli;
  const helpers = (await import(`${dist}/test/gateway/helpers.js`)) as Helpers;
  const config = helpers.testConfig(helpers.tempDir(), { RIALTO_REQUESTS_PER_MINUTE_PER_IP: '10000000' });
  const venue = await gateway.startVenue(config, {
    setup: cli.venueSetupCommands(config, 0),
    listen: false,
    log: true,
  });
  if (venue.adminKey === null) throw new Error('a new venue has an admin key');
  const { t1, t2 } = await helpers.traders(venue, venue.adminKey);
  return { name, venue, keys: [t1, t2], resting: [], cancelledOnce: null, placed: 0, slices: [] };
}

const ORDER_ID = /"order_id":"([0-9]+)"/;

async function operation(d: Driven, i: number): Promise<void> {
  const k = i % 2;
  const kind = i % 10;
  const server = d.venue.server;
  if (kind < 6 || d.resting.length === 0) {
    // Buyers below and sellers above the market: every placement rests.
    const body = JSON.stringify({
      symbol: 'BTC-USDT',
      side: k === 0 ? 'buy' : 'sell',
      order_type: 'limit',
      price: (k === 0 ? 40_000 - (i % 50) : 50_000 + (i % 50)).toFixed(2),
      quantity: '0.0010',
      client_order_id: `rp-${d.placed++}`,
    });
    const r = await server.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { 'x-api-key': d.keys[k], 'content-type': 'application/json' },
      payload: body,
    });
    if (r.statusCode !== 201) throw new Error(`place: ${r.statusCode} ${r.body}`);
    const id = ORDER_ID.exec(r.body);
    if (id === null) throw new Error(`place: no order id in ${r.body}`);
    d.resting.push([k, id[1]]);
    return;
  }
  const again = kind === 9 && d.cancelledOnce !== null;
  const target = again ? d.cancelledOnce : d.resting.pop();
  if (target === null || target === undefined) return;
  const r = await server.inject({
    method: 'DELETE',
    url: `/api/v1/orders/${target[1]}`,
    headers: { 'x-api-key': d.keys[target[0]] },
  });
  if (r.statusCode !== (again ? 409 : 200)) throw new Error(`cancel: ${r.statusCode} ${r.body}`);
  d.cancelledOnce ??= target;
}

/** `ops` operations by CONCURRENCY loops; the main thread's and the process's CPU per operation. */
async function slice(d: Driven, ops: number): Promise<{ mainUs: number; processUs: number }> {
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next < ops) await operation(d, next++);
  };
  const main0 = mainThreadCpuUs();
  const process0 = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const used = process.cpuUsage(process0);
  return { mainUs: (mainThreadCpuUs() - main0) / ops, processUs: (used.user + used.system) / ops };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      ops: { type: 'string', default: '1500' },
      slices: { type: 'string', default: '12' },
    },
  });
  const ops = Number(values.ops);
  const slices = Number(values.slices);
  if (!(Number.isSafeInteger(ops) && ops >= 100 && Number.isSafeInteger(slices) && slices >= 1))
    throw new Error('--ops must be at least 100 and --slices at least 1');
  const driven = [await open('this', '.')];
  if (values.base !== undefined) driven.push(await open('base', values.base));
  for (const d of driven) await slice(d, WARMUP_OPS);
  for (let s = 0; s < slices; s++) {
    const order = s % 2 === 0 ? driven : [...driven].reverse();
    for (const d of order) d.slices.push(await slice(d, ops));
  }
  for (const d of driven) await d.venue.close();
  const line = JSON.stringify({
    bench: 'rest-path',
    node: process.version,
    opsPerSlice: ops,
    slices,
    concurrency: CONCURRENCY,
    builds: Object.fromEntries(
      driven.map((d) => [
        d.name,
        {
          dir: d.name === 'this' ? resolve('.') : resolve(values.base ?? '.'),
          mainThreadCpuUsPerOp: {
            min: round1(Math.min(...d.slices.map((x) => x.mainUs))),
            median: round1(median(d.slices.map((x) => x.mainUs))),
          },
          processCpuUsPerOp: { median: round1(median(d.slices.map((x) => x.processUs))) },
          slices: d.slices.map((x) => round1(x.mainUs)),
        },
      ]),
    ),
  });
  process.stderr.write(line + '\n');
  process.stdout.write(line + '\n');
}

await main();
