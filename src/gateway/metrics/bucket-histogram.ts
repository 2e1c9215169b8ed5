/**
 * A histogram for the order path: each label set's observations counted into a typed array of its own, the
 * label set looked up once by its caller (`series`), exported through prom-client's registry as a Histogram's
 * samples. prom-client's `observe` checks the label names and hashes the labels on every call (0.55 to 0.94 µs
 * here, docs/performance.md): once per order for the acknowledgement latency, and once more per request for
 * the HTTP duration. A series' `observe` finds the bucket and adds, nothing else.
 *
 * The exported text is prom-client's for the same observations: cumulative `_bucket` samples with `le` (the
 * bounds as numbers, then `+Inf`), `_sum` and `_count` per label set, in the order the label sets were first
 * seen.
 */
import { Histogram, type LabelValues, type Registry } from 'prom-client';

/** One label set's counts. */
export class BucketSeries {
  /** Observations per bucket: index k counts those at most bounds[k] and above bounds[k - 1]; the last, the rest. */
  readonly counts: Float64Array;
  sum = 0;

  constructor(
    private readonly bounds: Float64Array,
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    // Not a number (a clock read gone wrong) is not counted: NaN would make the sum NaN for good.
    if (Number.isNaN(value)) return;
    const b = this.bounds;
    let k = 0;
    while (k < b.length && value > b[k]) k++;
    this.counts[k]++;
    this.sum += value;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
  }
}

/** One exported sample of a histogram, in the shape prom-client's registry prints. */
export interface HistogramSample {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/** A histogram as prom-client's registry prints it (what `getForPromString` gives). */
export interface HistogramText {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: HistogramSample[];
}

/**
 * Appends one label set's samples to `out` as prom-client prints them: cumulative `_bucket`s by `le` (each
 * bound, then `+Inf`), `_sum` and `_count`. `counts` has one entry per bound and one past the last.
 */
export function pushHistogramSamples(
  out: HistogramSample[],
  name: string,
  bounds: ArrayLike<number>,
  counts: ArrayLike<number>,
  sum: number,
  labels: Readonly<Record<string, string>>,
): void {
  let cumulative = 0;
  for (let k = 0; k < bounds.length; k++) {
    cumulative += counts[k];
    out.push({ metricName: `${name}_bucket`, labels: { le: bounds[k], ...labels }, value: cumulative });
  }
  const count = cumulative + counts[bounds.length];
  out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', ...labels }, value: count });
  out.push({ metricName: `${name}_sum`, labels: { ...labels }, value: sum });
  out.push({ metricName: `${name}_count`, labels: { ...labels }, value: count });
}

export interface BucketHistogramConfig<T extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly T[];
  readonly buckets: readonly number[];
  readonly registers: Registry[];
}

export class BucketHistogram<T extends string> extends Histogram<T> {
  private readonly bounds: Float64Array;
  private readonly byKey = new Map<string, BucketSeries>();

  constructor(private readonly config: BucketHistogramConfig<T>) {
    super({
      name: config.name,
      help: config.help,
      labelNames: [...config.labelNames],
      buckets: [...config.buckets],
      registers: config.registers,
    });
    const sorted = [...config.buckets].every((b, k, all) => k === 0 || all[k - 1] < b);
    if (!sorted || config.buckets.some((b) => !Number.isFinite(b))) {
      throw new RangeError(`${config.name}: buckets must be finite and ascending`);
    }
    this.bounds = Float64Array.from(config.buckets);
    // prom-client's constructor sets `observe` on the instance, which would hide this class's: set it again.
    this.observe = (labels: LabelValues<T> | number | object, value?: number): void =>
      this.record(labels, value);
    // As prom-client: a histogram without labels exports its one series, zeros included, from the start.
    if (config.labelNames.length === 0) this.series({});
  }

  /** The series of one label set (every label named), made on its first use; keep it and observe into it. */
  series(labels: LabelValues<T>): BucketSeries {
    const names = this.config.labelNames;
    let key = '';
    for (let k = 0; k < names.length; k++) {
      const v = labels[names[k]];
      if (v === undefined) throw new TypeError(`${this.config.name}: label ${names[k]} is missing`);
      key += k === 0 ? String(v) : `\u0000${v}`;
    }
    let s = this.byKey.get(key);
    if (s === undefined) {
      const own: Record<string, string> = {};
      for (const n of names) own[n] = String(labels[n]);
      s = new BucketSeries(this.bounds, own);
      this.byKey.set(key, s);
    }
    return s;
  }

  /** prom-client's way, for callers off the order path: the label set's series, looked up on each call. */
  override observe(labels: LabelValues<T> | number | object, value?: number): void {
    this.record(labels, value);
  }

  private record(labels: LabelValues<T> | number | object, value: number | undefined): void {
    if (typeof labels === 'number') this.series({}).observe(labels);
    else if (typeof value === 'number') this.series(labels).observe(value);
    else throw new TypeError(`${this.config.name}: observe(labels, value)`);
  }

  /** Not kept here (its observations would never be exported): `series` is the bound form. */
  override labels(..._args: unknown[]): never {
    throw new Error(`${this.config.name}: use series(labels)`);
  }

  override startTimer(..._args: unknown[]): never {
    throw new Error(`${this.config.name}: observe a series instead of a timer`);
  }

  /**
   * What `registry.resetMetrics()` does to every metric: every count back to zero. Unlike prom-client, the label
   * sets seen stay (exported at zero), since callers keep their series.
   */
  override reset(): void {
    // prom-client's constructor calls it too, before this class's fields are set.
    const byKey = this.byKey as Map<string, BucketSeries> | undefined;
    if (byKey === undefined) return;
    for (const s of byKey.values()) s.reset();
  }

  /** What the registry prints (prom-client calls it, when a metric has it, in place of its observations). */
  async getForPromString(): Promise<HistogramText> {
    const name = this.config.name;
    const values: HistogramSample[] = [];
    for (const s of this.byKey.values())
      pushHistogramSamples(values, name, this.bounds, s.counts, s.sum, s.labels);
    return Promise.resolve({ name, help: this.config.help, type: 'histogram', aggregator: 'sum', values });
  }
}
