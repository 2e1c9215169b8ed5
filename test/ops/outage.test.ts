/**
 * Dependency outages under load (issue 7). A venue runs on PRIVATE PostgreSQL, Redis and NATS instances
 * (test/support/private-services.ts: never the machine's shared servers) while traders place orders without
 * pause over REST and WebSocket. Redis, then PostgreSQL, then NATS is stopped for a while and started again.
 *
 * During each outage: `/ready` is 503 naming the part that is down (and only it), `/metrics` shows it (the
 * circuit breaker of Redis and PostgreSQL; the readiness gauge of each check), and the order path keeps
 * matching: the journal, the client order ids and the audit trail are files of the data directory, Redis
 * only shares rate limits (fail open: each process limits in its own memory), PostgreSQL only holds
 * projections and keys (a key verified before the outage stays good through it), NATS carries nothing the
 * order path needs. What needs the dependency itself is refused cleanly: a key never seen before is 503
 * SERVICE_UNAVAILABLE over REST and over the WebSocket upgrade, never a 500.
 *
 * After each restore: `/ready` is 200 again and every projection into the store has caught up (the table
 * `PROJECTIONS` below: one row per projection, a count in the store against the truth it projects). Then,
 * with the load held for the comparison, what the restored dependency holds is checked against the venue:
 * after Redis, its latest-price hash equals REST's best bid and offer and last trade (Redis came back empty:
 * the venue wrote it again); after PostgreSQL, the query tables (src/projection) of the traders' orders,
 * trades, ledger entries and balances, rendered by the gateway's presenters, equal the REST answers, one row
 * per order, trade and entry; after NATS, `rialto_events_connected` (0 during the outage) is 1 again and the
 * venue events stream holds every trade of the restore once. At the end every order acknowledged during the
 * run is found, once, in the views and the query tables, the stream holds exactly the venue's trades, Redis
 * equals REST, and a restart of the venue on the same data reaches the same state hash and still finds every
 * one of them.
 *
 * The waits poll with a deadline: a bound against hangs, never a claim about how fast anything is.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { connect as natsConnect } from 'nats';
import { decodeEnvelope } from '../../src/bus/index.js';
import { venueSetupCommands } from '../../src/cli/venue.js';
import { AssetTable, balanceJson, entryJson } from '../../src/gateway/accounts/present.js';
import { orderJson, tradeJson } from '../../src/gateway/http/present.js';
import { createKey, startVenue, type Venue } from '../../src/gateway/index.js';
import type { EntryView } from '../../src/gateway/views/index.js';
import type { InstrumentConfig, VenueConfig } from '../../src/ops/index.js';
import { tempDir, testConfig } from '../gateway/helpers.js';
import { Refused, WsClient, wsUrl, type Json } from '../gateway/ws/client.js';
import { orderView, tradeView } from '../projection/table-views.js';
import { PrivateServices, type PrivateService } from '../support/private-services.js';

/** How long a restored dependency may take to be reported ready and caught up: a bound against hangs. */
const RECOVERY_DEADLINE_MS = 90_000;
/** An outage lasts until this many orders were answered during it (and at least `OUTAGE_MIN_MS`). */
const ORDERS_PER_OUTAGE = 40;
const OUTAGE_MIN_MS = 3_000;

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  readonly phase: string;
  readonly via: 'rest' | 'ws';
  readonly account: number;
  readonly clientOrderId: string;
  /** 2xx (REST) or an ack (WebSocket). */
  readonly acked: boolean;
  readonly orderId: string | null;
  readonly status: number;
  readonly code: string | null;
}

/** Polls `probe` until it returns null (done) or the deadline passes; fails with its last answer. */
async function waitFor(
  what: string,
  probe: () => Promise<string | null> | string | null,
  deadlineMs = RECOVERY_DEADLINE_MS,
) {
  const end = Date.now() + deadlineMs;
  let last = await probe();
  while (last !== null && Date.now() < end) {
    await pause(200);
    last = await probe();
  }
  assert.equal(last, null, `${what}: still not so after ${deadlineMs} ms`);
}

/**
 * The projections of the venue's records into the store: the number of records of the truth (the journal,
 * the audit file), and how many of them the store holds. After a restore, while the load goes on, the store
 * must reach the truth as it was at the restore (the truth moves on meanwhile); at the end, with the load
 * stopped, it must equal it. Projections added later (query tables of orders, trades, balances) add a row.
 */
