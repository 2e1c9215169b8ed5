/**
 * The WebSocket feed connector: the field mappings (a Rialto venue's trade_execution, a generic JSON feed with
 * nested fields and epoch times), and the connector under the FeedSupervisor against a small WebSocket server
 * here that sends good and bad frames and drops the connection: it reconnects, every good message sent comes
 * through once, every bad one comes through as an unparsed raw event, and the pipeline dead-letters those.
 */
import { strict as assert } from 'node:assert';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { InProcessBus } from '../../../src/bus/index.js';
import {
  FeedSupervisor,
  InMemoryLatest,
  InMemoryReferenceData,
  MarketDataPipeline,
  RIALTO_TRADES_MAPPING,
  ReferenceCache,
  WebSocketConnector,
  defaultSchemas,
  mapMessage,
  mappingProblem,
  wallScheduler,
  type JsonFeedMapping,
  type RawEvent,
} from '../../../src/marketdata/index.js';

const GENERIC: JsonFeedMapping = {
  kind: 'trade',
  fields: { time: 'data.T', price: 'data.p', size: 'data.q', symbol: 'data.s', side: 'data.S', id: 'data.t' },
  match: { stream: 'trades' },
  timeUnit: 'ms',
};

describe('feed mappings', () => {
  it("maps a Rialto venue's trade_execution to a trade.v1 payload with its trade id", () => {
    const m = mapMessage(
      {
        type: 'trade_execution',
        trade_id: '17',
        symbol: 'BTC-USDT',
        price: '100.50',
        quantity: '0.3000',
        aggressor_side: 'buy',
        maker_order_id: '3',
        taker_order_id: '4',
        timestamp: '2024-01-02T09:30:00.123Z',
        sequence: 99,
      },
      RIALTO_TRADES_MAPPING,
    );
    assert.deepEqual(m, {
      ok: true,
      symbol: 'BTC-USDT',
      id: '17',
      payload: {
        time: '2024-01-02T09:30:00.123Z',
        price: '100.50',
        size: '0.3000',
        symbol: 'BTC-USDT',
        side: 'buy',
        id: '17',
      },
    });
    assert.deepEqual(mapMessage({ type: 'error', id: null }, RIALTO_TRADES_MAPPING), {
      ok: false,
      skipped: true,
    });
  });

  it('reads nested fields, numbers as decimals, epoch times exactly, and the usual side spellings', () => {
    const m = mapMessage(
      { stream: 'trades', data: { T: 1704187800123, p: 101.25, q: '2', s: 'X', S: 'SELL', t: 5 } },
      GENERIC,
    );
    assert.ok(m.ok);
    assert.deepEqual(m.payload, {
      time: '2024-01-02T09:30:00.123Z',
      price: '101.25',
      size: '2',
      symbol: 'X',
      side: 'sell',
      id: '5',
    });
    const ns = mapMessage(
      { stream: 'trades', data: { T: '1704187800123456789', p: '1', q: '1', s: 'X' } },
      { ...GENERIC, timeUnit: 'ns' },
    );
    assert.ok(ns.ok);
    assert.equal(ns.payload.time, '2024-01-02T09:30:00.123456789Z');
  });

  it('maps a quote, an empty side left out, with epoch seconds to the ns', () => {
    const m = mapMessage(
      { t: '1704187800.000000001', b: 99.5, bq: '3', sym: 'Q' },
      {
        kind: 'quote',
        fields: { time: 't', bid: 'b', bid_size: 'bq', ask: 'a', ask_size: 'aq', symbol: 'sym' },
        timeUnit: 's',
      },
    );
    assert.deepEqual(m, {
      ok: true,
      symbol: 'Q',
      id: null,
      payload: { time: '2024-01-02T09:30:00.000000001Z', bid: '99.5', bid_size: '3', symbol: 'Q' },
    });
  });

  it('names what is missing or unreadable, and skips what does not match', () => {
    const miss = mapMessage({ stream: 'trades', data: { T: 1, q: '1', s: 'X' } }, GENERIC);
    assert.deepEqual(miss, { ok: false, skipped: false, reason: 'no "data.p" (price) field' });
    const time = mapMessage({ stream: 'trades', data: { T: -5, p: '1', q: '1', s: 'X' } }, GENERIC);
    assert.ok(
      !time.ok && !time.skipped && /neither ISO 8601 text nor epoch ms/.test(time.reason),
      JSON.stringify(time),
    );
    assert.deepEqual(mapMessage({ stream: 'quotes', data: {} }, GENERIC), { ok: false, skipped: true });
    assert.deepEqual(mapMessage([1, 2], GENERIC), { ok: false, skipped: false, reason: 'not a JSON object' });
  });

  it('refuses a mapping without the fields its kind needs', () => {
    assert.match(mappingProblem({ kind: 'trade', fields: { time: 't', price: 'p' } }) ?? '', /"size"/);
    assert.match(
      mappingProblem({ kind: 'trade', fields: { time: 't', price: 'p', size: 'q' } }) ?? '',
      /symbol/,
    );
    assert.match(
      mappingProblem({ kind: 'quote', fields: { time: 't', prix: 'p' }, symbol: 'X' }) ?? '',
      /prix/,
    );
    assert.equal(
      mappingProblem({ kind: 'quote', fields: { time: 't', bid: 'b', bid_size: 'bs' }, symbol: 'X' }),
      null,
    );
  });
});

