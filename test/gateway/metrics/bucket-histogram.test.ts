/**
 * BucketHistogram: what the registry prints for it is what prom-client's Histogram prints for the same
 * observations (random label sets, values on and between the bounds, resets), and the forms that would lose
 * observations are refused.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { BucketHistogram } from '../../../src/gateway/metrics/bucket-histogram.js';

const BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.1, 1];

function pair(labelNames: readonly ('route' | 'status')[]) {
  const mine = new Registry();
  const theirs = new Registry();
  const config = { name: 'x_seconds', help: 'x', labelNames, buckets: BUCKETS };
  return {
    mine,
    theirs,
    bucket: new BucketHistogram({ ...config, registers: [mine] }),
    reference: new Histogram({ ...config, labelNames: [...labelNames], registers: [theirs] }),
  };
}

// Values on the bounds, between them, past the last, and zero.
const value = fc.oneof(fc.constantFrom(0, ...BUCKETS, 2), fc.double({ min: 0, max: 3, noNaN: true }));

describe('BucketHistogram', () => {
  it("prints what prom-client's Histogram prints for the same observations", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            route: fc.constantFrom('/a', '/b/:id', 'unmatched'),
            status: fc.constantFrom('2xx', '4xx'),
            value,
            bound: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        async (observations) => {
          const { mine, theirs, bucket, reference } = pair(['route', 'status']);
          observations.forEach((o) => {
            const labels = { route: o.route, status: o.status };
            // Both ways in: a series kept by the caller, and observe with the labels.
            if (o.bound) bucket.series(labels).observe(o.value);
            else bucket.observe(labels, o.value);
            reference.observe(labels, o.value);
          });
          assert.equal(await mine.metrics(), await theirs.metrics());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('counts from zero again after a reset, keeping the label sets its callers hold', async () => {
    const { mine, bucket } = pair(['route', 'status']);
    const kept = bucket.series({ route: '/a', status: '2xx' });
    kept.observe(0.003);
    bucket.observe({ route: '/b/:id', status: '4xx' }, 0.2);
    mine.resetMetrics();
    let text = await mine.metrics();
    assert.match(text, /x_seconds_count\{route="\/a",status="2xx"\} 0\n/);
    assert.match(text, /x_seconds_count\{route="\/b\/:id",status="4xx"\} 0\n/);
    kept.observe(0.0007);
    text = await mine.metrics();
    assert.match(text, /x_seconds_bucket\{le="0.0005",route="\/a",status="2xx"\} 0\n/);
    assert.match(text, /x_seconds_bucket\{le="0.001",route="\/a",status="2xx"\} 1\n/);
    assert.match(text, /x_seconds_sum\{route="\/a",status="2xx"\} 0.0007\n/);
  });

  it('without labels, prints its one series from the start, as prom-client does', async () => {
    const { mine, theirs, bucket, reference } = pair([]);
    assert.equal(await mine.metrics(), await theirs.metrics());
    bucket.observe(0.003);
    reference.observe(0.003);
    assert.equal(await mine.metrics(), await theirs.metrics());
  });

  it('refuses what would lose observations: a missing label, labels() and timers, bad buckets', () => {
    const { bucket } = pair(['route', 'status']);
    assert.throws(() => bucket.series({ route: '/a' }), /label status is missing/);
    assert.throws(() => bucket.labels({ route: '/a', status: '2xx' }), /use series/);
    assert.throws(() => bucket.startTimer(), /series/);
    assert.throws(
      () => new BucketHistogram({ name: 'y', help: 'y', labelNames: [], buckets: [1, 0.5], registers: [] }),
      /ascending/,
    );
  });

  it('does not count a NaN (its sum would stay NaN for good)', async () => {
    const { mine, bucket } = pair(['route', 'status']);
    const s = bucket.series({ route: '/a', status: '2xx' });
    s.observe(Number.NaN);
    s.observe(0.002);
    const text = await mine.metrics();
    assert.match(text, /x_seconds_count\{route="\/a",status="2xx"\} 1/);
    assert.match(text, /x_seconds_sum\{route="\/a",status="2xx"\} 0\.002/);
  });
});
