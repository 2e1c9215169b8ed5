/**
 * The engine's reports: after a seeded stream of commands, each account's report (balances with their ledger
 * accounts, positions, status, limits), the pages of accounts, the instruments and the statements equal what
 * a clean core that executed the same commands says; a report sees every submit made before it; an unknown
 * account is null; a page size out of range is refused with nothing changed.
 */
import { after, describe, it } from 'node:test';
import { deepEqual, equal, ok, rejects } from 'node:assert/strict';
import { join } from 'node:path';
import {
  AccountType,
  ExchangeCore,
  balanceSheet,
  incomeStatement,
  trialBalance,
  type Command,
} from '../../src/core/index.js';
import { ENGINE_LIMITS, Engine, type Receipt } from '../../src/engine/index.js';
import { ACCOUNTS, OFFICER } from '../core/random-commands.js';
import { TempDirs, stream } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

function start(): Promise<Engine> {
  return Engine.start({ dir: join(temp.make(), 'data'), snapshotEveryCommands: 0, snapshotEveryMs: 0 });
}

/** A clean core that executed `commands` with the times their receipts give. */
function cleanCore(commands: readonly Command[], receipts: readonly Receipt[]): ExchangeCore {
  const core = new ExchangeCore();
  let i = 0;
  for (const r of receipts) {
    for (let k = 0; k < r.count; k++, i++) {
      core.events.clear();
      core.execute({ ...commands[i], timeUs: r.timeUs });
    }
  }
  return core;
}

async function run(n: number): Promise<{ engine: Engine; core: ExchangeCore }> {
  const commands = stream(21, n);
  const engine = await start();
  const receipts: Receipt[] = [];
  for (let at = 0; at < commands.length; at += 50)
    receipts.push(await engine.submit(commands.slice(at, at + 50)));
  return { engine, core: cleanCore(commands, receipts) };
}

describe('engine reports', () => {
  void it("answers each account's balances, positions and status as a clean core has them", async () => {
    const { engine, core } = await run(3_000);
    let traded = 0;
    for (let id = 1; id <= OFFICER; id++) {
      const r = await engine.accountReport(id);
      ok(r !== null, `account ${id} exists`);
      deepEqual(r.account, core.account(id));
      deepEqual(
        r.balances.map((b) => ({ asset: b.asset, available: b.available, held: b.held })),
        core.balances(id),
      );
      for (const b of r.balances) {
        equal(b.ledgerAvailable, core.ledger.findCustomerAccount(id, b.asset));
        equal(b.ledgerHeld, b.ledgerAvailable + 1);
      }
      deepEqual(r.positions, core.positionsOf(id));
      deepEqual(r.assets, core.assetList());
      if (r.positions.some((p) => p.realizedPnl !== 0 || p.qty !== 0)) traded++;
    }
    ok(traded > 0, 'the stream traded');
    equal(await engine.accountReport(OFFICER + 1), null);
    equal(await engine.accountReport(0), null);
    await engine.close();
  });

  void it('pages the accounts in id order and counts them', async () => {
    const { engine, core } = await run(200);
    const first = await engine.accounts(0, 10);
    equal(first.total, core.accountTotal);
    deepEqual(
      first.accounts.map((a) => a.accountId),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    const rest = await engine.accounts(10, ENGINE_LIMITS.reportAccountsMax);
    equal(rest.accounts.length, core.accountTotal - 10);
    equal(rest.accounts[rest.accounts.length - 1].accountId, OFFICER);
    equal(rest.accounts[rest.accounts.length - 1].type, AccountType.RiskOfficer);
    ok(ACCOUNTS + 1 === core.accountTotal);
    deepEqual((await engine.accounts(OFFICER, 5)).accounts, []);
    await rejects(engine.accounts(0, 0), (e: Error) => /page holds/.test(e.message));
    await rejects(engine.accounts(0, ENGINE_LIMITS.reportAccountsMax + 1), (e: Error) =>
      /page holds/.test(e.message),
    );
    await engine.close();
  });

  void it('answers the statements and the instruments as a clean core has them, each asset balanced', async () => {
    const { engine, core } = await run(2_000);
    const s = await engine.statements();
    deepEqual(s.trialBalance, trialBalance(core.ledger));
    for (const asset of core.ledger.assetIds()) equal(s.trialBalance.imbalanceByAsset[asset], 0);
    deepEqual(
      s.balanceSheets,
      core.ledger.assetIds().map((a) => balanceSheet(core.ledger, a)),
    );
    ok(s.balanceSheets.every((b) => b.balances));
    deepEqual(
      s.incomeStatements,
      core.ledger.assetIds().map((a) => incomeStatement(core.ledger, a)),
    );
    ok(
      s.incomeStatements.some((i) => i.feeIncome > 0),
      'the stream charged fees',
    );
    const v = await engine.venueReport();
    equal(v.killSwitch, core.venueKillSwitch);
    let killed = 0;
    for (let id = 1; id <= OFFICER; id++) killed += core.account(id)?.killSwitch === true ? 1 : 0;
    equal(v.accountKillSwitches, killed);
    deepEqual(
      v.instruments.map((i) => [i.instrument, i.symbol, i.halted]),
      core.instrumentList().map((i) => [i.instrument, i.symbol, core.isHalted(i.instrument)]),
    );
    await engine.close();
  });

  void it('sees every submit made before it, awaited or not', async () => {
    const engine = await start();
    const setup: Command[] = [
      { kind: 'addAsset', timeUs: 0, asset: 0, code: 'USD', decimals: 2 },
      { kind: 'createAccount', timeUs: 0, accountId: 7, accountType: AccountType.Customer },
    ];
    void engine.submit(setup);
    const deposit = engine.submit([
      { kind: 'deposit', timeUs: 0, accountId: 7, asset: 0, amount: 12_345, ref: 1 },
    ]);
    const report = await engine.accountReport(7); // asked before the deposit's receipt arrived
    await deposit;
    ok(report !== null);
    deepEqual(
      report.balances.map((b) => [b.asset, b.available, b.held]),
      [[0, 12_345, 0]],
    );
    void engine.submit([{ kind: 'setTradingStatus', timeUs: 0, instrument: 9, halted: true }]);
    deepEqual((await engine.venueReport()).instruments, []);
    await engine.close();
  });
});
