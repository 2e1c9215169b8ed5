/** Unit tests of the bar aggregator: alignment, OHLCV and VWAP, the watermark, lateness, duplicates, limits. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  BarAggregator,
  BarError,
  vwapText,
  type Bar,
  type BarEvent,
  type BarSpec,
  type Tick,
} from '../../src/marketdata/index.js';

const SEC = 1_000_000;
const DAY_US = 86_400 * SEC;
/** 2024-01-02T00:00:00Z in µs. */
const DAY0 = 1_704_153_600 * SEC;
let nextId = 1;
const tick = (timeUs: number, price: number, size: number, id = nextId++, timeNs = 0): Tick => ({
  timeUs,
  timeNs,
  price,
  size,
  id,
});

function agg(specs: BarSpec[], latenessUs = 0, dedup = true): BarAggregator {
  return new BarAggregator({ specs, latenessUs, dedup });
}

const bars = (events: readonly BarEvent[]): Bar[] =>
  events.flatMap((e) => (e.type === 'BarClosed' || e.type === 'BarCorrected' ? [e.bar] : []));
const types = (events: readonly BarEvent[]): string[] => events.map((e) => e.type);

describe('time bars', () => {
  it('align to UTC boundaries and carry OHLCV, notional and count', () => {
    const a = agg([{ kind: 'time', periodSec: 60 }]);
    const t = DAY0 + 9 * 3600 * SEC + 30 * SEC; // 09:00:30
    a.push(tick(t, 100, 2));
    a.push(tick(t + 10 * SEC, 105, 1));
    a.push(tick(t + 5 * SEC, 99, 3)); // out of order, but before the watermark closes the bar
    a.push(tick(t + 20 * SEC, 101, 4));
    assert.equal(a.advanceWatermark(DAY0 + 9 * 3600 * SEC + 60 * SEC), 1);
    const [bar] = bars(a.events);
    assert.equal(bar.startUs, DAY0 + 9 * 3600 * SEC);
    assert.equal(bar.endUs, bar.startUs + 60 * SEC);
    assert.deepEqual([bar.open, bar.high, bar.low, bar.close], [100, 105, 99, 101]);
    assert.equal(bar.volume, 10);
    assert.equal(bar.notional, 200n + 105n + 297n + 404n);
    assert.equal(bar.count, 4);
    assert.equal(bar.revision, 0);
    assert.equal(vwapText(bar.notional, bar.volume, 0, 4), '100.6');
  });

  it('a day bar starts at UTC midnight', () => {
    const a = agg([{ kind: 'time', periodSec: 86_400 }]);
    a.push(tick(DAY0 + 13 * 3600 * SEC + 7, 5, 1));
    a.flush();
    const [bar] = bars(a.events);
    assert.equal(bar.startUs, DAY0);
    assert.equal(bar.endUs, DAY0 + DAY_US);
  });

  it('open and close follow event time, then id, not arrival', () => {
    const a = agg([{ kind: 'time', periodSec: 1 }]);
    a.push(tick(DAY0 + 500, 3, 1, 20, 7));
    a.push(tick(DAY0 + 500, 1, 1, 10, 7)); // same time, smaller id: it opens
    a.push(tick(DAY0 + 900, 4, 1, 5, 1));
    a.push(tick(DAY0 + 900, 2, 1, 6, 0)); // same µs, fewer ns: before the one above
    a.flush();
    const [bar] = bars(a.events);
    assert.equal(bar.open, 1);
    assert.equal(bar.close, 4);
  });

  it('closes once, when the watermark reaches the end; a watermark never goes back', () => {
    const a = agg([{ kind: 'time', periodSec: 1 }]);
    a.push(tick(DAY0 + 100, 10, 1));
    assert.equal(a.advanceWatermark(DAY0 + SEC - 1), 0);
    assert.equal(a.advanceWatermark(DAY0 + SEC), 1);
    assert.equal(a.advanceWatermark(DAY0 + SEC), 0);
    assert.equal(a.advanceWatermark(DAY0), 0);
    assert.equal(a.watermarkUs, DAY0 + SEC);
    assert.equal(a.flush(), 0);
  });

  it('a late tick within the lateness re-emits the corrected bar; one beyond it is dropped and counted', () => {
    const a = agg([{ kind: 'time', periodSec: 1 }], 2 * SEC);
    a.push(tick(DAY0 + 100, 10, 1));
    a.advanceWatermark(DAY0 + 2 * SEC);
    assert.deepEqual(types(a.events), ['BarClosed']);
    a.push(tick(DAY0 + 200, 12, 2)); // 1.8 s behind the watermark: within 2 s
    assert.deepEqual(types(a.events), ['BarCorrected']);
    const [fixed] = bars(a.events);
    assert.deepEqual([fixed.revision, fixed.count, fixed.high, fixed.close, fixed.volume], [1, 2, 12, 12, 3]);
    a.advanceWatermark(DAY0 + 3 * SEC);
    a.push(tick(DAY0 + SEC - 1, 11, 1)); // 2.000001 s behind
    assert.deepEqual(types(a.events), ['LateTickDropped']);
    a.push(tick(DAY0 + SEC, 11, 1)); // exactly 2 s behind: still accepted, into a closed empty period
    assert.deepEqual(types(a.events), ['BarClosed']);
    assert.deepEqual(a.stats, { ticksAccepted: 3, ticksLate: 1, ticksDuplicate: 0 });
  });

  it('forgets a bar once no acceptable tick can reach it', () => {
    const a = agg([{ kind: 'time', periodSec: 1 }], SEC);
    a.push(tick(DAY0, 1, 1));
    a.advanceWatermark(DAY0 + SEC);
    assert.equal(a.held.liveTimeBars, 1);
    a.advanceWatermark(DAY0 + 2 * SEC);
    assert.equal(a.held.liveTimeBars, 0);
  });
});

