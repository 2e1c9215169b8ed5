/**
 * Property tests of the whole pipeline: random streams of venue trades (out of order, beyond the lateness,
 * duplicated) mixed with payloads no schema reads. The bars that come out of the topics equal the brute-force
 * recomputation of test/marketdata/reference.ts from the raw trades; every raw event is either delivered or
 * dead-lettered; duplicates never count twice.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  TOPICS,
  barsTopic,
  intervalName,
  type BarPayload,
  type BarSpec,
  type RawEvent,
  type Tick,
} from '../../../src/marketdata/index.js';
import { referenceAccept, referenceBars, type Op } from '../reference.js';
import { T0_US, harness, topic } from './helpers.js';

const QUARTER_US = 250_000;
const SPECS: BarSpec[] = [
  { kind: 'time', periodSec: 1 },
  { kind: 'time', periodSec: 5 },
  { kind: 'time', periodSec: 60 },
  { kind: 'tick', ticks: 3 },
  { kind: 'volume', size: 40 },
];
/** No price band: random prices would otherwise be flagged out_of_range and kept out of the bars. */
const NO_BAND = { priceBandBps: Number.MAX_SAFE_INTEGER, volumeSpikeFactor: 20, volumeSpikeWarmup: 50 };

const step = fc.record({
  kind: fc.constantFrom('trade', 'trade', 'trade', 'trade', 'dup', 'garbage'),
  stepUs: fc.integer({ min: 0, max: 3 }).map((k) => k * QUARTER_US),
  backUs: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 0, max: 16 }).map((k) => k * QUARTER_US),
  ),
  instrument: fc.constantFrom('A', 'B'),
  price: fc.integer({ min: 1, max: 10_000 }),
  size: fc.integer({ min: 1, max: 50 }),
  pick: fc.nat(),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

interface Stream {
  raws: RawEvent[];
  /** Per instrument, the trades in arrival order (duplicates as copies). */
  trades: Map<string, Tick[]>;
  garbage: number;
}

function streamOf(steps: readonly Step[]): Stream {
  const raws: RawEvent[] = [];
  const trades = new Map<string, Tick[]>([
    ['A', []],
    ['B', []],
  ]);
  const made: { instrument: string; tick: Tick }[] = [];
  let cursor = T0_US;
  let garbage = 0;
  const ids = new Map<string, number>([
    ['A', 0],
    ['B', 0],
  ]);
  steps.forEach((s, i) => {
    cursor += s.stepUs;
    let instrument: string = s.instrument;
    let tick: Tick;
    if (s.kind === 'garbage') {
      garbage++;
      raws.push({
        id: `r${i}`,
        source: 'venue',
        schema: 'venue.trade.v1',
        receivedUs: 0,
        payload: { instrument, price: 'x' },
      });
      return;
    }
    if (s.kind === 'dup' && made.length > 0) {
      ({ instrument, tick } = made[s.pick % made.length]);
    } else {
      const id = (ids.get(instrument) ?? 0) + 1;
      ids.set(instrument, id);
      tick = { timeUs: cursor - s.backUs, timeNs: 0, price: s.price, size: s.size, id };
      made.push({ instrument, tick });
    }
    trades.get(instrument)?.push(tick);
    raws.push({
      id: `r${i}`,
      source: 'venue',
      schema: 'venue.trade.v1',
      receivedUs: 0,
      payload: {
        instrument,
        timeUs: tick.timeUs,
        priceTicks: tick.price,
        qtyLots: tick.size,
        side: 'sell',
        tradeId: tick.id,
      },
    });
  });
  return { raws, trades, garbage };
}

/** The reference's operations: each trade, then the watermark to the newest time seen (as the pipeline does). */
function opsOf(ticks: readonly Tick[]): Op[] {
  const ops: Op[] = [];
  let newest = -1;
  for (const tick of ticks) {
    ops.push({ op: 'tick', tick });
    if (tick.timeUs > newest) {
      newest = tick.timeUs;
      ops.push({ op: 'advance', watermarkUs: newest });
    }
  }
  return ops;
}

/** The final version of each bar of one interval and instrument, from the topic, in order of start. */
function finalBars(
  messages: readonly { payload: unknown }[],
  instrument: string,
  time: boolean,
): BarPayload[] {
  const bars = messages.map((m) => m.payload as BarPayload).filter((b) => b.instrument === instrument);
  if (!time) return bars;
  const byStart = new Map<number, BarPayload>();
  for (const b of bars) byStart.set(b.start_us, b);
  return [...byStart.values()].sort((a, b) => a.start_us - b.start_us);
}

describe('pipeline against a brute-force recomputation', () => {
  it('bars through the pipeline equal the bars recomputed from the raw trades; nothing lost, nothing counted twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 0, max: 8 }).map((k) => k * QUARTER_US),
        async (steps, latenessUs) => {
          const h = await harness({ known: ['A'], bars: SPECS, latenessUs, quality: NO_BAND });
          const s = streamOf(steps);
          for (const r of s.raws) h.pipeline.ingest(r);
          h.pipeline.flush();
          const c = h.pipeline.counters();
          // Conservation: every raw event delivered or dead-lettered, and the dead letters are on their topic.
          assert.equal(c.enrich.out + c.normalize.deadLettered, s.raws.length);
          assert.equal(c.normalize.deadLettered, s.garbage);
          assert.equal(topic(h, TOPICS.deadLetter).length, s.garbage);
          assert.equal(topic(h, TOPICS.enriched).length, c.enrich.out);
          let accepted = 0;
          let duplicates = 0;
          let late = 0;
          for (const [instrument, ticks] of s.trades) {
            const ref = referenceAccept(opsOf(ticks), latenessUs, true);
            accepted += ref.accepted.length;
            duplicates += ref.duplicates;
            late += ref.late;
            SPECS.forEach((spec) => {
              const got = finalBars(
                topic(h, barsTopic(intervalName(spec))),
                instrument,
                spec.kind === 'time',
              );
              const want = referenceBars(spec, ref.accepted);
              assert.deepEqual(
                got.map((b) => [
                  b.start_us,
                  b.end_us,
                  b.open,
                  b.high,
                  b.low,
                  b.close,
                  b.volume,
                  BigInt(b.notional),
                  b.count,
                ]),
                want.map((b) => [
                  b.startUs,
                  b.endUs,
                  b.open,
                  b.high,
                  b.low,
                  b.close,
                  b.volume,
                  b.notional,
                  b.count,
                ]),
                `${instrument} ${intervalName(spec)}`,
              );
            });
          }
          assert.equal(c.aggregate.out, accepted, 'trades accepted into the bars');
          // A duplicate is flagged and kept out; a copy of a trade already behind the horizon is dropped as late.
          assert.equal(c.flags.duplicate, duplicates);
          assert.equal(c.aggregate.late, late);
          assert.equal(c.flags.duplicate + c.aggregate.in, c.enrich.out);
          assert.equal(c.flags.missing_metadata, c.enrich.out - (s.trades.get('A')?.length ?? 0));
        },
      ),
      { numRuns: 200 },
    );
  });
});
