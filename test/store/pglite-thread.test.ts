/**
 * PGlite on a worker thread (the venue's store): what the contract (contract.test.ts, `pglite-worker`) does not
 * show. The files are the in-process adapter's, database errors keep the fields callers check, notifications
 * cross the threads, concurrent transactions take turns, and the worker holds the process only while an
 * answer is awaited.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openPgliteStore, type Store } from '../../src/store/index.js';
import { PGLITE_WORKER_NICE } from '../../src/store/pglite-protocol.js';

describe('query store: PGlite on a worker thread', () => {
  let store: Store;
  before(async () => {
    store = await openPgliteStore({ dir: null, create: true, thread: 'worker' });
  });
  after(async () => {
    await store.close();
  });

  it('keeps a database error’s code and detail (callers tell a unique violation by its code)', async () => {
    await store.exec('CREATE TABLE t_unique (a int PRIMARY KEY)');
    await store.query('INSERT INTO t_unique VALUES (1)');
    await assert.rejects(store.query('INSERT INTO t_unique VALUES (1)'), (e) => {
      assert.ok(e instanceof Error);
      const x = e as Error & { code?: unknown; detail?: unknown };
      assert.equal(x.code, '23505');
      assert.match(String(x.detail), /\(a\)=\(1\) already exists/);
      assert.match(x.message, /duplicate key/);
      return true;
    });
  });

  it('delivers notifications, and none after the listener stops', async () => {
    const got: string[] = [];
    const stop = await store.listen('t_chan', { notify: (p) => got.push(p), gap: () => undefined });
    await store.query("SELECT pg_notify('t_chan', 'one')");
    await store.transaction(async (tx) => {
      await tx.query("SELECT pg_notify('t_chan', 'two')");
    });
    // A round trip after the notifying statements: their notifications were sent before its answer.
    await store.query('SELECT 1');
    assert.deepEqual(got, ['one', 'two']);
    await stop();
    await store.query("SELECT pg_notify('t_chan', 'three')");
    await store.query('SELECT 1');
    assert.deepEqual(got, ['one', 'two']);
  });

  it('runs concurrent transactions one at a time, each seeing only its own and committed work', async () => {
    await store.exec('CREATE TABLE t_turns (k int, v int)');
    const work = (k: number) =>
      store.transaction(async (tx) => {
        const before = (await tx.query('SELECT count(*)::int AS n FROM t_turns'))[0].n as number;
        await tx.query('INSERT INTO t_turns VALUES ($1, $2)', [k, before]);
        await tx.query('INSERT INTO t_turns VALUES ($1, $2)', [k, before + 1]);
        return before;
      });
    const seen = await Promise.all([work(1), work(2), work(3), store.query('SELECT 1 AS one')]);
    // Each transaction saw the two rows of every one before it, never half of another's.
    assert.deepEqual(
      seen
        .slice(0, 3)
        .map((n) => Number(n))
        .sort((a, b) => a - b),
      [0, 2, 4],
    );
    assert.deepEqual(await store.query('SELECT count(*)::int AS n FROM t_turns'), [{ n: 6 }]);
  });

  it('writes the in-process adapter’s files: each opens what the other wrote', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'rialto-pglite-thread-')), 'pglite');
    try {
      const a = await openPgliteStore({ dir, create: true, thread: 'worker' });
      await a.exec("CREATE TABLE kept (a text); INSERT INTO kept VALUES ('from the worker');");
      await a.close();
      const b = await openPgliteStore({ dir, create: false });
      assert.deepEqual(await b.query('SELECT a FROM kept'), [{ a: 'from the worker' }]);
      await b.query("INSERT INTO kept VALUES ('in process')");
      await b.close();
      const c = await openPgliteStore({ dir, create: false, thread: 'worker' });
      try {
        assert.deepEqual(await c.query('SELECT a FROM kept ORDER BY a'), [
          { a: 'from the worker' },
          { a: 'in process' },
        ]);
      } finally {
        await c.close();
      }
    } finally {
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });

  it('runs the worker at a lower scheduling priority than the process’s threads (Linux)', (t) => {
    if (!existsSync('/proc/thread-self') || getPriority() >= PGLITE_WORKER_NICE) {
      t.skip('threads have no nice value of their own here, or this process runs at a lower priority');
      return;
    }
    // Field 19 of a thread's stat is its nice value; the fields after the name's closing parenthesis start at 3.
    const niceOf = (tid: string): number => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const nices = readdirSync('/proc/self/task').map(niceOf);
    assert.equal(nices.filter((n) => n === PGLITE_WORKER_NICE).length, 1, `nice values: ${nices.join(' ')}`);
  });

  it('holds the process while an answer is awaited, and not once it is idle', () => {
    const storeModule = new URL('../../src/store/index.js', import.meta.url).href;
    // A script that awaits a query with nothing else keeping it alive, prints the answer, and never closes.
    const script = `
      const { openPgliteStore } = await import(${JSON.stringify(storeModule)});
      const store = await openPgliteStore({ dir: null, create: true, thread: 'worker' });
      const [row] = await store.query('SELECT 41 + 1 AS n');
      console.log('answer', row.n);
    `;
    const folder = mkdtempSync(join(tmpdir(), 'rialto-pglite-thread-'));
    const file = join(folder, 'await-then-idle.mjs');
    writeFileSync(file, script);
    let run;
    try {
      run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    assert.equal(run.signal, null, `the process was killed (held by the idle worker?): ${run.stderr}`);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /answer 42/);
  });
});
