/**
 * The `rialto md ...` command group (market data tools). Each subcommand registers itself on the group made
 * here, so that tools developed apart (aggregate here, LOBSTER replay beside it) join with one line each.
 */
import type { Command } from 'commander';
import { DECIMALS_MAX } from '../marketdata/index.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { aggregateFile, settingsOf, type AggregateOptions, type Settings } from './md-aggregate.js';
import { wholeNumber } from './options.js';

const DECIMALS_DEFAULT = 8;

/** Adds `md` and its subcommands to the program; returns the group, for more subcommands. */
export function addMdCommands(program: Command, io: ProgramIo): Command {
  const md = program.command('md').description('market data tools: bars from trades, LOBSTER order books');
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
