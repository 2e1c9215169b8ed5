/**
 * What every command of the `rialto` command line shares: its exit codes, the error it throws for a failure
 * it expected, and where its output goes (results on stdout; notices and progress on stderr, progress only
 * when stderr is a terminal, so that piped and tested output stays clean).
 */
import cliProgress from 'cli-progress';

/** Exit codes of the command line. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;

/** A failure the command expected and explains in its message; printed without a stack trace. */
export class CliError extends Error {
  override name = 'CliError';
}

/** A progress display for one long step: `update` with the amount done, `stop` when finished or abandoned. */
export interface Progress {
  update(done: number): void;
  stop(): void;
}

export interface ProgramIo {
  stdout(text: string): void;
  /** Notices beside the results (a torn tail found, a snapshot passed over); main adds nothing to them. */
  stderr(text: string): void;
  /** A progress bar for `total` units of work, or one that shows nothing (stderr not a terminal). */
  progress(label: string, total: number, unit: string): Progress;
}

const silent: Progress = { update: () => undefined, stop: () => undefined };

/** A bar on stderr when it is a terminal, cleared when done; nothing otherwise. */
export function terminalProgress(label: string, total: number, unit: string): Progress {
  if (process.stderr.isTTY !== true || !(total > 0)) return silent;
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted}, ETA {eta_formatted}`,
    barsize: 30,
    fps: 10,
    clearOnComplete: true,
    // The cursor stays visible: a bar interrupted by a signal must not leave the terminal without one.
    hideCursor: false,
  });
  bar.start(total, 0);
  return {
    update: (done) => bar.update(Math.min(done, total)),
    stop: () => bar.stop(),
  };
}

export const defaultIo: ProgramIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  progress: terminalProgress,
};
