/**
 * End-to-end tests of `rialto md run` beyond files, with the built CLI in a child process:
 *
 * - with NATS_URL, against the machine's real NATS JetStream (streams and subjects of this test's own,
 *   deleted after): the raw events, enriched ticks, bars and dead letters are on their streams once each, and
 *   a run again over the same file adds none (JetStream drops them by event id: Nats-Msg-Id);
 * - `--connect` to a real venue's `/ws/trades/SYMBOL` started here: the trades placed over REST are stored as
 *   ticks, with the venue's prices;
 * - `--connect` to a small WebSocket server here that sends bad frames and drops the connection: the run
 *   reconnects, stores every trade sent, and dead-letters the bad frames.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Venue } from '../../src/gateway/index.js';
import { MarketDataStore, TOPICS } from '../../src/marketdata/index.js';
import { openPgliteStore } from '../../src/store/index.js';
import { NATS_URL, deleteStreams, streamMessages, uniqueNames } from '../bus/services.js';
import { call, openVenue, tempDir, testConfig, traders } from '../gateway/helpers.js';
import { MAIN, assertCleanFailure, rialto, run, startRialto, type Run } from './helpers.js';

interface Summary {
  lines: number;
  ticksIn: number;
  ticksEnriched: number;
  deadLettered: number;
  deadLetterReasons: Record<string, number>;
  barsByInterval: Record<string, number>;
  ticksWritten: number;
  barsWritten: number;
  ticksExisting: number;
  feeds: {
    url: string;
    connects: number;
    disconnects: number;
    events: number;
    malformed: number;
    frames: number;
    dropped: number;
  }[];
  jetstream: { published: number; duplicates: number } | null;
  stoppedBy: string | null;
}

function summaryOf(r: Run): Summary {
  assert.equal(r.status, 0, `exit code; stderr: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line on stdout: ${r.stdout}`);
  return JSON.parse(lines[0]) as Summary;
}

/** Starts `md run` and resolves its end; `sawLine` resolves once stderr has a line matching `pattern`. */
function startRun(
  args: string[],
  env: Record<string, string>,
  pattern: RegExp,
): { ended: Promise<Run>; sawLine: Promise<void> } {
  const child = startRialto(['md', 'run', ...args], env);
  let out = '';
  let err = '';
  let saw: () => void = () => undefined;
  const sawLine = new Promise<void>((r) => (saw = r));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (pattern.test(err)) saw();
  });
  const ended = new Promise<Run>((resolve) =>
    child.once('exit', (status) => resolve({ status, stdout: out, stderr: err })),
  );
  // A run that ends without the line fails the wait instead of hanging it.
  void ended.then((r) => {
    if (!pattern.test(r.stderr)) saw();
  });
  return { ended, sawLine };
}

async function storedTicks(
  dataDir: string,
  symbol: string,
): Promise<{ price: number | null; tradeId: number | null }[]> {
  const store = await openPgliteStore({ dir: join(dataDir, 'pglite'), create: false });
  try {
    const ticks = await new MarketDataStore(store).ticks(symbol, 0, Number.MAX_SAFE_INTEGER, 1000);
    return ticks.map((t) => ({ price: t.price, tradeId: t.tradeId }));
  } finally {
    await store.close();
  }
}

