/**
 * Gauges of the venue's state, read when Prometheus scrapes rather than kept up to date by the code that
 * changes the state: the kill switches and trading halts come from the engine's venue report (the core's own
 * state, so a switch set by the core itself, an emergency stop, shows as well as one set over the API), and
 * the projections' lag from each projection's own figures. Alerts watch these (deploy/prometheus/alerts.yml).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { ScrapeRead } from './scrape-read.js';

/** What the venue-state gauges show; `() => engine.venueReport()` gives it, mapped. */
export interface VenueStateFigures {
  readonly venueKillSwitch: boolean;
  /** Accounts whose own kill switch is set. */
  readonly accountKillSwitches: number;
  readonly instruments: readonly { readonly symbol: string; readonly halted: boolean }[];
}
export type VenueStateSource = () => Promise<VenueStateFigures> | VenueStateFigures;

/** A scrape waits at most this long for the venue's state; past it the gauges keep their last values. */
export const STATE_TIMEOUT_MS = 1000;

/** Registers the kill switch and halt gauges on `registry`, read from `source` on each scrape. */
export function registerVenueState(registry: Registry, source: VenueStateSource): void {
  const reader = new ScrapeRead(source, STATE_TIMEOUT_MS);
  const registers = [registry];
  const venueKill: Gauge = new Gauge({
    name: 'rialto_venue_kill_switch_engaged',
    help: "1 while the venue's kill switch is set (every order refused), else 0",
    registers,
    collect: async () => {
      const s = await reader.read();
      if (s !== null) venueKill.set(s.venueKillSwitch ? 1 : 0);
    },
  });
  const accountKills: Gauge = new Gauge({
    name: 'rialto_account_kill_switches_engaged',
    help: 'Accounts whose kill switch is set',
    registers,
    collect: async () => {
      const s = await reader.read();
      if (s !== null) accountKills.set(s.accountKillSwitches);
    },
  });
  const halted: Gauge<'symbol'> = new Gauge({
    name: 'rialto_instrument_halted',
    help: 'By instrument: 1 while trading is halted, else 0',
    labelNames: ['symbol'],
    registers,
    collect: async () => {
      const s = await reader.read();
      if (s === null) return;
      for (const i of s.instruments) halted.set({ symbol: i.symbol }, i.halted ? 1 : 0);
    },
  });
}

/** How far one projection is behind what it projects, as it knows it. */
export interface ProjectionLag {
  /** Records accepted and not yet projected. */
  readonly backlog: number;
  /** When the oldest of them happened (epoch microseconds), or null when there are none. */
  readonly oldestUs: number | null;
  /** Rows written since the process started, for projections into tables that count them. */
  readonly rows?: number;
}
export type ProjectionLagSource = () => ProjectionLag;

/**
 * The projections of the venue's records into other stores (today the audit trail into the query store) and
 * their lag, as `rialto_projection_backlog{projection}` and `rialto_projection_lag_seconds{projection}` (the age
 * of the oldest record not yet projected, 0 when none waits), and `rialto_projection_rows_total{projection}` for
 * those that count the rows they write. A projection registers itself once by name.
 */
export class ProjectionGauges {
  private readonly sources = new Map<string, ProjectionLagSource>();

  constructor(registry: Registry, nowUs: () => number = () => Date.now() * 1000) {
    const sources = this.sources;
    const registers = [registry];
    const backlog: Gauge<'projection'> = new Gauge({
      name: 'rialto_projection_backlog',
      help: 'Records accepted and not yet written by each projection',
      labelNames: ['projection'],
      registers,
      collect: () => {
        for (const [name, source] of sources) backlog.set({ projection: name }, source().backlog);
      },
    });
    const lag: Gauge<'projection'> = new Gauge({
      name: 'rialto_projection_lag_seconds',
      help: 'Age of the oldest record each projection has not yet written (0 when none waits)',
      labelNames: ['projection'],
      registers,
      collect: () => {
        const now = nowUs();
        for (const [name, source] of sources) {
          const oldest = source().oldestUs;
          lag.set({ projection: name }, oldest === null ? 0 : Math.max(0, now - oldest) / 1e6);
        }
      },
    });
    // The projection keeps its own total; the counter takes the difference since the last scrape.
    const counted = new Map<string, number>();
    const rows: Counter<'projection'> = new Counter({
      name: 'rialto_projection_rows_total',
      help: 'Rows written (inserted or updated) by each projection into its tables',
      labelNames: ['projection'],
      registers,
      collect: () => {
        for (const [name, source] of sources) {
          const total = source().rows;
          if (total === undefined) continue;
          // An increase of 0 still shows the series (a projection that had nothing to write yet).
          const added = Math.max(0, total - (counted.get(name) ?? 0));
          rows.inc({ projection: name }, added);
          counted.set(name, total);
        }
      },
    });
  }

  /** Adds a projection; a name is taken once (a second registration is a bug: two writers, one series). */
  register(name: string, source: ProjectionLagSource): void {
    if (this.sources.has(name)) throw new Error(`the projection ${name} is registered already`);
    this.sources.set(name, source);
  }
}
