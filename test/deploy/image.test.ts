/**
 * The image's build and start, without a Docker engine: scratch-image.ts runs the Dockerfile's stages (COPY
 * from the context .dockerignore allows, RUN in a chroot: `npm ci`, `tsc`, `npm ci --omit=dev`), then starts
 * the last stage's ENTRYPOINT and CMD with its ENV, as its USER, as PID 1, on a read-only root with the data
 * volume writable. The venue must answer /health and /ready, take a write (a first-run admin key, an account),
 * pass the image's own HEALTHCHECK from inside the container, run pg_dump and pg_restore of the Dockerfile's
 * PostgreSQL client package there, and stop on SIGTERM with exit 0.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import pg from 'pg';
import {
  aptPackagesOf,
  instructionsOf,
  lastOf,
  readDockerfile,
  ROOT,
  startCommandOf,
} from './dockerfile-model.js';
import { PGLITE_TEMPLATE_ARCHIVE, PGLITE_TEMPLATE_META } from '../../src/store/pglite-template.js';
import { TEST_DATABASE_URL } from '../store/helpers.js';
import { deleteStreams, uniqueNames } from '../bus/services.js';
import {
  numericUser,
  ScratchBuilder,
  startContainer,
  type BuiltStage,
  type Exited,
  type RunningContainer,
} from './scratch-image.js';

/** A first start (PGlite's first initialisation included) takes a few seconds here; this is a hang. */
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      assert.ok(address !== null && typeof address === 'object');
      server.close(() => resolve(address.port));
    });
  });
}

async function status(url: string): Promise<number | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return null;
  }
}

