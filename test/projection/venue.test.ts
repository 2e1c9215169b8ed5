/**
 * A scripted trading session against a venue in this process, with the query tables on: deposits, orders that
 * rest, fill, get amended, cancelled and refused, over HTTP. Then the tables, rendered with the gateway's own
 * presenters, must say what the REST API says (orders, trades and fills, balances, ledger entries, accounts,
 * instruments, and the audit trail's table); a restart must neither lose nor duplicate a row. Once against
 * the machine's PostgreSQL (a schema of its own, dropped after) and once against PGlite.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { AccountStatus, AccountType } from '../../src/core/index.js';
import {
  accountSummaryJson,
  AssetTable,
  balanceJson,
  entryJson,
} from '../../src/gateway/accounts/present.js';
import { fillJson, orderJson, tradeJson } from '../../src/gateway/http/present.js';
import type { Venue } from '../../src/gateway/index.js';
import type { EntryView } from '../../src/gateway/views/index.js';
import type { InstrumentConfig, VenueConfig } from '../../src/ops/index.js';
import { openPostgresStore, type Queryable, type Store } from '../../src/store/index.js';
import { call, openVenue, order, tempDir, testConfig, traders } from '../gateway/helpers.js';
import { TEST_DATABASE_URL } from '../store/helpers.js';
import { orderView, tradeView } from './table-views.js';

const n = (v: unknown): number => Number(v);
const TABLES = [
  'assets',
  'instruments',
  'accounts',
  'orders',
  'trades',
  'ledger_entries',
  'ledger_postings',
  'ledger_accounts',
  'balances',
  'projection_checkpoints',
] as const;
const KEYS: Record<(typeof TABLES)[number], string> = {
  assets: 'asset',
  instruments: 'instrument',
  accounts: 'account_id',
  orders: 'order_id',
  trades: 'instrument, trade_id',
  ledger_entries: 'entry_id',
  ledger_postings: 'entry_id, line',
  ledger_accounts: 'ledger_account',
  balances: 'account_id, asset',
  projection_checkpoints: 'projector',
};

/** Every row of every query table as text, in key order (updated_at aside: it is the commit's clock). */
async function dump(db: Queryable): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of TABLES) {
    const cols = t === 'projection_checkpoints' ? 'projector, last_seq' : '*';
    const rows = await db.query(`SELECT ${cols} FROM ${t} ORDER BY ${KEYS[t]}`);
    out[t] = rows.map((r) =>
      JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    );
  }
  return out;
}

function instrumentOf(config: VenueConfig, id: number): InstrumentConfig {
  const i = config.instruments.find((x) => x.spec.instrument === id);
  assert.ok(i !== undefined, `instrument ${id}`);
  return i;
}

/** The session: two traders, a fill, a partial fill, an amend, a cancel, a refused order, a withdrawal. */
async function tradeSession(venue: Venue, admin: string): Promise<{ t1: string; t2: string }> {
  const { t1, t2 } = await traders(venue, admin);
  const post = async (key: string, fields: Record<string, unknown>): Promise<string> => {
    const r = await call(venue, 'POST', '/api/v1/orders', key, order(fields));
    assert.ok(r.status === 201, JSON.stringify(r.body));
    return String(r.body.order_id);
  };
  const bid = await post(t1, { side: 'buy', quantity: '0.5', price: '40000', client_order_id: 'bid-1' });
  await post(t2, { side: 'sell', quantity: '0.2', price: '40000' });
  const amended = await call(venue, 'PATCH', `/api/v1/orders/${bid}`, t1, {
    price: '40100',
    quantity: '0.6',
  });
  assert.equal(amended.status, 200, JSON.stringify(amended.body));
  const ask = await post(t2, { side: 'sell', quantity: '1', price: '41000' });
  const cancelled = await call(venue, 'DELETE', `/api/v1/orders/${ask}`, t2);
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  await post(t2, { side: 'sell', quantity: '0.4', order_type: 'market' });
  // More than account 1 holds: refused by the risk gate, a rejected order.
  const refused = await call(
    venue,
    'POST',
    '/api/v1/orders',
    t1,
    order({ side: 'buy', quantity: '90', price: '40000' }),
  );
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  await post(t1, { side: 'buy', quantity: '0.1', price: '39000' });
  return { t1, t2 };
}

