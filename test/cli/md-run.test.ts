/**
 * End-to-end tests of `rialto md run`: the built CLI replays small trade files through the pipeline into
 * PGlite (and PostgreSQL from DATABASE_URL); the rows it stores are read back here and checked against the bars
 * `rialto md aggregate` prints for the same file.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MarketDataStore, barCsvRow, type StoredBar } from '../../src/marketdata/index.js';
import { openPgliteStore, openPostgresStore, type Store } from '../../src/store/index.js';
import { TEST_DATABASE_URL } from '../store/helpers.js';
import { seedPglite } from '../support/pglite-template.js';
import { MAIN, assertCleanFailure, rialto, run, startRialto, type Run } from './helpers.js';

const TRADES = [
  'time,price,size,id',
  '2024-01-02T09:30:00.1Z,100.5,2,1',
  '2024-01-02T09:30:30Z,101,1,2',
  '2024-01-02T09:30:59.999999Z,99.25,3,3',
  '2024-01-02T09:31:00Z,100,1,4',
  '2024-01-02T09:31:40Z,100.75,0.5,5',
  '2024-01-02T09:33:00Z,102,1,6',
  '',
].join('\n');

interface Summary {
  lines: number;
  ticksIn: number;
  ticksEnriched: number;
  deadLettered: number;
  deadLetterReasons: Record<string, number>;
  barsByInterval: Record<string, number>;
  ticksWritten: number;
  barsWritten: number;
  ticksExisting: number;
  barsExisting: number;
  stoppedBy: string | null;
}

function summaryOf(r: Run): Summary {
  assert.equal(r.status, 0, `exit code; stderr: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line on stdout: ${r.stdout}`);
  return JSON.parse(lines[0]) as Summary;
}

/** A stored bar as `rialto md aggregate` writes it (8 decimals, as the pipeline stores file prices). */
const csvOf = (b: StoredBar): string =>
  barCsvRow({ ...b, spec: 0, startNs: 0, endNs: 0, count: b.trades }, 8, 8);

async function storedBars(store: Store, symbol: string, interval: string): Promise<string[]> {
  const bars = await new MarketDataStore(store).bars(symbol, interval, 0, Number.MAX_SAFE_INTEGER, 1000);
  return bars.map(csvOf);
}

