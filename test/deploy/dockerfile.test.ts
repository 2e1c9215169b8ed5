/**
 * The Dockerfile's properties, read with dockerfile-ast: multi-stage with a pinned base, production
 * dependencies only in the runtime, a numeric non-root user, a HEALTHCHECK without curl, a data volume that
 * is the only place the venue writes, the exec form (so Node is PID 1 and gets SIGTERM), and a .dockerignore
 * that lets in exactly what the COPY lines name, and pg_dump from a pinned Debian package. image.test.ts runs the
 * same file.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { CONFIG_ENV_NAMES } from '../../src/ops/index.js';
import {
  aptPackagesOf,
  durationSeconds,
  envOf,
  instructionsOf,
  lastOf,
  parseDockerfile,
  readDockerfile,
  ROOT,
  START_BUDGET_SECONDS,
  startCommandOf,
  type DockerStage,
} from './dockerfile-model.js';
import { numericUser, readDockerignore } from './scratch-image.js';

const model = readDockerfile();
const runtime = model.stages[model.stages.length - 1];
const build = model.stages[0];

function runs(stage: DockerStage): string[] {
  return instructionsOf(stage, 'RUN').map((i) => i.text);
}

/** `x.y.z` of an image tag such as 20.20.2-bookworm-slim, or null when the tag is not an exact release. */
function exactVersion(tag: string | null): string | null {
  return tag === null ? null : (/^(\d+\.\d+\.\d+)(-[a-z0-9]+)*$/.exec(tag)?.[1] ?? null);
}

