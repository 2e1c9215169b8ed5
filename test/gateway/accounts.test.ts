/**
 * The account, risk and statement routes end to end on a venue in this process: balances through a deposit,
 * a resting order (held), its fill (settled, fees) and a cancel (released); positions and the entry history
 * of the fill; the statements after it; who may read and change what; halts, kill switches and their reset
 * by a risk officer's account, risk limits and suspension with the reject codes orders then get; bad input,
 * given and fuzzed (never a 5xx); and the history, balances and controls after a restart.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createKey, type Venue } from '../../src/gateway/index.js';
import { call, openVenue, order, tempDir, testConfig, traders, type Answer } from './helpers.js';

type Json = Record<string, unknown>;
const rows = (a: Answer, field: string): Json[] => a.body[field] as Json[];
const code = (a: Answer): string => (a.body.error as { code: string }).code;
const balanceOf = (a: Answer, asset: string): Json | undefined =>
  rows(a, 'balances').find((b) => b.asset === asset);

describe('account, risk and statement routes', () => {
  const config = testConfig(tempDir());
  let venue: Venue;
  let admin: string;
  let t1: string;
  let t2: string;
  let viewer: string;
  let risk: string;

  before(async () => {
    venue = await openVenue(config, false);
    assert.ok(venue.adminKey !== null);
    admin = venue.adminKey;
    ({ t1, t2 } = await traders(venue, admin));
    viewer = (await createKey(venue.store, { role: 'viewer', accountIds: [] })).token;
    risk = (await createKey(venue.store, { role: 'risk', accountIds: [] })).token;
  });
  after(async () => {
    await venue.close();
  });

  const place = (key: string, fields: Json): Promise<Answer> =>
    call(venue, 'POST', '/api/v1/orders', key, order(fields));

  it('shows balances after a deposit, a hold, a fill with fees and a release', async () => {
    const start = await call(venue, 'GET', '/api/v1/accounts/1/balances', t1);
    assert.equal(start.status, 200, JSON.stringify(start.body));
    assert.deepEqual(balanceOf(start, 'USDT'), {
      asset: 'USDT',
      available: '1000000.000000',
      held: '0.000000',
      total: '1000000.000000',
    });
    assert.deepEqual(balanceOf(start, 'BTC'), {
      asset: 'BTC',
      available: '100.00000000',
      held: '0.00000000',
      total: '100.00000000',
    });
    // 0.5 BTC at 60,000 holds the value and the largest taker fee (0.05%): 30,015 USDT.
    const buy = await place(t1, { side: 'buy', quantity: '0.5', price: '60000' });
    assert.equal(buy.status, 201, JSON.stringify(buy.body));
    const held = await call(venue, 'GET', '/api/v1/accounts/1/balances', t1);
    assert.deepEqual(balanceOf(held, 'USDT'), {
      asset: 'USDT',
      available: '969985.000000',
      held: '30015.000000',
      total: '1000000.000000',
    });
    // The seller takes: it pays 0.05% (15 USDT), the resting buyer 0.01% (3 USDT).
    const sell = await place(t2, { side: 'sell', quantity: '0.5', price: '60000' });
    assert.equal(sell.body.status, 'filled', JSON.stringify(sell.body));
    const b1 = await call(venue, 'GET', '/api/v1/accounts/1/balances', t1);
    assert.deepEqual(balanceOf(b1, 'USDT'), {
      asset: 'USDT',
      available: '969997.000000',
      held: '0.000000',
      total: '969997.000000',
    });
    assert.equal(balanceOf(b1, 'BTC')?.total, '100.50000000');
    const b2 = await call(venue, 'GET', '/api/v1/accounts/2/balances', t2);
    assert.equal(balanceOf(b2, 'USDT')?.total, '1029985.000000');
    assert.equal(balanceOf(b2, 'BTC')?.total, '99.50000000');

    const positions = await call(venue, 'GET', '/api/v1/accounts/1/positions', t1);
    assert.equal(positions.status, 200, JSON.stringify(positions.body));
    assert.deepEqual(rows(positions, 'positions'), [
      {
        symbol: 'BTC-USDT',
        quantity: '0.5000',
        side: 'long',
        average_price: '60000.00',
        cost: '30000.000000',
        mark_price: '60000.00',
        realized_pnl: '0.000000',
        unrealized_pnl: '0.000000',
        fees: '3.000000',
        currency: 'USDT',
        open_buy_quantity: '0.0000',
        open_sell_quantity: '0.0000',
      },
    ]);
    const short = rows(await call(venue, 'GET', '/api/v1/accounts/2/positions', t2), 'positions');
    assert.deepEqual([short[0].quantity, short[0].side, short[0].fees], ['-0.5000', 'short', '15.000000']);

    const entries = await call(venue, 'GET', '/api/v1/accounts/1/entries', t1);
    assert.equal(entries.status, 200, JSON.stringify(entries.body));
    const list = rows(entries, 'entries');
    assert.deepEqual(
      list.map((e) => e.kind),
      ['settlement', 'hold', 'deposit', 'deposit'],
    );
    const [trade] = rows(await call(venue, 'GET', '/api/v1/trades/BTC-USDT', null), 'trades');
    assert.deepEqual(list[0], {
      entry_id: list[0].entry_id,
      time: list[0].time,
      kind: 'settlement',
      changes: [
        { asset: 'USDT', available: '12.000000', held: '-30015.000000' },
        { asset: 'BTC', available: '0.50000000', held: '0.00000000' },
      ],
      order_id: null,
      trade_id: trade.trade_id,
      symbol: 'BTC-USDT',
      buy_order_id: buy.body.order_id,
      sell_order_id: sell.body.order_id,
      reference: null,
    });
    assert.equal(list[1].order_id, buy.body.order_id);
    assert.deepEqual(list[1].changes, [{ asset: 'USDT', available: '-30015.000000', held: '30015.000000' }]);
    assert.equal(entries.body.next_before, null);
    const page = await call(venue, 'GET', '/api/v1/accounts/1/entries?limit=2&asset=USDT', t1);
    assert.deepEqual(
      rows(page, 'entries').map((e) => e.kind),
      ['settlement', 'hold'],
    );
    assert.equal(page.body.next_before, list[1].entry_id);
    const next = await call(
      venue,
      'GET',
      `/api/v1/accounts/1/entries?asset=USDT&before=${String(page.body.next_before)}`,
      t1,
    );
    assert.deepEqual(
      rows(next, 'entries').map((e) => [e.kind, e.changes]),
      [['deposit', [{ asset: 'USDT', available: '1000000.000000', held: '0.000000' }]]],
    );

    // A cancel releases the whole hold.
    const resting = await place(t1, { side: 'buy', quantity: '0.1', price: '50000' });
    const during = await call(venue, 'GET', '/api/v1/accounts/1/balances', t1);
    assert.equal(balanceOf(during, 'USDT')?.held, '5002.500000');
    const cancelled = await call(venue, 'DELETE', `/api/v1/orders/${String(resting.body.order_id)}`, t1);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    const released = await call(venue, 'GET', '/api/v1/accounts/1/balances', t1);
    assert.deepEqual(balanceOf(released, 'USDT'), balanceOf(b1, 'USDT'));
    const latest = rows(await call(venue, 'GET', '/api/v1/accounts/1/entries?limit=1', t1), 'entries');
    assert.deepEqual([latest[0].kind, latest[0].order_id], ['release', resting.body.order_id]);
  });

  it('answers statements that balance and show the fees', async () => {
    const tb = await call(venue, 'GET', '/api/v1/admin/statements/trial-balance', risk);
    assert.equal(tb.status, 200, JSON.stringify(tb.body));
    const assets = rows(tb, 'assets');
    assert.deepEqual(
      assets.map((a) => a.asset),
      ['USDT', 'BTC', 'ETH'],
    );
    for (const a of assets) {
      assert.equal(a.balanced, true);
      assert.equal(a.total_debit, a.total_credit, `${String(a.asset)} sums to zero`);
    }
    const usdt = assets[0].accounts as Json[];
    assert.deepEqual(
      usdt.find((r) => r.account === 'fee-income'),
      {
        account: 'fee-income',
        debit: '0.000000',
        credit: '18.000000',
      },
    );
    const bs = await call(venue, 'GET', '/api/v1/admin/statements/balance-sheet', admin);
    assert.deepEqual(rows(bs, 'assets')[0], {
      asset: 'USDT',
      assets: { custody: '2000000.000000', clearing: '0.000000', total: '2000000.000000' },
      liabilities: {
        customers_available: '1999982.000000',
        customers_held: '0.000000',
        total: '1999982.000000',
      },
      equity: { retained_earnings: '18.000000', total: '18.000000' },
      balanced: true,
    });
    const is = await call(venue, 'GET', '/api/v1/admin/statements/income-statement', risk);
    assert.deepEqual(rows(is, 'assets')[0], {
      asset: 'USDT',
      fee_income: '18.000000',
      rebate_expense: '0.000000',
      net_income: '18.000000',
    });
    assert.equal(rows(is, 'assets')[1].fee_income, '0.00000000');
  });

  it('lets a trader read only its own accounts, a viewer read any and change nothing', async () => {
    const own = await call(venue, 'GET', '/api/v1/accounts', t1);
    assert.deepEqual(own.body, {
      accounts: [{ account_id: 1, type: 'customer', status: 'active', kill_switch: false, open_orders: 0 }],
      total: 1,
    });
    for (const path of ['', '/balances', '/positions', '/entries']) {
      const other = await call(venue, 'GET', `/api/v1/accounts/2${path}`, t1);
      assert.equal(other.status, 403, path);
      assert.equal(code(other), 'FORBIDDEN');
      // An account that does not exist looks the same to a trader.
      const missing = await call(venue, 'GET', `/api/v1/accounts/999${path}`, t1);
      assert.deepEqual([missing.status, code(missing)], [403, 'FORBIDDEN']);
      const seen = await call(venue, 'GET', `/api/v1/accounts/2${path}`, viewer);
      assert.equal(seen.status, 200, path);
    }
    const all = await call(venue, 'GET', '/api/v1/accounts?limit=1&after_id=1', viewer);
    assert.deepEqual([rows(all, 'accounts').map((a) => a.account_id), all.body.total], [[2], 2]);
    const unknown = await call(venue, 'GET', '/api/v1/accounts/999/balances', admin);
    assert.deepEqual([unknown.status, code(unknown)], [404, 'ACCOUNT_NOT_FOUND']);
    for (const key of [viewer, t1]) {
      const changes: ['POST' | 'PATCH', string, Json][] = [
        ['POST', '/api/v1/admin/instruments/BTC-USDT/halt', {}],
        ['POST', '/api/v1/admin/kill-switch', { account_id: 1 }],
        ['POST', '/api/v1/admin/kill-switch/reset', { account_id: 1, officer_account_id: 1 }],
        ['PATCH', '/api/v1/admin/accounts/1/risk-limits', { open_orders_max: 1 }],
        ['POST', '/api/v1/admin/accounts/1/suspend', {}],
        ['POST', '/api/v1/admin/risk-officers', { account_id: 60 }],
      ];
      for (const [method, path, body] of changes) {
        const refused = await call(venue, method, path, key, body);
        assert.deepEqual([refused.status, code(refused)], [403, 'FORBIDDEN'], path);
      }
      const statements = await call(venue, 'GET', '/api/v1/admin/statements/trial-balance', key);
      assert.equal(statements.status, 403);
    }
    const noKey = await call(venue, 'GET', '/api/v1/accounts/1/balances', null);
    assert.equal(noKey.status, 401);
  });

  it('halts and resumes an instrument', async () => {
    const halted = await call(venue, 'POST', '/api/v1/admin/instruments/BTC-USDT/halt', risk, {});
    assert.deepEqual(halted.body, { symbol: 'BTC-USDT', status: 'halted' });
    const list = await call(venue, 'GET', '/api/v1/admin/instruments', risk);
    assert.deepEqual(list.body, {
      venue_kill_switch: false,
      instruments: [
        { symbol: 'BTC-USDT', base: 'BTC', quote: 'USDT', status: 'halted' },
        { symbol: 'ETH-USDT', base: 'ETH', quote: 'USDT', status: 'trading' },
      ],
    });
    const refused = await place(t1, { side: 'buy', quantity: '0.1', price: '100' });
    assert.deepEqual([refused.status, code(refused)], [409, 'TRADING_HALTED']);
    const resumed = await call(venue, 'POST', '/api/v1/admin/instruments/BTC-USDT/resume', admin, {});
    assert.equal(resumed.body.status, 'trading');
    const placed = await place(t1, { side: 'buy', quantity: '0.1', price: '100' });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    await call(venue, 'DELETE', `/api/v1/orders/${String(placed.body.order_id)}`, t1);
  });

  it('kills an account (cancelling its orders) and the venue; a risk officer account resets them', async () => {
    const resting = await place(t1, { side: 'buy', quantity: '0.1', price: '100' });
    const killed = await call(venue, 'POST', '/api/v1/admin/kill-switch', risk, { account_id: 1 });
    assert.deepEqual(killed.body, { account_id: 1, kill_switch: true, orders_cancelled: 1 });
    const gone = await call(venue, 'GET', `/api/v1/orders/${String(resting.body.order_id)}`, t1);
    assert.equal(gone.body.status, 'cancelled');
    const summary = await call(venue, 'GET', '/api/v1/accounts/1', t1);
    assert.equal(summary.body.kill_switch, true);
    const refused = await place(t1, { side: 'buy', quantity: '0.1', price: '100' });
    assert.deepEqual([refused.status, code(refused)], [403, 'KILL_SWITCH_ACTIVE']);
    // Only a risk officer's account may reset it.
    const notOfficer = await call(venue, 'POST', '/api/v1/admin/kill-switch/reset', risk, {
      account_id: 1,
      officer_account_id: 2,
    });
    assert.deepEqual([notOfficer.status, code(notOfficer)], [422, 'NOT_RISK_OFFICER']);
    const officer = await call(venue, 'POST', '/api/v1/admin/risk-officers', admin, { account_id: 50 });
    assert.equal(officer.status, 201, JSON.stringify(officer.body));
    const reset = await call(venue, 'POST', '/api/v1/admin/kill-switch/reset', risk, {
      account_id: 1,
      officer_account_id: 50,
    });
    assert.deepEqual(reset.body, { account_id: 1, kill_switch: false });
    const again = await call(venue, 'POST', '/api/v1/admin/kill-switch/reset', risk, {
      account_id: 1,
      officer_account_id: 50,
    });
    assert.deepEqual([again.status, code(again)], [409, 'KILL_SWITCH_NOT_SET']);
    const placed = await place(t1, { side: 'buy', quantity: '0.1', price: '100' });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));

    const venueKill = await call(venue, 'POST', '/api/v1/admin/kill-switch', admin, {});
    assert.deepEqual(venueKill.body, { account_id: null, kill_switch: true, orders_cancelled: 1 });
    assert.equal((await call(venue, 'GET', '/api/v1/admin/instruments', risk)).body.venue_kill_switch, true);
    const blocked = await place(t2, { side: 'sell', quantity: '0.1', price: '90000' });
    assert.deepEqual([blocked.status, code(blocked)], [403, 'KILL_SWITCH_ACTIVE']);
    const venueReset = await call(venue, 'POST', '/api/v1/admin/kill-switch/reset', risk, {
      officer_account_id: 50,
    });
    assert.deepEqual(venueReset.body, { account_id: null, kill_switch: false });
    assert.equal((await call(venue, 'GET', '/api/v1/admin/instruments', risk)).body.venue_kill_switch, false);
  });

  it('sets risk limits, then rejects an order over them', async () => {
    const set = await call(venue, 'PATCH', '/api/v1/admin/accounts/1/risk-limits', risk, {
      order_quantity_max_lots: 10,
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.order_quantity_max_lots, 10);
    assert.equal(set.body.open_orders_max, 0);
    const got = await call(venue, 'GET', '/api/v1/admin/accounts/1/risk-limits', admin);
    assert.deepEqual(got.body, set.body);
    assert.deepEqual((await call(venue, 'GET', '/api/v1/accounts/1', t1)).body.risk_limits, set.body);
    const over = await place(t1, { side: 'buy', quantity: '0.0011', price: '100' });
    assert.deepEqual([over.status, code(over)], [422, 'RISK_LIMIT_EXCEEDED']);
    assert.equal((over.body.error as { details: Json }).details.reason, 'OrderQuantityAboveLimit');
    const within = await place(t1, { side: 'buy', quantity: '0.001', price: '100' });
    assert.equal(within.status, 201, JSON.stringify(within.body));
    const off = await call(venue, 'PATCH', '/api/v1/admin/accounts/1/risk-limits', admin, {
      order_quantity_max_lots: 0,
    });
    assert.equal(off.body.order_quantity_max_lots, 0);
  });

  it('suspends and reactivates an account', async () => {
    const suspended = await call(venue, 'POST', '/api/v1/admin/accounts/2/suspend', risk, {});
    assert.deepEqual(suspended.body, {
      account_id: 2,
      type: 'customer',
      status: 'suspended',
      kill_switch: false,
      open_orders: 0,
    });
    const refused = await place(t2, { side: 'sell', quantity: '0.1', price: '90000' });
    assert.deepEqual([refused.status, code(refused)], [403, 'ACCOUNT_SUSPENDED']);
    const active = await call(venue, 'POST', '/api/v1/admin/accounts/2/reactivate', admin, {});
    assert.equal(active.body.status, 'active');
    const placed = await place(t2, { side: 'sell', quantity: '0.1', price: '90000' });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
  });

  it('refuses bad input with a 4xx and a stable code', async () => {
    const cases: ['GET' | 'POST' | 'PATCH', string, Json | undefined, number, string][] = [
      ['GET', '/api/v1/accounts/abc/balances', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/v1/accounts/0', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/v1/accounts/-1/positions', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/v1/accounts/2000000/balances', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/v1/accounts/1/entries?limit=0', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/v1/accounts/1/entries?limit=5000', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/v1/accounts/1/entries?before=-1', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/v1/accounts/1/entries?before=1.5', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/v1/accounts/1/entries?asset=DOGE', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/v1/accounts/1/entries?colour=red', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/api/v1/accounts?limit=1001', undefined, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/v1/admin/instruments/DOGE-USDT/halt', {}, 400, 'INVALID_SYMBOL'],
      ['POST', '/api/v1/admin/kill-switch', { account_id: 999 }, 404, 'ACCOUNT_NOT_FOUND'],
      ['POST', '/api/v1/admin/kill-switch', { account_id: '1' }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/v1/admin/kill-switch', { account_id: 1.5 }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/v1/admin/kill-switch', { account_id: 1, all: true }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/v1/admin/kill-switch/reset', { account_id: 1 }, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/api/v1/admin/accounts/1/risk-limits', {}, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/api/v1/admin/accounts/1/risk-limits', { open_orders_max: -1 }, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/api/v1/admin/accounts/1/risk-limits', { open_orders_max: '5' }, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/api/v1/admin/accounts/1/risk-limits', { open_orders_max: 0.5 }, 400, 'VALIDATION_ERROR'],
      [
        'PATCH',
        '/api/v1/admin/accounts/1/risk-limits',
        { open_orders_max: 2 ** 60 },
        400,
        'VALIDATION_ERROR',
      ],
      [
        'PATCH',
        '/api/v1/admin/accounts/1/risk-limits',
        { position_equity_ppm: 2_000_000_000 },
        400,
        'VALIDATION_ERROR',
      ],
      ['PATCH', '/api/v1/admin/accounts/1/risk-limits', { max_leverage: 3 }, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/api/v1/admin/accounts/999/risk-limits', { open_orders_max: 5 }, 404, 'ACCOUNT_NOT_FOUND'],
      ['POST', '/api/v1/admin/accounts/999/suspend', {}, 404, 'ACCOUNT_NOT_FOUND'],
      ['POST', '/api/v1/admin/risk-officers', { account_id: 1 }, 409, 'ACCOUNT_EXISTS'],
      ['POST', '/api/v1/admin/risk-officers', { account_id: 0 }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/v1/admin/instruments/BTC-USDT/halt', { reason: 'x' }, 400, 'VALIDATION_ERROR'],
      ['POST', '/api/v1/admin/accounts/1/suspend', { now: true }, 400, 'VALIDATION_ERROR'],
    ];
    for (const [method, path, body, status, expected] of cases) {
      const a = await call(venue, method, path, admin, body);
      assert.deepEqual([a.status, code(a)], [status, expected], `${method} ${path} ${JSON.stringify(body)}`);
    }
    // Nothing above changed the limits.
    const limits = await call(venue, 'GET', '/api/v1/admin/accounts/1/risk-limits', admin);
    assert.ok(Object.values(limits.body).every((v) => v === 0));
    const instruments = await call(venue, 'GET', '/api/v1/admin/instruments', admin);
    assert.ok(rows(instruments, 'instruments').every((i) => i.status === 'trading'));
    const account = await call(venue, 'GET', '/api/v1/accounts/1', admin);
    assert.equal(account.body.status, 'active');
    // A POST without a body is the same as an empty one.
    const bare = await venue.server.inject({
      method: 'POST',
      url: '/api/v1/admin/instruments/ETH-USDT/resume',
      headers: { 'x-api-key': admin },
    });
    assert.equal(bare.statusCode, 200, bare.body);
  });

  it('never answers a fuzzed request to these routes with a 5xx, and keeps serving', async () => {
    const junk = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(2 ** 53),
      fc.constant(-1),
      fc.constant('9'.repeat(40)),
      fc.array(fc.integer(), { maxLength: 3 }),
    );
    const fields = fc.constantFrom(
      'account_id',
      'officer_account_id',
      'order_quantity_max_lots',
      'open_orders_max',
      'position_equity_ppm',
      'daily_loss_max_minor',
      'unknown',
    );
    const paths = fc.oneof(
      fc.constantFrom(
        '/api/v1/accounts',
        '/api/v1/accounts/1',
        '/api/v1/accounts/999/balances',
        '/api/v1/accounts/1/positions',
        '/api/v1/accounts/1/entries?limit=3&before=99',
        '/api/v1/admin/instruments',
        '/api/v1/admin/instruments/BTC-USDT/halt',
        '/api/v1/admin/instruments/ETH-USDT/resume',
        '/api/v1/admin/kill-switch',
        '/api/v1/admin/kill-switch/reset',
        '/api/v1/admin/accounts/1/risk-limits',
        '/api/v1/admin/accounts/2/suspend',
        '/api/v1/admin/accounts/2/reactivate',
        '/api/v1/admin/risk-officers',
        '/api/v1/admin/statements/trial-balance',
      ),
      fc
        .tuple(fc.constantFrom('/api/v1/accounts/', '/api/v1/admin/accounts/'), fc.string({ maxLength: 12 }))
        .map(([p, s]) => p + encodeURIComponent(s) + '/balances'),
      fc.string({ maxLength: 20 }).map((s) => '/api/v1/accounts/1/entries?' + encodeURIComponent(s)),
    );
    const request = fc.record({
      method: fc.constantFrom<'GET' | 'POST' | 'PATCH' | 'DELETE'>('GET', 'POST', 'PATCH', 'DELETE'),
      path: paths,
      key: fc.constantFrom(admin, risk, viewer, t1),
      payload: fc.oneof(
        fc.dictionary(fields, junk, { maxKeys: 4 }).map((b) => JSON.stringify(b)),
        fc.constantFrom('{', '[]', 'null', '"x"', '{"account_id":1,}'),
        fc.constant(undefined),
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { 'x-api-key': r.key };
        if (r.payload !== undefined) headers['content-type'] = 'application/json';
        const res = await venue.server.inject({ method: r.method, url: r.path, headers, payload: r.payload });
        if (res.statusCode >= 500) assert.fail(`${r.method} ${r.path} ${String(r.payload)}: ${res.body}`);
        if (res.statusCode >= 400) {
          assert.equal(typeof res.json<{ error?: { code?: unknown } }>().error?.code, 'string', res.body);
        }
      }),
      { numRuns: 300, seed: 11 },
    );
    const tb = await call(venue, 'GET', '/api/v1/admin/statements/trial-balance', admin);
    assert.ok(rows(tb, 'assets').every((a) => a.balanced === true));
  });

  it('keeps the entry history, balances and controls across a restart', async () => {
    const entries = await call(venue, 'GET', '/api/v1/accounts/1/entries?limit=1000', t1);
    const balances = await call(venue, 'GET', '/api/v1/accounts/1/balances', t1);
    const officer = await call(venue, 'GET', '/api/v1/accounts/50', admin);
    assert.ok(rows(entries, 'entries').length > 8);
    await venue.close();
    venue = await openVenue(config, false);
    assert.deepEqual(
      (await call(venue, 'GET', '/api/v1/accounts/1/entries?limit=1000', t1)).body,
      entries.body,
    );
    assert.deepEqual((await call(venue, 'GET', '/api/v1/accounts/1/balances', t1)).body, balances.body);
    assert.deepEqual((await call(venue, 'GET', '/api/v1/accounts/50', admin)).body, officer.body);
  });
});