/** The tables against the REST API, through the gateway's own presenters. */
async function checkAgainstRest(venue: Venue, admin: string, db: Queryable): Promise<void> {
  const config = venue.config;
  const projector = venue.queryTables;
  assert.ok(projector !== null);
  await projector.catchUp();
  // The audit trail's table holds the file (checked first: the reads below are audited too).
  await venue.audit.flush();
  await venue.auditTable.catchUp();
  const [audit] = await db.query(
    'SELECT count(*)::int AS n, coalesce(max(seq), 0)::int8 AS head FROM audit_events',
  );
  assert.equal(n(audit.head), venue.auditFile.head.seq);
  assert.equal(n(audit.n), venue.auditFile.head.seq);
  const [cp] = await db.query("SELECT last_seq FROM projection_checkpoints WHERE projector = 'query_tables'");
  assert.equal(n(cp.last_seq), venue.views.venue.lastSeq);

  // Orders: each row, shown as the API shows it, is the API's answer.
  const orders = await db.query('SELECT * FROM orders ORDER BY order_id');
  assert.ok(orders.length >= 6, `orders: ${orders.length}`);
  const statuses = new Set(orders.map((r) => String(r.status)));
  for (const s of ['filled', 'cancelled', 'rejected', 'pending']) assert.ok(statuses.has(s), `an order ${s}`);
  for (const r of orders) {
    const v = orderView(r);
    const rest = await call(venue, 'GET', `/api/v1/orders/${v.orderId}`, admin);
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    const clientId = rest.body.client_order_id as string | null;
    assert.deepEqual(orderJson(v, instrumentOf(config, v.instrument), clientId), rest.body);
  }
  // Trades and fills.
  const trades = await db.query('SELECT * FROM trades ORDER BY trade_id DESC');
  assert.ok(trades.length >= 2, `trades: ${trades.length}`);
  const restTrades = await call(venue, 'GET', '/api/v1/trades/BTC-USDT?limit=100', admin);
  const inst = instrumentOf(config, n(trades[0].instrument));
  assert.deepEqual(
    trades.map((r) => tradeJson(tradeView(r), inst)),
    restTrades.body.trades,
  );
  const restFills = await call(venue, 'GET', '/api/v1/fills?limit=100', admin);
  const fills = trades.flatMap((r) => [
    fillJson(tradeView(r), inst, 'taker'),
    fillJson(tradeView(r), inst, 'maker'),
  ]);
  const key = (f: { trade_id: string; liquidity: string }): string => `${f.trade_id}/${f.liquidity}`;
  assert.deepEqual(
    new Map(fills.map((f) => [key(f), f])),
    new Map((restFills.body.fills as { trade_id: string; liquidity: string }[]).map((f) => [key(f), f])),
  );
  // Accounts, balances and ledger entries.
  const assets = new AssetTable(
    config.assets.map((a) => ({ asset: a.id, code: a.code, decimals: a.decimals })),
  );
  const accounts = await db.query(
    `SELECT a.*, (SELECT count(*) FROM orders o WHERE o.account_id = a.account_id
                   AND o.status IN ('pending', 'partially_filled'))::int AS open_orders
       FROM accounts a ORDER BY account_id`,
  );
  const restAccounts = await call(venue, 'GET', '/api/v1/accounts?limit=100', admin);
  assert.deepEqual(
    accounts.map((r) =>
      accountSummaryJson({
        accountId: n(r.account_id),
        type: n(r.type) as AccountType,
        status: n(r.status) as AccountStatus,
        killSwitch: r.kill_switch === true,
        openOrders: n(r.open_orders),
      }),
    ),
    restAccounts.body.accounts,
  );
  const symbolOf = (id: number): string | null =>
    config.instruments.find((i) => i.spec.instrument === id)?.spec.symbol ?? null;
  for (const r of accounts) {
    const id = n(r.account_id);
    const balances = await db.query('SELECT * FROM balances WHERE account_id = $1 ORDER BY asset', [id]);
    const restBalances = await call(venue, 'GET', `/api/v1/accounts/${id}/balances`, admin);
    assert.deepEqual(
      balances.map((b) =>
        balanceJson(
          {
            asset: n(b.asset),
            available: n(b.available),
            held: n(b.held),
            ledgerAvailable: 0,
            ledgerHeld: 0,
          },
          assets,
        ),
      ),
      restBalances.body.balances,
    );
    const mine = await db.query('SELECT * FROM ledger_accounts WHERE account_id = $1', [id]);
    const ledgerAccounts = new Map(
      mine.map((l) => [n(l.ledger_account), { asset: n(l.asset), held: n(l.kind) === 6 }]),
    );
    const entries = await db.query(
      `SELECT e.*, array_agg(p.ledger_account ORDER BY p.line) AS accounts, array_agg(p.amount ORDER BY p.line) AS amounts
         FROM ledger_entries e JOIN ledger_postings p USING (entry_id)
        WHERE e.entry_id IN (SELECT entry_id FROM ledger_postings WHERE ledger_account = ANY($1::int4[]))
        GROUP BY e.entry_id ORDER BY e.entry_id DESC`,
      [[...ledgerAccounts.keys()]],
    );
    const page = { ledgerAccounts, entries: [], assets: [] };
    const views: EntryView[] = entries.map((e) => ({
      entryId: n(e.entry_id),
      timeUs: n(e.time_us),
      kind: n(e.kind),
      ref: n(e.ref),
      ref2: n(e.ref2),
      tradeId: n(e.trade_id),
      instrument: n(e.instrument),
      lines: (e.accounts as number[]).map((a, k) => ({
        ledgerAccount: n(a),
        amount: n((e.amounts as bigint[])[k]),
      })),
    }));
    const restEntries = await call(venue, 'GET', `/api/v1/accounts/${id}/entries?limit=1000`, admin);
    assert.deepEqual(
      views.map((e) => entryJson(e, page, assets, symbolOf)),
      restEntries.body.entries,
    );
  }
  // The ledger balances per asset (double entry), and the customers' rows equal their balances.
  const sums = await db.query('SELECT asset, sum(balance)::text AS s FROM ledger_accounts GROUP BY asset');
  for (const s of sums) assert.equal(s.s, '0', `asset ${String(s.asset)} sums to zero`);
  // Instruments and assets: the configuration's, as the core holds them.
  const instruments = await db.query('SELECT * FROM instruments ORDER BY instrument');
  const venueReport = await venue.engine.venueReport();
  assert.deepEqual(
    instruments.map((r) => [
      n(r.instrument),
      r.symbol,
      n(r.base_asset),
      n(r.quote_asset),
      n(r.tick_size),
      n(r.lot_size),
      n(r.base_scale),
      n(r.quote_scale),
      n(r.maker_fee_ppm),
      n(r.taker_fee_ppm),
      r.halted,
    ]),
    config.instruments.map((i) => [
      i.spec.instrument,
      i.spec.symbol,
      i.spec.baseAsset,
      i.spec.quoteAsset,
      i.spec.tickSize,
      i.spec.lotSize,
      i.spec.baseScale,
      i.spec.quoteScale,
      i.spec.makerFeePpm,
      i.spec.takerFeePpm,
      venueReport.instruments.find((x) => x.instrument === i.spec.instrument)?.halted,
    ]),
  );
  const assetRows = await db.query('SELECT asset, code, decimals FROM assets ORDER BY asset');
  assert.deepEqual(
    assetRows.map((r) => [n(r.asset), r.code, n(r.decimals)]),
    config.assets.map((a) => [a.id, a.code, a.decimals]),
  );
  // /metrics shows the projection.
  const metrics = await venue.server.inject({ method: 'GET', url: '/metrics' });
  assert.match(metrics.body, /rialto_projection_backlog\{projection="query_tables"\} 0/);
  assert.match(metrics.body, /rialto_projection_rows_total\{projection="query_tables"\} [0-9]+/);
}