/** A WebSocket server that plays a script per connection: frames to send, then a drop or nothing. */
class ScriptedFeed {
  private wss: WebSocketServer | null = null;
  connections = 0;
  url = '';
  constructor(private readonly script: (n: number) => { frames: string[]; drop: boolean }) {}

  async open(): Promise<void> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', r));
    wss.on('connection', (ws: WebSocket) => {
      const { frames, drop } = this.script(++this.connections);
      let left = frames.length;
      const done = (): void => {
        // Dropped only once every frame was written: what the feed sent before a drop must all arrive.
        if (--left <= 0 && drop) ws.terminate();
      };
      for (const f of frames) ws.send(f, done);
      if (frames.length === 0 && drop) ws.terminate();
    });
    this.wss = wss;
    this.url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/feed`;
  }

  async close(): Promise<void> {
    for (const c of this.wss?.clients ?? []) c.terminate();
    await new Promise<void>((r) => this.wss?.close(() => r()) ?? r());
  }
}

const trade = (id: number): string =>
  JSON.stringify({
    type: 'trade_execution',
    trade_id: String(id),
    symbol: 'BTC-USDT',
    price: `${100 + id}.5`,
    quantity: '1',
    aggressor_side: id % 2 === 0 ? 'buy' : 'sell',
    timestamp: new Date(Date.UTC(2024, 0, 2, 9, 30, id)).toISOString(),
  });

const until = async (what: string, ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 1_000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), `timed out waiting for ${what}`);
};

describe('WebSocketConnector under the FeedSupervisor', () => {
  const feed = new ScriptedFeed((n) =>
    n === 1
      ? {
          frames: [trade(1), trade(2), '{"type":"trade_execution",', trade(3), 'not json\n' + trade(4)],
          drop: true,
        }
      : n === 2
        ? { frames: [], drop: true }
        : {
            frames: [
              JSON.stringify([JSON.parse(trade(5)), { type: 'trade_execution', symbol: 'BTC-USDT' }]),
              trade(6),
            ],
            drop: false,
          },
  );
  before(() => feed.open());
  after(() => feed.close());

  it('reconnects after drops, passes every message sent once, and bad ones on to be dead-lettered', async () => {
    const connector = new WebSocketConnector({ url: feed.url, mapping: RIALTO_TRADES_MAPPING });
    const got: RawEvent[] = [];
    const backoff = { initialMs: 10, maxMs: 50, factor: 2, jitter: 0, attemptsMax: Infinity };
    const supervisor = new FeedSupervisor(connector, (r) => got.push(r), wallScheduler, backoff);
    void supervisor.start();
    await until('six trades and three bad messages', () => got.length >= 9);
    await supervisor.stop();
    assert.ok(feed.connections >= 3, `connections: ${feed.connections}`);
    assert.ok(supervisor.stats.disconnects >= 2, JSON.stringify(supervisor.stats));
    const trades = got.filter((r) => r.schema === 'trade.v1');
    assert.deepEqual(
      trades.map((r) => r.id),
      [1, 2, 3, 4, 5, 6].map((i) => `feed:127.0.0.1:${new URL(feed.url).port}/feed:BTC-USDT:${i}`),
    );
    const bad = got.filter((r) => r.schema === 'unparsed.v1');
    assert.equal(bad.length, 3);
    assert.deepEqual(connector.stats, { frames: 7, events: 9, malformed: 3, skipped: 0 });
    assert.equal(new Set(got.map((r) => r.id)).size, got.length, 'ids are unique');

    // Through the pipeline: the trades are ticks, the bad messages dead letters with their reasons.
    const bus = new InProcessBus();
    const pipeline = new MarketDataPipeline({
      bus,
      schemas: defaultSchemas({ priceDecimals: 8, sizeDecimals: 8 }),
      reference: new ReferenceCache(new InMemoryReferenceData(), {
        ttlUs: 1e9,
        entriesMax: 10,
        clockUs: () => 0,
      }),
      projection: new InMemoryLatest(),
      bars: [{ kind: 'time', periodSec: 60 }],
      latenessUs: 0,
    });
    for (const r of got) pipeline.ingest(r);
    const c = pipeline.counters();
    assert.equal(c.normalize.deadLettered, 3);
    assert.equal(c.normalize.out, 6);
    await bus.close();
  });

  it('fails a connect the server refuses with its HTTP status, and one to a closed port', async () => {
    const refusing = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: () => false });
    await new Promise<void>((r) => refusing.once('listening', r));
    try {
      const port = (refusing.address() as AddressInfo).port;
      const c = new WebSocketConnector({
        url: `ws://127.0.0.1:${port}/ws/trades/X`,
        mapping: RIALTO_TRADES_MAPPING,
      });
      await assert.rejects(
        c.connect(() => undefined),
        /refused the connection: HTTP 401/,
      );
    } finally {
      await new Promise<void>((r) => refusing.close(() => r()));
    }
    const closed = new WebSocketConnector({ url: 'ws://127.0.0.1:1/ws', mapping: RIALTO_TRADES_MAPPING });
    await assert.rejects(
      closed.connect(() => undefined),
      /ECONNREFUSED/,
    );
    assert.throws(
      () => new WebSocketConnector({ url: 'http://x/', mapping: RIALTO_TRADES_MAPPING }),
      /ws:\/\//,
    );
  });
});