interface ProjectionCheck {
  readonly name: string;
  readonly truth: (venue: Venue, run: Run) => Promise<number> | number;
  readonly projected: (venue: Venue) => Promise<number>;
}

const count = async (venue: Venue, sql: string, params: (string | number)[] = []): Promise<number> => {
  const rows = await venue.store.query(sql, params);
  return Number(rows[0]?.n ?? 0);
};

const PROJECTIONS: readonly ProjectionCheck[] = [
  {
    // The query tables' checkpoint: the last command of the journal they hold (they are written in batches
    // whose checkpoint is kept in the same transaction, so a row count alone could not say this).
    name: "query tables' checkpoint (the journal's last command)",
    truth: (venue) => venue.views.venue.lastSeq,
    projected: (venue) =>
      count(venue, "SELECT last_seq AS n FROM projection_checkpoints WHERE projector = 'query_tables'"),
  },
  {
    name: 'query table trades (every trade)',
    truth: (venue, run) => run.tradesNow(venue),
    projected: (venue) => count(venue, 'SELECT count(*) AS n FROM trades'),
  },
  {
    // Sequence numbers are the table's key and start at 1: the count is also the last one, without gaps.
    name: 'audit_events (every line of the audit file)',
    truth: (venue) => venue.auditFile.head.seq,
    projected: (venue) => count(venue, 'SELECT count(*) AS n FROM audit_events'),
  },
  {
    name: 'md_ticks (a trade tick for every trade)',
    truth: (venue, run) => run.tradesNow(venue),
    projected: (venue) => count(venue, "SELECT count(*) AS n FROM md_ticks WHERE kind = 't'"),
  },
];

/** Waits until every projection holds at least the truth of now (`exact`: exactly it). */
async function caughtUp(venue: Venue, run: Run, when: string, exact: boolean): Promise<void> {
  for (const p of PROJECTIONS) {
    const target = await p.truth(venue, run);
    await waitFor(`${p.name} caught up ${when}`, async () => {
      const n = await p.projected(venue);
      const ok = exact ? n === (await p.truth(venue, run)) : n >= target;
      return ok ? null : `the store holds ${n} of ${target}`;
    });
  }
}

