/**
 * Client order ids carried in the journal: a placement with one is one journal record (no other file is
 * written), a retry finds the order (concurrent ones wait for the first), a refusal before the journal frees
 * the id, and after a restart or a crash the mappings come back from the journal alone, through a pass of its
 * own or the views' replay alike. Mappings earlier versions kept outside the journal (the store's legacy table,
 * client-orders.log) are still read, on PGlite and PostgreSQL, by their own rules.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TimeInForce } from '../../../src/book/index.js';
import type { Command, PlaceOrder } from '../../../src/core/index.js';
import { Engine, EngineError } from '../../../src/engine/index.js';
import {
  CLIENT_ORDER_LOG_FILE,
  ClientOrders,
  clientOrderLogLine,
} from '../../../src/gateway/trading/client-orders.js';
import { LocalOrderEntry } from '../../../src/gateway/trading/order-entry.js';
import { Views, replayJournalInto } from '../../../src/gateway/views/index.js';
import { migrate, type Store } from '../../../src/store/index.js';
import { storeFactories } from '../../store/helpers.js';
import { tempDir } from '../helpers.js';
import { emptyLegacyStore, journaledClientIds, orderFlowSetup, placeFor } from './client-orders-helpers.js';

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'client-orders-child.js');

async function openEntry(dir: string): Promise<{ engine: Engine; entry: LocalOrderEntry }> {
  const engine = await Engine.start({ dir, snapshotEveryMs: 0 });
  if (engine.recovery.lastSeq === 0) await engine.submit(orderFlowSetup());
  const journal = { dir, lastSeq: engine.recovery.lastSeq, journaled: null };
  const entry = await LocalOrderEntry.open(engine, emptyLegacyStore, journal, await engine.highestOrderId());
  return { engine, entry };
}

describe('client order ids in the journal', () => {
  it('places with a client order id in one journal record, writes no other file, and answers a retry', async () => {
    const dir = tempDir();
    const { engine, entry } = await openEntry(dir);
    const first = await entry.place(placeFor(0), 'a-1');
    assert.ok(first.receipt !== null);
    assert.deepEqual(await journaledClientIds(dir), [[1, 'a-1', first.orderId]]);
    assert.equal(existsSync(join(dir, CLIENT_ORDER_LOG_FILE)), false, 'no log of its own');
    const retry = await entry.place(placeFor(0), 'a-1');
    assert.deepEqual(retry, { orderId: first.orderId, receipt: null });
    // The pair is per account: another account's a-1 is another order.
    const other = await entry.place(placeFor(1, 2), 'a-1');
    assert.notEqual(other.orderId, first.orderId);
    assert.equal(entry.clientOrderIdOf(other.orderId), 'a-1');
    const none = await entry.place(placeFor(2), undefined);
    assert.equal(entry.clientOrderIdOf(none.orderId), null);
    assert.equal((await journaledClientIds(dir)).length, 2);
    await engine.close();
  });

  it('makes one order of concurrent requests with one client order id', async () => {
    const dir = tempDir();
    const { engine, entry } = await openEntry(dir);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => entry.place(placeFor(3), 'race')));
    assert.equal(new Set(outcomes.map((o) => o.orderId)).size, 1);
    assert.equal(outcomes.filter((o) => o.receipt !== null).length, 1);
    assert.deepEqual(await journaledClientIds(dir), [[4, 'race', outcomes[0].orderId]]);
    await engine.close();
  });

  it('frees the client order id of a placement the engine refused before its journal', async () => {
    const dir = tempDir();
    const { engine, entry } = await openEntry(dir);
    // A price the journal cannot record: refused at submit, nothing sequenced.
    const bad = { ...placeFor(0), price: '100' as unknown as number };
    await assert.rejects(entry.place(bad, 'again'), (e) => e instanceof EngineError);
    assert.equal(entry.clientOrders.find(1, 'again'), undefined);
    const placed = await entry.place(placeFor(0), 'again');
    assert.ok(placed.receipt !== null, 'placed anew');
    assert.deepEqual(await journaledClientIds(dir), [[1, 'again', placed.orderId]]);
    await engine.close();
  });

  it('finds an order placed before a restart through the journal alone: its own pass or the views replay', async () => {
    const dir = tempDir();
    const { engine, entry } = await openEntry(dir);
    const placed = await entry.place(placeFor(0), 'before-restart');
    const unicode = await entry.place(placeFor(1), 'ü-😀');
    await engine.close();
    const reopened = await openEntry(dir);
    const retry = await reopened.entry.place(placeFor(0), 'before-restart');
    assert.deepEqual(retry, { orderId: placed.orderId, receipt: null });
    assert.equal(reopened.entry.clientOrderIdOf(unicode.orderId), 'ü-😀');
    const next = await reopened.entry.place(placeFor(4), 'after-restart');
    assert.ok(next.orderId > unicode.orderId, 'order ids go on above the journal');
    // The views' replay notes the same mappings on its way through the journal.
    const replayed = new ClientOrders();
    await replayJournalInto(dir, reopened.engine.recovery.lastSeq, new Views(), null, (c) =>
      replayed.journaled(c),
    );
    assert.equal(replayed.find(1, 'before-restart'), placed.orderId);
    assert.equal(replayed.clientOrderIdOf(unicode.orderId), 'ü-😀');
    assert.equal(replayed.size, 2);
    assert.equal(existsSync(join(dir, CLIENT_ORDER_LOG_FILE)), false);
    await reopened.engine.close();
  });

  it("reports a replay's progress as often as asked, and never when the interval has not passed", async () => {
    const dir = tempDir();
    const { engine, entry } = await openEntry(dir);
    for (let k = 0; k < 5; k++) await entry.place(placeFor(k), `p-${k}`);
    // The journal: the set-up commands, then the five placements.
    const total = orderFlowSetup().length + 5;
    await engine.close();
    const reports: [number, number][] = [];
    const every = { everyMs: 0, report: (n: number, of: number) => reports.push([n, of]) };
    const report = await replayJournalInto(dir, total, new Views(), null, null, every);
    assert.equal(report.commands, total);
    assert.equal(new Set(reports.map(([n]) => n)).size, total, 'the placements included');
    assert.deepEqual(
      reports,
      Array.from({ length: total }, (_, k) => [k + 1, total]),
      'every command, with the total',
    );
    const none: [number, number][] = [];
    const hourly = { everyMs: 3_600_000, report: (n: number, of: number) => none.push([n, of]) };
    await replayJournalInto(dir, total, new Views(), null, null, hourly);
    assert.deepEqual(none, []);
  });

  it('finds after a crash every acknowledged placement, and places each client order id once', async () => {
    const dir = tempDir();
    const total = 400;
    const acked = new Map<string, number>();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [CHILD, dir, String(total)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let buffered = '';
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const [word, client, id] = line.split(' ');
          if (word === 'ack') acked.set(client, Number(id));
          // Killed in the middle of the flow, placements in flight.
          if ((word === 'ack' && acked.size === 150) || word === 'done') child.kill('SIGKILL');
        }
      });
      child.on('exit', (_code, signal) =>
        signal === 'SIGKILL' ? resolve() : reject(new Error(`the child exited on its own: ${stderr}`)),
      );
    });
    assert.ok(acked.size >= 150);
    const records = await journaledClientIds(dir);
    assert.equal(
      new Set(records.map((r) => r[1])).size,
      records.length,
      'each client order id journaled once',
    );
    const { engine, entry } = await openEntry(dir);
    for (const [client, orderId] of acked) {
      const i = Number(client.slice(2));
      assert.deepEqual(await entry.place(placeFor(i), client), { orderId, receipt: null }, client);
    }
    // The journal has every acknowledged placement, maybe some unacknowledged ones whose batch was written;
    // retrying all of them finds those and places the rest: each client order id ends as one order.
    for (let i = 0; i < total; i++) await entry.place(placeFor(i), `c-${i}`);
    const after = await journaledClientIds(dir);
    assert.equal(after.length, total);
    assert.equal(new Set(after.map((r) => r[1])).size, total);
    for (const [, client, orderId] of records)
      assert.equal(entry.clientOrders.find(1 + (Number(client.slice(2)) % 7), client), orderId);
    await engine.close();
  });

  it('answers a retry of an order placed before the upgrade, from the log of that version', async () => {
    const dir = tempDir();
    const { engine, entry } = await openEntry(dir);
    // What an earlier version left: the place journaled without its id, the mapping in client-orders.log.
    const old = await entry.place(placeFor(0), undefined);
    await engine.close();
    writeFileSync(join(dir, CLIENT_ORDER_LOG_FILE), clientOrderLogLine('+', 1, old.orderId, 'pre-upgrade'));
    const upgraded = await openEntry(dir);
    assert.deepEqual(await upgraded.entry.place(placeFor(0), 'pre-upgrade'), {
      orderId: old.orderId,
      receipt: null,
    });
    assert.equal(upgraded.entry.clientOrderIdOf(old.orderId), 'pre-upgrade');
    assert.deepEqual(await journaledClientIds(dir), [], 'nothing placed again');
    await upgraded.engine.close();
  });

  it('keeps the first of two journaled places with one pair (which the order entry never submits)', () => {
    const c = new ClientOrders();
    c.journaled({ ...placeFor(0), orderId: 10, clientOrderId: 'x' });
    c.journaled({ ...placeFor(0), orderId: 11, clientOrderId: 'x' });
    c.journaled({ ...placeFor(0), orderId: 12 });
    assert.equal(c.find(1, 'x'), 10);
    assert.equal(c.clientOrderIdOf(11), 'x');
    assert.equal(c.clientOrderIdOf(12), null);
    assert.equal(c.reserve(1, 'x', 13), false);
    c.forget(1, 'x', 13);
    assert.equal(c.find(1, 'x'), 10, 'forget drops only the mapping it names');
  });

  describe('client order ids kept while their order lives, then for the latest to end', () => {
    const order = (
      accountId: number,
      side: 0 | 1,
      price: number,
      qty: number,
      tif: TimeInForce = TimeInForce.GTC,
    ): PlaceOrder => ({
      ...placeFor(0, accountId),
      side,
      price,
      qty,
      tif,
    });
    const cancel = (accountId: number, orderId: number): Command => ({
      kind: 'cancelOrder',
      timeUs: 0,
      accountId,
      instrument: 1,
      orderId,
    });

    // Engines a failed assertion left open are closed, so that the file's process ends.
    const engines: Engine[] = [];
    afterEach(async () => {
      for (const e of engines.splice(0)) await e.close().catch(() => undefined);
    });

    /** The engine and an order entry whose mappings of ended orders are kept for the last `endedKept`. */
    async function entryKeeping(dir: string, endedKept: number) {
      const engine = await Engine.start({ dir, snapshotEveryMs: 0 });
      engines.push(engine);
      if (engine.recovery.lastSeq === 0) await engine.submit(orderFlowSetup());
      const journaled = new ClientOrders(endedKept, 2);
      await journaled.scanJournal(dir, engine.recovery.lastSeq);
      const journal = { dir, lastSeq: engine.recovery.lastSeq, journaled };
      const entry = await LocalOrderEntry.open(
        engine,
        emptyLegacyStore,
        journal,
        await engine.highestOrderId(),
      );
      return { engine, entry };
    }

    it('forgets the oldest ended beyond the bound, never a live one, the same after a restart', async () => {
      const dir = tempDir();
      const { engine, entry } = await entryKeeping(dir, 2);
      const ids: number[] = [];
      for (const client of ['b1', 'b2', 'b3', 'b4']) {
        ids.push((await entry.place(order(1, 0, 10_000, 1), client)).orderId);
      }
      const [b1, b2, b3, b4] = ids;
      // Four live orders: all kept, whatever the bound.
      for (const [k, id] of ids.entries()) assert.equal(entry.clientOrders.find(1, `b${k + 1}`), id);
      await engine.submit([cancel(1, b1), cancel(1, b2), cancel(1, b3)]);
      // Three ended, two kept: b1's mapping went, b2 and b3 stay, b4 lives.
      assert.equal(entry.clientOrders.find(1, 'b1'), undefined);
      assert.equal(entry.clientOrderIdOf(b1), null);
      assert.equal(entry.clientOrderIdOf(b2), 'b2');
      assert.equal(entry.clientOrderIdOf(b3), 'b3');
      // b4 filled by another account's sell (no client order id): it ends, and b2's mapping goes.
      await entry.place(order(2, 1, 10_000, 1), undefined);
      assert.equal(entry.clientOrders.find(1, 'b2'), undefined);
      assert.equal(entry.clientOrderIdOf(b3), 'b3');
      assert.equal(entry.clientOrderIdOf(b4), 'b4');
      assert.deepEqual(entry.clientOrders.retention.ended, 2);
      // A retry of b1 after its mapping went places a new order; one of b3 still finds its order.
      const again = await entry.place(order(1, 0, 10_000, 1), 'b1');
      assert.ok(again.receipt !== null && again.orderId > b4, 'a new order');
      assert.deepEqual(await entry.place(order(1, 0, 10_000, 1), 'b3'), { orderId: b3, receipt: null });
      const state = (c: ClientOrders): unknown[] => [
        ['b1', 'b2', 'b3', 'b4'].map((k) => c.find(1, k)),
        [b1, b2, b3, b4, again.orderId].map((id) => c.clientOrderIdOf(id)),
        c.retention.ended,
      ];
      const live = state(entry.clientOrders);
      assert.deepEqual(live, [[again.orderId, undefined, b3, b4], [null, null, 'b3', 'b4', 'b1'], 2]);
      await entry.close();
      await engine.close();
      // After a restart, its own pass over the journal and the views' replay both come to the same mappings.
      const reopened = await entryKeeping(dir, 2);
      assert.deepEqual(state(reopened.entry.clientOrders), live);
      const replayed = new ClientOrders(2);
      await replayJournalInto(dir, reopened.engine.recovery.lastSeq, new Views(), null, (c, d, n) =>
        replayed.journaled(c, d, n),
      );
      assert.deepEqual(state(replayed), live);
      await reopened.entry.close();
      await reopened.engine.close();
    });

    it('counts a placement that ends at once (an IOC with nothing to take, a rejected one) as ended', async () => {
      const dir = tempDir();
      const { engine, entry } = await entryKeeping(dir, 0);
      const resting = await entry.place(order(3, 0, 9_000, 1), 'rests');
      const ioc = await entry.place(order(3, 0, 9_000, 1, TimeInForce.IOC), 'ioc');
      // Far beyond the account's funds: rejected by the core, after its journal.
      const rejected = await entry.place(order(3, 0, 10_000, 1e9), 'too-big');
      assert.ok(ioc.receipt !== null && rejected.receipt !== null);
      // Nothing ended is kept (bound 0): the IOC's and the rejected order's ids are gone; the resting one stays.
      assert.equal(entry.clientOrderIdOf(resting.orderId), 'rests');
      assert.equal(entry.clientOrderIdOf(ioc.orderId), null);
      assert.equal(entry.clientOrderIdOf(rejected.orderId), null);
      assert.equal(entry.clientOrders.size, 1);
      const retry = await entry.place(order(3, 0, 9_000, 1, TimeInForce.IOC), 'ioc');
      assert.ok(retry.receipt !== null && retry.orderId !== ioc.orderId, 'placed anew');
      await entry.close();
      await engine.close();
    });

    it('refuses a bound that is not a whole number from 0', () => {
      assert.throws(() => new ClientOrders(-1), RangeError);
      assert.throws(() => new ClientOrders(0.5), RangeError);
    });
  });
});