describe('rialto md run (built CLI, PGlite)', () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(() => {
    assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`);
    dir = mkdtempSync(join(tmpdir(), 'rialto-md-run-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stores the bars md aggregate gives for the same file, and the ticks, queryable', async () => {
    const trades = file('trades.csv', TRADES);
    const data = join(dir, 'data-bars');
    // The data directory's new PGlite database starts as a copy of initdb's (seconds of CPU saved; `md run`
    // opens and migrates it as one it made itself). The SIGTERM test below has md run make its own.
    seedPglite(join(data, 'pglite'));
    const r = run(['md', 'run', '--input', trades, '--instrument', 'TEST-USD', '--speed', 'max'], MAIN, {
      env: { RIALTO_DATA_DIR: data },
    });
    const s = summaryOf(r);
    assert.equal(s.ticksIn, 6);
    assert.equal(s.ticksEnriched, 6);
    assert.equal(s.deadLettered, 0);
    assert.equal(s.ticksWritten, 6);
    assert.equal(s.barsByInterval['1m'], 3);
    assert.equal(s.stoppedBy, null);
    const expected = rialto('md', 'aggregate', '--input', trades, '--bar', 'time:1m');
    assert.equal(expected.status, 0, expected.stderr);
    const store = await openPgliteStore({ dir: join(data, 'pglite'), create: false });
    try {
      const bars = await storedBars(store, 'TEST-USD', '1m');
      assert.deepEqual(bars, expected.stdout.trim().split('\n').slice(1));
      const ticks = await new MarketDataStore(store).ticks('TEST-USD', 0, Number.MAX_SAFE_INTEGER, 100);
      assert.deepEqual(
        ticks.map((t) => t.price),
        [100.5, 101, 99.25, 100, 100.75, 102].map((p) => p * 1e8),
      );
    } finally {
      await store.close();
    }
  });

  it('dead-letters and counts a malformed line, and goes on', () => {
    const jsonl = file(
      'ticks.jsonl',
      [
        '{"time":"2024-01-02T09:30:00Z","symbol":"TEST-USD","price":"10","size":"1"}',
        '{"time":"2024-01-02T09:30:01Z",',
        '{"time":"2024-01-02T09:30:02Z","symbol":"TEST-USD","price":"-","size":"1"}',
        '{"time":"2024-01-02T09:30:03Z","symbol":"TEST-USD","price":"11","size":"2"}',
        '',
      ].join('\n'),
    );
    seedPglite(join(dir, 'data-dead', 'pglite'));
    const s = summaryOf(
      run(['md', 'run', '--input', jsonl], MAIN, { env: { RIALTO_DATA_DIR: join(dir, 'data-dead') } }),
    );
    assert.equal(s.ticksIn, 4);
    assert.equal(s.ticksEnriched, 2);
    assert.equal(s.deadLettered, 2);
    assert.equal(
      Object.values(s.deadLetterReasons).reduce((a, b) => a + b, 0),
      2,
      JSON.stringify(s.deadLetterReasons),
    );
    assert.equal(s.ticksWritten, 2);
    assert.equal(s.barsByInterval['1s'], 2);
  });

  it('stops gracefully at SIGTERM while waiting for the next trade at --speed 1', async () => {
    // An hour between trades: only the signal can end this run within the test's timeout.
    const trades = file(
      'hourly.csv',
      'time,price,size\n2024-01-02T09:00:00Z,10,1\n2024-01-02T10:00:00Z,11,1\n2024-01-02T11:00:00Z,12,1\n',
    );
    const data = join(dir, 'data-signal');
    const child = startRialto(['md', 'run', '--input', trades, '--instrument', 'SIG-USD', '--speed', '1'], {
      RIALTO_DATA_DIR: data,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // The store is opened after the signal handlers are installed: from then on a signal stops the run.
    while (!existsSync(join(data, 'pglite'))) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const s = summaryOf({ status: await exited, stdout: out, stderr: err });
    assert.equal(s.stoppedBy, 'SIGTERM');
    assert.ok(s.ticksIn <= 2, `the third trade, two hours on, is never read: ${out}`);
    assert.equal(s.ticksWritten, s.ticksEnriched);
  });

  it('exits 2 with a message on a bad option, 1 on a missing file', () => {
    const trades = file('usage.csv', TRADES);
    assertCleanFailure(rialto('md', 'run', '--input', trades, '--speed', 'fast'), 2, /--speed "fast"/);
    assertCleanFailure(rialto('md', 'run', '--input', join(dir, 'x.txt')), 2, /format of .*x\.txt/);
    assertCleanFailure(
      rialto('md', 'run', '--input', trades, '--format', 'lobster', '--date', '2024-01-02'),
      2,
      /LOBSTER input needs --instrument/,
    );
    assertCleanFailure(rialto('md', 'run'), 2, /--input/);
    assertCleanFailure(rialto('md', 'run', '--input', join(dir, 'none.csv')), 1, /no such input file/);
  });
});

describe('rialto md run (PostgreSQL from DATABASE_URL)', { timeout: 120_000 }, () => {
  const database = `rialto_mdrun_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rialto-md-run-pg-'));
    const admin = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await admin.exec(`CREATE DATABASE ${database}`);
    await admin.close();
  });
  after(async () => {
    const admin = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await admin.exec(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the ticks and bars into PostgreSQL', async () => {
    const trades = join(dir, 'trades.csv');
    writeFileSync(trades, TRADES);
    const s = summaryOf(
      run(['md', 'run', '--input', trades, '--instrument', 'PG-USD'], MAIN, {
        env: { DATABASE_URL: url.toString(), RIALTO_DATA_DIR: join(dir, 'data') },
      }),
    );
    assert.equal(s.ticksWritten, 6);
    // Again: the rows are there already (idempotent by event id), none is written twice.
    const again = summaryOf(
      run(['md', 'run', '--input', trades, '--instrument', 'PG-USD'], MAIN, {
        env: { DATABASE_URL: url.toString(), RIALTO_DATA_DIR: join(dir, 'data') },
      }),
    );
    assert.deepEqual(
      [again.ticksWritten, again.barsWritten, again.ticksExisting, again.barsExisting],
      [0, 0, 6, s.barsWritten],
    );
    const store = await openPostgresStore({ url: url.toString(), schema: null });
    try {
      const expected = rialto('md', 'aggregate', '--input', trades, '--bar', 'time:1m');
      assert.deepEqual(await storedBars(store, 'PG-USD', '1m'), expected.stdout.trim().split('\n').slice(1));
      assert.equal(existsSync(join(dir, 'data', 'pglite')), false, 'no PGlite beside PostgreSQL');
    } finally {
      await store.close();
    }
  });
});
