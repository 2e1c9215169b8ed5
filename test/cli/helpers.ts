/**
 * Running the built `rialto` command line (dist/src/cli/main.js) in a child process, as a user would, for the
 * end-to-end tests of test/cli.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_ENV_NAMES } from '../../src/ops/index.js';

/** The repository root: these files run as dist/test/cli/*.js. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** Child processes that take longer than this have hung. */
export const CHILD_TIMEOUT_MS = 60_000;

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Variables added to (or, when undefined, removed from) the environment. */
  env?: Record<string, string | undefined>;
}

function environment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  // The configuration's variables (the data directory's, PORT, DATABASE_URL, ...) of whoever runs the tests
  // must not leak into them.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONFIG_ENV_NAMES) delete env[name];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function run(args: string[], file = MAIN, options: RunOptions = {}): Run {
  const r = spawnSync(process.execPath, [file, ...args], {
    cwd: options.cwd ?? ROOT,
    env: environment(options.env),
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function rialto(...args: string[]): Run {
  return run(args);
}

/** Starts the CLI without waiting for it (for commands that run until interrupted). */
export function startRialto(
  args: string[],
  env: Record<string, string | undefined> = {},
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: environment(env), stdio: 'pipe' });
}

/** An expected failure: a non-zero exit, one clear line on stderr, no stack trace. */
export function assertCleanFailure(r: Run, status: number, message: RegExp): void {
  assert.equal(r.status, status, `exit code; stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(r.stdout, '');
}

export interface StartedVenue {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
  stderr: () => string;
}

/** `rialto start` on `dataDir` and an ephemeral port, resolved once it listens. */
export async function startVenue(
  dataDir: string,
  env: Record<string, string | undefined> = {},
): Promise<StartedVenue> {
  const child = startRialto(['start'], {
    RIALTO_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...env,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    // A start that hangs is killed: left running, it would keep the test's process alive for ever.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no start within the timeout: ${out} ${err}`));
    }, CHILD_TIMEOUT_MS);
    const look = (): void => {
      const m = /venue listening on (http:\/\/\S+) /.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', look);
    child.once('exit', (code) => reject(new Error(`exited ${String(code)}: ${out} ${err}`)));
  });
  return { child, url, stdout: () => out, stderr: () => err };
}

/** SIGTERM, and the exit code. */
export async function stopVenue(s: StartedVenue): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  s.child.kill('SIGTERM');
  return exited;
}

/** A JSON POST with an API key. */
export async function postJson(
  url: string,
  key: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}
