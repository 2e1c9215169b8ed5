/**
 * The query tables' projector: its main-thread cost per order, on PGlite (whose SQL runs on this thread) and
 * on PostgreSQL (over the network), and the share of it that is the projector's own work (the journal tail,
 * its core, the row mapping) with the SQL left out. Prints one JSON line per store.
 *
 *   npm run bench:projection -- [--orders N] [--batch COMMANDS] [--database-url URL]
 *
 * A journal of N limit orders from 200 funded accounts (about a third cross and trade; cancels keep about a
 * thousand resting) is written once through the engine's host; each pass projects it from the start into an empty
 * schema. The cost is the event loop's active time during the pass (ELU: JavaScript, PGlite's WebAssembly,
 * the pg driver's encoding), divided by the orders; waiting for PostgreSQL is not counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OrderType, SelfTradePrevention, Side, TimeInForce } from '../src/book/index.js';
import { AccountType, ExchangeCore, type Command } from '../src/core/index.js';
import { EngineHost } from '../src/engine/index.js';
import { JournalTail } from '../src/journal/index.js';
import { QueryTableProjector, RowMapper } from '../src/projection/index.js';
import { migrate, openPgliteStore, openPostgresStore, type Store } from '../src/store/index.js';
import { benchArgs, xorshift32 } from './common.js';

const { values } = benchArgs('projection', {
  options: {
    orders: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '4096' },
    /** Only the projector's own work (no store); keep the journal's directory and print it. */
    'no-sql': { type: 'boolean', default: false },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
  },
});
const ORDERS = Number(values.orders);
const BATCH = Number(values.batch);
const ACCOUNTS = 200;

function commands(): Command[] {
  const out: Command[] = [
    { kind: 'addAsset', timeUs: 0, asset: 0, code: 'USD', decimals: 2 },
    { kind: 'addAsset', timeUs: 0, asset: 1, code: 'BTC', decimals: 8 },
    {
      kind: 'defineInstrument',
      timeUs: 0,
      spec: {
        instrument: 1,
        symbol: 'BTC-USD',
        baseAsset: 1,
        quoteAsset: 0,
        makerFeePpm: -50,
        takerFeePpm: 200,
      },
    },
  ];
  for (let a = 1; a <= ACCOUNTS; a++) {
    out.push({ kind: 'createAccount', timeUs: 0, accountId: a, accountType: AccountType.Customer });
    out.push({ kind: 'deposit', timeUs: 0, accountId: a, asset: 0, amount: 1e12, ref: a });
    out.push({ kind: 'deposit', timeUs: 0, accountId: a, asset: 1, amount: 1e12, ref: a });
  }
  const rnd = xorshift32(42);
  const open: { id: number; account: number }[] = [];
  for (let id = 1; id <= ORDERS; id++) {
    const side = rnd() % 2 === 0 ? Side.Buy : Side.Sell;
    // Mostly resting near the middle, a third crossing it.
    const cross = rnd() % 3 === 0;
    const offset = 1 + (rnd() % 20);
    const price =
      side === Side.Buy
        ? cross
          ? 10_000 + offset
          : 10_000 - offset
        : cross
          ? 10_000 - offset
          : 10_000 + offset;
    const account = 1 + (rnd() % ACCOUNTS);
    out.push({
      kind: 'placeOrder',
      timeUs: 0,
      accountId: account,
      instrument: 1,
      orderId: id,
      side,
      type: OrderType.Limit,
      tif: TimeInForce.GTC,
      price,
      triggerPrice: 0,
      qty: 1 + (rnd() % 10),
      displayQty: 0,
      postOnly: false,
      stp: SelfTradePrevention.None,
      expireTimeUs: 0,
    });
    open.push({ id, account });
    // Cancels keep about a thousand orders resting (some of them filled already: refused cancels).
    if (open.length > 1000 || rnd() % 10 === 0) {
      const o = open.splice(rnd() % open.length, 1)[0];
      out.push({ kind: 'cancelOrder', timeUs: 0, accountId: o.account, instrument: 1, orderId: o.id });
    }
  }
  return out;
}

async function writeJournal(dir: string, list: Command[]): Promise<void> {
  let now = 1_767_225_600_000_000;
  const { host } = await EngineHost.open({ dir, snapshotEveryCommands: 0, snapshotEveryMs: 0 }, () => now++);
  for (let at = 0; at < list.length; at += 1000) await host.submit(list.slice(at, at + 1000)).durable;
  await host.close();
}

/** The event loop's active milliseconds while `work` runs, and the wall time. */
async function measured(work: () => Promise<void>): Promise<{ activeMs: number; wallMs: number }> {
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  await work();
  const d = performance.eventLoopUtilization(elu);
  return { activeMs: d.active, wallMs: performance.now() - t0 };
}

async function pass(name: string, dir: string, total: number, store: Store): Promise<void> {
  await migrate(store);
  const projector = new QueryTableProjector({
    dir,
    store,
    durableSeq: total,
    limits: { batchCommandsIdle: BATCH },
  });
  const m = await measured(() => projector.catchUp());
  const s = projector.stats();
  console.log(
    JSON.stringify({
      bench: 'projection',
      store: name,
      orders: ORDERS,
      commands: total,
      rows: s.rows,
      batches: s.batches,
      wallMs: Math.round(m.wallMs),
      mainThreadMs: Math.round(m.activeMs),
      mainThreadUsPerOrder: Number(((m.activeMs * 1000) / ORDERS).toFixed(2)),
      ordersPerSec: Math.round(ORDERS / (m.wallMs / 1000)),
    }),
  );
  await projector.close();
}

const dir = mkdtempSync(join(tmpdir(), 'rialto-bench-projection-'));
try {
  const list = commands();
  await writeJournal(dir, list);
  const total = list.length;
  // The projector's own work: tail, core, mapping, no SQL.
  {
    const core = new ExchangeCore();
    const mapper = new RowMapper(core);
    const tail = new JournalTail(dir);
    const m = await measured(async () => {
      while (tail.nextSeq <= total) {
        await tail.read(total, BATCH, (seq, timeUs, command) => {
          core.events.clear();
          core.execute(command);
          mapper.command(seq, timeUs, core.events.data, core.events.count);
        });
        mapper.finish();
      }
    });
    console.log(
      JSON.stringify({
        bench: 'projection',
        store: 'none (no SQL)',
        orders: ORDERS,
        commands: total,
        mainThreadMs: Math.round(m.activeMs),
        mainThreadUsPerOrder: Number(((m.activeMs * 1000) / ORDERS).toFixed(2)),
      }),
    );
  }
  if (values['no-sql']) {
    console.log(JSON.stringify({ journal: dir }));
    process.exit(0);
  }
  const pglite = await openPgliteStore({ dir: null, create: true });
  try {
    await pass('pglite', dir, total, pglite);
  } finally {
    await pglite.close();
  }
  const schema = `rialto_bench_projection_${process.pid}`;
  const url = values['database-url'];
  let admin: Store | null = null;
  try {
    admin = await openPostgresStore({ url, schema: null });
  } catch (e) {
    console.log(JSON.stringify({ bench: 'projection', store: 'postgres', skipped: String(e) }));
  }
  if (admin !== null) {
    await admin.exec(`CREATE SCHEMA ${schema}`);
    const pg = await openPostgresStore({ url, schema });
    try {
      await pass('postgres', dir, total, pg);
    } finally {
      await pg.close();
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
