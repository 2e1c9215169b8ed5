/**
 * `rialto md prune`: retention for the market data tables. Drops whole day partitions of the ticks and of the
 * bars before the dates given (dropping a partition is instant and frees its space at once, where a DELETE
 * would not), and prints one JSON line naming the days dropped. On PostgreSQL it runs beside the venue; the
 * embedded PGlite store has one user at a time, so there the venue is stopped first.
 */
import { mkdirSync } from 'node:fs';
import { MarketDataStore } from '../marketdata/store/index.js';
import { parseDate } from '../marketdata/time-text.js';
import { migrate, openStore } from '../store/index.js';
import { StoreError, type Store } from '../store/port.js';
import { CliError, type ProgramIo } from './cli-io.js';
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
  let store: Store | null = null;
  try {
    const config = await loadCliConfig(opts, io);
    if (config.database.kind === 'pglite') mkdirSync(config.database.dir, { recursive: true });
    store = await openStore(config.database, { create: true });
    await migrate(store);
    const md = new MarketDataStore(store);
    const ticksDropped =
      s.ticksBefore === null ? [] : await md.dropDaysBefore('md_ticks', s.ticksBefore, s.dryRun);
    const barsDropped =
      s.barsBefore === null ? [] : await md.dropDaysBefore('md_bars', s.barsBefore, s.dryRun);
    return { ticksDropped, barsDropped, dryRun: s.dryRun };
  } catch (e) {
    if (e instanceof StoreError) throw new CliError(e.message);
    throw await startFailure(e);
  } finally {
    await store?.close().catch(() => undefined);
  }
}
