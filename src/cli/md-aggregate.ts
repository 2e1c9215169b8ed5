/**
 * `rialto md aggregate`: a trades CSV in, bars CSV out, through the bar aggregator of src/marketdata. The
 * watermark follows the newest trade time seen, so with the default lateness of 0 an out-of-order trade that
 * falls into a bar already closed is dropped (and counted); --lateness lets trades be that much older than the
 * newest and still count, correcting their bar. Only each bar's final version is written: a time bar once no
 * acceptable trade can reach it any more, so the output never holds a bar twice.
 */
import { closeSync, createReadStream, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  BAR_CSV_HEADER,
  BarAggregator,
  BarError,
  barCsvRow,
  parseBarSpec,
  parseDate,
  parseDuration,
  parseTradeHeader,
  parseTradeLine,
  type Bar,
  type BarSpec,
  type TradeColumns,
  type TradeFormat,
  type TradeRow,
} from '../marketdata/index.js';
import { CliError, type ProgramIo } from './cli-io.js';

export interface AggregateOptions {
  input: string;
  bar: string;
  output?: string;
  date?: string;
  priceDecimals: number;
  sizeDecimals: number;
  lateness: string;
}

export interface AggregateReport {
  trades: number;
  bars: number;
  late: number;
  duplicates: number;
}

/** Output is written in chunks of about this many characters. */
const OUTPUT_CHUNK_CHARS = 1 << 16;
/** The progress bar is updated every this many lines. */
const PROGRESS_EVERY_LINES = 1 << 16;

/** Where rows go: stdout, or a temporary file renamed to --output only once everything went well. */
class RowSink {
  private chunk: string[] = [];
  private chars = 0;
  private fd: number | null = null;
  private readonly temp: string | null;
  bars = 0;

  constructor(
    private readonly io: ProgramIo,
    private readonly output: string | undefined,
  ) {
    this.temp = output === undefined ? null : `${output}.tmp-${process.pid}`;
    if (this.temp !== null) this.fd = openSync(this.temp, 'w');
    this.line(BAR_CSV_HEADER);
  }

  line(text: string): void {
    this.chunk.push(text);
    this.chars += text.length + 1;
    if (this.chars >= OUTPUT_CHUNK_CHARS) this.drain();
  }

  finish(): void {
    this.drain();
    if (this.fd === null || this.temp === null || this.output === undefined) return;
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.temp, this.output);
  }

  abandon(): void {
    if (this.fd === null || this.temp === null) return;
    closeSync(this.fd);
    this.fd = null;
    rmSync(this.temp, { force: true });
  }

  private drain(): void {
    if (this.chunk.length === 0) return;
    const text = this.chunk.join('\n') + '\n';
    this.chunk = [];
    this.chars = 0;
    if (this.fd === null) this.io.stdout(text);
    else writeSync(this.fd, text);
  }
}

export interface Settings {
  spec: BarSpec;
  format: TradeFormat;
  latenessUs: number;
}

/** The options' meaning, or a CliError naming the option that has none. */
export function settingsOf(opts: AggregateOptions): Settings {
  const spec = parseBarSpec(opts.bar, opts.priceDecimals, opts.sizeDecimals);
  if (typeof spec === 'string') throw new CliError(spec);
  const latenessUs = parseDuration(opts.lateness, '--lateness');
  if (typeof latenessUs === 'string') throw new CliError(latenessUs);
  let midnightSec: number | null = null;
  if (opts.date !== undefined) {
    midnightSec = parseDate(opts.date);
    if (midnightSec === null) throw new CliError(`--date "${opts.date}" is not a date such as 2024-01-02`);
  }
  return {
    spec,
    latenessUs,
    format: { priceDecimals: opts.priceDecimals, sizeDecimals: opts.sizeDecimals, midnightSec },
  };
}

/**
 * The time bars closed but still open to correction, by start, written once the horizon passes their end
 * (tick, volume and dollar bars are never corrected, and are written at once).
 */
class FinalBars {
  private readonly pending = new Map<number, Bar>();
  private nextEndUs = Infinity;

