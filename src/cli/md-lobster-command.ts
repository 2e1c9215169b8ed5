/**
 * `rialto md lobster`: rebuilds order books from a LOBSTER message file (src/marketdata/lobster) and writes one
 * LOBSTER order-book row per message. The rows go to --output or stdout; a summary goes to stdout as one JSON
 * line when the rows go to a file, and to stderr as a notice whenever something could not be applied as given
 * (the full report, with examples, in --report). Malformed input exits 1 naming the file and line.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { LobsterReportJson } from '../marketdata/index.js';
import { LEVELS_MAX } from '../marketdata/lobster/limits.js';
import { CliError, defaultIo, type ProgramIo, type Progress } from './cli-io.js';
import { wholeNumber } from './options.js';

const LEVELS_DEFAULT = 10;

interface LobsterOptions {
  messages: string;
  levels: number;
  initialBook?: string;
  output?: string;
  report?: string;
  strict?: boolean;
}

/** The issue counts that are not zero, as `CODE n, CODE n`. */
function issueList(report: LobsterReportJson): string {
  return Object.entries(report.issues)
    .filter(([, n]) => n > 0)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
}

async function runLobster(opts: LobsterOptions, io: ProgramIo): Promise<void> {
  // Loaded by this command, not by every `rialto` run.
  const { LobsterInputError, replayLobsterFiles } = await import('../marketdata/lobster/index.js');
  let progress: Progress | null = null;
  let result;
  try {
    result = await replayLobsterFiles({
      messages: opts.messages,
      levels: opts.levels,
      initialBook: opts.initialBook ?? null,
      output: opts.output ?? null,
      onProgress: (done, total) => {
        progress ??= io.progress('rebuilding', total, 'bytes');
        progress.update(done);
      },
    });
  } catch (e) {
    if (e instanceof LobsterInputError) throw new CliError(e.message);
    throw e;
  } finally {
    (progress as Progress | null)?.stop();
  }
  const { report } = result;
  if (opts.report !== undefined) {
    try {
      writeFileSync(opts.report, JSON.stringify(report, null, 2) + '\n');
    } catch (e) {
      throw new CliError(
        `cannot write report ${opts.report}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
  }
  if (opts.output !== undefined) {
    const { messages, issuesTotal, skipped, anonymousApplied } = report;
    const summary = { messages, seconds: +result.seconds.toFixed(3), messagesPerSec: result.messagesPerSec };
    io.stdout(
      JSON.stringify({ ...summary, issuesTotal, skipped, anonymousApplied, output: opts.output }) + '\n',
    );
  }
  if (report.issuesTotal > 0) {
    const where = opts.report !== undefined ? `see ${opts.report}` : 'run with --report FILE for examples';
    io.stderr(
      `md lobster: ${report.issuesTotal} issues in ${report.messages} messages: ${issueList(report)} (${where})\n`,
    );
    if (opts.strict === true) throw new CliError(`${report.issuesTotal} issues (--strict)`);
  }
}

export function registerLobster(md: Command, io: ProgramIo = defaultIo): void {
  md.command('lobster')
    .summary('rebuild order books from a LOBSTER message file, one order-book row per message')
    .description(
      'Rebuild the order book from a LOBSTER message file (time,type,order id,size,price,direction; ' +
        'types 1 submit, 2 partial cancel, 3 delete, 4 visible execution, 5 hidden execution, 6 cross trade, ' +
        '7 halt) and write one LOBSTER order-book row per message: LEVELS groups of ask price, ask size, bid ' +
        'price, bid size, empty levels as 9999999999,0 and -9999999999,0. Orders not seen submitted act on ' +
        'the anonymous quantity at their price, seeded from --initial-book for a file that starts mid-day. ' +
        'Whatever cannot be applied as given is counted by kind (a notice on stderr; examples with line ' +
        'numbers in --report). Exits 1 on a malformed line (naming it) or an unreadable file, and with ' +
        '--strict when there is any issue.',
    )
    .requiredOption('--messages <file>', 'the LOBSTER message file (CSV, no header)')
    .option(
      '--levels <n>',
      `levels per output row, 1 to ${LEVELS_MAX}`,
      wholeNumber('N', 1, LEVELS_MAX),
      LEVELS_DEFAULT,
    )
    .option(
      '--initial-book <file>',
      "the day's order-book file; its first row seeds a replay that starts mid-day",
    )
    .option('--output <file>', 'write the rows here (default: stdout) and print a JSON summary on stdout')
    .option('--report <file>', 'write the report (counts by type and issue, first examples) as JSON')
    .option('--strict', 'exit 1 when anything could not be applied as given')
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  rialto md lobster --messages AAPL_message_10.csv --levels 10 \\\n' +
        '    --initial-book AAPL_orderbook_10.csv --output book.csv --report report.json',
    )
    .action(async (opts: LobsterOptions) => runLobster(opts, io));
}
