/** What the benchmarks share: the peer run through ../shared's harness, medians, the machine's figures. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** nodejs-order-book on the same file, through the shared harness: its operations per second. */
export function peerOpsPerSec(path: string): number {
  const script = resolve('../shared/bench/orderbook/peer.sh');
  if (!existsSync(script)) throw new Error(`--peer needs ${script}`);
  const run = spawnSync('bash', [script, path, 'throughput'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) throw new Error(`peer.sh failed: ${run.stderr.slice(-500)}`);
  return (JSON.parse(line) as { opsPerSec: number }).opsPerSec;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export function peakRssMB(): number {
  return +(process.resourceUsage().maxRSS / 1024).toFixed(1);
}
