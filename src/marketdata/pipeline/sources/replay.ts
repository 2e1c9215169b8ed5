/**
 * File replay: trades or quotes from CSV or JSON Lines, as raw events, paced by their event times at a speed
 * factor (1: as they happened, 10: ten times faster, 'max': as fast as the pipeline takes them), for
 * simulation and backfill. A line it cannot read becomes a raw event of the `unparsed.v1` schema carrying the
 * reason, so that normalize dead-letters it with the line named: nothing is skipped silently.
 *
 * CSV: a header naming the columns (`time,price,size` and optionally `symbol`, `side`, `id` for trades;
 * `time,bid,bid_size,ask,ask_size` and optionally `symbol` for quotes), fields separated by commas, no
 * quoting. JSONL: one object per line with the same fields. A file without a symbol takes `options.symbol`.
 * LOBSTER: a message file (`time,type,order id,size,price,direction`, no header; ../shared/formats/lobster.md)
 * of `options.symbol` on `options.midnightSec`'s day: its executions (types 4 and 5, and 6, a cross trade,
 * whose aggressor is unknown) are the trades, at the price / 10,000 and the line number as id, the aggressor
 * the side opposite the executed order's (direction 1, a buy order, was hit by a seller); its other messages
 * (submits, cancels, deletes, halts) change the book, not the trades, and are counted as `skipped`.
 * Event ids are `file:NAME:LINE`, so replaying a file again gives the same ids.
 */
import { formatTime, parseIsoTime, parseSecondsAfterMidnight } from '../../time-text.js';
import type { RawEvent } from '../raw.js';
import type { SourceSchema } from '../schemas.js';
import type { Scheduler } from './scheduler.js';

export type ReplaySpeed = number | 'max';

export interface ReplayOptions {
  /** Names the source (`file:NAME`) and the event ids. */
  readonly name: string;
  readonly format: 'csv' | 'jsonl' | 'lobster';
  readonly kind: 'trade' | 'quote';
  readonly speed: ReplaySpeed;
  readonly scheduler: Scheduler;
  readonly symbol?: string;
  /** The schema names to stamp (default `trade.v1` / `quote.v1`). */
  readonly schema?: string;
  /** LOBSTER: the UTC midnight (s since the epoch) its times count from. */
  readonly midnightSec?: number;
}

export interface ReplayReport {
  lines: number;
  events: number;
  unparsed: number;
  /** LOBSTER messages that are not trades (submits, cancels, deletes, halts): read, counted, not replayed. */
  skipped: number;
  /** How often the replay waited for its clock. */
  waits: number;
}

/** A schema for lines a source could not read: every payload is dead-lettered with the source's reason. */
export const unparsedSchema: SourceSchema = {
  name: 'unparsed.v1',
  decode(p) {
    const reason = typeof p === 'object' && p !== null && 'reason' in p ? String(p.reason) : 'unparsed';
    return reason;
  },
};

function checkSpeed(speed: ReplaySpeed): void {
  if (speed === 'max') return;
  if (!Number.isFinite(speed) || speed <= 0)
    throw new Error(`replay: speed must be positive or 'max', not ${speed}`);
}

