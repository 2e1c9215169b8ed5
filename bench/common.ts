/** What the benchmarks share: the peer run through ../shared's harness, medians, the machine's figures. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** nodejs-order-book on the same file, through the shared harness: its operations per second. */
export function peerOpsPerSec(path: string): number {
  const script = resolve('../shared/bench/orderbook/peer.sh');
  if (!existsSync(script)) throw new Error(`--peer needs ${script}`);
  const run = spawnSync('bash', [script, path, 'throughput'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) throw new Error(`peer.sh failed: ${run.stderr.slice(-500)}`);
  return (JSON.parse(line) as { opsPerSec: number }).opsPerSec;
}

/**
 * A benchmark's command line: `config` parsed strictly, as parseArgs does, but `-h`/`--help` prints the usage
 * (made from the options, so that it cannot drift from them) and exits 0, and a bad option prints its error and
 * the usage and exits 2, instead of a stack trace. `name` is the npm script's suffix (`api` for bench:api).
 */
export function benchArgs<T extends ParseArgsConfig>(
  name: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  const options = Object.entries(config.options ?? {}).map(([key, o]) => {
    const value = o.type === 'string' ? ` ${key.replace(/-/g, '_').toUpperCase()}` : '';
    const fallback =
      o.default === undefined || o.default === false ? '' : ` (default ${JSON.stringify(o.default)})`;
    return `  --${key}${value}${fallback}`;
  });
  const usage = [
    `usage: npm run bench:${name} -- [options]`,
    `Prints one JSON line; bench/${name}.ts describes what it measures. Options:`,
    ...options,
  ].join('\n');
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (e) {
    console.error(`bench:${name}: ${e instanceof Error ? e.message : String(e)}\n${usage}`);
    process.exit(2);
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export function peakRssMB(): number {
  return +(process.resourceUsage().maxRSS / 1024).toFixed(1);
}

/**
 * Latencies in whole microseconds, counted in log-linear buckets (as HdrHistogram does: 64 linear steps per
 * power of two, so a percentile is within 1/64 of the truth), recorded without allocating: a benchmark's
 * own bookkeeping must not be what it measures.
 */
export class LatencyHistogram {
  private static readonly SUB = 64;
  private readonly counts = new Float64Array(32 * LatencyHistogram.SUB);
  private total = 0;

  record(us: number): void {
    const v = us < 1 ? 0 : Math.min(Math.floor(us), 2 ** 31 - 1);
    this.counts[LatencyHistogram.bucket(v)]++;
    this.total++;
  }

  get count(): number {
    return this.total;
  }

  /** The p-quantile (0 < p ≤ 1): the upper edge of the bucket it falls in. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(p * this.total));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b];
      if (seen >= rank) return LatencyHistogram.upper(b);
    }
    return LatencyHistogram.upper(this.counts.length - 1);
  }

  private static bucket(v: number): number {
    const SUB = LatencyHistogram.SUB;
    if (v < SUB) return v;
    const e = 31 - Math.clz32(v) - 6; // v >> e lies in [SUB, 2 * SUB)
    return e * SUB + (v >> e);
  }

  private static upper(b: number): number {
    const SUB = LatencyHistogram.SUB;
    if (b < 2 * SUB) return b;
    const e = Math.floor(b / SUB) - 1;
    return ((b - e * SUB + 1) << e) - 1;
  }
}

/**
 * xorshift32 from `seed` (0 taken as 1): each call gives the next state, a whole number in 1 .. 2^32 - 1. Fast
 * and good enough to shape a workload; the same seed gives the same workload on every run.
 */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
