/**
 * Randomized runs of the whole core, 1,000,000 commands over four seeds: many accounts, three instruments,
 * every order type and time in force, icebergs, post-only, self-trade prevention, fees and rebates, deposits
 * and withdrawals (good and bad), halts, kill switches, risk limits, time jumps across UTC days. After every
 * command: each asset sums to zero and no customer balance is negative (Ledger.audit), and every settlement
 * is traceable to a trade of its two orders. Every 500 commands and at the end: the holds of the live orders
 * equal the held balances and the core's open orders equal the books'. The same seed twice gives the same
 * records and state hash.
 */
import { describe, it } from 'node:test';
import { equal, ok } from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EVENT_STRIDE, EventType, Side } from '../../src/book/index.js';
import { ExchangeCore, type Command } from '../../src/core/index.js';
import { LedgerRecordType } from '../../src/ledger/index.js';
import { ASSETS, INSTRUMENTS, OFFICER, RandomCommands } from './random-commands.js';

const SEEDS = [11, 22, 33, 44];
const COMMANDS_PER_SEED = 250_000;

interface RunStats {
  digest: string;
  stateHash: string;
  trades: number;
  settlements: number;
  rejects: number;
  kills: number;
  withdrawals: number;
}

/** Every SettlementPosted record names the buy and sell orders of a TradeExecuted record before it. */
function settlementsTraceable(data: Float64Array, count: number): string {
  for (let k = 0; k < count; k++) {
    if (data[k * EVENT_STRIDE] !== LedgerRecordType.SettlementPosted) continue;
    const buy = data[k * EVENT_STRIDE + 3];
    const sell = data[k * EVENT_STRIDE + 4];
    let found = false;
    for (let j = 0; j < k && !found; j++) {
      const o = j * EVENT_STRIDE;
      if (data[o] !== EventType.TradeExecuted) continue;
      const taker = data[o + 3];
      const maker = data[o + 9];
      const takerBuys = data[o + 5] === Side.Buy;
      found = (takerBuys ? taker : maker) === buy && (takerBuys ? maker : taker) === sell;
    }
    if (!found) return `settlement of ${buy}/${sell} has no trade`;
  }
  return '';
}

function holdsMatch(core: ExchangeCore): string {
  const holds = core.holdsByAccountAsset();
  for (let a = 1; a <= OFFICER; a++) {
    for (const asset of ASSETS) {
      const held = core.ledger.held(a, asset);
      const expected = holds.get(`${a}:${asset}`) ?? 0;
      if (held !== expected) return `account ${a} asset ${asset}: held ${held}, orders hold ${expected}`;
    }
  }
  let bookOrders = 0;
  for (const ins of INSTRUMENTS) bookOrders += core.book(ins.instrument)?.orderCount ?? 0;
  if (bookOrders !== core.openOrderCount)
    return `books hold ${bookOrders} orders, the core ${core.openOrderCount}`;
  return '';
}

function run(seed: number, commands: number): RunStats {
  const v = new RandomCommands(seed);
  const core = new ExchangeCore();
  const digest = createHash('sha256');
  const stats = { trades: 0, settlements: 0, rejects: 0, kills: 0, withdrawals: 0 };
  const execute = (cmd: Command, i: number): void => {
    core.events.clear();
    core.execute(cmd);
    const d = core.events.data;
    const n = core.events.count;
    digest.update(new Uint8Array(d.buffer, 0, n * EVENT_STRIDE * 8));
    const problem = core.ledger.audit() || settlementsTraceable(d, n);
    if (problem !== '') throw new Error(`seed ${seed} command ${i} (${JSON.stringify(cmd)}): ${problem}`);
    for (let k = 0; k < n; k++) {
      const type = d[k * EVENT_STRIDE];
      if (type === EventType.TradeExecuted) stats.trades++;
      else if (type === LedgerRecordType.SettlementPosted) stats.settlements++;
      else if (type === EventType.OrderRejected || type === 48) stats.rejects++;
      else if (type === 38) stats.kills++;
      else if (type === LedgerRecordType.EntryPosted && d[k * EVENT_STRIDE + 3] === 2) stats.withdrawals++;
    }
    if (i % 500 === 0) {
      const mismatch = holdsMatch(core);
      if (mismatch !== '') throw new Error(`seed ${seed} command ${i}: ${mismatch}`);
    }
  };
  v.setup().forEach((cmd, i) => execute(cmd, -1 - i));
  for (let i = 0; i < commands; i++) execute(v.next(), i);
  const mismatch = holdsMatch(core);
  if (mismatch !== '') throw new Error(`seed ${seed} at the end: ${mismatch}`);
  return { digest: digest.digest('hex'), stateHash: core.stateHash(), ...stats };
}

void describe('core invariants over random commands', () => {
  for (const seed of SEEDS) {
    void it(`seed ${seed}: ${COMMANDS_PER_SEED} commands keep the ledger whole and the holds exact`, () => {
      const s = run(seed, COMMANDS_PER_SEED);
      // The run exercised what it claims to: trades, settlements, refusals, kill switches, withdrawals.
      ok(s.trades > 10_000, `trades ${s.trades}`);
      equal(s.settlements, s.trades);
      ok(s.rejects > 1_000, `rejects ${s.rejects}`);
      ok(s.kills > 10, `kill switches ${s.kills}`);
      ok(s.withdrawals > 1_000, `withdrawals ${s.withdrawals}`);
    });
  }

  void it('the same seed gives byte-identical records and the same state hash', () => {
    const a = run(5, 30_000);
    const b = run(5, 30_000);
    equal(a.digest, b.digest);
    equal(a.stateHash, b.stateHash);
    ok(run(6, 30_000).stateHash !== a.stateHash);
  });
});
