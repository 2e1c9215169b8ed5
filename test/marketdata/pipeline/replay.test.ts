/**
 * File replay of CSV and JSONL trades and quotes through the pipeline at 1x, 10x and as fast as possible, on a
 * fake clock: the replay waits exactly the event-time gaps divided by the speed, and unreadable lines reach
 * the dead-letter topic with their line number.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  TOPICS,
  parseDate,
  replayLines,
  type NormalizedTick,
  type RawEvent,
} from '../../../src/marketdata/index.js';
import { FakeScheduler } from './fake-scheduler.js';
import { harness, topic } from './helpers.js';

const CSV = [
  'time,price,size,id',
  '2024-01-02T09:00:00Z,100.00,1,1',
  '2024-01-02T09:00:00.5Z,100.50,2,2',
  '2024-01-02T09:00:02Z,101.00,1,3',
  '2024-01-02T09:00:02Z,oops,1,4',
  '2024-01-02T09:00:03Z,101.00',
];
const START_US = 5_000_000;

async function replayCsv(speed: number | 'max'): Promise<{ s: FakeScheduler; raws: RawEvent[] }> {
  const s = new FakeScheduler(START_US);
  const raws: RawEvent[] = [];
  await replayLines(
    CSV,
    { name: 't.csv', format: 'csv', kind: 'trade', speed, scheduler: s, symbol: 'X' },
    (r) => raws.push(r),
  );
  return { s, raws };
}

describe('file replay', () => {
  it('at 1x waits the event-time gaps, at 10x a tenth of them, at max not at all', async () => {
    const one = await replayCsv(1);
    assert.deepEqual(one.s.waits, [
      [START_US, START_US + 500_000],
      [START_US + 500_000, START_US + 2_000_000],
    ]);
    assert.deepEqual(
      one.raws.map((r) => r.receivedUs - START_US),
      [0, 500_000, 2_000_000, 2_000_000, 2_000_000],
    );
    const ten = await replayCsv(10);
    assert.deepEqual(ten.s.waits, [
      [START_US, START_US + 50_000],
      [START_US + 50_000, START_US + 200_000],
    ]);
    const max = await replayCsv('max');
    assert.deepEqual(max.s.waits, []);
    assert.deepEqual(
      max.raws.map((r) => r.id),
      ['file:t.csv:2', 'file:t.csv:3', 'file:t.csv:4', 'file:t.csv:5', 'file:t.csv:6'],
      'ids by line: the same on every replay',
    );
    await assert.rejects(replayCsv(0), /speed/);
  });

  it('feeds the pipeline, dead-letters unreadable lines with their line number, and keeps going', async () => {
    const h = await harness({ known: ['X'] });
    const s = new FakeScheduler(0);
    const report = await replayLines(
      CSV,
      { name: 't.csv', format: 'csv', kind: 'trade', speed: 'max', scheduler: s, symbol: 'X' },
      (r) => h.pipeline.ingest(r),
    );
    assert.deepEqual(report, { lines: 6, events: 5, unparsed: 1, skipped: 0, waits: 0 });
    const letters = topic(h, TOPICS.deadLetter).map((m) => (m.payload as { reason: string }).reason);
    assert.deepEqual(letters, [
      'price "oops" is not a decimal number such as 101.25',
      'line 6: 2 fields, the header has 4',
    ]);
    const ticks = topic(h, TOPICS.enriched).map((m) => m.payload as NormalizedTick);
    assert.deepEqual(
      ticks.map((t) => [t.instrument, t.price, t.size, t.trade_id]),
      [
        ['X', 10_000, 10_000, 1],
        ['X', 10_050, 20_000, 2],
        ['X', 10_100, 10_000, 3],
      ],
    );
  });

  it('replays JSONL quotes, and dead-letters a line that is not JSON', async () => {
    const h = await harness({ known: ['Y'] });
    const s = new FakeScheduler(0);
    const lines = [
      '{"symbol":"Y","time":"2024-01-02T09:00:00Z","bid":"9.99","bid_size":"3","ask":"10.01","ask_size":"4"}',
      '{not json',
      '',
      '{"symbol":"Y","time":"2024-01-02T09:00:01Z","bid":"10.00","bid_size":"1","ask":null,"ask_size":null}',
    ];
    const report = await replayLines(
      lines,
      { name: 'q.jsonl', format: 'jsonl', kind: 'quote', speed: 1, scheduler: s },
      (r) => h.pipeline.ingest(r),
    );
    assert.deepEqual(report, { lines: 4, events: 3, unparsed: 1, skipped: 0, waits: 1 });
    assert.deepEqual(s.waits, [[0, 1_000_000]]);
    const dl = topic(h, TOPICS.deadLetter)[0];
    assert.equal(dl.event_id, 'file:q.jsonl:2/dl');
    assert.equal((dl.payload as { reason: string }).reason, 'line 2: not JSON');
    const latest = h.latest.get('Y');
    assert.deepEqual([latest?.bidPrice, latest?.bidSize, latest?.askPrice], [1_000, 10_000, null]);
  });

  it('replays a LOBSTER message file: executions as trades, the aggressor opposite the order hit, the rest counted', async () => {
    const h = await harness({ known: ['AAPL'] });
    const s = new FakeScheduler(0);
    const midnightSec = parseDate('2012-06-21') ?? NaN;
    const lines = [
      '34200.004241176,1,16113575,18,5853300,1', // a submit: the book's, not a trade
      '34200.025551,4,16113575,10,5853300,1', // a buy order executed: a seller hit it
      '34200.5,5,0,7,5853400,-1', // a hidden sell order executed: a buyer
      '34201,6,-1,100,5853500,-1', // a cross trade: no aggressor
      '34201.2,3,16113575,8,5853300,1', // a delete
      'oops,4,1,1,1,1',
      '34202,7,-1,0,-1,-1', // a halt
    ];
    const report = await replayLines(
      lines,
      {
        name: 'm.csv',
        format: 'lobster',
        kind: 'trade',
        speed: 1,
        scheduler: s,
        symbol: 'AAPL',
        midnightSec,
      },
      (r) => h.pipeline.ingest(r),
    );
    assert.deepEqual(report, { lines: 7, events: 4, unparsed: 1, skipped: 3, waits: 2 });
    assert.deepEqual(s.waits, [
      [0, 474_449],
      [474_449, 974_449],
    ]);
    const ticks = topic(h, TOPICS.enriched).map((m) => m.payload as NormalizedTick);
    assert.deepEqual(
      ticks.map((t) => [t.instrument, t.time_us, t.price, t.size, t.side, t.trade_id]),
      [
        ['AAPL', (midnightSec + 34_200) * 1_000_000 + 25_551, 58_533, 100_000, 'sell', 2],
        ['AAPL', (midnightSec + 34_200) * 1_000_000 + 500_000, 58_534, 70_000, 'buy', 3],
        ['AAPL', (midnightSec + 34_201) * 1_000_000, 58_535, 1_000_000, 'unknown', 4],
      ],
    );
    const letters = topic(h, TOPICS.deadLetter).map((m) => (m.payload as { reason: string }).reason);
    assert.deepEqual(letters, ['line 6: not a LOBSTER message (time,type,order id,size,price,direction)']);
    await assert.rejects(
      replayLines(
        lines,
        { name: 'm.csv', format: 'lobster', kind: 'trade', speed: 1, scheduler: s },
        () => {},
      ),
      /symbol and a date/,
    );
  });
});
