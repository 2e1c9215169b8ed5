/**
 * `rialto md prune`: retention for the market data tables. Drops whole day partitions of the ticks and of the
 * bars before the dates given (dropping a partition is instant and frees its space at once, where a DELETE
 * would not), and prints one JSON line naming the days dropped; a drop (not a dry run) is written to the audit
 * trail. On PostgreSQL it runs beside the venue; the embedded PGlite store has one user at a time, so there it
 * takes the data directory's lock, and a running venue must be stopped first.
 */
import { mkdirSync } from 'node:fs';
import { MarketDataStore } from '../marketdata/store/index.js';
import { parseDate } from '../marketdata/time-text.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { auditCli, withStore } from './cli-store.js';
import { loadCliConfig, startFailure } from './serving.js';

export interface MdPruneOptions {
  ticksBefore?: string;
  barsBefore?: string;
  dryRun?: boolean;
  config?: string;
}

export interface PruneSettings {
  /** Day numbers (since 1970): partitions of earlier days go; null: that table is kept whole. */
  ticksBefore: number | null;
  barsBefore: number | null;
  dryRun: boolean;
}

export interface PruneSummary {
  ticksDropped: string[];
  barsDropped: string[];
  dryRun: boolean;
}

function dayOf(text: string | undefined, option: string): number | null {
  if (text === undefined) return null;
  const sec = parseDate(text);
  if (sec === null) throw new CliError(`${option} "${text}" is not a date (YYYY-MM-DD)`);
  return sec / 86_400;
}

/** The options checked (a usage error names the option). */
export function pruneSettingsOf(opts: MdPruneOptions): PruneSettings {
  const ticksBefore = dayOf(opts.ticksBefore, '--ticks-before');
  const barsBefore = dayOf(opts.barsBefore, '--bars-before');
  if (ticksBefore === null && barsBefore === null) {
    throw new CliError('give --ticks-before DATE, --bars-before DATE or both');
  }
  return { ticksBefore, barsBefore, dryRun: opts.dryRun === true };
}

export async function prune(opts: MdPruneOptions, s: PruneSettings, io: ProgramIo): Promise<PruneSummary> {
  try {
    const config = await loadCliConfig(opts, io);
    if (config.database.kind === 'pglite') mkdirSync(config.database.dir, { recursive: true });
    return await withStore(config, 'rialto md prune', true, async (store) => {
      if (store === null) throw new Error('withStore(create: true) gave no store');
      const md = new MarketDataStore(store);
      const ticksDropped =
        s.ticksBefore === null ? [] : await md.dropDaysBefore('md_ticks', s.ticksBefore, s.dryRun);
      const barsDropped =
        s.barsBefore === null ? [] : await md.dropDaysBefore('md_bars', s.barsBefore, s.dryRun);
      // Dropping data is recorded; a dry run changes nothing.
      if (!s.dryRun) {
        await auditCli(config, store, {
          action: 'market_data.prune',
          target: { kind: 'venue', id: null },
          result: { status: 'ok', code: null },
          details: {
            ticks_before: dateOf(s.ticksBefore),
            bars_before: dateOf(s.barsBefore),
            ticks_days_dropped: ticksDropped.length,
            bars_days_dropped: barsDropped.length,
          },
        });
      }
      return { ticksDropped, barsDropped, dryRun: s.dryRun };
    });
  } catch (e) {
    throw await startFailure(e);
  }
}

/** A day number as the date it was given as (YYYY-MM-DD), or null. */
const dateOf = (day: number | null): string | null =>
  day === null ? null : new Date(day * 86_400_000).toISOString().slice(0, 10);
