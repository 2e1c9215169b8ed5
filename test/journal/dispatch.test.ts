/**
 * executeByKind: every reader of commands (the recovery scan, the tail, framed records) hands out each command's
 * kind byte, the order commands go to the core's typed entry points by it and the rest to `execute`, and a replay
 * through it gives the same records and state as one through `execute`.
 */
import { after, describe, it } from 'node:test';
import { deepEqual, equal, ok, throws } from 'node:assert/strict';
import {
  ExchangeCore,
  decodeStream,
  type AmendOrder,
  type CancelOrder,
  type Command,
  type PlaceOrder,
} from '../../src/core/index.js';
import {
  COMMAND_KIND,
  JournalErrorCode,
  JournalReader,
  JournalTail,
  RECORD_BYTES_MAX,
  decodeFramedCommands,
  executeByKind,
  frameCommand,
  openJournal,
  type CommandExecutor,
} from '../../src/journal/index.js';
import { TempDirs, placeOrder, sampleCommands, testClock } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

/** sampleCommands, then the three order commands again in their wide form (a field outside its compact type). */
function commandsOfEveryForm(): Command[] {
  return [
    ...sampleCommands(),
    { ...(placeOrder(5) as PlaceOrder), price: -1 },
    { kind: 'cancelOrder', timeUs: 0, accountId: -1.5, instrument: 1, orderId: 5 },
    {
      kind: 'amendOrder',
      timeUs: 0,
      accountId: 1,
      instrument: 1,
      orderId: 5,
      price: 0.5,
      qty: 3,
      triggerPrice: 0,
    },
  ];
}

function framed(commands: readonly Command[]): Uint8Array {
  const out = new Uint8Array(commands.length * RECORD_BYTES_MAX);
  let at = 0;
  for (const c of commands) at = frameCommand(c, out, at);
  return out.slice(0, at);
}

/** Remembers which entry point got which command. */
class RecordingExecutor implements CommandExecutor {
  readonly calls: [string, Command][] = [];
  execute(cmd: Command): void {
    this.calls.push(['execute', cmd]);
  }
  placeOrder(cmd: PlaceOrder): void {
    this.calls.push(['placeOrder', cmd]);
  }
  cancelOrder(cmd: CancelOrder): void {
    this.calls.push(['cancelOrder', cmd]);
  }
  amendOrder(cmd: AmendOrder): void {
    this.calls.push(['amendOrder', cmd]);
  }
}

const TYPED = new Set(['placeOrder', 'cancelOrder', 'amendOrder']);
const entryPointOf = (c: Command): string => (TYPED.has(c.kind) ? c.kind : 'execute');

async function journalOf(commands: readonly Command[]): Promise<string> {
  const dir = temp.make();
  const { writer } = await openJournal({ dir, clockUs: testClock().clockUs });
  await writer.append(commands.map((c) => ({ ...c })));
  await writer.close();
  return dir;
}

describe('executeByKind', () => {
  void it('framed records give each command its kind byte, and it picks the entry point by it', () => {
    const commands = commandsOfEveryForm();
    const kinds = new Uint8Array(commands.length);
    const decoded = decodeFramedCommands(framed(commands), commands.length, kinds);
    deepEqual(
      Array.from(kinds),
      commands.map((c) => COMMAND_KIND[c.kind]),
    );
    const executor = new RecordingExecutor();
    for (let i = 0; i < decoded.length; i++) executeByKind(executor, decoded[i], kinds[i]);
    deepEqual(
      executor.calls.map(([entry]) => entry),
      commands.map(entryPointOf),
    );
    deepEqual(
      executor.calls.map(([, cmd]) => cmd),
      commands,
    );
  });

  void it('refuses a kinds array shorter than the records', () => {
    const commands = sampleCommands();
    throws(
      () => decodeFramedCommands(framed(commands), commands.length, new Uint8Array(commands.length - 1)),
      (e: unknown) => (e as { code?: string }).code === JournalErrorCode.InvalidArgument,
    );
  });

  void it('the recovery scan and the tail hand each record its kind byte', async () => {
    const commands = commandsOfEveryForm();
    const dir = await journalOf(commands);
    const expected = commands.map((c) => COMMAND_KIND[c.kind]);
    const scanned: number[] = [];
    await new JournalReader(dir).scan(1, (_seq, _timeUs, command, kind) => {
      equal(kind, COMMAND_KIND[command.kind]);
      scanned.push(kind);
    });
    deepEqual(scanned, expected);
    const tailed: number[] = [];
    const tail = new JournalTail(dir);
    await tail.seek(1);
    await tail.read(commands.length, commands.length, (_seq, _timeUs, command, kind) => {
      equal(kind, COMMAND_KIND[command.kind]);
      tailed.push(kind);
    });
    deepEqual(tailed, expected);
  });

  void it('a replay through it gives the records and state hash of a replay through execute', async () => {
    const setup: Command[] = [
      ...sampleCommands().slice(0, 2), // the assets
      { kind: 'createAccount', timeUs: 0, accountId: 1, accountType: 1 },
      { kind: 'createAccount', timeUs: 0, accountId: 2, accountType: 1 },
      { kind: 'deposit', timeUs: 0, accountId: 1, asset: 0, amount: 1e12, ref: 1 },
      { kind: 'deposit', timeUs: 0, accountId: 2, asset: 1, amount: 1e12, ref: 2 },
      sampleCommands()[6], // the instrument
    ];
    const orders: Command[] = [];
    for (let id = 1; id <= 60; id++) {
      const side = (id % 2) as 0 | 1;
      const price = 10_000 + (side === 0 ? 1 : -1) * (id % 3);
      orders.push({ ...(placeOrder(id) as PlaceOrder), accountId: 1 + side, side, price, qty: 1 + (id % 4) });
      if (id % 5 === 0)
        orders.push({ kind: 'cancelOrder', timeUs: 0, accountId: 1, instrument: 1, orderId: id - 1 });
      if (id % 7 === 0) {
        orders.push({
          kind: 'amendOrder',
          timeUs: 0,
          accountId: 1,
          instrument: 1,
          orderId: id - 1,
          price: 0,
          qty: 1,
          triggerPrice: 0,
        });
      }
    }
    const commands = [...setup, ...orders, ...commandsOfEveryForm().slice(-3)];
    const dir = await journalOf(commands);
    const byKind = new ExchangeCore();
    const byExecute = new ExchangeCore();
    let compared = 0;
    let trades = 0;
    await new JournalReader(dir).scan(1, (_seq, _timeUs, command, kind) => {
      byKind.events.clear();
      byExecute.events.clear();
      executeByKind(byKind, command, kind);
      byExecute.execute(command);
      deepEqual(decodeStream(byKind.events), decodeStream(byExecute.events));
      for (const e of decodeStream(byKind.events)) if (e.type === 'TradeExecuted') trades++;
      compared++;
    });
    equal(compared, commands.length);
    equal(byKind.stateHash(), byExecute.stateHash());
    // Not a vacuous comparison: the orders reached the book and traded.
    ok(trades > 0, 'some orders traded');
  });
});