async function waitFor200(url: string, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if ((await status(url)) === 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${url} did not answer 200 within ${READY_TIMEOUT_MS} ms; the container said:\n${output()}`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f));
}

describe('the image, built and run from the Dockerfile without Docker', { timeout: 900_000 }, () => {
  const model = readDockerfile();
  const scratch = mkdtempSync(join(tmpdir(), 'rialto-image-'));
  let image: BuiltStage;
  let builder: ScratchBuilder;

  before(async () => {
    assert.equal(
      process.getuid?.(),
      0,
      'this test builds and runs the image in namespaces: it needs root, as CI has',
    );
    builder = new ScratchBuilder(scratch, ROOT);
    image = await builder.buildAll(model.stages);
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('builds: the runtime holds the compiled code and production dependencies only', (t) => {
    for (const r of builder.timings) t.diagnostic(`${r.stage}: RUN ${r.command}: ${r.ms} ms`);
    const app = join(image.rootfs, image.workdir);
    assert.ok(statSync(join(app, 'dist/src/cli/main.js')).isFile());
    assert.deepEqual(
      readdirSync(join(app, 'dist')).sort(),
      ['pglite-template', 'src'],
      'no tests or benchmarks in the image',
    );
    // The new PGlite database's template, made by the installed PGlite (a store opened from another's is refused).
    const template = join(app, 'dist/pglite-template');
    const meta = JSON.parse(readFileSync(join(template, PGLITE_TEMPLATE_META), 'utf8')) as {
      pgliteVersion: string;
    };
    const pglite = JSON.parse(
      readFileSync(join(app, 'node_modules/@electric-sql/pglite/package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(meta.pgliteVersion, pglite.version);
    assert.ok(statSync(join(template, PGLITE_TEMPLATE_ARCHIVE)).size > 1_000_000);
    assert.throws(() => statSync(join(app, 'src')), /ENOENT/, 'no TypeScript sources in the image');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const installed = new Set(readdirSync(join(app, 'node_modules')));
    for (const dep of Object.keys(pkg.dependencies))
      assert.ok(installed.has(dep.split('/')[0]), `${dep} is installed`);
    // The lock marks every package only development needs ("dev": true); none of them may be in the image.
    // (A package both sides need, such as @types/node under a production dependency, is not marked.)
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => p.dev === true && path.startsWith('node_modules/'))
      .map(([path]) => path);
    assert.ok(devOnly.includes('node_modules/typescript'), 'the lock marks dev-only packages');
    const leaked = devOnly.filter((path) => existsSync(join(app, path)));
    assert.deepEqual(leaked, [], 'no dev-only package is in the image');
  });

  /** Starts the image with a deployment's additions to its ENV and waits for /health and /ready. */
  async function runToReady(
    t: TestContext,
    overrides: Record<string, string>,
  ): Promise<{ container: RunningContainer; base: string; key: string; stop: () => Promise<Exited> }> {
    const port = await freePort();
    // What every deployment adds: the port mapping, and the secrets production mode requires.
    const container = await startContainer(image, scratch, startCommandOf(image.stage), {
      PORT: String(port),
      RIALTO_JWT_SECRET: randomBytes(32).toString('base64url'),
      RIALTO_METRICS_TOKEN: randomBytes(16).toString('hex'),
      ...overrides,
    });
    let stopped = false;
    t.after(async () => {
      if (!stopped) {
        process.kill(container.pid, 'SIGKILL');
        await container.exited;
      }
    });
    const base = `http://127.0.0.1:${port}`;
    const output = (): string => container.output();
    await waitFor200(`${base}/health`, output);
    await waitFor200(`${base}/ready`, output);
    const key = /^\s+(rk_\S+)$/m.exec(container.output())?.[1];
    assert.ok(key !== undefined, `a first run prints an admin key:\n${container.output()}`);
    const stop = async (): Promise<Exited> => {
      process.kill(container.pid, 'SIGTERM');
      const exit = await Promise.race([
        container.exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no exit ${STOP_TIMEOUT_MS} ms after SIGTERM`)), STOP_TIMEOUT_MS),
        ),
      ]);
      stopped = true;
      return exit;
    };
    return { container, base, key, stop };
  }

  async function createAccount(base: string, key: string, accountId: number): Promise<void> {
    const created = await fetch(`${base}/api/v1/admin/accounts`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ account_id: accountId }),
    });
    assert.equal(created.status, 201, await created.text());
  }

  it('starts as a non-root PID 1 on a read-only root, serves /health and /ready, and stops on SIGTERM', async (t) => {
    const { container, base, key, stop } = await runToReady(t, {});

    // The process is PID 1 of its namespace, and runs as the image's user.
    const procStatus = readFileSync(`/proc/${container.pid}/status`, 'utf8');
    assert.match(procStatus, /^NSpid:\s+\d+\s+1$/m, 'PID 1 in its PID namespace');
    const { uid } = numericUser(image.user);
    assert.ok(uid !== 0);
    assert.match(procStatus, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'));
    assert.equal(container.env.get('RIALTO_MODE'), 'production', 'the image runs in production mode');

    // A write through the API on the read-only root (the journal, PGlite's audit rows).
    await createAccount(base, key, 1);

    // The image's HEALTHCHECK, run inside the container as Docker would.
    const healthcheck = lastOf(image.stage, 'HEALTHCHECK');
    assert.ok(healthcheck?.exec !== null && healthcheck !== null);
    const healthy = await container.exec(healthcheck.exec);
    assert.equal(healthy.code, 0, `HEALTHCHECK: ${healthy.stdout}${healthy.stderr}`);

    // pg_dump and pg_restore, which `rialto backup` and `rialto restore` run in production mode, run as the
    // image's user on its read-only root, of the major release of the package the Dockerfile installs.
    const client = instructionsOf(image.stage, 'RUN')
      .flatMap((r) => aptPackagesOf(r) ?? [])
      .find((p) => /^postgresql-client-\d+$/.test(p.name));
    assert.ok(client !== undefined, 'the image installs a postgresql-client-N package');
    const major = client.name.split('-').at(-1) as string;
    for (const tool of ['pg_dump', 'pg_restore']) {
      const v = await container.exec([tool, '--version']);
      assert.equal(v.code, 0, `${tool}: ${v.stdout}${v.stderr}`);
      assert.match(v.stdout, new RegExp(`^${tool} \\(PostgreSQL\\) ${major}\\.`), v.stdout);
    }

    const exit = await stop();
    assert.equal(exit.code, 0, `exit after SIGTERM:\n${exit.stdout}`);
    assert.match(exit.stdout, /SIGTERM: stopping/);
    assert.match(exit.stdout, /rialto: stopped/);
    assert.equal(await status(`${base}/health`), null, 'nothing listens after the stop');

    // Everything the venue wrote is on the volume, owned by the image's user.
    const [volume, at] = container.volumes[0];
    assert.equal(at, container.env.get('RIALTO_DATA_DIR'));
    const written = filesUnder(volume);
    assert.ok(
      written.some((f) => /snapshot-\d+\.snap$/.test(f)),
      'a snapshot on SIGTERM',
    );
    assert.ok(
      written.some((f) => /journal-\d+\.seg$/.test(f)),
      'the journal',
    );
    assert.ok(
      written.some((f) => f.endsWith('pglite')),
      'the embedded database',
    );
    for (const f of written) assert.equal(statSync(f).uid, uid, `${f} belongs to the image's user`);
  });

  it('runs with PostgreSQL, Redis and NATS as the compose stack does, ready only with all of them', async (t) => {
    // The machine's services stand for the stack's; the store goes to a schema of its own.
    const schema = `rialto_image_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    t.after(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });
    await admin.query(`CREATE SCHEMA ${schema}`);
    const database = new URL(TEST_DATABASE_URL);
    database.searchParams.set('options', `-c search_path=${schema}`);
    // The venue publishes to JetStream: streams and subjects of this test's own, deleted after.
    const nats = uniqueNames();
    t.after(async () => void (await deleteStreams(nats.streamPrefix)));

    const { container, base, key, stop } = await runToReady(t, {
      DATABASE_URL: database.toString(),
      REDIS_URL: 'redis://127.0.0.1:6379',
      NATS_URL: 'nats://127.0.0.1:4222',
      RIALTO_NATS_STREAM_PREFIX: nats.streamPrefix,
      RIALTO_NATS_STREAM_MAX_MEGABYTES: '64',
      RIALTO_NATS_SUBJECT_PREFIX: nats.subjectPrefix,
      RIALTO_MD_REDIS_PREFIX: `rialto-test:${schema}:`,
    });
    const ready = (await (await fetch(`${base}/ready`)).json()) as { checks: Record<string, string> };
    for (const part of ['engine', 'store', 'redis', 'nats']) assert.equal(ready.checks[part], 'ok', part);
    assert.ok(
      Object.values(ready.checks).every((c) => c === 'ok'),
      JSON.stringify(ready.checks),
    );
    await createAccount(base, key, 7);

    const exit = await stop();
    assert.equal(exit.code, 0, `exit after SIGTERM:\n${exit.stdout}`);
    // The query store is PostgreSQL's: the admin key and the audit of the account are there, not in PGlite.
    const keys = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.api_keys`);
    assert.equal(keys.rows[0].n, '1');
    const audit = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.audit_events`);
    assert.ok(Number(audit.rows[0].n) >= 1, 'the account creation is audited');
    const written = filesUnder(container.volumes[0][0]);
    assert.ok(!written.some((f) => f.endsWith('pglite')), 'no embedded database beside PostgreSQL');
    assert.ok(
      written.some((f) => /journal-\d+\.seg$/.test(f)),
      'the journal stays on the volume',
    );
  });
});
