/**
 * Runs a Dockerfile's stages without a Docker engine (none runs here), the way a builder and a container
 * runtime would, close enough to catch what breaks an image: each stage gets a root directory of its own
 * that stands for the base image (the host's /usr and /etc mounted read-only: Debian bookworm with Node, as
 * the node:*-bookworm-slim images are), COPY copies from the build context (only what .dockerignore lets in)
 * or from an earlier stage's root, and RUN runs its command with `chroot` as root inside a mount namespace,
 * with the stage's ENV and WORKDIR, so a RUN cannot touch the host's files outside the stage.
 *
 * A container then runs the last stage's ENTRYPOINT and CMD in new mount and PID namespaces: the root
 * filesystem read-only (as `docker run --read-only`), every VOLUME a writable directory initialised from the
 * image's (owner and mode, as Docker does for a new named volume), /tmp read-only with the rest, the process
 * as the image's USER and as PID 1 of its namespace, where the kernel delivers no signal that the process
 * does not handle itself (so a SIGTERM that nobody handles would be ignored, as in a container).
 *
 * Differences from a real build, on purpose: a RUN of `apt-get install` is not run (no package archive is
 * reachable here): the host, which stands for the base image, must already hold each package at its pinned
 * version (hostHasPackages). RUN sees the host's npm cache through an overlay (writes and
 * `npm cache clean` stay in the scratch directory) and npm prefers that cache (`npm_config_prefer_offline`),
 * the host's Node and npm stand for the image's (same major release, checked by the tests), and the network
 * namespace is the host's, so the API's port is on the host's loopback (as `-p PORT:PORT` would be).
 *
 * Needs root (mount namespaces, chroot, overlayfs), as CI has.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { basename, isAbsolute, join, posix } from 'node:path';
import {
  aptPackagesOf,
  DOCKERIGNORE,
  envOf,
  type AptPackage,
  type DockerInstruction,
  type DockerStage,
} from './dockerfile-model.js';

/** A RUN step that takes longer than this has hung (npm ci and tsc take well under a minute each here). */
export const RUN_TIMEOUT_MS = 300_000;

/** What the node images set before any instruction of ours. */
const BASE_ENV: ReadonlyArray<[string, string]> = [
  ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
];

/** Instructions that only set the image's metadata: a builder records them, the run below reads them. */
const METADATA = new Set(['VOLUME', 'EXPOSE', 'STOPSIGNAL', 'HEALTHCHECK', 'ENTRYPOINT', 'CMD', 'LABEL']);

/**
 * The namespace's setup, run by `unshare` as PID 1 before it becomes the command (exec). Its arguments are
 * the command; its settings come in SANDBOX_* variables, which `env -i` keeps from the command.
 */
const SANDBOX_SCRIPT = `
set -eu
R="$SANDBOX_ROOT"
mount --bind "$R" "$R"
for d in $SANDBOX_HOST_DIRS; do mount --rbind "/$d" "$R/$d"; mount -o remount,bind,ro "$R/$d"; done
mount --rbind /dev "$R/dev"
mount -t proc proc "$R/proc"
if [ "$SANDBOX_MODE" = build ]; then
  mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
  mount -t overlay overlay -o "lowerdir=$SANDBOX_NPM_CACHE,upperdir=$SANDBOX_NPM_UPPER,workdir=$SANDBOX_NPM_WORK" "$R/root/.npm"
else
  mount -o remount,bind,ro "$R"
  for v in $SANDBOX_VOLUMES; do mount --bind "\${v%%=*}" "$R\${v#*=}"; done
fi
exec chroot --userspec="$SANDBOX_USER" "$R" "$@"
`;

export interface BuiltStage {
  readonly stage: DockerStage;
  readonly rootfs: string;
  readonly env: ReadonlyMap<string, string>;
  readonly workdir: string;
  /** `uid:gid` as USER gave it (root is 0:0). */
  readonly user: string;
  /** Each RUN's command and how long it took. */
  readonly runs: ReadonlyArray<{ readonly command: string; readonly ms: number }>;
}

/**
 * An `apt-get install` RUN, which the scratch build cannot run (no package archive here, and the base is the
 * host's read-only /usr and /etc): the host stands for the base image with those packages installed, so it
 * must hold each one at the pinned version, else the run of the image below would test other programs.
 */
