/**
 * The projector stopped and restarted at random points ends with exactly the rows of one that never stopped.
 * A journal of seeded random order flow (every order type, fills, cancels, amends, rejects, deposits,
 * withdrawals, halts, kill switches; small segments, a few snapshots) is projected twice into fresh schemas:
 * once straight through, once by a run of projectors that crash (dropped without closing), restart, take
 * random batch sizes, see the journal become durable a little at a time, and write through a store whose
 * statements fail at random in the middle of a batch's transaction, or whose commit succeeds but is reported
 * as a failure. Both stores (PGlite and PostgreSQL).
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { QueryTableProjector } from '../../src/projection/index.js';
import { migrate, type Queryable, type Store } from '../../src/store/index.js';
import { Rng } from '../book/helpers.js';
import { stream, TempDirs, writeThroughHost } from '../engine/helpers.js';
import { storeFactories } from '../store/helpers.js';

const TABLES: Record<string, string> = {
  assets: 'asset',
  instruments: 'instrument',
  accounts: 'account_id',
  orders: 'order_id',
  trades: 'instrument, trade_id',
  ledger_entries: 'entry_id',
  ledger_postings: 'entry_id, line',
  ledger_accounts: 'ledger_account',
  balances: 'account_id, asset',
};

async function dump(db: Queryable): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [t, key] of Object.entries(TABLES)) {
    const rows = await db.query(`SELECT * FROM ${t} ORDER BY ${key}`);
    out[t] = rows.map((r) =>
      JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    );
  }
  const [cp] = await db.query('SELECT last_seq FROM projection_checkpoints');
  out.checkpoint = [String(cp.last_seq)];
  return out;
}

class Injected extends Error {}

/** A store whose statements inside transactions fail with probability `p`, and whose commits are sometimes lost. */
function flaky(store: Store, rng: Rng, p: number): Store {
  const fail = (): void => {
    if (rng.chance(p)) throw new Injected('injected failure in the middle of a batch');
  };
  return {
    kind: store.kind,
    query: (sql, params) => store.query(sql, params),
    exec: (sql) => store.exec(sql),
    listen: (channel, handler) => store.listen(channel, handler),
    close: () => store.close(),
    async transaction(work) {
      const result = await store.transaction((tx) =>
        work({
          query: async (sql, params) => {
            fail();
            const rows = await tx.query(sql, params);
            fail();
            return rows;
          },
          exec: (sql) => tx.exec(sql),
        }),
      );
      // Committed, but the answer is lost (a connection cut right after COMMIT).
      if (rng.chance(p)) throw new Injected('injected failure after the commit');
      return result;
    },
  };
}

const COMMANDS = 1500;

for (const factory of storeFactories()) {
  describe(`query tables restarted at random points (${factory.name})`, () => {
    const dirs = new TempDirs();
    let dir = '';
    before(async () => {
      dir = dirs.make();
      await writeThroughHost(dir, stream(7, COMMANDS), {
        batch: 25,
        snapshotsAt: [500, 1000],
        config: { segmentBytes: 16 * 1024, snapshotsKept: 10 },
      });
    });
    after(async () => {
      dirs.cleanup();
      await factory.cleanup();
    });

    it('ends with exactly the rows of an uninterrupted projection', async () => {
      const straight = await factory.fresh();
      await migrate(straight);
      const once = new QueryTableProjector({ dir, store: straight, durableSeq: COMMANDS });
      await once.catchUp();
      assert.equal(once.stats().projectedSeq, COMMANDS);
      const expected = await dump(straight);
      assert.ok(expected.orders.length > 200 && expected.trades.length > 50, 'the journal trades');
      assert.ok(
        expected.orders.some((o) => o.includes('"rejected"')) &&
          expected.orders.some((o) => o.includes('"cancelled"')),
      );
      await once.close();
      await straight.close();

      for (const seed of [1, 2, 3]) {
        const rng = new Rng(seed);
        const base = await factory.fresh();
        await migrate(base);
        const store = flaky(base, rng, 0.04);
        let durable = rng.range(1, 200);
        let restarts = 0;
        let failures = 0;
        const snapshotsUsed = new Set<number>();
        let projector: QueryTableProjector | null = null;
        for (let round = 0; round < 10_000; round++) {
          if (projector === null) {
            projector = new QueryTableProjector({
              dir,
              store,
              durableSeq: durable,
              limits: { batchCommandsIdle: rng.range(1, 120) },
            });
          }
          try {
            await projector.catchUp();
          } catch (e) {
            assert.ok(e instanceof Injected, String(e));
            failures++;
          }
          snapshotsUsed.add(projector.stats().rebuild?.snapshotSeq ?? 0);
          if (projector.stats().projectedSeq === COMMANDS) break;
          if (rng.chance(0.3)) {
            // A crash: the projector is dropped as it is, its pending batch with it.
            projector = null;
            restarts++;
          }
          durable = Math.min(COMMANDS, durable + rng.range(0, 150));
          projector?.noteDurable(durable, 0);
        }
        assert.ok(
          projector !== null && projector.stats().projectedSeq === COMMANDS,
          `seed ${seed}: finished`,
        );
        assert.ok(restarts > 3 && failures > 3, `seed ${seed}: ${restarts} restarts, ${failures} failures`);
        assert.ok(snapshotsUsed.has(500) || snapshotsUsed.has(1000), `seed ${seed}: restarts from snapshots`);
        assert.deepEqual(await dump(base), expected, `seed ${seed}`);
        await base.close();
      }
    });
  });
}
