/**
 * The engine as its callers use it (main thread, worker, journal): each submit gets one Receipt with
 * contiguous sequence numbers in submission order and the events a clean core gives for the same commands;
 * batches gathered across many submits and flushes keep that order; queries see every earlier submit; bad
 * submits are refused to their caller alone with a stable code, with nothing sequenced.
 */
import { after, describe, it } from 'node:test';
import { deepEqual, equal, ok, rejects, throws } from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_STRIDE } from '../../src/book/index.js';
import { ExchangeCore, type Command } from '../../src/core/index.js';
import { ENGINE_LIMITS, Engine, type Receipt } from '../../src/engine/index.js';
import { TempDirs, cleanReplayHash, snapshotPaths, stream } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

const isCode = (code: string) => (e: unknown) => (e as { code?: string }).code === code;

function start(extra: { flushCommands?: number } = {}): Promise<Engine> {
  return Engine.start({
    dir: join(temp.make(), 'data'),
    snapshotEveryCommands: 0,
    snapshotEveryMs: 0,
    ...extra,
  });
}

/** Splits `commands` into submits of 1..maxSize commands (a fixed pattern), all made in one turn. */
function submitAll(engine: Engine, commands: Command[], maxSize: number): Promise<Receipt>[] {
  const out: Promise<Receipt>[] = [];
  for (let at = 0, k = 0; at < commands.length; k++) {
    const n = 1 + ((k * 7) % maxSize);
    out.push(engine.submit(commands.slice(at, at + n)));
    at += n;
  }
  return out;
}

/** Events of each command as a clean core executes them with the times the receipts give. */
function cleanEvents(commands: Command[], receipts: Receipt[]): Float64Array[] {
  const core = new ExchangeCore();
  const out: Float64Array[] = [];
  let i = 0;
  for (const r of receipts) {
    for (let k = 0; k < r.count; k++, i++) {
      core.events.clear();
      core.execute({ ...commands[i], timeUs: r.timeUs });
      out.push(core.events.data.slice(0, core.events.count * EVENT_STRIDE));
    }
  }
  return out;
}

