/**
 * Private instances of the venue's dependencies (PostgreSQL 15, Redis, NATS JetStream) for tests that stop
 * and start them: the machine's shared servers (5432, 6379, 4222) serve other tests and must never go down.
 * Each instance runs in a temporary directory of its own on a free port, and can be stopped (crash-like or
 * graceful) and started again on the same port with the same data (PostgreSQL's cluster, NATS's store
 * directory; Redis keeps nothing, as the venue's Redis holds only rate-limit counters).
 *
 * Only the processes started here are ever signalled, by their PIDs. They are stopped by `close()` (call it
 * in `after`), and, should the test process end without it (a failed assertion, an uncaught error, SIGINT or
 * SIGTERM), by an exit hook: PostgreSQL gets SIGQUIT (its postmaster then ends its own children), the others
 * SIGKILL. A missing binary is an error naming it and the package that has it: these tests never skip.
 *
 *   const services = await PrivateServices.start(['postgres', 'redis', 'nats']);
 *   services.postgres.url // postgres://postgres@127.0.0.1:PORT/postgres
 *   await services.redis.stop('crash'); ...; await services.redis.start();
 *   await services.close();
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chownSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  chmodSync,
} from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ServiceName = 'postgres' | 'redis' | 'nats';
/** `crash`: killed at once (PostgreSQL: immediate shutdown, no checkpoint). `graceful`: asked to stop. */
export type StopMode = 'crash' | 'graceful';

const PG_BIN = process.env.RIALTO_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const REDIS_SERVER = process.env.RIALTO_TEST_REDIS_SERVER ?? '/usr/bin/redis-server';
const NATS_SERVER = process.env.RIALTO_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

/** How long a start may take before it counts as failed (initdb and a first start are slow on a busy box). */
const START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 30_000;

/** Every child process started by this module and still running: the exit hook's list. */
const live = new Map<number, { child: ChildProcess; signal: NodeJS.Signals }>();
let hooked = false;

function killLive(): void {
  for (const [pid, { signal }] of live) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killLive);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // Once: after cleaning up, the signal is raised again and its default action (exit) applies.
    process.once(signal, () => {
      killLive();
      process.kill(process.pid, signal);
    });
  }
}

function requireBinary(path: string, what: string, pkg: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `${what} is needed by this test and was not found at ${path}: install ${pkg} ` +
        '(CI has it; the test does not skip without it)',
    );
  }
}

/** A port free right now on 127.0.0.1 (bound, then released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** One exchange on a fresh TCP connection: sends `send` (if any), resolves with what came back first. */
function exchange(port: number, send: string | null, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (answer: string): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(got));
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      if (send !== null) socket.write(send);
    });
    socket.on('data', (chunk: string) => {
      got += chunk;
      if (got.includes('\r\n')) done(got);
    });
    socket.on('error', () => done(''));
    socket.on('end', () => done(got));
  });
}

/** Whether something accepts TCP connections on the port now. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Recipe {
  readonly name: ServiceName;
  readonly command: string;
  readonly args: readonly string[];
  readonly uid?: number;
  readonly gid?: number;
  /** Signals for a crash and a graceful stop. */
  readonly signals: Readonly<Record<StopMode, NodeJS.Signals>>;
  /** Resolves true once the server answers as itself. */
  readonly ready: () => Promise<boolean>;
}

/** One private server: its process, port and directory; stopped and started again on the same port. */
export class PrivateService {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private output = '';

  constructor(
    private readonly recipe: Recipe,
    readonly port: number,
    readonly url: string,
  ) {}

  get name(): ServiceName {
    return this.recipe.name;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** The PID of the running process (null when stopped). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Starts the server and waits until it answers; throws with its output if it does not. */
  async start(): Promise<void> {
    if (this.child !== null) throw new Error(`${this.name} is running already`);
    hookExit();
    const r = this.recipe;
    const child = spawn(r.command, [...r.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(r.uid === undefined ? {} : { uid: r.uid, gid: r.gid }),
    });
    this.output = '';
    const keep = (chunk: Buffer): void => {
      // The last few kilobytes, for the error message of a start that fails.
      this.output = (this.output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const pid = child.pid;
    if (pid === undefined) {
      await new Promise((resolve) => child.once('error', resolve));
      throw new Error(`${this.name}: could not start ${r.command}`);
    }
    live.set(pid, { child, signal: r.signals.crash });
    this.child = child;
    let gone = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        gone = true;
        live.delete(pid);
        resolve();
      }),
    );
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!(await r.ready())) {
      if (gone || Date.now() > deadline) {
        if (!gone) await this.stop('crash');
        this.child = null;
        throw new Error(
          `${this.name} did not start on port ${this.port} (${gone ? 'it exited' : 'no answer'}):\n${this.output}`,
        );
      }
      await pause(50);
    }
  }

  /** Stops the server and waits for its process to end. */
  async stop(mode: StopMode = 'crash'): Promise<void> {
    const child = this.child;
    if (child === null) return;
    const pid = child.pid as number;
    try {
      process.kill(pid, this.recipe.signals[mode]);
    } catch {
      // It ended by itself.
    }
    const timer = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }, STOP_DEADLINE_MS);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
    this.child = null;
    // PostgreSQL's children may end after the postmaster: wait until nothing listens on the port any more.
    for (let i = 0; i < 200 && (await listening(this.port)); i++) await pause(50);
  }
}

