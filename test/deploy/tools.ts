/**
 * What the tests of the shipped deployment files share: the repository root, the real tools that read those
 * files (Debian's `prometheus`, `promtool`, `nginx`, `openssl`; .ci/run installs them), free loopback ports,
 * child processes stopped after the test, and bounded polling.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/deploy/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The path of a tool: on PATH, or in the sbin directories a non-root PATH may lack (nginx is in /usr/sbin). */
export function tool(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is not installed: .ci/run installs Debian's prometheus and nginx packages`);
}

/** Runs a tool to its end (bounded) and returns its output; the assertion message carries both streams. */
export function run(name: string, args: readonly string[], cwd = ROOT): SpawnSyncReturns<string> {
  const r = spawnSync(tool(name), args, { cwd, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.error, undefined, `${name} ${args.join(' ')}: ${String(r.error)}`);
  return r;
}

export const output = (r: SpawnSyncReturns<string>): string => `${r.stdout}\n${r.stderr}`;

/**
 * A loopback port free a moment ago, for tools that cannot report the port they bound. Another process may
 * take it in between; the callers' starts fail loudly then rather than talk to the wrong server.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Thrown by a probe to stop waiting at once (the process it waits for has exited). */
export class GiveUp extends Error {
  override name = 'GiveUp';
}

/** Polls `probe` until it returns a value other than undefined, or fails after `deadlineMs` with `what`. */
export async function waitFor<T>(
  what: string,
  deadlineMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last: Error | null = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof GiveUp) throw e;
      last = e instanceof Error ? e : new Error(String(e));
    }
    if (Date.now() > until) {
      throw new Error(
        `${what}: not within ${deadlineMs} ms${last === null ? '' : ` (last error: ${last.message})`}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A child process whose output is kept (for failure messages) and which `stop` ends and waits for. */
export class Daemon {
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private log = '';

  constructor(name: string, args: readonly string[], cwd: string) {
    this.child = spawn(tool(name), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      this.log = (this.log + b.toString('utf8')).slice(-20_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => resolve(code));
      this.child.on('error', () => resolve(null));
    });
  }

  get output(): string {
    return this.log;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