for (const factory of storeFactories()) {
  describe(`client order ids of earlier versions: ${factory.name}`, () => {
    let store: Store;
    before(async () => {
      store = await factory.fresh();
      await migrate(store);
    });
    after(async () => {
      await store.close();
      await factory.cleanup();
    });

    it('reads client-orders.log by its rules: unjournaled, forgotten and torn lines dropped, rewritten once', async () => {
      const dir = tempDir();
      const path = join(dir, CLIENT_ORDER_LOG_FILE);
      writeFileSync(
        path,
        clientOrderLogLine('+', 1, 10, 'kept') +
          clientOrderLogLine('+', 1, 11, 'lost') +
          clientOrderLogLine('+', 1, 9, 'gone') +
          clientOrderLogLine('-', 1, 9, 'gone') +
          '1234abcd + 2 8 tor',
        'latin1',
      );
      const c = new ClientOrders();
      await c.loadLegacy(store, dir, 10);
      assert.equal(c.find(1, 'kept'), 10);
      assert.equal(c.clientOrderIdOf(10), 'kept');
      assert.equal(c.find(1, 'lost'), undefined, 'order 11 was never journaled');
      assert.equal(c.find(1, 'gone'), undefined, 'a forgotten mapping stays forgotten');
      assert.equal(c.find(2, 'tor'), undefined);
      assert.equal(
        readFileSync(path, 'latin1'),
        clientOrderLogLine('+', 1, 10, 'kept'),
        'rewritten with what stands',
      );
      // Later starts, with order 11 now a new order's, do not bring 'lost' back.
      const later = new ClientOrders();
      await later.loadLegacy(store, dir, 1000);
      assert.equal(later.find(1, 'lost'), undefined);
      assert.equal(later.size, 1);
    });

    it('refuses to start on a corrupt line before others', async () => {
      const dir = tempDir();
      const good = clientOrderLogLine('+', 2, 20, 'a');
      writeFileSync(
        join(dir, CLIENT_ORDER_LOG_FILE),
        good.replace(' 20 ', ' 29 ') + clientOrderLogLine('+', 2, 21, 'b'),
      );
      await assert.rejects(new ClientOrders().loadLegacy(store, dir, 100), /line 1 is corrupt/);
    });

    it('reads the store legacy table, dropping unjournaled orders; the journal mapping of a pair stands', async () => {
      await store.query(
        'INSERT INTO client_orders (account_id, client_order_id, order_id) VALUES ($1, $2, $3), ($4, $5, $6), ($7, $8, $9)',
        [5, 'legacy-1', 50, 5, 'legacy-2', 51, 5, 'both', 40],
      );
      const c = new ClientOrders();
      c.journaled({ ...placeFor(0, 5), orderId: 45, clientOrderId: 'both' });
      await c.loadLegacy(store, tempDir(), 50);
      assert.equal(c.find(5, 'legacy-1'), 50);
      assert.equal(c.find(5, 'legacy-2'), undefined);
      assert.equal(c.find(5, 'both'), 45);
      assert.equal(c.reserve(5, 'legacy-1', 60), false, 'a retry finds it');
    });
  });
}
