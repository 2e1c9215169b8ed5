/**
 * The `rialto md ...` command group (market data tools). Each subcommand registers itself on the group made
 * here, so that tools developed apart (aggregate here, LOBSTER replay beside it) join with one line each.
 */
import { Option, type Command } from 'commander';
import { DECIMALS_MAX } from '../marketdata/decimal.js';
import { CliError, type ProgramIo } from './cli-io.js';
import type { AggregateOptions, Settings } from './md-aggregate.js';
import type { MdPruneOptions, PruneSettings } from './md-prune.js';
import type { MdRunOptions, RunSettings } from './md-run.js';
import { wholeNumber } from './options.js';
import { configOption } from './serving.js';

const DECIMALS_DEFAULT = 8;

/** `make()`, or a usage error (exit 2, as commander's own) for the CliError it throws. */
function usageChecked<T>(cmd: Command, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof CliError)
      cmd.error(`error: ${e.message}`, { exitCode: 2, code: 'rialto.invalidOption' });
    throw e;
  }
}

/** Adds `md` and its subcommands to the program; returns the group, for more subcommands. */
export function addMdCommands(program: Command, io: ProgramIo): Command {
  const md = program
    .command('md')
    .description(
      'market data tools: the pipeline on its own, bars from trades, retention of the stored days, LOBSTER order books',
    );
  addRunCommand(md, io);
  addAggregateCommand(md, io);
  addPruneCommand(md, io);
  return md;
}

function addPruneCommand(md: Command, io: ProgramIo): void {
  md.command('prune')
    .summary('drop the stored ticks and bars of the days before a date (retention)')
    .description(
      "Drop whole days of the market data tables: the ticks' partitions of the days before --ticks-before, the " +
        "bars' before --bars-before (UTC days; give either or both). A partition goes whole, at once, and its " +
        'space is freed. Prints one JSON line: ticksDropped and barsDropped (the days, YYYY-MM-DD) and dryRun. ' +
        'On PostgreSQL (DATABASE_URL) it runs beside the venue, whose writer makes a partition again for a late ' +
        'tick of a dropped day; the embedded PGlite store has one user at a time: there it takes the data ' +
        "directory's lock, so stop the venue first. A drop (not a dry run) is written to the audit trail. Exits 1 " +
        'on a failure, 2 on a usage error.',
    )
    .option('--ticks-before <date>', 'drop the ticks of the days before this one (YYYY-MM-DD)')
    .option('--bars-before <date>', 'drop the bars of the days before this one (YYYY-MM-DD)')
    .option('--dry-run', 'name the days that would go, dropping nothing')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExample:\n  rialto md prune --ticks-before 2026-11-01 --bars-before 2025-12-01\n',
    )
    .action(async (opts: MdPruneOptions, cmd: Command) => {
      const { prune, pruneSettingsOf } = await import('./md-prune.js');
      const settings: PruneSettings = usageChecked(cmd, () => pruneSettingsOf(opts));
      io.stdout(JSON.stringify(await prune(opts, settings, io)) + '\n');
    });
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
      // A --bar, --lateness or --date without meaning is a usage error, as commander's own are (exit 2).
      const settings: Settings = usageChecked(cmd, () => settingsOf(opts));
      const report = await aggregateFile(opts, settings, io);
      const dropped: string[] = [];
      if (report.late > 0) dropped.push(`${report.late} late (more than --lateness behind the newest trade)`);
      if (report.duplicates > 0) dropped.push(`${report.duplicates} duplicate (an id seen before)`);
      if (dropped.length > 0) io.stderr(`rialto: dropped trades: ${dropped.join(', ')}\n`);
    });
}

