/**
 * The `rialto` command tree. Commands print their results to stdout; a failure they expect (a missing or
 * malformed input file, a replay that disagrees with its expected results, a damaged journal) is a CliError,
 * which main prints as one line on stderr with exit code 1. Usage errors (unknown command or option, an option
 * value out of its range) exit with 2.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { CliError, defaultIo, type ProgramIo } from './cli-io.js';
import { addAuditCommands } from './audit-commands.js';
import { addBackupCommands } from './backup-commands.js';
import { addConfigCommands } from './config-commands.js';
import { runDemo } from './demo.js';
import { addJournalCommands, addSnapshotCommands } from './durability-commands.js';
import { addKeysCommands } from './keys-commands.js';
import { registerLobster } from './md-lobster-command.js';
import { addMdCommands } from './md-commands.js';
import { replayFile } from './replay.js';
import { addSplitCommands } from './split-commands.js';
import { addStartCommand } from './start-command.js';
import { WorkloadError } from './workload.js';

export { CliError, ExitCode, type ProgramIo } from './cli-io.js';

/** The version in the package.json nearest above this file (dist/src/cli when built). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { version?: unknown };
      if (typeof pkg.version !== 'string') throw new Error(`${candidate} has no version`);
      return pkg.version;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the rialto command line');
    dir = parent;
  }
}

/**
 * Builds the command tree. Parsing throws a CommanderError for usage errors and after --help or --version (with
 * exitCode 0), having printed what it had to say; an action throws CliError for an expected failure.
 */
export function createProgram(io: ProgramIo = defaultIo): Command {
  const program = new Command('rialto');
  program
    .description('Rialto: a trading venue and financial operations platform.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for a command')
    .helpCommand('help [command]', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)')
    // Commander throws a CommanderError instead of exiting; main turns it into an exit code. Settings are
    // copied to subcommands when they are created, so this comes before them.
    .exitOverride();
  program.addHelpText('after', '\nExit codes: 0 success, 1 failure, 2 usage error.');

  program
    .command('demo')
    .summary('run a short scripted trading session on an in-memory order book')
    .description(
      'Run a short scripted trading session on one in-memory BTC-USDT order book (two owners; resting bids ' +
        'and asks, a crossing order, an iceberg, a stop that triggers, a rejected and an accepted cancel) and ' +
        'print each command with the events it produced, one per line, then the L2 depth and the state hash.',
    )
    .action(() => {
      io.stdout(runDemo().join('\n') + '\n');
    });

  const book = program.command('book').description('order book tools');
  book
    .command('replay')
    .summary('replay a workload file through the order book and check its results')
    .description(
      'Replay a LOBOPS01 workload file (../shared/bench/orderbook/FORMAT.md) through a fresh order book and ' +
        'print one JSON line: file, ops, seconds, opsPerSec, expected, mismatches (null without expected ' +
        'results), firstMismatches, restingOrders, stateHash. Exits 1 if a file is missing or malformed, or ' +
        'if any result differs from the expected one.',
    )
    .requiredOption('--ops <file>', 'workload file (NAME.bin)')
    .option(
      '--expected [file]',
      'expected results to compare with; without a value, NAME.expected.bin beside the workload, which must ' +
        'then exist (default: that file when it exists, else no comparison)',
    )
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  node ../shared/bench/orderbook/gen-workload.js --ops=1000000 --seed=42 --out=/tmp/ops-1m-s42\n' +
        '  rialto book replay --ops /tmp/ops-1m-s42.bin',
    )
    .action((opts: { ops: string; expected?: string | true }) => {
      let report;
      try {
        report = replayFile(opts.ops, { expected: opts.expected });
      } catch (err) {
        if (err instanceof WorkloadError) throw new CliError(err.message);
        throw err;
      }
      io.stdout(JSON.stringify(report) + '\n');
      if (report.mismatches !== null && report.mismatches > 0) {
        const against = report.expected ?? 'the expected results';
        throw new CliError(`${report.mismatches} of ${report.ops} results differ from ${against}`);
      }
    });

  addStartCommand(program, io);
  addSplitCommands(program, io);
  addJournalCommands(program, io);
  addSnapshotCommands(program, io);
  addConfigCommands(program, io);
  addKeysCommands(program, io);
  const md = addMdCommands(program, io);
  registerLobster(md, io);
  addAuditCommands(program, io);
  addBackupCommands(program, io);

  return program;
}