/** The traders' load: REST and WebSocket placements until stopped, each outcome recorded with its phase. */
class Run {
  phase = 'start';
  readonly outcomes: Outcome[] = [];
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private seq = 0;
  /** While set, the loops wait for it before their next placement (`quiet`). */
  private hold: Promise<void> | null = null;
  private inFlight = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly keys: ReadonlyMap<number, string>,
  ) {}

  tradesNow(venue: Venue): number {
    let n = 0;
    for (const i of venue.config.instruments) n += venue.views.stats(i.spec.instrument)?.trades ?? 0;
    return n;
  }

  /** Accounts 1 (buys) and 2 (sells) over REST, 3 (buys) and 4 (sells) over WebSocket, all at one price. */
  async start(): Promise<void> {
    this.loops.push(this.restLoop(1, 'buy'), this.restLoop(2, 'sell'));
    for (const [account, side] of [
      [3, 'buy'],
      [4, 'sell'],
    ] as const) {
      const ws = await WsClient.open(wsUrl(this.baseUrl, '/ws'), { 'x-api-key': this.key(account) });
      this.loops.push(this.wsLoop(ws, account, side));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /**
   * Runs `f` with the load held (every placement sent is answered, no new one is sent): for comparisons of
   * two views of the venue that a placement between their reads would tell apart.
   */
  async quiet<T>(f: () => Promise<T>): Promise<T> {
    let release = (): void => undefined;
    this.hold = new Promise<void>((r) => (release = r));
    try {
      await waitFor('the placements in flight answered', () =>
        this.inFlight === 0 ? null : `${this.inFlight} in flight`,
      );
      return await f();
    } finally {
      this.hold = null;
      release();
    }
  }

  /** Before each placement: waits while the load is held, then counts the placement as in flight. */
  private async turn(): Promise<void> {
    while (this.hold !== null) await this.hold;
    this.inFlight++;
  }

  answeredIn(phase: string): number {
    return this.outcomes.filter((o) => o.phase === phase).length;
  }

  private key(account: number): string {
    const k = this.keys.get(account);
    if (k === undefined) throw new Error(`no key for account ${account}`);
    return k;
  }

  private nextClientId(account: number): string {
    return `load-${account}-${++this.seq}`;
  }

  private async restLoop(account: number, side: 'buy' | 'sell'): Promise<void> {
    while (!this.stopped) {
      await this.turn();
      const phase = this.phase;
      const clientOrderId = this.nextClientId(account);
      const r = await fetch(`${this.baseUrl}/api/v1/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': this.key(account) },
        body: JSON.stringify({
          symbol: 'BTC-USDT',
          order_type: 'limit',
          side,
          price: '100.00',
          quantity: '0.01',
          client_order_id: clientOrderId,
        }),
      });
      const body = (await r.json()) as { order_id?: string; error?: { code: string } };
      const acked = r.status >= 200 && r.status < 300;
      this.outcomes.push({
        phase,
        via: 'rest',
        account,
        clientOrderId,
        acked,
        orderId: acked ? (body.order_id ?? null) : null,
        status: r.status,
        code: body.error?.code ?? null,
      });
      this.inFlight--;
      await pause(10);
    }
  }

  private async wsLoop(ws: WsClient, account: number, side: 'buy' | 'sell'): Promise<void> {
    try {
      while (!this.stopped) {
        await this.turn();
        const phase = this.phase;
        const clientOrderId = this.nextClientId(account);
        const a = await ws.request({
          op: 'place',
          id: clientOrderId,
          symbol: 'BTC-USDT',
          order_type: 'limit',
          side,
          price: '100.00',
          quantity: '0.01',
          client_order_id: clientOrderId,
        });
        const acked = a.type === 'ack';
        this.outcomes.push({
          phase,
          via: 'ws',
          account,
          clientOrderId,
          acked,
          orderId: acked ? String((a.order as Json).order_id) : null,
          status: acked ? 201 : 0,
          code: acked ? null : (a.error as { code: string }).code,
        });
        this.inFlight--;
        await pause(10);
      }
    } finally {
      await ws.close();
    }
  }
}

async function get(
  url: string,
  key: string | null = null,
): Promise<{ status: number; body: Json; text: string }> {
  const r = await fetch(url, { headers: key === null ? {} : { 'x-api-key': key } });
  const text = await r.text();
  let body: Json = {};
  try {
    body = JSON.parse(text) as Json;
  } catch {
    // /metrics is text.
  }
  return { status: r.status, body, text };
}

/** A sample of /metrics, e.g. metric(text, 'rialto_dependency_circuit_state', 'dependency="redis"'). */
function metric(text: string, name: string, labels: string): number | null {
  const sample = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((l) => l.startsWith(sample));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
}

interface Outage {
  readonly part: 'redis' | 'postgres' | 'nats';
  /** The readiness check that names it. */
  readonly check: string;
  readonly service: (s: PrivateServices) => PrivateService;
  /** What /metrics shows during the outage (null when it does). */
  readonly metricsShow: (text: string) => string | null;
  /** Checks made while it is down, beyond readiness and the load. */
  readonly whileDown?: (venue: Venue, ctx: Context) => Promise<void>;
  /** Checks made once it is back and the projections caught up (the load goes on meanwhile). */
  readonly afterRestore?: (venue: Venue, ctx: Context) => Promise<void>;
}

interface Context {
  /** A trader key made before the outages and never used: its first check needs the store. */
  readonly unseenKey: string;
  readonly adminKey: string;
  readonly run: Run;
  readonly services: PrivateServices;
  /** A figure for the report (t.diagnostic). */
  readonly note: (message: string) => void;
}

const TRADERS = [1, 2, 3, 4] as const;

function instrumentOf(venue: Venue, id: number): InstrumentConfig {
  const i = venue.config.instruments.find((x) => x.spec.instrument === id);
  assert.ok(i !== undefined, `instrument ${id}`);
  return i;
}

/** The acknowledged orders' ids, ascending. */
const ackedIds = (run: Run): number[] =>
  run.outcomes
    .filter((o) => o.acked)
    .map((o) => Number(o.orderId))
    .sort((a, b) => a - b);

/**
 * The query tables against the REST API, through the gateway's own presenters (as test/projection does for a
 * scripted session), with the load held: the traders' orders (one row per acknowledged order), the venue's
 * trades (one row per trade), and each trader's balances and ledger entries (one row per entry). Waits first
 * for the tables' checkpoint to reach the journal's last command.
 */
async function queryTablesEqualRest(venue: Venue, ctx: Context, when: string): Promise<void> {
  await ctx.run.quiet(async () => {
    await waitFor(`the query tables' checkpoint reaches the journal ${when}`, async () => {
      const cp = await count(
        venue,
        "SELECT last_seq AS n FROM projection_checkpoints WHERE projector = 'query_tables'",
      );
      const last = venue.views.venue.lastSeq;
      return cp === last ? null : `checkpoint ${cp}, journal ${last}`;
    });
    const admin = ctx.adminKey;
    const orders = await venue.store.query(
      'SELECT * FROM orders WHERE account_id BETWEEN 1 AND 4 ORDER BY order_id',
    );
    assert.deepEqual(
      orders.map((r) => Number(r.order_id)),
      ackedIds(ctx.run),
      `${when}: one orders row per acknowledged order`,
    );
    // Each trader's orders as REST lists them (newest first, the newest 1,000 at most: beyond those, the ids
    // above cover them), with the client order ids REST adds from its own file.
    for (const id of TRADERS) {
      const rest = await get(`${venue.url}/api/v1/orders?status=all&account_id=${id}&limit=1000`, admin);
      assert.equal(rest.status, 200, rest.text);
      const listed = rest.body.orders as Json[];
      const rows = orders.filter((r) => Number(r.account_id) === id).reverse();
      assert.ok(listed.length === Math.min(rows.length, 1000), `${when}: account ${id}'s orders listed`);
      assert.deepEqual(
        rows.slice(0, listed.length).map((r, k) => {
          const v = orderView(r);
          return orderJson(v, instrumentOf(venue, v.instrument), listed[k].client_order_id as string | null);
        }),
        listed,
        `${when}: account ${id}'s orders`,
      );
    }

    const trades = await venue.store.query('SELECT * FROM trades ORDER BY trade_id DESC');
    assert.equal(trades.length, ctx.run.tradesNow(venue), `${when}: one trades row per trade`);
    // REST gives the newest 1,000 at most; the count above covers the rest.
    const restTrades = (await get(`${venue.url}/api/v1/trades/BTC-USDT?limit=1000`)).body.trades as Json[];
    assert.deepEqual(
      trades.slice(0, 1000).map((r) => tradeJson(tradeView(r), instrumentOf(venue, Number(r.instrument)))),
      restTrades,
      `${when}: trades`,
    );

    const assets = new AssetTable(
      venue.config.assets.map((a) => ({ asset: a.id, code: a.code, decimals: a.decimals })),
    );
    const symbolOf = (id: number): string | null =>
      venue.config.instruments.find((i) => i.spec.instrument === id)?.spec.symbol ?? null;
    for (const id of TRADERS) {
      const balances = await venue.store.query(
        'SELECT * FROM balances WHERE account_id = $1 ORDER BY asset',
        [id],
      );
      const restBalances = await get(`${venue.url}/api/v1/accounts/${id}/balances`, admin);
      assert.deepEqual(
        balances.map((b) =>
          balanceJson(
            {
              asset: Number(b.asset),
              available: Number(b.available),
              held: Number(b.held),
              ledgerAvailable: 0,
              ledgerHeld: 0,
            },
            assets,
          ),
        ),
        restBalances.body.balances,
        `${when}: balances of account ${id}`,
      );
      const mine = await venue.store.query('SELECT * FROM ledger_accounts WHERE account_id = $1', [id]);
      const ledgerAccounts = new Map(
        mine.map((l) => [Number(l.ledger_account), { asset: Number(l.asset), held: Number(l.kind) === 6 }]),
      );
      const entries = await venue.store.query(
        `SELECT e.*, array_agg(p.ledger_account ORDER BY p.line) AS accounts,
                array_agg(p.amount ORDER BY p.line) AS amounts
           FROM ledger_entries e JOIN ledger_postings p USING (entry_id)
          WHERE e.entry_id IN (SELECT entry_id FROM ledger_postings WHERE ledger_account = ANY($1::int4[]))
          GROUP BY e.entry_id ORDER BY e.entry_id DESC`,
        [[...ledgerAccounts.keys()]],
      );
      const page = { ledgerAccounts, entries: [], assets: [] };
      const views: EntryView[] = entries.map((e) => ({
        entryId: Number(e.entry_id),
        timeUs: Number(e.time_us),
        kind: Number(e.kind),
        ref: Number(e.ref),
        ref2: Number(e.ref2),
        tradeId: Number(e.trade_id),
        instrument: Number(e.instrument),
        lines: (e.accounts as number[]).map((a, k) => ({
          ledgerAccount: Number(a),
          amount: Number((e.amounts as (bigint | number | string)[])[k]),
        })),
      }));
      // Every page of REST's entries, newest first.
      const restEntries: Json[] = [];
      let before: string | null = '';
      while (before !== null) {
        const q: string = before === '' ? '' : `&before=${before}`;
        const r = await get(`${venue.url}/api/v1/accounts/${id}/entries?limit=1000${q}`, admin);
        assert.equal(r.status, 200, r.text);
        restEntries.push(...(r.body.entries as Json[]));
        before = r.body.next_before as string | null;
      }
      assert.deepEqual(
        views.map((e) => entryJson(e, page, assets, symbolOf)),
        restEntries,
        `${when}: ledger entries of account ${id}`,
      );
    }
  });
}