describe('engine submit', () => {
  for (const flushCommands of [1, 16, ENGINE_LIMITS.flushCommandsDefault]) {
    void it(`gives each submit its receipt, in order, with a clean core's events (flush every ${flushCommands})`, async () => {
      const commands = stream(11, 2_000);
      const engine = await start({ flushCommands });
      const receipts = await Promise.all(submitAll(engine, commands, 23));
      let seq = 1;
      for (const r of receipts) {
        equal(r.firstSeq, seq);
        equal(r.lastSeq, seq + r.count - 1);
        seq += r.count;
      }
      equal(seq - 1, commands.length);
      const expected = cleanEvents(commands, receipts);
      let i = 0;
      for (const r of receipts) for (let k = 0; k < r.count; k++) deepEqual(r.events(k), expected[i++]);
      ok(
        expected.some((e) => e.length > 0),
        'the stream produces events',
      );
      const stamped: Command[] = [];
      i = 0;
      for (const r of receipts)
        for (let k = 0; k < r.count; k++) stamped.push({ ...commands[i++], timeUs: r.timeUs });
      equal(await engine.stateHash(), cleanReplayHash(stamped));
      await engine.close();
    });
  }

  void it('does not change the caller’s commands, and results() matches events()', async () => {
    const commands = stream(3, 50);
    const before = JSON.stringify(commands);
    const engine = await start();
    const r = await engine.submit(commands);
    equal(JSON.stringify(commands), before);
    const results = r.results();
    equal(results.length, 50);
    results.forEach((x, k) => {
      equal(x.seq, r.firstSeq + k);
      equal(x.timeUs, r.timeUs);
      deepEqual(x.events, r.events(k));
    });
    throws(() => r.events(50), RangeError);
    throws(() => r.events(-1), RangeError);
    await engine.close();
  });

  void it('answers a query after every submit made before it, awaited or not', async () => {
    const commands = stream(5, 300);
    const engine = await start();
    const pending = submitAll(engine, commands, 9);
    const hash = engine.stateHash(); // asked before any receipt arrived
    const receipts = await Promise.all(pending);
    const stamped: Command[] = [];
    let i = 0;
    for (const r of receipts)
      for (let k = 0; k < r.count; k++) stamped.push({ ...commands[i++], timeUs: r.timeUs });
    equal(await hash, cleanReplayHash(stamped));
    await engine.close();
  });

  void it('refuses an empty submit, a command it cannot journal and a submit over the size bound, alone', async () => {
    const engine = await start();
    const commands = stream(7, 20);
    const first = engine.submit(commands.slice(0, 10));
    await rejects(engine.submit([]), isCode('ENGINE_SUBMIT_EMPTY'));
    const unencodable = {
      kind: 'addAsset',
      timeUs: 0,
      asset: 5,
      code: 'X'.repeat(300),
      decimals: 2,
    } as Command;
    await rejects(engine.submit([commands[10], unencodable]), isCode('JOURNAL_COMMAND_UNENCODABLE'));
    await rejects(
      engine.submit([{ kind: 'nope', timeUs: 0 } as unknown as Command]),
      isCode('JOURNAL_COMMAND_UNENCODABLE'),
    );
    const huge = stream(7, 10).concat(
      Array.from({ length: Math.ceil(ENGINE_LIMITS.submitBytesMax / 20) }, (_, k) => ({
        kind: 'cancelOrder' as const,
        timeUs: 0,
        accountId: 1,
        instrument: 1,
        orderId: k + 1,
      })),
    );
    await rejects(engine.submit(huge), isCode('ENGINE_SUBMIT_TOO_LARGE'));
    const second = engine.submit(commands.slice(10));
    const [a, b] = await Promise.all([first, second]);
    deepEqual([a.firstSeq, a.lastSeq, b.firstSeq, b.lastSeq], [1, 10, 11, 20]);
    equal((await engine.stats()).executedSeq, 20);
    // Each submit awaited before the next travels as a batch of its own: the stats count one execution each.
    const submitsBefore = (await engine.stats()).submits;
    for (let k = 0; k < 3; k++) {
      await engine.submit([
        { kind: 'cancelOrder', timeUs: 0, accountId: 1, instrument: 1, orderId: 1_000 + k },
      ]);
    }
    equal((await engine.stats()).submits, submitsBefore + 3);
    await engine.close();
  });

  void it('refuses a bad flushCommands, and every submit and query once closed', async () => {
    await rejects(start({ flushCommands: 0 }), isCode('ENGINE_INVALID_ARGUMENT'));
    await rejects(start({ flushCommands: 1.5 }), isCode('ENGINE_INVALID_ARGUMENT'));
    const engine = await start();
    await engine.submit(stream(1, 5));
    await engine.close();
    await rejects(engine.submit(stream(1, 1)), isCode('ENGINE_CLOSED'));
    await rejects(engine.stateHash(), isCode('ENGINE_CLOSED'));
  });

  void it('shows subscribers every durable batch in sequence order, before the receipts', async () => {
    const commands = stream(13, 1_500);
    const engine = await start({ flushCommands: 64 });
    const seen: { firstSeq: number; count: number; events: number }[] = [];
    let lastSeen = 0;
    const unsubscribe = engine.subscribe((b) => {
      seen.push({ firstSeq: b.firstSeq, count: b.count, events: b.events.length });
      equal(b.ends.length, b.count);
      lastSeen = b.firstSeq + b.count - 1;
    });
    const receipts = await Promise.all(
      submitAll(engine, commands, 17).map((p) =>
        p.then((r) => {
          ok(lastSeen >= r.lastSeq, `seq ${r.lastSeq} reached a subscriber before its receipt`);
          return r;
        }),
      ),
    );
    let next = 1;
    for (const b of seen) {
      equal(b.firstSeq, next);
      next += b.count;
    }
    equal(next - 1, commands.length);
    const eventsSeen = seen.reduce((n, b) => n + b.events, 0);
    let eventsReceived = 0;
    for (const r of receipts) for (let k = 0; k < r.count; k++) eventsReceived += r.events(k).length;
    equal(eventsSeen, eventsReceived);
    unsubscribe();
    const batches = seen.length;
    await engine.submit(stream(13, 1));
    equal(seen.length, batches, 'nothing after unsubscribing');
    await engine.close();
  });

  void it('knows the highest order id placed, after a restart from a snapshot and from the journal alone', async () => {
    const commands = stream(17, 800);
    let high = 0;
    for (const c of commands) if (c.kind === 'placeOrder' && c.orderId > high) high = c.orderId;
    ok(high > 0, 'the stream places orders');
    const dir = join(temp.make(), 'data');
    const engine = await Engine.start({ dir, snapshotEveryCommands: 0, snapshotEveryMs: 0 });
    equal(await engine.highestOrderId(), 0);
    await engine.submit(commands);
    equal(await engine.highestOrderId(), high);
    await engine.close(); // writes a snapshot
    const fromSnapshot = await Engine.start({ dir });
    ok(fromSnapshot.recovery.snapshotSeq > 0, 'recovered from the snapshot');
    equal(await fromSnapshot.highestOrderId(), high);
    await fromSnapshot.close();
    for (const f of snapshotPaths(dir)) rmSync(f);
    const fromJournal = await Engine.start({ dir });
    equal(fromJournal.recovery.snapshotSeq, 0);
    equal(await fromJournal.highestOrderId(), high);
    await fromJournal.close();
  });
});
