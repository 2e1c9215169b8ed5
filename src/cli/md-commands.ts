/**
 * The `rialto md ...` command group (market data tools). Each subcommand registers itself on the group made
 * here, so that tools developed apart (aggregate here, LOBSTER replay beside it) join with one line each.
 */
import { Option, type Command } from 'commander';
import { CONFIG_FILE_ENV } from '../ops/config/env.js';
import { DECIMALS_MAX } from '../marketdata/decimal.js';
import { CliError, type ProgramIo } from './cli-io.js';
import type { AggregateOptions, Settings } from './md-aggregate.js';
import type { MdRunOptions, RunSettings } from './md-run.js';
import { wholeNumber } from './options.js';

const DECIMALS_DEFAULT = 8;

/** Adds `md` and its subcommands to the program; returns the group, for more subcommands. */
export function addMdCommands(program: Command, io: ProgramIo): Command {
  const md = program
    .command('md')
    .description('market data tools: the pipeline on its own, bars from trades, LOBSTER order books');
  addRunCommand(md, io);
  addAggregateCommand(md, io);
  return md;
}

function addAggregateCommand(md: Command, io: ProgramIo): void {
  md.command('aggregate')
    .summary('aggregate a trades CSV into OHLCV bars (time, tick, volume or dollar bars)')
    .description(
      'Read trades from a CSV file (a header naming the columns time, price and size, and optionally id; ' +
        'time as an ISO timestamp with a zone, such as 2024-01-02T09:30:00.123456789Z, or as seconds after ' +
        'midnight UTC of --date; prices and sizes as decimals) and write bars as CSV ' +
        '(start,end,open,high,low,close,volume,vwap,count) to stdout or --output. Time bars cover [start, end) ' +
        'aligned to UTC; tick, volume and dollar bars run from their first to their last trade. Bars follow ' +
        'event time: a trade more than --lateness older than the newest one seen is dropped (counted on ' +
        'stderr), as is a trade whose id was seen before. Exits 1 naming the line of the first malformed ' +
        'trade. See docs/marketdata.md.',
    )
    .requiredOption('-i, --input <file>', 'the trades CSV')
    .requiredOption(
      '-b, --bar <spec>',
      'time:1s|1m|5m|1h|1d, tick:N, volume:N (size) or dollar:N (price × size)',
    )
    .option('-o, --output <file>', 'write the bars there (replaced only on success) instead of stdout')
    .option('--date <YYYY-MM-DD>', 'the UTC date that times given as seconds after midnight belong to')
    .option(
      '--price-decimals <n>',
      `decimals prices are kept to, exactly (default ${DECIMALS_DEFAULT})`,
      wholeNumber('N', 0, DECIMALS_MAX),
      DECIMALS_DEFAULT,
    )
    .option(
      '--size-decimals <n>',
      `decimals sizes are kept to, exactly (default ${DECIMALS_DEFAULT})`,
      wholeNumber('N', 0, DECIMALS_MAX),
      DECIMALS_DEFAULT,
    )
    .option(
      '--lateness <duration>',
      'how much older than the newest trade a trade may be (us, ms, s, m, h)',
      '0s',
    )
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  rialto md aggregate --input trades.csv --bar time:1m > bars-1m.csv\n' +
        '  rialto md aggregate --input lobster-trades.csv --date 2012-06-21 --bar volume:1000 --lateness 2s',
    )
    .action(async (opts: AggregateOptions, cmd: Command) => {
      // The market data code is loaded by the md actions, not by every `rialto` run.
      const { aggregateFile, settingsOf } = await import('./md-aggregate.js');
      let settings: Settings;
      try {
        settings = settingsOf(opts);
      } catch (e) {
        // A --bar, --lateness or --date without meaning is a usage error, as commander's own are (exit 2).
        if (e instanceof CliError)
          cmd.error(`error: ${e.message}`, { exitCode: 2, code: 'rialto.invalidOption' });
        throw e;
      }
      const report = await aggregateFile(opts, settings, io);
      const dropped: string[] = [];
      if (report.late > 0) dropped.push(`${report.late} late (more than --lateness behind the newest trade)`);
      if (report.duplicates > 0) dropped.push(`${report.duplicates} duplicate (an id seen before)`);
      if (dropped.length > 0) io.stderr(`rialto: dropped trades: ${dropped.join(', ')}\n`);
    });
}

function addRunCommand(md: Command, io: ProgramIo): void {
  md.command('run')
    .summary('run the market data pipeline on its own: replay files into the store (and Redis)')
    .description(
      'Replay trade or quote files through the market data pipeline that `rialto start` runs (normalize, ' +
        'enrich with the reference data of the store, bars of marketData.pipeline.bars, latest prices), ' +
        'writing ticks and bars into the store (PGlite in DATA_DIR/pglite, or PostgreSQL with DATABASE_URL) ' +
        'and latest prices into Redis with REDIS_URL; configured as `rialto start` is. Inputs are paced by ' +
        'their event times at --speed. CSV: a header naming time,price,size (optionally symbol, side, id) or ' +
        'time,bid,bid_size,ask,ask_size for --kind quote; JSONL: one object per line with the same fields; ' +
        'LOBSTER: a message file whose executions are the trades (needs --instrument and --date). Prices and ' +
        'sizes are stored with 8 decimals. A line it cannot read is dead-lettered and counted, not fatal. Ends ' +
        'when the inputs are exhausted, or gracefully on SIGINT/SIGTERM (open bars flushed, rows written), and ' +
        'prints one JSON line on stdout: lines, ticksIn, ticksEnriched, deadLettered with deadLetterReasons, ' +
        'barsByInterval, ticksWritten, barsWritten, ticksExisting, barsExisting (rows stored before, not written twice), stoppedBy. Exits 1 on a failure, 2 on a usage error. ' +
        'Publishing to NATS JetStream is not done yet. See docs/marketdata.md.',
    )
    .requiredOption(
      '-i, --input <file...>',
      'the files to replay, in order (repeat the option or give several)',
    )
    .addOption(
      new Option(
        '-f, --format <format>',
        "the files' format (default: by extension, .csv or .jsonl)",
      ).choices(['csv', 'jsonl', 'lobster']),
    )
    .option('--kind <kind>', 'what the files hold: trade or quote', 'trade')
    .option(
      '--speed <factor>',
      '1 as the events happened, 10 ten times faster, max as fast as possible',
      'max',
    )
    .option('--instrument <symbol>', 'the symbol of files without a symbol column (LOBSTER: required)')
    .option('--date <YYYY-MM-DD>', 'the UTC date LOBSTER times (seconds after midnight) belong to')
    .addOption(
      new Option(
        '-c, --config <file>',
        'the configuration file (default: ./rialto.yaml when it exists, else defaults and environment)',
      ).env(CONFIG_FILE_ENV),
    )
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  rialto md run --input trades.csv --speed max\n' +
        '  rialto md run --input msgs.csv --format lobster --instrument AAPL --date 2012-06-21 --speed 10',
    )
    .action(async (opts: MdRunOptions, cmd: Command) => {
      const { runPipeline, runSettingsOf } = await import('./md-run.js');
      let settings: RunSettings;
      try {
        settings = runSettingsOf(opts);
      } catch (e) {
        if (e instanceof CliError)
          cmd.error(`error: ${e.message}`, { exitCode: 2, code: 'rialto.invalidOption' });
        throw e;
      }
      const summary = await runPipeline(opts, settings, io);
      io.stdout(JSON.stringify(summary) + '\n');
    });
}
