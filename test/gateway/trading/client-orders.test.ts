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
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
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