/** The trades in the venue events stream: one entry per message (a duplicate kept), by event id and trade id. */
async function streamedTrades(
  venue: Venue,
  services: PrivateServices,
): Promise<{ eventIds: string[]; tradeIds: number[] }> {
  const nc = await natsConnect({ servers: services.nats.url, timeout: 2000 });
  try {
    const stream = `${venue.config.jetstream.streamPrefix}VENUE`;
    const info = await (await nc.jetstreamManager()).streams.info(stream);
    const out = { eventIds: [] as string[], tradeIds: [] as number[] };
    if (info.state.messages === 0) return out;
    // An ordered consumer from the first message up to the last one stored now.
    const messages = await (await nc.jetstream().consumers.get(stream)).consume();
    for await (const m of messages) {
      const e = decodeEnvelope(m.data);
      if (typeof e === 'string') throw new Error(`${stream} #${m.seq}: ${e}`);
      if (e.event_type === 'TradeExecuted') {
        out.eventIds.push(e.event_id);
        out.tradeIds.push(Number((e.payload as { tradeId: unknown }).tradeId));
      }
      if (m.seq >= info.state.last_seq) break;
    }
    return out;
  } finally {
    await nc.close();
  }
}

/**
 * Null when the venue events stream holds each trade once, by event id and by trade id: `want` 'exact', the
 * trades of the query table and no other; a number, at least the first that many of them.
 */
