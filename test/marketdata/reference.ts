/**
 * A brute-force reference for the bar aggregator: it decides acceptance tick by tick with the rule as the
 * documentation states it, then recomputes every bar from the accepted ticks alone (grouped, sorted, summed
 * with bigints), with none of the aggregator's incremental state.
 */
import type { BarSpec, Tick } from '../../src/marketdata/index.js';

export interface RefBar {
  startUs: number;
  startNs: number;
  endUs: number;
  endNs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  notional: bigint;
  count: number;
}

export type Op = { op: 'tick'; tick: Tick } | { op: 'advance'; watermarkUs: number };

export interface RefRun {
  accepted: Tick[];
  late: number;
  duplicates: number;
}

/** A tick is late if before watermark − lateness; else a duplicate if an accepted tick had its id. */
export function referenceAccept(ops: readonly Op[], latenessUs: number, dedup: boolean): RefRun {
  let w = 0;
  const ids = new Set<number>();
  const accepted: Tick[] = [];
  let late = 0;
  let duplicates = 0;
  for (const o of ops) {
    if (o.op === 'advance') {
      w = Math.max(w, o.watermarkUs);
      continue;
    }
    const t = o.tick;
    if (t.timeUs < w - latenessUs) late++;
    else if (dedup && ids.has(t.id)) duplicates++;
    else {
      ids.add(t.id);
      accepted.push(t);
    }
  }
  return { accepted, late, duplicates };
}

const byTime = (a: Tick, b: Tick): number => a.timeUs - b.timeUs || a.timeNs - b.timeNs || a.id - b.id;

function barOf(ticks: readonly Tick[]): RefBar {
  const sorted = [...ticks].sort(byTime);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  return {
    startUs: first.timeUs,
    startNs: first.timeNs,
    endUs: last.timeUs,
    endNs: last.timeNs,
    open: first.price,
    close: last.price,
    high: Math.max(...sorted.map((t) => t.price)),
    low: Math.min(...sorted.map((t) => t.price)),
    volume: sorted.reduce((s, t) => s + t.size, 0),
    notional: sorted.reduce((s, t) => s + BigInt(t.price) * BigInt(t.size), 0n),
    count: sorted.length,
  };
}

/** The bars of one spec over the accepted ticks, in order of start. */
export function referenceBars(spec: BarSpec, accepted: readonly Tick[]): RefBar[] {
  if (spec.kind === 'time') {
    const periodUs = spec.periodSec * 1_000_000;
    const groups = new Map<number, Tick[]>();
    for (const t of accepted) {
      const start = Math.floor(t.timeUs / periodUs) * periodUs;
      groups.set(start, [...(groups.get(start) ?? []), t]);
    }
    return [...groups.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([start, ticks]) => ({
        ...barOf(ticks),
        startUs: start,
        startNs: 0,
        endUs: start + periodUs,
        endNs: 0,
      }));
  }
  const bars: RefBar[] = [];
  let current: Tick[] = [];
  for (const t of [...accepted].sort(byTime)) {
    current.push(t);
    const b = barOf(current);
    const reached =
      spec.kind === 'tick'
        ? b.count >= spec.ticks
        : spec.kind === 'volume'
          ? b.volume >= spec.size
          : b.notional >= spec.notional;
    if (reached) {
      bars.push(b);
      current = [];
    }
  }
  if (current.length > 0) bars.push(barOf(current));
  return bars;
}
