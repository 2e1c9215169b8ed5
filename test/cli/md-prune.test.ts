/**
 * End-to-end tests of `rialto md prune` (retention): the built CLI drops the ticks' day partitions before a
 * date from the embedded store `rialto md run` filled, names them, keeps the bars unless asked, and refuses
 * bad options with a usage error. (dropDaysBefore itself is tested on PGlite and PostgreSQL in
 * test/marketdata/store.)
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DirLock } from '../../src/journal/index.js';
import { MarketDataStore } from '../../src/marketdata/index.js';
import { openPgliteStore } from '../../src/store/index.js';
import { seedPglite } from '../support/pglite-template.js';
import { MAIN, assertCleanFailure, run, type Run } from './helpers.js';

const TRADES = [
  'time,price,size,id',
  '2024-01-02T09:30:00Z,100,1,1',
  '2024-01-02T15:00:00Z,101,1,2',
  '2024-01-03T09:30:00Z,102,1,3',
  '',
].join('\n');

function jsonOf(r: Run): unknown {
  assert.equal(r.status, 0, `exit code; stderr: ${r.stderr}`);
  return JSON.parse(r.stdout.trim());
}

describe('rialto md prune (built CLI, PGlite)', () => {
  let dir: string;
  let data: string;
  const env = (): { env: Record<string, string> } => ({ env: { RIALTO_DATA_DIR: data } });
  const storedDays = async (): Promise<{ ticks: string[]; bars: string[]; prices: number[] }> => {
    const store = await openPgliteStore({ dir: join(data, 'pglite'), create: false });
    try {
      const md = new MarketDataStore(store);
      const ticks = await md.ticks('TEST-USD', 0, Number.MAX_SAFE_INTEGER, 100);
      return {
        ticks: await md.partitionDays('md_ticks'),
        bars: await md.partitionDays('md_bars'),
        prices: ticks.map((t) => (t.price ?? 0) / 1e8),
      };
    } finally {
      await store.close();
    }
  };

  before(() => {
    assert.ok(existsSync(MAIN), `${MAIN} is missing: run \`npm run build\` first`);
    dir = mkdtempSync(join(tmpdir(), 'rialto-md-prune-'));
    data = join(dir, 'data');
    seedPglite(join(data, 'pglite'));
    const trades = join(dir, 'trades.csv');
    writeFileSync(trades, TRADES);
    const r = run(['md', 'run', '--input', trades, '--instrument', 'TEST-USD'], MAIN, env());
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the days a dry run would drop, and drops nothing', async () => {
    const before = await storedDays();
    assert.ok(
      before.ticks.includes('2024-01-02') && before.ticks.includes('2024-01-03'),
      String(before.ticks),
    );
    const r = run(['md', 'prune', '--ticks-before', '2024-01-03', '--dry-run'], MAIN, env());
    assert.deepEqual(jsonOf(r), { ticksDropped: ['2024-01-02'], barsDropped: [], dryRun: true });
    assert.deepEqual(await storedDays(), before);
  });

  it("drops the ticks' days before the date, whole, and keeps the bars unless asked", async () => {
    const r = run(['md', 'prune', '--ticks-before', '2024-01-03'], MAIN, env());
    assert.deepEqual(jsonOf(r), { ticksDropped: ['2024-01-02'], barsDropped: [], dryRun: false });
    const after = await storedDays();
    assert.deepEqual(after.prices, [102], 'only the tick of 2024-01-03 is left');
    assert.ok(!after.ticks.includes('2024-01-02'));
    assert.ok(after.bars.includes('2024-01-02'), 'the bars of the day are kept');
    const bars = run(['md', 'prune', '--bars-before', '2024-01-03'], MAIN, env());
    assert.deepEqual(jsonOf(bars), { ticksDropped: [], barsDropped: ['2024-01-02'], dryRun: false });
    assert.ok(!(await storedDays()).bars.includes('2024-01-02'));
  });

  it('writes each drop to the audit trail, and not the dry run', () => {
    const tail = run(['audit', 'tail', '--json', '-n', '100'], MAIN, env());
    assert.equal(tail.status, 0, tail.stderr);
    const prunes = tail.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { action: string; actor: { role: string }; target: unknown; details: unknown },
      )
      .filter((e) => e.action === 'market_data.prune');
    assert.deepEqual(
      prunes.map((e) => [e.actor.role, e.target, e.details]),
      [
        [
          'operator',
          { kind: 'venue', id: null },
          { ticks_before: '2024-01-03', bars_before: null, ticks_days_dropped: 1, bars_days_dropped: 0 },
        ],
        [
          'operator',
          { kind: 'venue', id: null },
          { ticks_before: null, bars_before: '2024-01-03', ticks_days_dropped: 0, bars_days_dropped: 1 },
        ],
      ],
    );
    assert.equal(run(['audit', 'verify'], MAIN, env()).status, 0);
  });

  it("refuses while another process holds the data directory's lock, dropping nothing", async () => {
    const lock = await DirLock.acquire(data, 'rialto start');
    try {
      const before = await storedDays();
      for (const args of [
        ['md', 'prune', '--bars-before', '2024-01-04'],
        ['md', 'run', '--input', join(dir, 'trades.csv'), '--instrument', 'TEST-USD'],
      ]) {
        assertCleanFailure(run(args, MAIN, env()), 1, /DATA_DIR_LOCKED|is locked by pid/);
      }
      assert.deepEqual(await storedDays(), before);
    } finally {
      await lock.release();
    }
  });

  it('refuses no date and a malformed one with a usage error, naming the option', () => {
    assertCleanFailure(run(['md', 'prune'], MAIN, env()), 2, /--ticks-before DATE, --bars-before DATE/);
    assertCleanFailure(
      run(['md', 'prune', '--ticks-before', '2024-02-30'], MAIN, env()),
      2,
      /--ticks-before "2024-02-30" is not a date/,
    );
  });
});