describe('the bar still forming', () => {
  it('is the latest time bar with trades not closed yet, equal to what closes it, and none once closed', () => {
    const a = agg([{ kind: 'time', periodSec: 60 }], 30 * SEC);
    assert.equal(a.formingBar(0), null, 'no trades: no bar');
    const t = DAY0 + 9 * 3600 * SEC;
    a.push(tick(t + 10 * SEC, 100, 2));
    a.push(tick(t + 61 * SEC, 103, 1)); // the next minute's first trade
    a.advanceWatermark(t + 61 * SEC);
    a.push(tick(t + 62 * SEC, 101, 3));
    const forming = a.formingBar(0);
    assert.ok(forming !== null);
    assert.equal(forming.startUs, t + 60 * SEC, 'the later of two open periods');
    assert.deepEqual(
      [forming.open, forming.high, forming.low, forming.close, forming.volume],
      [103, 103, 101, 101, 4],
    );
    a.advanceWatermark(t + 120 * SEC);
    const closed = bars(a.events).find((b) => b.startUs === t + 60 * SEC);
    assert.deepEqual(closed, forming, 'the bar that closes is the one shown forming');
    assert.equal(a.formingBar(0), null);
    assert.equal(a.formingBar(7), null, 'no such spec');
  });

  it('is the tick, volume or dollar bar being filled, from the ticks released to it', () => {
    const a = agg([{ kind: 'tick', ticks: 3 }]);
    const t = DAY0 + 3600 * SEC;
    a.push(tick(t, 10, 1));
    a.push(tick(t + SEC, 12, 1));
    a.advanceWatermark(t + 2 * SEC);
    const forming = a.formingBar(0);
    assert.ok(forming !== null);
    assert.deepEqual([forming.count, forming.open, forming.close], [2, 10, 12]);
    a.push(tick(t + 3 * SEC, 11, 1));
    a.advanceWatermark(t + 4 * SEC);
    assert.equal(bars(a.events).length, 1, 'the third tick closed it');
    assert.equal(a.formingBar(0), null);
  });
});

describe('duplicates', () => {
  it('a tick whose id was accepted before is dropped and counted, not added twice', () => {
    const a = agg([{ kind: 'time', periodSec: 1 }], SEC);
    const t = tick(DAY0 + 10, 50, 5, 77);
    a.push(t);
    assert.deepEqual(types(a.events), []);
    a.push(t);
    assert.deepEqual(types(a.events), ['DuplicateTickDropped']);
    a.push({ ...t, price: 60 }); // same id, other fields: still the same trade
    a.flush();
    const [bar] = bars(a.events);
    assert.deepEqual([bar.count, bar.volume, bar.high], [1, 5, 50]);
    assert.equal(a.stats.ticksDuplicate, 2);
  });

  it('without dedup, equal ids are distinct trades', () => {
    const a = agg([{ kind: 'tick', ticks: 10 }], 0, false);
    a.push(tick(DAY0, 1, 1, 1));
    a.push(tick(DAY0, 1, 1, 1));
    a.flush();
    assert.equal(bars(a.events)[0].count, 2);
  });
});