  constructor(
    private readonly sink: RowSink,
    private readonly format: TradeFormat,
    private readonly timeBars: boolean,
  ) {}

  take(agg: BarAggregator): void {
    for (const e of agg.events) {
      if (e.type !== 'BarClosed' && e.type !== 'BarCorrected') continue;
      if (!this.timeBars) {
        this.write(e.bar);
        continue;
      }
      this.pending.set(e.bar.startUs, e.bar);
      if (e.bar.endUs < this.nextEndUs) this.nextEndUs = e.bar.endUs;
    }
  }

  /** Writes the pending bars that ended at or before `horizonUs` (all of them with Infinity), by start. */
  release(horizonUs: number): void {
    if (horizonUs < this.nextEndUs) return;
    const ready: Bar[] = [];
    let next = Infinity;
    for (const bar of this.pending.values()) {
      if (bar.endUs <= horizonUs) ready.push(bar);
      else if (bar.endUs < next) next = bar.endUs;
    }
    this.nextEndUs = next;
    ready.sort((a, b) => a.startUs - b.startUs);
    for (const bar of ready) {
      this.pending.delete(bar.startUs);
      this.write(bar);
    }
  }

  private write(bar: Bar): void {
    this.sink.line(barCsvRow(bar, this.format.priceDecimals, this.format.sizeDecimals));
    this.sink.bars++;
  }
}

export async function aggregateFile(
  opts: AggregateOptions,
  settings: Settings,
  io: ProgramIo,
): Promise<AggregateReport> {
  let bytes: number;
  try {
    bytes = statSync(opts.input).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new CliError(
      code === 'ENOENT' ? `no such input file: ${opts.input}` : `cannot read ${opts.input}: ${code}`,
    );
  }
  const sink = new RowSink(io, opts.output);
  const progress = io.progress('aggregating', bytes, 'bytes');
  try {
    const report = await aggregateLines(opts.input, settings, sink, (done) => progress.update(done));
    sink.finish();
    return report;
  } catch (e) {
    sink.abandon();
    throw e;
  } finally {
    progress.stop();
  }
}

async function aggregateLines(
  input: string,
  settings: Settings,
  sink: RowSink,
  progress: (bytes: number) => void,
): Promise<AggregateReport> {
  const stream = createReadStream(input);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const agg = new BarAggregator({ specs: [settings.spec], latenessUs: settings.latenessUs, dedup: true });
  const finals = new FinalBars(sink, settings.format, settings.spec.kind === 'time');
  const row: TradeRow = { timeUs: 0, timeNs: 0, price: 0, size: 0, id: 0 };
  let cols: TradeColumns | null = null;
  let lineNo = 0;
  let newestUs = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (cols === null) {
      // A byte order mark, as some spreadsheets write, is not part of the first column's name.
      const header = parseTradeHeader(line.startsWith('\uFEFF') ? line.slice(1) : line);
      if (typeof header === 'string') throw new CliError(`line 1: ${header}`);
      cols = header;
      continue;
    }
    const problem = parseTradeLine(line, cols, settings.format, lineNo, row);
    if (problem !== null) throw new CliError(`line ${lineNo}: ${problem}`);
    try {
      agg.pushTrade(row.timeUs, row.timeNs, row.price, row.size, row.id);
      finals.take(agg);
      if (row.timeUs > newestUs) {
        newestUs = row.timeUs;
        agg.advanceWatermark(newestUs);
        finals.take(agg);
        finals.release(newestUs - settings.latenessUs);
      }
    } catch (e) {
      if (e instanceof BarError) throw new CliError(`line ${lineNo}: ${e.message}`);
      throw e;
    }
    if (lineNo % PROGRESS_EVERY_LINES === 0) progress(stream.bytesRead);
  }
  if (cols === null)
    throw new CliError(`${input} is empty: the first line must be a header (time,price,size[,id])`);
  agg.flush();
  finals.take(agg);
  finals.release(Infinity);
  return {
    trades: agg.stats.ticksAccepted,
    bars: sink.bars,
    late: agg.stats.ticksLate,
    duplicates: agg.stats.ticksDuplicate,
  };
}