function hostHasPackages(i: DockerInstruction, packages: readonly AptPackage[]): void {
  for (const p of packages) {
    const r = spawnSync('dpkg-query', ['--show', '--showformat=${Status} ${Version}', p.name], {
      encoding: 'utf8',
    });
    const [installed, version] = [r.stdout.startsWith('install ok installed'), r.stdout.split(' ').at(-1)];
    assert.ok(
      r.status === 0 && installed && (p.version === null || version === p.version),
      `line ${i.line}: the scratch build stands the host in for apt-get install ${p.name}` +
        `${p.version === null ? '' : `=${p.version}`}; the host has ${r.status === 0 ? r.stdout : 'none'} ` +
        `(apt-get install ${p.name}${p.version === null ? '' : `=${p.version}`} on the test machine)`,
    );
  }
}

/** The root filesystem's top-level entries that come from the host: merged-/usr symlinks or directories. */
function hostTopLevel(): { links: Map<string, string>; dirs: string[] } {
  const links = new Map<string, string>();
  const dirs = ['usr', 'etc'];
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const path = `/${name}`;
    if (!existsSync(path)) continue;
    if (lstatSync(path).isSymbolicLink()) links.set(name, readlinkSync(path));
    else dirs.push(name);
  }
  return { links, dirs };
}

/**
 * .dockerignore as an allow-list: `*` first, then `!path` lines. Anything richer is refused, so that this
 * reader never quietly disagrees with Docker's.
 */
