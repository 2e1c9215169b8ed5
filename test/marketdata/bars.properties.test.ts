/**
 * Property tests of the bar aggregator against the brute-force reference (reference.ts): random streams of
 * trades, out of order, late beyond the allowed lateness and duplicated, with random watermark advances; every
 * spec's final bars must equal the bars recomputed from the accepted trades, and every emission must be one the
 * rules allow.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BarAggregator, type Bar, type BarSpec, type Tick } from '../../src/marketdata/index.js';
import { referenceAccept, referenceBars, type Op, type RefBar } from './reference.js';

const T0_US = 1_704_186_000_000_000; // 2024-01-02T09:00:00Z
const QUARTER_US = 250_000;
const quarters = (max: number): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max }).map((k) => k * QUARTER_US);

interface RawOp {
  kind: 'tick' | 'advance' | 'dup';
  stepUs: number;
  backUs: number;
  ns: number;
  price: number;
  size: number;
  pick: number;
}

const rawOp = fc.record({
  kind: fc.constantFrom<RawOp['kind']>('tick', 'tick', 'tick', 'tick', 'advance', 'dup'),
  // Times on a grid of quarter seconds (plus a few nanoseconds), so that ticks share times, fall on bar edges
  // and on the lateness horizon exactly: the boundaries a wrong comparison would get wrong.
  stepUs: fc.integer({ min: 0, max: 3 }).map((k) => k * QUARTER_US),
  // Most ticks are on time; some are up to 4 s behind the cursor.
  backUs: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 0, max: 16 }).map((k) => k * QUARTER_US),
  ),
  ns: fc.constantFrom(0, 0, 1, 999),
  // Small prices and sizes, and large ones whose products pass 2^53.
  price: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 2 ** 40 })),
  size: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 2 ** 22 })),
  pick: fc.nat(),
});

/** Turns the random choices into ticks (unique ids, duplicates as exact copies) and watermark advances. */
function opsOf(raws: readonly RawOp[], delayUs: number): Op[] {
  const ops: Op[] = [];
  const ticks: Tick[] = [];
  let cursor = T0_US;
  let nextId = 1;
  for (const r of raws) {
    cursor += r.stepUs;
    if (r.kind === 'advance') {
      ops.push({ op: 'advance', watermarkUs: cursor - delayUs });
    } else if (r.kind === 'dup' && ticks.length > 0) {
      ops.push({ op: 'tick', tick: ticks[r.pick % ticks.length] });
    } else {
      const tick: Tick = {
        timeUs: cursor - r.backUs,
        timeNs: r.ns,
        price: r.price,
        size: r.size,
        id: nextId++,
      };
      ticks.push(tick);
      ops.push({ op: 'tick', tick });
    }
  }
  return ops;
}

const SPECS: BarSpec[] = [
  { kind: 'time', periodSec: 1 },
  { kind: 'time', periodSec: 60 },
  { kind: 'time', periodSec: 5 },
  { kind: 'tick', ticks: 3 },
  { kind: 'volume', size: 40 },
  { kind: 'dollar', notional: 3000n },
];

const strip = (b: Bar): RefBar => ({
  startUs: b.startUs,
  startNs: b.startNs,
  endUs: b.endUs,
  endNs: b.endNs,
  open: b.open,
  high: b.high,
  low: b.low,
  close: b.close,
  volume: b.volume,
  notional: b.notional,
  count: b.count,
});

/** Runs the ops; checks each emission against the rules as it comes; returns the final bars per spec. */
function runAggregator(ops: readonly Op[], latenessUs: number): { bars: Bar[][]; agg: BarAggregator } {
  const agg = new BarAggregator({ specs: SPECS, latenessUs, dedup: true });
  const bars: Bar[][] = SPECS.map(() => []);
  const timeBars = SPECS.map(() => new Map<number, Bar>());
  const take = (atFlush: boolean): void => {
    for (const e of agg.events) {
      if (e.type !== 'BarClosed' && e.type !== 'BarCorrected') continue;
      const b = e.bar;
      const spec = SPECS[b.spec];
      if (spec.kind !== 'time') {
        assert.equal(e.type, 'BarClosed', 'tick, volume and dollar bars are never corrected');
        bars[b.spec].push(b);
        continue;
      }
      if (!atFlush)
        assert.ok(b.endUs <= agg.watermarkUs, 'a time bar is emitted only once the watermark passed it');
      const before = timeBars[b.spec].get(b.startUs);
      assert.equal(e.type, before === undefined ? 'BarClosed' : 'BarCorrected');
      assert.equal(b.revision, before === undefined ? 0 : before.revision + 1);
      timeBars[b.spec].set(b.startUs, b);
    }
  };
  for (const o of ops) {
    if (o.op === 'tick') agg.push(o.tick);
    else agg.advanceWatermark(o.watermarkUs);
    take(false);
  }
  agg.flush();
  take(true);
  SPECS.forEach((spec, i) => {
    if (spec.kind === 'time') bars[i] = [...timeBars[i].values()].sort((a, b) => a.startUs - b.startUs);
  });
  return { bars, agg };
}

describe('bar aggregator against a brute-force recomputation', () => {
  it('every spec ends with the bars of the accepted trades, whatever their order, lateness and duplicates', () => {
    fc.assert(
      fc.property(
        fc.array(rawOp, { minLength: 1, maxLength: 150 }),
        quarters(12),
        quarters(8),
        fc.boolean(),
        (raws, latenessUs, delayUs, followNewest) => {
          let ops = opsOf(raws, delayUs);
          if (followNewest) {
            // As the CLI does: after each tick, the watermark follows the newest time seen, less a delay.
            let newest = 0;
            ops = ops.flatMap((o): Op[] => {
              if (o.op !== 'tick') return [o];
              newest = Math.max(newest, o.tick.timeUs);
              return [o, { op: 'advance', watermarkUs: newest - delayUs }];
            });
          }
          const ref = referenceAccept(ops, latenessUs, true);
          const { bars, agg } = runAggregator(ops, latenessUs);
          assert.equal(agg.stats.ticksLate, ref.late);
          assert.equal(agg.stats.ticksDuplicate, ref.duplicates);
          assert.equal(agg.stats.ticksAccepted, ref.accepted.length);
          SPECS.forEach((spec, i) => {
            assert.deepEqual(
              bars[i].map(strip),
              referenceBars(spec, ref.accepted),
              `spec ${i} (${spec.kind})`,
            );
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('all specs count the same trades: their volumes and notionals add up to the same totals', () => {
    fc.assert(
      fc.property(
        fc.array(rawOp, { minLength: 1, maxLength: 100 }),
        fc.nat(2_000_000),
        (raws, latenessUs) => {
          const { bars } = runAggregator(opsOf(raws, 0), latenessUs);
          const totals = bars.map((bs) => bs.reduce((s, b) => s + b.notional, 0n));
          const volumes = bars.map((bs) => bs.reduce((s, b) => s + b.volume, 0));
          for (const t of totals) assert.equal(t, totals[0]);
          for (const v of volumes) assert.equal(v, volumes[0]);
        },
      ),
      { numRuns: 100 },
    );
  });
});
