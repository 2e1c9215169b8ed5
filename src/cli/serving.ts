/**
 * The --config option and loading the configuration it names, for every command that reads one; and what the
 * commands that serve until a signal share (`rialto start`, `rialto engine`, `rialto gateway`): --mode, the
 * stop signal, and the expected failures of a start told as one line.
 */
import { Option, type Command } from 'commander';
import { EngineError } from '../engine/index.js';
import { JournalError } from '../journal/index.js';
import { CONFIG_FILE_ENV } from '../ops/config/env.js';
import { MODES, type Mode } from '../ops/config/modes.js';
import type { VenueConfig } from '../ops/config/types.js';
import { StoreError } from '../store/port.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { configFileOf } from './venue.js';

export interface ServeOptions {
  config?: string;
  mode?: Mode;
}

export function configOption(): Option {
  return new Option(
    '-c, --config <file>',
    'the configuration file (default: ./rialto.yaml when it exists, else defaults and environment)',
  ).env(CONFIG_FILE_ENV);
}

/** Adds --config and --mode to `c`. */
export function withServeOptions(c: Command): Command {
  return c
    .addOption(configOption())
    .addOption(
      new Option('--mode <mode>', "run in this mode (default: the file's, else RIALTO_MODE)").choices(MODES),
    );
}

/**
 * The configuration the options name (--config, else RIALTO_CONFIG, else ./rialto.yaml), in the mode asked
 * (else the file's), its warnings told; a configuration that is not valid is a CliError.
 */
export async function loadCliConfig(opts: ServeOptions, io: ProgramIo): Promise<VenueConfig> {
  // The configuration's parser is loaded by the commands that read a configuration, not by every `rialto` run.
  const { ConfigError, loadConfigOrThrow } = await import('../ops/config/load.js');
  try {
    const loaded = loadConfigOrThrow({
      file: configFileOf(opts.config, process.cwd()),
      env: process.env,
      cwd: process.cwd(),
      mode: opts.mode,
    });
    for (const w of loaded.warnings) io.stderr(`rialto: warning: ${w}\n`);
    return loaded.config;
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
}

/** Resolves with the signal (SIGTERM or SIGINT) that asked the process to stop. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(s);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/** A start's expected failures (configuration, journal, store, engine, port in use) as one line; else `e`. */
export async function startFailure(e: unknown): Promise<unknown> {
  const { ConfigError } = await import('../ops/config/load.js');
  if (
    e instanceof ConfigError ||
    e instanceof JournalError ||
    e instanceof StoreError ||
    e instanceof EngineError
  ) {
    return new CliError(e.message);
  }
  if (e instanceof Error && 'code' in e && e.code === 'EADDRINUSE') return new CliError(e.message);
  return e;
}