export class PrivateServices {
  private constructor(
    readonly dir: string,
    private readonly services: ReadonlyMap<ServiceName, PrivateService>,
  ) {}

  /** Starts the named services, each in its own directory under one temporary directory. */
  static async start(names: readonly ServiceName[]): Promise<PrivateServices> {
    const dir = mkdtempSync(join(tmpdir(), 'rialto-private-'));
    // PostgreSQL runs as `postgres` and must reach its directories below this one.
    chmodSync(dir, 0o755);
    const services = new Map<ServiceName, PrivateService>();
    const made = new PrivateServices(dir, services);
    try {
      for (const name of names) {
        const service = await makeService(name, join(dir, name));
        services.set(name, service);
        await service.start();
      }
    } catch (e) {
      await made.close();
      throw e;
    }
    return made;
  }

  private get(name: ServiceName): PrivateService {
    const s = this.services.get(name);
    if (s === undefined) throw new Error(`${name} was not started by this PrivateServices`);
    return s;
  }

  get postgres(): PrivateService {
    return this.get('postgres');
  }

  get redis(): PrivateService {
    return this.get('redis');
  }

  get nats(): PrivateService {
    return this.get('nats');
  }

  /** Stops every service this started (crash-like) and removes the temporary directory. */
  async close(): Promise<void> {
    for (const s of this.services.values()) await s.stop('crash').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function userIds(user: string): { uid: number; gid: number } {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === user) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error(
    `the user ${user} does not exist: PostgreSQL refuses to run as root (install postgresql-15)`,
  );
}

async function makeService(name: ServiceName, dir: string): Promise<PrivateService> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  if (name === 'postgres') return makePostgres(dir, port);
  if (name === 'redis') {
    requireBinary(REDIS_SERVER, 'redis-server', 'redis-server');
    const recipe: Recipe = {
      name,
      command: REDIS_SERVER,
      args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      signals: { crash: 'SIGKILL', graceful: 'SIGTERM' },
      ready: async () => (await exchange(port, 'PING\r\n')).startsWith('+PONG'),
    };
    return new PrivateService(recipe, port, `redis://127.0.0.1:${port}`);
  }
  requireBinary(NATS_SERVER, 'nats-server', 'nats-server');
  const recipe: Recipe = {
    name,
    command: NATS_SERVER,
    args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
    signals: { crash: 'SIGKILL', graceful: 'SIGTERM' },
    ready: async () => {
      // Greets with INFO; with JetStream on, the greeting's `jetstream: true` comes once it is up.
      const greeting = await exchange(port, null);
      return greeting.startsWith('INFO ') && greeting.includes('"jetstream":true');
    },
  };
  return new PrivateService(recipe, port, `nats://127.0.0.1:${port}`);
}

function makePostgres(dir: string, port: number): PrivateService {
  for (const tool of ['initdb', 'postgres', 'pg_isready'])
    requireBinary(join(PG_BIN, tool), `PostgreSQL's ${tool}`, 'postgresql-15');
  const { uid, gid } = userIds('postgres');
  const data = join(dir, 'data');
  const sockets = join(dir, 'sockets');
  mkdirSync(sockets);
  for (const d of [dir, sockets]) chownSync(d, uid, gid);
  // initdb refuses root: it runs as postgres. Trust auth on loopback, no fsync (a test cluster).
  execFileSync(
    join(PG_BIN, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { uid, gid, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const recipe: Recipe = {
    name: 'postgres',
    command: join(PG_BIN, 'postgres'),
    args: [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      sockets,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=50',
    ],
    uid,
    gid,
    // SIGQUIT: immediate shutdown (crash recovery at the next start); SIGINT: fast shutdown.
    signals: { crash: 'SIGQUIT', graceful: 'SIGINT' },
    ready: () => pgReady(port),
  };
  return new PrivateService(recipe, port, url);
}

/** pg_isready's answer 0: the server accepts connections (1: starting, 2: no answer). */
function pgReady(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(join(PG_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '2'], {
      stdio: 'ignore',
    });
    child.once('exit', (code) => resolve(code === 0));
    child.once('error', () => resolve(false));
  });
}
