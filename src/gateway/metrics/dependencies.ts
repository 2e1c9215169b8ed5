/**
 * The dependencies' circuit breakers and retries (src/ops/resilience.ts) in /metrics, read on each scrape:
 * `rialto_dependency_circuit_state{dependency}` (0 closed, 1 half open, 2 open) and counters of failures,
 * retries, calls refused while open, and openings. Label values are the venue's dependencies (postgres, redis,
 * nats): a bounded set.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CircuitStateName, DependencyStats } from '../../ops/index.js';

export type DependencyStatsSource = () => readonly DependencyStats[];

const STATE_VALUE: Record<CircuitStateName, number> = { closed: 0, half_open: 1, open: 2 };

const COUNTED = [
  ['failures', 'rialto_dependency_failures_total', 'Calls to a dependency that failed because of it'],
  [
    'retries',
    'rialto_dependency_retries_total',
    'Calls to a dependency tried again after a failure before sending',
  ],
  ['rejected', 'rialto_dependency_rejected_total', 'Calls refused at once because the circuit was open'],
  ['opened', 'rialto_dependency_circuit_opened_total', 'Times a circuit breaker opened'],
] as const;

export function registerDependencyStats(registry: Registry, source: DependencyStatsSource): void {
  const state = new Gauge({
    name: 'rialto_dependency_circuit_state',
    help: 'Circuit breaker state of a dependency: 0 closed, 1 half open, 2 open',
    labelNames: ['dependency'],
    registers: [registry],
    collect: () => {
      for (const s of source()) state.set({ dependency: s.dependency }, STATE_VALUE[s.state]);
    },
  });
  for (const [field, name, help] of COUNTED) {
    const last = new Map<string, number>();
    const counter: Counter<'dependency'> = new Counter({
      name,
      help,
      labelNames: ['dependency'],
      registers: [registry],
      collect: () => {
        for (const s of source()) {
          const value = s[field];
          const added = value - (last.get(s.dependency) ?? 0);
          last.set(s.dependency, value);
          // Zero too, so that every dependency's series exists from the first scrape on.
          counter.inc({ dependency: s.dependency }, Math.max(0, added));
        }
      },
    });
  }
}

/** What the readiness probes answered: per check, 'ok' or why not. */
export type ReadinessChecksSource = () => Promise<{ readonly checks: Readonly<Record<string, string>> }>;

/**
 * `rialto_readiness_check{check}`: 1 while the part answers its readiness probe, 0 while it does not, from a
 * run of the probes at each scrape (each bounded, as for `/ready`). It shows every dependency, NATS included,
 * which has no circuit breaker; the label values are the venue's parts (engine, store, audit, redis, nats,
 * marketData).
 */
export function registerReadinessChecks(registry: Registry, source: ReadinessChecksSource): void {
  const gauge: Gauge<'check'> = new Gauge({
    name: 'rialto_readiness_check',
    help: 'Whether a part of the venue answers its readiness probe: 1 ok, 0 failing',
    labelNames: ['check'],
    registers: [registry],
    collect: async () => {
      // The venue's probes never throw; another source that does leaves the last values, not a failed scrape.
      const checks = await source().then(
        (r) => r.checks,
        () => ({}),
      );
      for (const [check, answer] of Object.entries(checks)) gauge.set({ check }, answer === 'ok' ? 1 : 0);
    },
  });
}
