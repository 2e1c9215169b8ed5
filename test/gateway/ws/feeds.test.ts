/**
 * The market data feeds end to end, on a venue in this process and a real socket: a book channel's snapshot
 * plus its deltas rebuild the same book as GET /api/v1/orderbook (at several depths, checked again and again
 * across many seeded random orders, cancels and trades), the BBO channel follows GET /api/v1/bbo, the trades
 * channel and /ws/trades carry every trade of GET /api/v1/trades, and /ws/market-data sends the whole top.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Venue } from '../../../src/gateway/index.js';
import { call, openVenue, tempDir, testConfig, traders } from '../helpers.js';
import { WsClient, wsUrl, type Json } from './client.js';

/** mulberry32: a small seeded generator, so that a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Pair = [string, string];

/** A client's picture of one book channel, from its snapshot and deltas, with the sequence checked. */
class BookPicture {
  private seq = -1;
  private readonly bids = new Map<string, string>();
  private readonly asks = new Map<string, string>();

  constructor(
    readonly channel: string,
    readonly depth: number,
  ) {}

  apply(m: Json): void {
    assert.equal(m.channel, this.channel);
    if (m.type === 'book_snapshot') {
      assert.equal(this.seq, -1, 'one snapshot, first');
      this.seq = m.seq as number;
      this.bids.clear();
      this.asks.clear();
    } else {
      assert.equal(m.type, 'book_delta');
      assert.equal(m.seq, this.seq + 1, `${this.channel}: no gap in the sequence`);
      this.seq = m.seq;
    }
    for (const [p, q] of m.bids as Pair[]) set(this.bids, p, q);
    for (const [p, q] of m.asks as Pair[]) set(this.asks, p, q);
    assert.ok(this.bids.size <= this.depth && this.asks.size <= this.depth, 'never more than the depth');
  }