describe('Dockerfile', () => {
  it('the model reads stages, flags and both command forms', () => {
    // The checks below are only as good as the parsing they rest on.
    const m = parseDockerfile(
      'FROM node:1.2.3 AS a\nRUN echo a \\\n  b\nFROM a\nCOPY --from=a /x ./y\nCMD ["node", "x.js"]\n',
    );
    assert.equal(m.stages.length, 2);
    assert.deepEqual(m.stages[0].image, { name: 'node', tag: '1.2.3', digest: null });
    assert.equal(m.stages[0].name, 'a');
    assert.equal(runs(m.stages[0])[0].replace(/\s+/g, ' '), 'echo a b');
    const copy = instructionsOf(m.stages[1], 'COPY')[0];
    assert.equal(copy.flags.get('from'), 'a');
    assert.deepEqual(copy.args, ['/x', './y']);
    assert.deepEqual(startCommandOf(m.stages[1]), ['node', 'x.js']);
    assert.throws(
      () => startCommandOf(parseDockerfile('FROM x:1.0.0\nCMD node x.js\n').stages[0]),
      /exec form/,
    );
  });

  it('is multi-stage: a build stage compiles, the runtime installs production dependencies only', () => {
    assert.ok(model.stages.length >= 2);
    assert.equal(build.name, 'build');
    assert.equal(runtime.name, 'runtime');
    assert.ok(
      runs(build).some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev')),
      'the build installs dev dependencies',
    );
    assert.ok(
      runs(build).some((r) => /\btsc\b/.test(r)),
      'the build compiles with tsc',
    );
    assert.ok(
      runs(runtime).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)),
      'npm ci --omit=dev in the runtime',
    );
    assert.ok(!runs(runtime).some((r) => /\btsc\b|npm (install|i)\b/.test(r)), 'no compiler, no npm install');
    const copies = instructionsOf(runtime, 'COPY');
    const fromBuild = copies.filter((c) => c.flags.get('from') === 'build');
    assert.deepEqual(
      fromBuild.map((c) => c.args[0]),
      ['/app/dist/src', '/app/dist/pglite-template'],
      'only the compiled sources and the PGlite template come from the build stage (no tests, benches or dev node_modules)',
    );
    for (const c of copies.filter((x) => !x.flags.has('from'))) {
      for (const source of c.args.slice(0, -1)) {
        assert.ok(['package.json', 'package-lock.json'].includes(source), `the runtime copies ${source}`);
      }
    }
  });

  it('pins every base image to an exact release, the same in every stage, on the major Node we run', () => {
    for (const s of model.stages) {
      assert.equal(s.image.name, 'node');
      assert.notEqual(s.image.tag, 'latest');
      const version = exactVersion(s.image.tag);
      assert.ok(
        version !== null || s.image.digest !== null,
        `FROM ${s.image.name}:${s.image.tag ?? ''}: not pinned`,
      );
    }
    const tags = new Set(model.stages.map((s) => `${s.image.tag ?? ''}@${s.image.digest ?? ''}`));
    assert.equal(tags.size, 1, 'the build and the runtime use one base image (native modules match)');
    const version = exactVersion(model.stages[0].image.tag);
    assert.ok(version !== null);
    const [major, minor] = version.split('.').map(Number);
    const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    const [minMajor, minMinor] = /^>=(\d+)\.(\d+)$/.exec(engines.engines.node)?.slice(1).map(Number) ?? [];
    assert.ok(
      major === minMajor && minor >= minMinor,
      `${version} satisfies engines ${engines.engines.node}`,
    );
    // image.test.ts runs the image's commands on this machine's Node: the same major release as the image's.
    assert.equal(
      process.versions.node.split('.')[0],
      String(major),
      `the tests run Node ${process.versions.node}`,
    );
  });

  it("installs pg_dump and pg_restore from Debian's packages, pinned, without recommends or the apt lists", () => {
    // The parsing first: options are not packages, a pin is split off.
    const parsed = parseDockerfile(
      'FROM x:1.0.0\nRUN apt-get update && apt-get install -y --no-install-recommends a=1.2-3 b\n',
    );
    assert.deepEqual(aptPackagesOf(instructionsOf(parsed.stages[0], 'RUN')[0]), [
      { name: 'a', version: '1.2-3' },
      { name: 'b', version: null },
    ]);
    const installs = instructionsOf(runtime, 'RUN').filter((r) => aptPackagesOf(r) !== null);
    assert.equal(installs.length, 1, 'one apt-get install in the runtime');
    const [run] = installs;
    const packages = aptPackagesOf(run) ?? [];
    for (const p of packages) assert.ok(p.version !== null, `${p.name} is pinned to a version`);
    // `rialto backup` runs pg_dump (and restore pg_restore) of the server's major release or newer.
    const client = packages.find((p) => /^postgresql-client-\d+$/.test(p.name));
    assert.ok(client !== undefined, 'a versioned postgresql-client-N package');
    const compose = readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8');
    const server = /image:\s*postgres:(\d+)\./.exec(compose)?.[1];
    assert.ok(server !== undefined, 'compose names a PostgreSQL release');
    assert.ok(
      Number(client.name.split('-').at(-1)) >= Number(server),
      `${client.name} dumps the compose PostgreSQL ${server}`,
    );
    assert.match(run.text, /apt-get update/, 'the lists are fetched in the same RUN');
    assert.match(run.text, /--no-install-recommends/);
    assert.match(run.text, /rm -rf \/var\/lib\/apt\/lists/, 'and removed in it: no lists in the image');
    assert.ok(!build.instructions.some((i) => i.keyword === 'RUN' && aptPackagesOf(i) !== null));
  });

  it('runs as a numeric non-root user that owns the data volume, and only there writes', () => {
    const user = lastOf(runtime, 'USER');
    assert.ok(user !== null, 'USER is set');
    const { uid, gid } = numericUser(user.args[0]);
    assert.ok(uid >= 1000 && gid >= 1000, 'not root, not a system account');
    const lastRun = instructionsOf(runtime, 'RUN').at(-1);
    assert.ok(
      lastRun !== undefined && lastRun.line < user.line,
      'no RUN after USER (nothing runs as root later)',
    );

    const env = envOf(runtime);
    const dataDir = env.get('RIALTO_DATA_DIR');
    assert.equal(dataDir, '/data');
    const volumes = instructionsOf(runtime, 'VOLUME').flatMap((v) => v.exec ?? v.args);
    assert.deepEqual(volumes, [dataDir], 'the data directory is the one volume');
    assert.ok(
      runs(runtime).some((r) => r.includes(`chown ${uid}:${gid} ${dataDir}`)),
      'the data directory belongs to the user, so a new named volume does too',
    );
    assert.equal(lastOf(runtime, 'WORKDIR')?.args[0], '/app');
    assert.ok(!dataDir.startsWith('/app'), 'the app directory stays read-only');
  });

  it('sets only variables the configuration reads, production mode included', () => {
    const env = envOf(runtime);
    const known = new Set(CONFIG_ENV_NAMES);
    for (const name of env.keys()) {
      assert.ok(known.has(name) || name === 'NODE_ENV', `ENV ${name} is not a configuration variable`);
    }
    assert.equal(env.get('RIALTO_MODE'), 'production');
    assert.equal(env.get('HOST'), '0.0.0.0', 'listens on every interface of the container');
    const ports = instructionsOf(runtime, 'EXPOSE').flatMap((e) => e.args);
    assert.deepEqual(ports, [env.get('PORT')], 'EXPOSE is the port the venue listens on');
  });

  it('starts `rialto start` in the exec form, so that node is PID 1 and receives SIGTERM', () => {
    assert.deepEqual(startCommandOf(runtime), ['node', 'dist/src/cli/main.js', 'start']);
    assert.equal(lastOf(runtime, 'STOPSIGNAL')?.args[0], 'SIGTERM');
    // The start command handles SIGTERM itself (PID 1 has no default): through serving.ts's stopSignal.
    const start = readFileSync(join(ROOT, 'src/cli/start-command.ts'), 'utf8');
    assert.match(start, /stopSignal\(\)/, 'the start command waits for the stop signal');
    const serving = readFileSync(join(ROOT, 'src/cli/serving.ts'), 'utf8');
    assert.match(serving, /process\.on\('SIGTERM'/, 'the stop signal is SIGTERM (or SIGINT)');
    for (const s of model.stages) {
      assert.ok(!runs(s).some((r) => /\btini\b|dumb-init/.test(r)), 'no init process is installed');
    }
  });

  it('checks health with node on /health, with bounded timings, no curl', () => {
    const check = lastOf(runtime, 'HEALTHCHECK');
    assert.ok(check !== null && check.exec !== null, 'HEALTHCHECK CMD in the exec form');
    assert.equal(check.exec[0], 'node');
    assert.equal(check.exec[1], '-e');
    const script = check.exec[2];
    assert.doesNotThrow(() => new Script(script), 'the script parses');
    assert.match(script, /fetch\('http:\/\/127\.0\.0\.1:' \+ \(process\.env\.PORT \|\| 8080\) \+ '\/health'/);
    assert.match(script, /AbortSignal\.timeout\(\d+\)/, 'the request is bounded');
    assert.ok(!/curl|wget/.test(check.text));
    for (const flag of ['interval', 'timeout', 'start-period', 'retries']) {
      assert.ok(check.flags.get(flag) !== undefined, `--${flag} is explicit`);
    }
    // A start replays the whole journal before it listens.
    assert.ok(
      durationSeconds(check.flags.get('start-period') ?? '0s') >= START_BUDGET_SECONDS,
      'start period',
    );
  });

  it('.dockerignore lets in exactly what the COPY lines take from the context', () => {
    const { included } = readDockerignore();
    const copied = new Set(
      model.stages.flatMap((s) =>
        instructionsOf(s, 'COPY')
          .filter((c) => !c.flags.has('from'))
          .flatMap((c) => c.args.slice(0, -1)),
      ),
    );
    assert.deepEqual([...included].sort(), [...copied].sort());
  });
});