describe('tick, volume and dollar bars', () => {
  it('a trade that crosses the volume threshold is not split: it closes the bar', () => {
    const a = agg([{ kind: 'volume', size: 10 }]);
    for (const [i, size] of [4, 4, 5, 3, 7].entries()) a.push(tick(DAY0 + i, 100 + i, size));
    a.flush();
    assert.deepEqual(
      bars(a.events).map((b) => [b.volume, b.count]),
      [
        [13, 3],
        [10, 2],
      ],
    );
  });

  it('ticks wait for the watermark and are counted in event-time order', () => {
    const a = agg([{ kind: 'tick', ticks: 2 }]);
    a.push(tick(DAY0 + 30, 3, 1, 3));
    a.push(tick(DAY0 + 10, 1, 1, 1));
    a.push(tick(DAY0 + 20, 2, 1, 2));
    assert.equal(a.advanceWatermark(DAY0 + 20), 0); // releases the tick at 10 only: a bar needs two
    assert.equal(a.held.reorderTicks, 2);
    a.push(tick(DAY0 + 20, 9, 1, 0, 0)); // at the horizon, so accepted, and before the held tick at 20 (id 2)
    a.flush();
    assert.deepEqual(
      bars(a.events).map((b) => [b.open, b.close]),
      [
        [1, 9],
        [2, 3],
      ],
    );
  });

  it('dollar bars close when the exact notional reaches the threshold, also past 2^53', () => {
    const big = 2n ** 60n;
    const a = agg([{ kind: 'dollar', notional: big }]);
    a.push(tick(DAY0, 2 ** 30, 2 ** 29)); // 2^59
    a.push(tick(DAY0 + 1, 2 ** 30, 2 ** 29 - 1)); // 2^60 - 2^30: just short
    assert.equal(a.advanceWatermark(DAY0 + 2), 0);
    a.push(tick(DAY0 + 2, 2 ** 30, 1)); // exactly 2^60
    a.advanceWatermark(DAY0 + 3);
    const [bar] = bars(a.events);
    assert.equal(bar.notional, big);
    assert.equal(bar.count, 3);
  });
});

describe('exact arithmetic and limits', () => {
  it('notional stays exact across the 2^53 boundary of its fast path', () => {
    const a = agg([{ kind: 'time', periodSec: 1 }]);
    const safe = Number.MAX_SAFE_INTEGER;
    a.push(tick(DAY0, safe - 1, 1));
    a.push(tick(DAY0 + 1, 3, 1));
    a.push(tick(DAY0 + 2, 2 ** 27, 2 ** 27)); // product 2^54: the bigint path
    a.flush();
    assert.equal(bars(a.events)[0].notional, BigInt(safe) + 2n + 2n ** 54n);
  });

  it('a volume past 2^53 units is refused, and the aggregator refuses everything after', () => {
    const a = agg([{ kind: 'time', periodSec: 1 }]);
    a.push(tick(DAY0, 1, Number.MAX_SAFE_INTEGER));
    assert.throws(
      () => a.push(tick(DAY0 + 1, 1, 1)),
      (e: unknown) => e instanceof BarError && e.code === 'VOLUME_OVERFLOW',
    );
    assert.throws(
      () => a.flush(),
      (e: unknown) => e instanceof BarError && e.code === 'FLUSHED',
    );
  });

  it('refuses bad ticks without counting them, and bad specs', () => {
    const a = agg([{ kind: 'time', periodSec: 1 }]);
    const good = tick(DAY0, 1, 1);
    for (const bad of [
      { ...good, timeUs: -1 },
      { ...good, timeUs: 1.5 },
      { ...good, timeNs: 1000 },
      { ...good, price: 0 },
      { ...good, size: -2 },
      { ...good, size: 2 ** 53 },
      { ...good, id: -1 },
    ]) {
      assert.throws(
        () => a.push(bad),
        (e: unknown) => e instanceof BarError && e.code === 'BAD_TICK',
      );
    }
    assert.equal(a.stats.ticksAccepted, 0);
    a.push(good);
    assert.equal(a.stats.ticksAccepted, 1);
    for (const specs of [
      [],
      [{ kind: 'time', periodSec: 7 }],
      [{ kind: 'time', periodSec: 0 }],
      [{ kind: 'tick', ticks: 0 }],
      [{ kind: 'volume', size: 1.5 }],
      [{ kind: 'dollar', notional: 0n }],
    ] as BarSpec[][]) {
      assert.throws(
        () => agg(specs),
        (e: unknown) => e instanceof BarError && e.code === 'BAD_SPEC',
      );
    }
    assert.throws(
      () => agg([{ kind: 'tick', ticks: 1 }], -1),
      (e: unknown) => e instanceof BarError && e.code === 'BAD_SPEC',
    );
  });

  it('after a flush, every call is refused', () => {
    const a = agg([{ kind: 'tick', ticks: 1 }]);
    a.flush();
    assert.throws(
      () => a.push(tick(DAY0, 1, 1)),
      (e: unknown) => e instanceof BarError && e.code === 'FLUSHED',
    );
  });
});