function addRunCommand(md: Command, io: ProgramIo): void {
  md.command('run')
    .summary('run the market data pipeline on its own: files and live feeds into the store (Redis, NATS)')
    .description(
      'Replay trade or quote files, then read live WebSocket feeds, through the market data pipeline that ' +
        '`rialto start` runs (normalize, enrich with the reference data of the store, bars of ' +
        'marketData.pipeline.bars, latest prices), writing ticks and bars into the store (PGlite in ' +
        'DATA_DIR/pglite, or PostgreSQL with DATABASE_URL), latest prices into Redis with REDIS_URL, and ' +
        'publishing the raw events, enriched ticks, bars and dead letters to NATS JetStream with NATS_URL (as ' +
        '`rialto start` does; one message per event id); configured as `rialto start` is. Files are paced by ' +
        'their event times at --speed. CSV: a header naming time,price,size (optionally symbol, side, id) or ' +
        'time,bid,bid_size,ask,ask_size for --kind quote; JSONL: one object per line with the same fields; ' +
        'LOBSTER: a message file whose executions are the trades (needs --instrument and --date). Feeds ' +
        "(--connect ws://...): another Rialto venue's /ws/trades/SYMBOL as it is, any other JSON feed by " +
        '--map; a feed that drops is reconnected with back-off. Prices and sizes are stored with 8 decimals. ' +
        'A line or message it cannot read is dead-lettered and counted, not fatal. Ends when the files are ' +
        'exhausted (with feeds: after --max-events of their events), or gracefully on SIGINT/SIGTERM (open ' +
        'bars flushed, rows written, messages published), and prints one JSON line on stdout: lines, ticksIn, ' +
        'ticksEnriched, deadLettered with deadLetterReasons, barsByInterval, ticksWritten, barsWritten, ' +
        'ticksExisting, barsExisting (rows stored before, not written twice), feeds (per feed: connects, ' +
        'disconnects, failures, lastError, frames, events, malformed, skipped, dropped), jetstream (published, ' +
        'duplicates; null without NATS_URL), stoppedBy. On the embedded PGlite store it holds the data ' +
        "directory's lock while it runs (PGlite has one user at a time: not beside a venue there). Exits 1 on a " +
        'failure, 2 on a usage error. See docs/marketdata.md.',
    )
    .option('-i, --input <file...>', 'the files to replay, in order (repeat the option or give several)')
    .option(
      '--connect <url...>',
      'WebSocket feeds to read after the files (ws:// or wss://; repeat the option or give several)',
    )
    .option(
      '--map <fields>',
      'how a feed message maps to a tick: time=PATH,price=PATH,size=PATH[,symbol=,side=,id=] for trades, ' +
        'time=PATH,bid=,bid_size=,ask=,ask_size=[,symbol=] for --kind quote (PATH: a field, data.p for nested)',
    )
    .option('--match <fields>', 'PATH=VALUE,...: only messages with these values are taken (others skipped)')
    .addOption(
      new Option('--time-unit <unit>', 'the unit of numeric feed times, epoch (default ms)').choices([
        's',
        'ms',
        'us',
        'ns',
      ]),
    )
    .option('--subscribe <text>', 'a text frame sent to each feed after every connect (a subscription)')
    .option('--max-events <n>', "end after this many of the feeds' events (default: at SIGINT/SIGTERM)")
    .addOption(
      new Option(
        '-f, --format <format>',
        "the files' format (default: by extension, .csv or .jsonl)",
      ).choices(['csv', 'jsonl', 'lobster']),
    )
    .option('--kind <kind>', 'what the files and feeds hold: trade or quote', 'trade')
    .option(
      '--speed <factor>',
      '1 as the events happened, 10 ten times faster, max as fast as possible',
      'max',
    )
    .option(
      '--instrument <symbol>',
      'the symbol of files without a symbol column and feed messages without one (LOBSTER: required)',
    )
    .option('--date <YYYY-MM-DD>', 'the UTC date LOBSTER times (seconds after midnight) belong to')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  rialto md run --input trades.csv --speed max\n' +
        '  rialto md run --input msgs.csv --format lobster --instrument AAPL --date 2012-06-21 --speed 10\n' +
        '  rialto md run --connect ws://venue-b:8080/ws/trades/BTC-USDT\n' +
        '  rialto md run --connect wss://feed.example/ws --subscribe \'{"op":"subscribe","channel":"trades"}\' \\\n' +
        '      --map time=ts,price=p,size=q,symbol=s,side=side,id=tid --match type=trade --time-unit ms',
    )
    .action(async (opts: MdRunOptions, cmd: Command) => {
      const { runPipeline, runSettingsOf } = await import('./md-run.js');
      const settings: RunSettings = usageChecked(cmd, () => runSettingsOf(opts));
      const summary = await runPipeline(opts, settings, io);
      io.stdout(JSON.stringify(summary) + '\n');
    });
}