/** The session, the checks, a restart (nothing written twice), more trading, the checks again. */
async function sessionAndRestart(config: VenueConfig, reader: (venue: Venue) => Queryable): Promise<void> {
  let venue = await openVenue(config, false);
  const admin = venue.adminKey;
  assert.ok(admin !== null);
  try {
    const { t1, t2 } = await tradeSession(venue, admin);
    await checkAgainstRest(venue, admin, reader(venue));
    assert.ok((venue.queryTables?.stats().rows ?? 0) > 0);
    const before = await dump(reader(venue));
    await venue.close();
    // A restart: the projector finds its checkpoint, rebuilds its core and writes nothing twice.
    venue = await openVenue(config, false);
    await checkAgainstRest(venue, admin, reader(venue));
    assert.deepEqual(await dump(reader(venue)), before);
    assert.equal(venue.queryTables?.stats().batches, 0, 'the restart had nothing to write');
    // Trading after the restart goes on from the checkpoint.
    for (const [key, side] of [
      [t1, 'buy'],
      [t2, 'sell'],
    ] as const) {
      const r = await call(
        venue,
        'POST',
        '/api/v1/orders',
        key,
        order({ side, quantity: '0.3', price: '39800' }),
      );
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    await checkAgainstRest(venue, admin, reader(venue));
    assert.ok((await dump(reader(venue))).trades.length > before.trades.length);
  } finally {
    await venue.close();
  }
}

describe('query tables: a scripted session on PostgreSQL', () => {
  const schema = `rialto_proj_${process.pid}`;
  const url = `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  let other: Store | null = null;

  before(async () => {
    const db = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await db.close();
    other = await openPostgresStore({ url: TEST_DATABASE_URL, schema });
  });
  after(async () => {
    await other?.close();
    const db = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });

  it('projects orders, trades, balances, entries, accounts and instruments as the API shows them, once', async () => {
    const config = testConfig(tempDir(), { DATABASE_URL: url });
    assert.equal(config.queryTables.enabled, true, 'on by default for PostgreSQL');
    // Read over a connection of its own, as an operator's tool would.
    await sessionAndRestart(config, () => other as Store);
  });
});

describe('query tables: a scripted session on PGlite', () => {
  it('is off by default on PGlite', async () => {
    const config = testConfig(tempDir());
    assert.equal(config.queryTables.enabled, false);
    const venue = await openVenue(config, false);
    try {
      assert.equal(venue.queryTables, null);
    } finally {
      await venue.close();
    }
  });

  it('projects the same tables when turned on', async () => {
    const config = testConfig(tempDir(), { RIALTO_QUERY_TABLES: 'true' });
    // PGlite is the venue's own (one process): the checks read through the venue's store.
    await sessionAndRestart(config, (venue) => venue.store);
  });
});