export function readDockerignore(): { excludesAll: boolean; included: string[] } {
  const lines = readFileSync(DOCKERIGNORE, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(lines[0], '*', '.dockerignore: the first pattern excludes everything (an allow-list)');
  const included = lines.slice(1).map((l) => {
    assert.ok(/^![A-Za-z0-9._-][A-Za-z0-9._/-]*$/.test(l), `.dockerignore: ${l}: only !path lines after *`);
    return l.slice(1).replace(/\/+$/, '');
  });
  return { excludesAll: true, included };
}

function contextIncludes(source: string, included: readonly string[]): boolean {
  const path = posix.normalize(source).replace(/^\.\//, '').replace(/\/+$/, '');
  return included.some((p) => path === p || path.startsWith(`${p}/`));
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (lstatSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}

/** `uid[:gid]` to numbers; names are refused (the image has no passwd entry for its user). */
export function numericUser(user: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  assert.ok(m !== null, `USER ${user}: a numeric uid[:gid] is expected`);
  const uid = Number(m[1]);
  return { uid, gid: m[2] === undefined ? uid : Number(m[2]) };
}

export interface Exited {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function collect(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<Exited> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => void (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => void (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `env -i` with the image's environment, then the command, from the working directory. */
function envCommand(env: ReadonlyMap<string, string>, workdir: string, command: readonly string[]): string[] {
  return ['/usr/bin/env', '-i', '-C', workdir, ...[...env].map(([k, v]) => `${k}=${v}`), ...command];
}

function homeOf(user: string, env: ReadonlyMap<string, string>): Map<string, string> {
  const withHome = new Map(env);
  // Docker sets HOME from /etc/passwd, or / for a user that has no entry there.
  if (!withHome.has('HOME')) withHome.set('HOME', numericUser(user).uid === 0 ? '/root' : '/');
  return withHome;
}

export class ScratchBuilder {
  private readonly built = new Map<string, BuiltStage>();
  /** Every stage's RUN steps in order, with the stage's name and how long each took. */
  readonly timings: Array<{ readonly stage: string; readonly command: string; readonly ms: number }> = [];
  private readonly host = hostTopLevel();
  private readonly included = readDockerignore().included;
  private readonly npmCache: string;

  constructor(
    private readonly scratch: string,
    private readonly context: string,
  ) {
    const cache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
    this.npmCache = cache !== '' && existsSync(cache) ? cache : join(scratch, 'npm-cache-empty');
    mkdirSync(this.npmCache, { recursive: true });
  }

  /** Builds every stage in order; returns the last (the image). */
  async buildAll(stages: readonly DockerStage[]): Promise<BuiltStage> {
    let last: BuiltStage | null = null;
    for (const [index, stage] of stages.entries()) last = await this.build(stage, index);
    assert.ok(last !== null, 'the Dockerfile has no stage');
    return last;
  }

  private baseRootfs(dir: string): void {
    mkdirSync(dir, { recursive: true });
    for (const d of [...this.host.dirs, 'dev', 'proc', 'root/.npm'])
      mkdirSync(join(dir, d), { recursive: true });
    mkdirSync(join(dir, 'tmp'));
    chmodSync(join(dir, 'tmp'), 0o1777);
    chmodSync(join(dir, 'root'), 0o700);
    for (const [name, target] of this.host.links) symlinkSync(target, join(dir, name));
  }

  private async build(stage: DockerStage, index: number): Promise<BuiltStage> {
    const rootfs = join(this.scratch, `stage-${index}`, 'rootfs');
    this.baseRootfs(rootfs);
    const env = new Map<string, string>(BASE_ENV);
    let workdir = '/';
    let user = '0:0';
    const runs: Array<{ command: string; ms: number }> = [];
    for (const i of stage.instructions) {
      switch (i.keyword) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, i.args[0]);
          mkdirSync(join(rootfs, workdir), { recursive: true });
          break;
        case 'ENV':
          for (const [k, v] of envOf({ ...stage, instructions: [i] })) {
            assert.ok(
              !v.includes('$'),
              `line ${i.line}: ENV ${k}: the scratch build does not expand variables`,
            );
            env.set(k, v);
          }
          break;
        case 'COPY':
          this.copy(i, rootfs, workdir);
          break;
        case 'RUN': {
          const started = performance.now();
          const packages = aptPackagesOf(i);
          if (packages === null) await this.run(i, rootfs, index, env, workdir, user);
          else hostHasPackages(i, packages);
          const ms = Math.round(performance.now() - started);
          runs.push({ command: i.text, ms });
          this.timings.push({ stage: stage.name ?? String(index), command: i.text, ms });
          break;
        }
        case 'USER':
          user = i.args[0] === 'root' ? '0:0' : i.args[0];
          break;
        default:
          assert.ok(
            METADATA.has(i.keyword),
            `line ${i.line}: ${i.keyword} is not supported by the scratch build`,
          );
      }
    }
    const built: BuiltStage = { stage, rootfs, env, workdir, user, runs };
    this.built.set(stage.name ?? String(index), built);
    return built;
  }

  private copy(i: DockerInstruction, rootfs: string, workdir: string): void {
    for (const flag of i.flags.keys())
      assert.ok(flag === 'from' || flag === 'chown', `line ${i.line}: COPY --${flag}`);
    const from = i.flags.get('from') ?? null;
    const sources = i.args.slice(0, -1);
    const destination = posix.resolve(workdir, i.args[i.args.length - 1]);
    const intoDirectory = i.args[i.args.length - 1].endsWith('/') || sources.length > 1;
    for (const source of sources) {
      let path: string;
      if (from === null) {
        assert.ok(
          !isAbsolute(source) && !source.includes('..'),
          `line ${i.line}: ${source}: outside the context`,
        );
        assert.ok(
          contextIncludes(source, this.included),
          `line ${i.line}: ${source} is left out by .dockerignore`,
        );
        path = join(this.context, source);
      } else {
        const stage = this.built.get(from);
        assert.ok(stage !== undefined, `line ${i.line}: COPY --from=${from}: no such earlier stage`);
        path = join(stage.rootfs, posix.resolve(stage.workdir, source));
      }
      assert.ok(existsSync(path), `line ${i.line}: COPY ${source}: not found (${path})`);
      // A directory's contents go into the destination; a file goes into it when it names a directory.
      const target =
        statSync(path).isDirectory() || !intoDirectory
          ? join(rootfs, destination)
          : join(rootfs, destination, basename(path));
      cpSync(path, target, { recursive: true, verbatimSymlinks: true });
      const chown = i.flags.get('chown');
      if (chown !== undefined && chown !== null) {
        const { uid, gid } = numericUser(chown);
        chownTree(target, uid, gid);
      }
    }
  }

  private async run(
    i: DockerInstruction,
    rootfs: string,
    index: number,
    env: ReadonlyMap<string, string>,
    workdir: string,
    user: string,
  ): Promise<void> {
    const upper = join(this.scratch, `stage-${index}`, 'npm-upper');
    const work = join(this.scratch, `stage-${index}`, 'npm-work');
    mkdirSync(upper, { recursive: true });
    mkdirSync(work, { recursive: true });
    const runEnv = homeOf(user, env);
    runEnv.set('npm_config_prefer_offline', 'true');
    const command = i.exec ?? ['/bin/sh', '-c', i.text];
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--pid',
        '--fork',
        '--kill-child',
        'sh',
        '-c',
        SANDBOX_SCRIPT,
        'sandbox',
        ...envCommand(runEnv, workdir, command),
      ],
      {
        env: {
          PATH: process.env.PATH,
          SANDBOX_MODE: 'build',
          SANDBOX_ROOT: rootfs,
          SANDBOX_HOST_DIRS: this.host.dirs.join(' '),
          SANDBOX_NPM_CACHE: this.npmCache,
          SANDBOX_NPM_UPPER: upper,
          SANDBOX_NPM_WORK: work,
          SANDBOX_USER: user,
        },
      },
    );
    const r = await collect(child, RUN_TIMEOUT_MS);
    assert.equal(
      r.code,
      0,
      `line ${i.line}: RUN ${i.text} exited ${String(r.code ?? r.signal)}:\n${r.stdout}\n${r.stderr}`,
    );
  }
}

export interface Container {
  /** The image's environment with the overrides, as the process sees it. */
  readonly env: ReadonlyMap<string, string>;
  /** The host's pid of the container's process (PID 1 in its namespace). */
  readonly pid: number;
  readonly exited: Promise<Exited>;
  /** stdout and stderr so far. */
  output(): string;
  /** Runs a command inside the container (its namespaces, root, user and environment), like `docker exec`. */
  exec(command: readonly string[]): Promise<Exited>;
}

export interface RunningContainer extends Container {
  /** Each VOLUME's host directory and where it is mounted in the container. */
  readonly volumes: ReadonlyArray<readonly [string, string]>;
}

/** The volumes' host directories, each initialised from the image's directory (owner and mode). */
function makeVolumes(image: BuiltStage, scratch: string): Array<[string, string]> {
  const volumes: Array<[string, string]> = [];
  for (const i of image.stage.instructions.filter((x) => x.keyword === 'VOLUME')) {
    for (const at of i.exec ?? i.args) {
      const inImage = join(image.rootfs, at);
      assert.ok(
        existsSync(inImage),
        `VOLUME ${at}: the image has no such directory (a root-owned one would be made)`,
      );
      const dir = mkdtempSync(join(scratch, 'volume-'));
      cpSync(inImage, dir, { recursive: true });
      const st = statSync(inImage);
      chownSync(dir, st.uid, st.gid);
      chmodSync(dir, st.mode & 0o7777);
      volumes.push([dir, at]);
    }
  }
  return volumes;
}

export async function startContainer(
  image: BuiltStage,
  scratch: string,
  command: readonly string[],
  overrides: Readonly<Record<string, string>>,
): Promise<RunningContainer> {
  const volumes = makeVolumes(image, scratch);
  const env = homeOf(image.user, image.env);
  for (const [k, v] of Object.entries(overrides)) env.set(k, v);
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--pid',
      '--fork',
      '--kill-child',
      'sh',
      '-c',
      SANDBOX_SCRIPT,
      'sandbox',
      ...envCommand(env, image.workdir, command),
    ],
    {
      env: {
        PATH: process.env.PATH,
        SANDBOX_MODE: 'run',
        SANDBOX_ROOT: image.rootfs,
        SANDBOX_HOST_DIRS: hostTopLevel().dirs.join(' '),
        SANDBOX_VOLUMES: volumes.map(([dir, at]) => `${dir}=${at}`).join(' '),
        SANDBOX_USER: image.user,
      },
    },
  );
  let output = '';
  child.stdout.on('data', (b: Buffer) => void (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => void (output += b.toString()));
  const exited = new Promise<Exited>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: output, stderr: '' }));
  });
  const unsharePid = child.pid;
  assert.ok(unsharePid !== undefined, 'unshare did not start');
  const pid = await childPidOf(unsharePid);
  const { uid, gid } = numericUser(image.user);
  return {
    env,
    pid,
    exited,
    volumes,
    output: () => output,
    exec: async (cmd) => {
      const args = [
        '--target',
        String(pid),
        '--mount',
        '--pid',
        '--root',
        `--setuid=${uid}`,
        `--setgid=${gid}`,
      ];
      const c = spawn('nsenter', [...args, ...envCommand(env, image.workdir, cmd)], {
        env: { PATH: process.env.PATH },
      });
      return collect(c, 30_000);
    },
  };
}

/** The forked child of `unshare --fork` (which becomes the container's process by exec). */
async function childPidOf(parent: number): Promise<number> {
  const file = `/proc/${parent}/task/${parent}/children`;
  for (let tries = 0; tries < 200; tries++) {
    const children = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    if (children !== '') return Number(children.split(/\s+/)[0]);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`unshare (pid ${parent}) started no child`);
}