async function streamHoldsTrades(venue: Venue, ctx: Context, want: 'exact' | number): Promise<string | null> {
  const s = await streamedTrades(venue, ctx.services);
  if (new Set(s.eventIds).size !== s.eventIds.length)
    return `an event id twice in ${s.eventIds.length} trades`;
  if (new Set(s.tradeIds).size !== s.tradeIds.length)
    return `a trade id twice in ${s.tradeIds.length} trades`;
  const rows = await venue.store.query('SELECT trade_id FROM trades ORDER BY trade_id');
  const truth = rows.map((r) => Number(r.trade_id));
  const expected = want === 'exact' ? truth : truth.slice(0, want);
  if (want !== 'exact' && expected.length < want) return `the trades table holds ${truth.length} of ${want}`;
  const streamed = new Set(s.tradeIds);
  const missing = expected.filter((id) => !streamed.has(id));
  if (missing.length > 0) return `${missing.length} trades not streamed, the first ${missing[0]}`;
  if (want === 'exact' && s.tradeIds.length !== truth.length)
    return `${s.tradeIds.length} trades streamed, ${truth.length} made`;
  return null;
}

/** A REST price or quantity ('100.00', '0.0100') as ticks or lots, the way Redis keeps it; '' for none. */
const units = (v: unknown): string => (typeof v === 'string' ? String(Number(v.replace('.', ''))) : '');

