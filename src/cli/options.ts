/**
 * Options the durability commands share: the data directory (`--dir`, else RIALTO_DATA_DIR, else ./data, the
 * one directory an engine keeps its journal segments, snapshots and LOCK in) and whole-number options checked
 * against their bounds while parsing, so that a bad value is a usage error (exit 2) that says what is allowed.
 */
import { statSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import { CliError } from './cli-io.js';

export const DATA_DIR_ENV = 'RIALTO_DATA_DIR';
export const DATA_DIR_DEFAULT = './data';

export function dirOption(): Option {
  return new Option('-d, --dir <path>', 'the data directory (journal segments, snapshots, LOCK)')
    .env(DATA_DIR_ENV)
    .default(DATA_DIR_DEFAULT);
}

/** A parser for a whole number in [min, max]; `what` names it in the message ("SEQ", "N"). */
export function wholeNumber(what: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${what} must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** Fails (exit 1) unless `dir` is an existing directory: the tools never create one. */
export function requireDataDir(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new CliError(code === 'ENOENT' ? `no such data directory: ${dir}` : `cannot read ${dir}: ${code}`);
  }
  if (!isDir) throw new CliError(`not a directory: ${dir}`);
}
