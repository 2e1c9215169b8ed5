#!/usr/bin/env node
/**
 * The `rialto` executable: parses the command line and turns the outcome into an exit code. Expected failures
 * print one line on stderr; anything else is a bug and keeps its stack trace.
 */
import { CommanderError } from 'commander';
import { tuneV8ForMatching } from '../ops/v8-tuning.js';
import { CliError, createProgram, ExitCode } from './program.js';

// Before any hot code runs: the engine lives in this process (see src/ops/v8-tuning.ts).
tuneV8ForMatching();

// A reader that closed the pipe (`rialto journal tail -f | head`) has what it wanted: stop quietly, as
// command-line tools do, rather than die of an unhandled EPIPE with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(ExitCode.Ok);
});

try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has already printed the help, the version or the usage error.
    process.exitCode = err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  } else if (err instanceof CliError) {
    process.stderr.write(`rialto: ${err.message}\n`);
    process.exitCode = ExitCode.Failure;
  } else {
    throw err;
  }
}