/** Null when Redis's latest prices of BTC-USDT equal REST's best bid and offer and last trade. */
async function redisMatchesRest(venue: Venue, services: PrivateServices): Promise<string | null> {
  const redis = new Redis(services.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const h = await redis.hgetall(`${venue.config.marketData.redisKeyPrefix}latest:BTC-USDT`);
    const bbo = (await get(`${venue.url}/api/v1/bbo/BTC-USDT`)).body;
    const last = ((await get(`${venue.url}/api/v1/trades/BTC-USDT?limit=1`)).body.trades as Json[])[0];
    const rest = {
      bid_price: units(bbo.bid_price),
      bid_size: units(bbo.bid_quantity),
      ask_price: units(bbo.ask_price),
      ask_size: units(bbo.ask_quantity),
      price: units(last?.price),
      size: units(last?.quantity),
    };
    const inRedis = {
      bid_price: h.bid_price ?? 'none',
      bid_size: h.bid_size ?? 'none',
      ask_price: h.ask_price ?? 'none',
      ask_size: h.ask_size ?? 'none',
      price: h.price ?? 'none',
      size: h.size ?? 'none',
    };
    return JSON.stringify(rest) === JSON.stringify(inRedis)
      ? null
      : `REST ${JSON.stringify(rest)}, Redis ${JSON.stringify(inRedis)}`;
  } finally {
    redis.disconnect();
  }
}

const eventsConnected = async (venue: Venue): Promise<number | null> =>
  metric((await get(`${venue.url}/metrics`)).text, 'rialto_events_connected', '');

const breakerOpened = (dependency: string) => (text: string) => {
  const opened = metric(text, 'rialto_dependency_circuit_opened_total', `dependency="${dependency}"`);
  const failures = metric(text, 'rialto_dependency_failures_total', `dependency="${dependency}"`);
  return opened !== null && opened >= 1 && failures !== null && failures >= 1
    ? null
    : `${dependency}: circuit opened ${String(opened)} times, ${String(failures)} failures`;
};
const checkFailing = (check: string) => (text: string) =>
  metric(text, 'rialto_readiness_check', `check="${check}"`) === 0
    ? null
    : `readiness gauge of ${check} is not 0`;

const OUTAGES: readonly Outage[] = [
  {
    part: 'redis',
    check: 'redis',
    service: (s) => s.redis,
    metricsShow: (t) => breakerOpened('redis')(t) ?? checkFailing('redis')(t),
    // The private Redis comes back empty: the venue writes the latest prices again.
    afterRestore: (venue, ctx) =>
      ctx.run.quiet(() =>
        waitFor('the latest prices in Redis equal REST after Redis is back', () =>
          redisMatchesRest(venue, ctx.services),
        ),
      ),
  },
  {
    part: 'postgres',
    check: 'store',
    service: (s) => s.postgres,
    metricsShow: (t) => breakerOpened('postgres')(t) ?? checkFailing('store')(t),
    whileDown: async (venue, ctx) => {
      // A key never seen needs the store: refused with 503 and a code, over REST and on the WebSocket upgrade.
      const rest = await get(`${venue.url}/api/v1/accounts`, ctx.unseenKey);
      assert.equal(rest.status, 503, rest.text);
      assert.equal((rest.body.error as Json).code, 'SERVICE_UNAVAILABLE');
      await assert.rejects(WsClient.open(wsUrl(venue.url, '/ws'), { 'x-api-key': ctx.unseenKey }), (e) => {
        assert.ok(e instanceof Refused, String(e));
        assert.equal(e.status, 503, e.body);
        assert.equal(e.code, 'SERVICE_UNAVAILABLE');
        return true;
      });
    },
    afterRestore: (venue, ctx) => queryTablesEqualRest(venue, ctx, 'after the PostgreSQL outage'),
  },
  {
    part: 'nats',
    check: 'nats',
    service: (s) => s.nats,
    metricsShow: checkFailing('nats'),
    whileDown: async (venue) => {
      // The bus object lives on while the client reconnects: the gauge says whether it is connected.
      await waitFor('rialto_events_connected is 0 while NATS is down', async () => {
        const c = await eventsConnected(venue);
        return c === 0 ? null : `rialto_events_connected ${String(c)}`;
      });
    },
    afterRestore: async (venue, ctx) => {
      await waitFor('rialto_events_connected is 1 after NATS is back', async () => {
        const c = await eventsConnected(venue);
        return c === 1 ? null : `rialto_events_connected ${String(c)}`;
      });
      // The trades made until the restore (the load goes on: the truth moves meanwhile, as in `caughtUp`).
      // The outbox says when it stored every command's events up to then; the stream is read after that.
      const target = ctx.run.tradesNow(venue);
      const seq = venue.views.venue.lastSeq;
      const restored = Date.now();
      await waitFor('the venue events outbox stored every command up to the restore', () => {
        const box = venue.transports.stats().nats?.outboxes.find((b) => b.name === 'venue_events');
        const stored = box?.progressSeq ?? 0;
        return stored >= seq ? null : `stored up to command ${stored} of ${seq}`;
      });
      ctx.note(`nats: the outbox stored the events up to the restore in ${Date.now() - restored} ms`);
      await waitFor('the venue events stream holds every trade once after NATS is back', () =>
        streamHoldsTrades(venue, ctx, target),
      );
    },
  },
];