/** Replays `lines` (a file's lines, header included for CSV) into `sink`, paced by event time. */
export async function replayLines(
  lines: Iterable<string> | AsyncIterable<string>,
  options: ReplayOptions,
  sink: (raw: RawEvent) => void,
): Promise<ReplayReport> {
  checkSpeed(options.speed);
  if (options.format === 'lobster') {
    if (options.kind !== 'trade') throw new Error('replay: LOBSTER messages replay as trades only');
    if (options.symbol === undefined || options.midnightSec === undefined)
      throw new Error('replay: LOBSTER messages need a symbol and a date');
  }
  const report: ReplayReport = { lines: 0, events: 0, unparsed: 0, skipped: 0, waits: 0 };
  const source = `file:${options.name}`;
  const schema = options.schema ?? (options.kind === 'trade' ? 'trade.v1' : 'quote.v1');
  const s = options.scheduler;
  let header: string[] | null = null;
  let firstEventUs = NaN;
  let startUs = NaN;
  for await (const text of lines) {
    report.lines++;
    const lineNo = report.lines;
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.trim() === '' && options.format !== 'csv') continue;
    if (options.format === 'csv' && header === null) {
      header = line
        .replace(/^\uFEFF/, '')
        .split(',')
        .map((h) => h.trim());
      continue;
    }
    const parsed =
      options.format === 'csv'
        ? csvRow(header ?? [], line)
        : options.format === 'jsonl'
          ? jsonRow(line)
          : lobsterTrade(line, options.midnightSec ?? 0, lineNo);
    if (parsed === null) {
      report.skipped++;
      continue;
    }
    const id = `${source}:${lineNo}`;
    if (typeof parsed === 'string') {
      report.unparsed++;
      report.events++;
      sink({
        id,
        source,
        schema: unparsedSchema.name,
        receivedUs: s.nowUs(),
        payload: { reason: `line ${lineNo}: ${parsed}`, line },
      });
      continue;
    }
    if (parsed.symbol === undefined && options.symbol !== undefined) parsed.symbol = options.symbol;
    const eventTime = typeof parsed.time === 'string' ? parseIsoTime(parsed.time) : null;
    if (eventTime !== null && options.speed !== 'max') {
      if (Number.isNaN(firstEventUs)) {
        firstEventUs = eventTime.timeUs;
        startUs = s.nowUs();
      }
      const dueUs = startUs + Math.floor((eventTime.timeUs - firstEventUs) / options.speed);
      if (dueUs > s.nowUs()) {
        report.waits++;
        await s.sleepUntil(dueUs);
      }
    }
    report.events++;
    sink({ id, source, schema, receivedUs: s.nowUs(), payload: parsed });
  }
  return report;
}

function csvRow(header: readonly string[], line: string): Record<string, unknown> | string {
  const fields = line.split(',');
  if (fields.length !== header.length) return `${fields.length} fields, the header has ${header.length}`;
  const row: Record<string, unknown> = {};
  header.forEach((name, i) => {
    row[name] = fields[i].trim();
  });
  return row;
}

const LOBSTER_LINE = /^(\d{1,5}(?:\.\d{1,9})?),([1-7]),(-?\d{1,15}),(\d{1,15}),(-?\d{1,15}),(-?1)$/;

/** A LOBSTER message as a trade row, null for a message that is not a trade, or why it is malformed. */
function lobsterTrade(
  line: string,
  midnightSec: number,
  lineNo: number,
): Record<string, unknown> | string | null {
  const m = LOBSTER_LINE.exec(line);
  if (m === null) return 'not a LOBSTER message (time,type,order id,size,price,direction)';
  const type = Number(m[2]);
  if (type !== 4 && type !== 5 && type !== 6) return null;
  const time = parseSecondsAfterMidnight(m[1], midnightSec);
  if (time === null) return `time ${m[1]} is not seconds after midnight (below 86400)`;
  const price = Number(m[5]);
  if (price <= 0) return `price ${m[5]} is not positive`;
  const aggressor = type === 6 ? 'unknown' : m[6] === '1' ? 'sell' : 'buy';
  return {
    time: formatTime(time.timeUs, time.timeNs),
    // As few decimals as exact ("101.25", not "101.2500"), so a scale of fewer than 4 takes whole cents.
    price: `${Math.floor(price / 10_000)}.${String(price % 10_000).padStart(4, '0')}`.replace(/\.?0+$/, ''),
    size: m[4],
    // The schema reads a missing side as unknown.
    side: aggressor === 'unknown' ? undefined : aggressor,
    // An order is executed in parts, so its id is not the trade's; the line is.
    id: String(lineNo),
  };
}

function jsonRow(line: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  return value as Record<string, unknown>;
}