describe('rialto md run with NATS_URL (real NATS JetStream)', { timeout: 180_000 }, () => {
  const names = uniqueNames();
  let dir: string;
  before(() => {
    assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`);
    dir = mkdtempSync(join(tmpdir(), 'rialto-md-run-nats-'));
  });
  after(async () => {
    await deleteStreams(names.streamPrefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes each raw event, tick, bar and dead letter once; a run again publishes none twice', async () => {
    const trades = join(dir, 'trades.csv');
    writeFileSync(
      trades,
      [
        'time,price,size,id',
        '2024-01-02T09:30:00.1Z,100.5,2,1',
        '2024-01-02T09:30:30Z,101,1,2',
        'not,a,trade,line',
        '2024-01-02T09:31:00Z,100,1,3',
        '2024-01-02T09:33:00Z,102,1,4',
        '',
      ].join('\n'),
    );
    const env = {
      RIALTO_DATA_DIR: join(dir, 'data'),
      NATS_URL,
      RIALTO_NATS_STREAM_PREFIX: names.streamPrefix,
      RIALTO_NATS_STREAM_MAX_MEGABYTES: '64',
      RIALTO_NATS_SUBJECT_PREFIX: names.subjectPrefix,
    };
    const args = ['md', 'run', '--input', trades, '--instrument', 'NATS-USD'];
    const firstRun = run(args, MAIN, { env });
    const first = summaryOf(firstRun);
    assert.equal(firstRun.stderr, '', 'no warning: NATS_URL is used');
    assert.equal(first.ticksEnriched, 4);
    assert.equal(first.deadLettered, 1);
    const bars = Object.values(first.barsByInterval).reduce((a, b) => a + b, 0);
    const expected = { raw: 5, enriched: 4, deadletter: 1, bars };
    assert.deepEqual(first.jetstream, { published: 5 + 4 + 1 + bars, duplicates: 0 });

    const onStreams = async (): Promise<Record<string, string[]>> => {
      const ids: Record<string, string[]> = {};
      for (const [family, topic] of [
        ['INGESTION', TOPICS.raw],
        ['ENRICHED', TOPICS.enriched],
        ['DEADLETTER', TOPICS.deadLetter],
        ['AGGREGATED', 'aggregated.market.bars.'],
      ] as const) {
        const messages = await streamMessages(`${names.streamPrefix}${family}`);
        for (const { subject, m } of messages) {
          assert.ok(subject.startsWith(`${names.subjectPrefix}${topic}`), `${subject} on ${family}`);
          if (family === 'INGESTION') assert.equal(m.source, 'file:trades.csv');
        }
        ids[family] = messages.map(({ m }) => m.event_id);
      }
      return ids;
    };
    const ids = await onStreams();
    assert.deepEqual(
      [ids.INGESTION.length, ids.ENRICHED.length, ids.DEADLETTER.length, ids.AGGREGATED.length],
      [expected.raw, expected.enriched, expected.deadletter, expected.bars],
    );
    for (const [family, list] of Object.entries(ids))
      assert.equal(new Set(list).size, list.length, `${family}: every event id once`);
    assert.deepEqual(
      ids.INGESTION,
      [2, 3, 4, 5, 6].map((line) => `file:trades.csv:${line}`),
    );

    // Again, over the same file: JetStream has every message already (by event id), the store every row.
    const again = summaryOf(run(args, MAIN, { env }));
    assert.deepEqual(again.jetstream, { published: 0, duplicates: first.jetstream?.published });
    assert.equal(again.ticksWritten, 0);
    assert.equal(again.ticksExisting, 4);
    assert.deepEqual(await onStreams(), ids);
  });
});

describe('rialto md run --connect (live WebSocket feeds)', { timeout: 180_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rialto-md-run-live-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("stores the trades of another Rialto venue's /ws/trades/SYMBOL", async () => {
    const venueDir = tempDir();
    const venue: Venue = await openVenue(testConfig(venueDir));
    try {
      const { t1, t2 } = await traders(venue, venue.adminKey as string);
      const url = `${venue.url.replace('http://', 'ws://')}/ws/trades/BTC-USDT`;
      const data = join(dir, 'data-venue');
      const r = startRun(['--connect', url, '--max-events', '3'], { RIALTO_DATA_DIR: data }, /connected/);
      await r.sawLine;
      const prices = ['100.50', '101.25', '99.75'];
      for (const price of prices) {
        const order = { symbol: 'BTC-USDT', order_type: 'limit', price, quantity: '0.5' };
        assert.equal(
          (await call(venue, 'POST', '/api/v1/orders', t1, { ...order, side: 'sell' })).status,
          201,
        );
        assert.equal(
          (await call(venue, 'POST', '/api/v1/orders', t2, { ...order, side: 'buy' })).status,
          201,
        );
      }
      const s = summaryOf(await r.ended);
      assert.match((await r.ended).stderr, new RegExp(`feed ${url}: connected`));
      assert.equal(s.feeds.length, 1);
      assert.equal(s.feeds[0].events, 3);
      assert.equal(s.feeds[0].malformed, 0);
      assert.deepEqual([s.ticksIn, s.ticksEnriched, s.ticksWritten, s.deadLettered], [3, 3, 3, 0]);
      const restTrades = (await call(venue, 'GET', '/api/v1/trades/BTC-USDT?limit=10', null)).body.trades as {
        trade_id: string;
        price: string;
      }[];
      const ticks = await storedTicks(data, 'BTC-USDT');
      assert.deepEqual(
        ticks.map((t) => [t.tradeId, t.price]).sort((a, b) => Number(a[0]) - Number(b[0])),
        restTrades
          .map((t) => [Number(t.trade_id), Math.round(Number(t.price) * 1e8)])
          .sort((a, b) => a[0] - b[0]),
      );
    } finally {
      await venue.close();
      rmSync(venueDir, { recursive: true, force: true });
    }
  });

  it('reconnects to a feed that drops, stores every trade it sent, and dead-letters its bad frames', async () => {
    const trade = (id: number): string =>
      JSON.stringify({
        e: 'trade',
        ts: Date.UTC(2024, 0, 2, 9, 30, id),
        px: `${100 + id}.5`,
        qty: 1,
        tid: id,
      });
    // First connection: two trades, a frame that is not JSON, a trade without a price, then a drop (terminate,
    // once all is written). Second: a drop before anything. Third: a subscription answer (skipped) and three
    // trades in one frame of JSON lines.
    const script = [
      {
        frames: [trade(1), trade(2), '{"e":"trade",', JSON.stringify({ e: 'trade', ts: 1, qty: 1 })],
        drop: true,
      },
      { frames: [], drop: true },
      { frames: ['{"e":"subscribed"}', [trade(3), trade(4), trade(5)].join('\n')], drop: false },
    ];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', r));
    let connections = 0;
    const subscriptions: string[] = [];
    wss.on('connection', (ws: WebSocket) => {
      const { frames, drop } = script[Math.min(connections++, script.length - 1)];
      ws.on('message', (d: Buffer) => subscriptions.push(d.toString()));
      let left = frames.length;
      for (const f of frames) ws.send(f, () => void (--left === 0 && drop && ws.terminate()));
      if (frames.length === 0 && drop) ws.terminate();
    });
    try {
      const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/stream`;
      const data = join(dir, 'data-drops');
      const r = startRun(
        [
          '--connect',
          url,
          '--instrument',
          'LIVE-USD',
          '--map',
          'time=ts,price=px,size=qty,id=tid',
          '--match',
          'e=trade',
          '--subscribe',
          '{"op":"subscribe"}',
          '--max-events',
          '7',
        ],
        { RIALTO_DATA_DIR: data },
        /disconnected/,
      );
      const s = summaryOf(await r.ended);
      const err = (await r.ended).stderr;
      assert.ok(s.feeds[0].connects >= 3, `reconnected: ${JSON.stringify(s.feeds)}`);
      assert.ok(s.feeds[0].disconnects >= 2, JSON.stringify(s.feeds));
      assert.match(err, /disconnected/);
      assert.equal(s.feeds[0].malformed, 2);
      assert.equal(s.feeds[0].events, 7);
      assert.equal(s.deadLettered, 2);
      assert.equal(s.ticksWritten, 5);
      // Sent after every connect (the dropped connections may end before the server reads theirs).
      assert.ok(subscriptions.length >= 1, 'the subscription was sent');
      assert.deepEqual(new Set(subscriptions), new Set(['{"op":"subscribe"}']));
      const ticks = await storedTicks(data, 'LIVE-USD');
      assert.deepEqual(
        ticks.map((t) => [t.tradeId, t.price]),
        [1, 2, 3, 4, 5].map((i) => [i, (100 + i) * 1e8 + 0.5e8]),
      );
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });

  it('exits 2 on a feed option without meaning', () => {
    assertCleanFailure(rialto('md', 'run', '--connect', 'http://x/y'), 2, /not a ws:\/\/ or wss:\/\/ URL/);
    assertCleanFailure(rialto('md', 'run', '--connect', 'ws://x/y', '--map', 'time=t,price=p'), 2, /"size"/);
    assertCleanFailure(
      rialto('md', 'run', '--connect', 'ws://x/ws/trades/A', '--max-events', '0'),
      2,
      /--max-events/,
    );
    assertCleanFailure(rialto('md', 'run', '--map', 'time=t'), 2, /--input|--connect/);
  });
});