describe('dependency outages under load', { timeout: 900_000 }, () => {
  let services: PrivateServices | null = null;
  let config: VenueConfig;
  let venue: Venue | null = null;

  before(async () => {
    const s = await PrivateServices.start(['postgres', 'redis', 'nats']);
    services = s;
    config = testConfig(tempDir(), {
      DATABASE_URL: s.postgres.url,
      REDIS_URL: s.redis.url,
      NATS_URL: s.nats.url,
      // Every request comes from 127.0.0.1: the per-IP budget is not what this test is about.
      RIALTO_REQUESTS_PER_MINUTE_PER_IP: '10000000',
    });
  });
  after(async () => {
    await venue?.close().catch(() => undefined);
    await services?.close();
  });

  const open = (): Promise<Venue> =>
    startVenue(config, { setup: venueSetupCommands(config, 0), redisKeyPrefix: `outage${process.pid}` });

  it('keeps matching through Redis, PostgreSQL and NATS outages; projections catch up; nothing acknowledged is lost', async (t) => {
    venue = await open();
    const v = venue;
    const admin = v.adminKey as string;
    const keys = new Map<number, string>();
    for (const id of [1, 2, 3, 4]) {
      const created = await fetch(`${v.url}/api/v1/admin/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': admin },
        body: JSON.stringify({ account_id: id }),
      });
      assert.equal(created.status, 201, await created.text());
      for (const [asset, amount] of [
        ['USDT', '1000000'],
        ['BTC', '100'],
      ]) {
        const d = await fetch(`${v.url}/api/v1/admin/accounts/${id}/deposits`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': admin },
          body: JSON.stringify({ asset, amount }),
        });
        assert.equal(d.status, 201, await d.text());
      }
      keys.set(id, (await createKey(v.store, { role: 'trader', accountIds: [id] })).token);
    }
    const unseenKey = (await createKey(v.store, { role: 'trader', accountIds: [1] })).token;
    const ready = async (): Promise<{ status: number; checks: Record<string, string> }> => {
      const r = await get(`${v.url}/ready`);
      return { status: r.status, checks: r.body.checks as Record<string, string> };
    };
    const first = await ready();
    assert.equal(first.status, 200, JSON.stringify(first.checks));

    const run = new Run(v.url, keys);
    const ctx: Context = {
      unseenKey,
      adminKey: admin,
      run,
      services: services as PrivateServices,
      note: (message) => t.diagnostic(message),
    };
    await run.start();
    try {
      run.phase = 'baseline';
      await waitFor('orders answered before the outages', () =>
        run.answeredIn('baseline') >= ORDERS_PER_OUTAGE ? null : `${run.answeredIn('baseline')} answered`,
      );
      for (const outage of OUTAGES) {
        const service = outage.service(services as PrivateServices);
        run.phase = `${outage.part} down`;
        const since = Date.now();
        await service.stop('crash');

        await waitFor(`/ready names ${outage.check} while ${outage.part} is down`, async () => {
          const r = await ready();
          return r.status === 503 && r.checks[outage.check] !== 'ok' ? null : JSON.stringify(r);
        });
        const down = await ready();
        for (const [check, answer] of Object.entries(down.checks)) {
          // The market data writer writes into the store: it fails with it, and says so.
          if (check !== outage.check && !(outage.part === 'postgres' && check === 'marketData'))
            assert.equal(
              answer,
              'ok',
              `only ${outage.check} is named during the ${outage.part} outage: ${check}`,
            );
        }
        await waitFor(`/metrics shows the ${outage.part} outage`, async () =>
          outage.metricsShow((await get(`${v.url}/metrics`)).text),
        );
        await outage.whileDown?.(v, ctx);
        await waitFor(`orders answered during the ${outage.part} outage`, () =>
          run.answeredIn(run.phase) >= ORDERS_PER_OUTAGE && Date.now() - since >= OUTAGE_MIN_MS
            ? null
            : `${run.answeredIn(run.phase)} answered`,
        );

        run.phase = `${outage.part} back`;
        const downMs = Date.now() - since;
        await service.start();
        const restarted = Date.now();
        await waitFor(`/ready is 200 after ${outage.part} is back`, async () => {
          const r = await ready();
          return r.status === 200 ? null : JSON.stringify(r.checks);
        });
        const readyMs = Date.now() - restarted;
        await caughtUp(v, run, `after the ${outage.part} outage`, false);
        const caughtUpMs = Date.now() - restarted;
        const checking = Date.now();
        await outage.afterRestore?.(v, ctx);
        // Figures for the report, not assertions: how long recovery took on this machine.
        t.diagnostic(
          `${outage.part}: down ${downMs} ms; after its restart /ready 200 in ${readyMs} ms, ` +
            `projections caught up in ${caughtUpMs} ms; its contents checked in ${Date.now() - checking} ms`,
        );
        await waitFor(`orders answered after the ${outage.part} outage`, () =>
          run.answeredIn(run.phase) >= ORDERS_PER_OUTAGE ? null : `${run.answeredIn(run.phase)} answered`,
        );
      }
    } finally {
      await run.stop();
    }

    // The order path kept matching through every outage: every placement was acknowledged.
    const refused = run.outcomes.filter((o) => !o.acked);
    assert.deepEqual(refused, [], 'no placement was refused');
    for (const phase of new Set(run.outcomes.map((o) => o.phase))) {
      assert.ok(run.answeredIn(phase) > 0, phase);
    }
    const acked = run.outcomes.filter((o) => o.acked);
    const perPhase = [...new Set(run.outcomes.map((o) => o.phase))].map((p) => `${p}: ${run.answeredIn(p)}`);
    t.diagnostic(`orders acknowledged: ${acked.length} (${perPhase.join(', ')}); trades ${run.tradesNow(v)}`);
    const ids = acked.map((o) => o.orderId as string);
    assert.equal(new Set(ids).size, ids.length, 'every acknowledgement names an order of its own');
    assert.ok(run.tradesNow(v) > 0, 'the load matched');

    // Every acknowledged order is in the views once: the views' orders of the traders are exactly these.
    const placedInViews: number[] = [];
    for (let id = 1; id <= v.views.highestOrderId; id++) {
      const o = v.views.order(id);
      if (o !== undefined && o.accountId >= 1 && o.accountId <= 4) placedInViews.push(id);
    }
    assert.deepEqual(
      placedInViews,
      ids.map(Number).sort((a, b) => a - b),
    );
    await caughtUp(v, run, 'at the end', true);
    // With the load stopped: the query tables, the venue events stream and Redis, each against REST.
    await queryTablesEqualRest(v, ctx, 'at the end');
    await waitFor('the venue events stream holds exactly the trades at the end', () =>
      streamHoldsTrades(v, ctx, 'exact'),
    );
    await waitFor('the latest prices in Redis equal REST at the end', () =>
      redisMatchesRest(v, ctx.services),
    );

    const hash = await v.engine.stateHash();
    const tradesBefore = run.tradesNow(v);
    await v.close();
    venue = null;

    // A restart on the same data and the same (restarted) dependencies: the journal has everything.
    venue = await open();
    const w = venue;
    assert.equal(await w.engine.stateHash(), hash);
    assert.equal(run.tradesNow(w), tradesBefore);
    const byAccount = new Map<number, string>(keys);
    for (const o of acked) {
      const r = await get(`${w.url}/api/v1/orders/${o.orderId as string}`, byAccount.get(o.account) ?? null);
      assert.equal(r.status, 200, `${o.orderId as string} (${o.phase}): ${r.text}`);
      assert.equal(r.body.order_id, o.orderId);
      assert.equal(r.body.client_order_id, o.clientOrderId);
    }
    await caughtUp(w, run, 'after the restart', true);
    await w.close();
    venue = null;
  });
});
