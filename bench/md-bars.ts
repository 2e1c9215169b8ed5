/**
 * Bar aggregation microbenchmark: one aggregator with the 1s, 1m, 5m, 1h and 1d time bars at once, fed a
 * synthetic trade stream from typed arrays (no object per tick), the watermark following the newest time as
 * `rialto md aggregate` does, and prints one JSON line.
 *
 *   npm run bench:md-bars -- [--ticks N] [--rate PER_SEC] [--no-dedup] [--lateness-ms MS]
 *
 * Trades arrive at --rate per second of event time (default 1,000,000, the pipeline's target), one in a hundred
 * up to 50 ms out of order; prices wander in integer ticks. One warm-up pass, then three measured passes on
 * fresh aggregators; `ticksPerSec` is their median.
 */
import { performance } from 'node:perf_hooks';
import { BarAggregator, type BarSpec } from '../src/marketdata/index.js';
import { benchArgs, median, peakRssMB, xorshift32 } from './common.js';

const { values } = benchArgs('md-bars', {
  options: {
    ticks: { type: 'string', default: '2000000' },
    rate: { type: 'string', default: '1000000' },
    'no-dedup': { type: 'boolean', default: false },
    'lateness-ms': { type: 'string', default: '100' },
  },
});
const TICKS = Number(values.ticks);
const RATE = Number(values.rate);
const LATENESS_US = Number(values['lateness-ms']) * 1000;
const DEDUP = !values['no-dedup'];
const MEASURED_PASSES = 3;
const SPECS: BarSpec[] = [60 * 60 * 24, 60 * 60, 5 * 60, 60, 1].map((periodSec) => ({
  kind: 'time',
  periodSec,
}));
const T0_US = 1_704_186_000_000_000; // 2024-01-02T09:00:00Z

/** A deterministic stream (xorshift), so that every run measures the same input. */
function makeStream(n: number): { timeUs: Float64Array; price: Float64Array; size: Float64Array } {
  const timeUs = new Float64Array(n);
  const price = new Float64Array(n);
  const size = new Float64Array(n);
  const state = xorshift32(0x2545f491);
  const next = (): number => state() / 2 ** 32;
  let p = 6_000_000;
  for (let i = 0; i < n; i++) {
    const onTime = T0_US + Math.floor((i * 1e6) / RATE);
    timeUs[i] = next() < 0.01 ? Math.max(T0_US, onTime - Math.floor(next() * 50_000)) : onTime;
    p = Math.max(1, p + Math.round((next() - 0.5) * 10));
    price[i] = p;
    size[i] = 1 + Math.floor(next() * 1000);
  }
  return { timeUs, price, size };
}

function pass(s: ReturnType<typeof makeStream>): { seconds: number; bars: number; late: number } {
  const agg = new BarAggregator({ specs: SPECS, latenessUs: LATENESS_US, dedup: DEDUP });
  const { timeUs, price, size } = s;
  let newest = 0;
  let bars = 0;
  const t0 = performance.now();
  for (let i = 0; i < TICKS; i++) {
    const t = timeUs[i];
    bars += agg.pushTrade(t, 0, price[i], size[i], i);
    if (t > newest) {
      newest = t;
      bars += agg.advanceWatermark(t);
    }
  }
  bars += agg.flush();
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, bars, late: agg.stats.ticksLate };
}

const stream = makeStream(TICKS);
const warm = pass(stream);
const runs = Array.from({ length: MEASURED_PASSES }, () => pass(stream));
console.log(
  JSON.stringify({
    bench: 'md-bars',
    ticks: TICKS,
    specs: '1s,1m,5m,1h,1d',
    dedup: DEDUP,
    latenessMs: LATENESS_US / 1000,
    ticksPerSec: Math.round(median(runs.map((r) => TICKS / r.seconds))),
    coldTicksPerSec: Math.round(TICKS / warm.seconds),
    eventsPerPass: runs[0].bars,
    lateTicks: runs[0].late,
    peakRssMB: peakRssMB(),
  }),
);