  levels(): { bids: Pair[]; asks: Pair[] } {
    const sorted = (m: Map<string, string>, desc: boolean): Pair[] =>
      [...m.entries()].sort((a, b) => (desc ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
    return { bids: sorted(this.bids, true), asks: sorted(this.asks, false) };
  }
}

function set(m: Map<string, string>, price: string, qty: string): void {
  if (qty === '0') {
    assert.ok(m.has(price), `a removal of ${price}, which is shown`);
    m.delete(price);
  } else m.set(price, qty);
}

describe('WebSocket market data feeds', { timeout: 240_000 }, () => {
  const dir = tempDir();
  const config = testConfig(dir);
  let venue: Venue;
  let t1: string;
  let t2: string;

  before(async () => {
    venue = await openVenue(config);
    const admin = venue.adminKey as string;
    ({ t1, t2 } = await traders(venue, admin));
  });
  after(async () => {
    await venue.close();
  });

  it('rebuilds the REST book, BBO and trades from snapshots and deltas across many random orders', async () => {
    const url = venue.url;
    const watcher = await WsClient.open(wsUrl(url, '/ws'));
    const depths = [1, 5, 20, 100];
    const pictures = depths.map((d) => new BookPicture(`book:BTC-USDT:${d}`, d));
    for (const p of pictures) {
      const ok = await watcher.request({ op: 'subscribe', id: p.channel, channel: p.channel });
      assert.equal(ok.type, 'subscribed', JSON.stringify(ok));
    }
    await watcher.request({ op: 'subscribe', id: 'bbo', channel: 'bbo:BTC-USDT' });
    await watcher.request({ op: 'subscribe', id: 'trades', channel: 'trades:BTC-USDT' });
    const legacyTrades = await WsClient.open(wsUrl(url, '/ws/trades/BTC-USDT'));
    const legacyBook = await WsClient.open(wsUrl(url, '/ws/market-data/BTC-USDT?depth=20'));
    const traders2 = [
      await WsClient.open(wsUrl(url, '/ws'), { 'x-api-key': t1 }),
      await WsClient.open(wsUrl(url, '/ws'), { 'x-api-key': t2 }),
    ];
    const next = random(20261201);
    const live: { client: WsClient; id: string }[] = [];
    let n = 0;
    let bbo: Json | null = null;
    const streamTrades: Json[] = [];
    const check = async (round: number): Promise<void> => {
      await watcher.sync(String(round));
      for (const m of watcher.drain()) {
        if (m.type === 'book_snapshot' || m.type === 'book_delta') {
          pictures[depths.indexOf(Number(String(m.channel).split(':')[2]))].apply(m);
        } else if (m.type === 'bbo') bbo = m;
        else if (m.type === 'trades') streamTrades.push(...(m.trades as Json[]));
      }
      for (const p of pictures) {
        const rest = await call(venue, 'GET', `/api/v1/orderbook/BTC-USDT?depth=${p.depth}`, null);
        assert.deepEqual(
          p.levels(),
          { bids: rest.body.bids, asks: rest.body.asks },
          `${p.channel} at ${round}`,
        );
      }
      const restBbo = await call(venue, 'GET', '/api/v1/bbo/BTC-USDT', null);
      assert.ok(bbo !== null);
      for (const k of ['bid_price', 'bid_quantity', 'ask_price', 'ask_quantity']) {
        assert.equal(bbo[k], restBbo.body[k], `bbo ${k} at ${round}`);
      }
    };
    await check(0);
    for (let round = 1; round <= 12; round++) {
      // A burst of requests in one turn: they reach the engine as one batch, and each channel conflates it.
      const answers: Promise<Json>[] = [];
      for (let k = 0; k < 40; k++) {
        const who = traders2[Math.floor(next() * 2)];
        if (live.length > 0 && next() < 0.2) {
          const [o] = live.splice(Math.floor(next() * live.length), 1);
          const id = `c${n++}`;
          o.client.send({ op: 'cancel', id, order_id: o.id });
          answers.push(o.client.answer(id));
          continue;
        }
        const buy = next() < 0.5;
        // Prices around 100 (each side mostly on its own half, sometimes crossing), 0.0001 to 0.05 BTC.
        const ticks = 10_000 + Math.floor(next() * 160) - (buy ? 100 : 60);
        const id = `p${n++}`;
        who.send({
          op: 'place',
          id,
          symbol: 'BTC-USDT',
          side: buy ? 'buy' : 'sell',
          order_type: 'limit',
          price: (ticks / 100).toFixed(2),
          quantity: ((1 + Math.floor(next() * 500)) / 10_000).toFixed(4),
        });
        answers.push(
          who.answer(id).then((a) => {
            const order = a.order as Json | undefined;
            if (a.type === 'ack' && order !== undefined && order.status !== 'filled') {
              live.push({ client: who, id: String(order.order_id) });
            }
            return a;
          }),
        );
      }
      for (const a of await Promise.all(answers)) {
        // A cancel may find its order filled meanwhile; anything else is a bug.
        if (a.type === 'error') {
          assert.equal((a.error as Json).code, 'ORDER_CANNOT_BE_CANCELLED', JSON.stringify(a));
        }
      }
      await check(round);
    }
    const restTrades = await call(venue, 'GET', '/api/v1/trades/BTC-USDT?limit=1000', null);
    const all = (restTrades.body.trades as Json[]).slice().reverse();
    assert.ok(all.length > 20, `the random orders traded (${all.length} trades)`);
    assert.deepEqual(streamTrades, all, 'the trades channel carries every trade, in order');
    await legacyTrades.sync('end');
    const executions = legacyTrades.drain().filter((m) => m.type === 'trade_execution');
    assert.deepEqual(
      executions.map(({ type: _type, ...t }) => t),
      all,
      '/ws/trades sends each trade once',
    );
    await legacyBook.sync('end');
    const updates = legacyBook.drain().filter((m) => m.type === 'orderbook_update');
    const restBook = await call(venue, 'GET', '/api/v1/orderbook/BTC-USDT?depth=20', null);
    const last = updates[updates.length - 1];
    assert.deepEqual([last.bids, last.asks], [restBook.body.bids, restBook.body.asks]);
    for (const c of [watcher, legacyTrades, legacyBook, ...traders2]) await c.close();
  });

  it('a new subscriber of a busy channel starts from a snapshot equal to the book, with sequence numbers after it', async () => {
    const a = await WsClient.open(wsUrl(venue.url, '/ws'));
    const first = await a.request({ op: 'subscribe', id: 1, channel: 'book:BTC-USDT:5' });
    const snap = await a.next((m) => m.type === 'book_snapshot');
    assert.equal(snap.seq, first.seq);
    const rest = await call(venue, 'GET', '/api/v1/orderbook/BTC-USDT?depth=5', null);
    assert.deepEqual([snap.bids, snap.asks], [rest.body.bids, rest.body.asks]);
    const again = await a.request({ op: 'subscribe', id: 2, channel: 'book:BTC-USDT:5' });
    assert.equal((again.error as Json).code, 'ALREADY_SUBSCRIBED');
    const bad = await a.request({ op: 'subscribe', id: 3, channel: 'book:BTC-USDT:101' });
    assert.equal((bad.error as Json).code, 'INVALID_CHANNEL');
    const unknown = await a.request({ op: 'subscribe', id: 4, channel: 'trades:DOGE-USDT' });
    assert.equal((unknown.error as Json).code, 'INVALID_SYMBOL');
    const gone = await a.request({ op: 'unsubscribe', id: 5, channel: 'book:BTC-USDT:5' });
    assert.equal(gone.type, 'unsubscribed');
    const notHeld = await a.request({ op: 'unsubscribe', id: 6, channel: 'book:BTC-USDT:5' });
    assert.equal((notHeld.error as Json).code, 'NOT_SUBSCRIBED');
    await a.close();
  });
});
