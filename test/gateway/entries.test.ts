/**
 * The ledger's entry history in the views: fed a seeded random venue's records, the entries of each customer
 * ledger account add up to its balance in the core, every settlement names its trade (each trade once),
 * pages walked with `before` give the same entries as one large page, and a bounded history keeps only the
 * newest entries, the same ones the unbounded history has.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ExchangeCore } from '../../src/core/index.js';
import { Views } from '../../src/gateway/views/index.js';
import { RandomCommands } from '../core/random-commands.js';

function feed(n: number, ...views: Views[]): ExchangeCore {
  const gen = new RandomCommands(7);
  const core = new ExchangeCore();
  const commands = gen.setup();
  while (commands.length < n) commands.push(gen.next());
  let seq = 0;
  let trades = 0;
  for (const c of commands) {
    core.events.clear();
    core.execute(c);
    seq++;
    for (const v of views) v.applyCommand(seq, c.timeUs, core.events.data, 0, core.events.count);
    trades = views[0].venue.trades;
  }
  assert.ok(trades > 100, `the stream traded (${trades} trades)`);
  return core;
}

describe('entry history', () => {
  const full = new Views();
  const small = new Views({ entriesKept: 100 });
  const core = feed(4_000, full, small);
  const customerAccounts: number[] = [];
  core.ledger.forEachBalance((account, _kind, _asset, customer) => {
    if (customer !== 0) customerAccounts.push(account);
  });

  it("adds up to each customer ledger account's balance", () => {
    assert.ok(customerAccounts.length > 40);
    for (const account of customerAccounts) {
      let sum = 0;
      for (const e of full.entries.entriesOf([account], Number.MAX_SAFE_INTEGER, 1e9)) {
        for (const l of e.lines) if (l.ledgerAccount === account) sum += l.amount;
      }
      assert.equal(sum, core.ledger.signedBalance(account), `ledger account ${account}`);
    }
  });

  it('names the trade of every settlement, each trade once', () => {
    const settlements = full.entries
      .entriesOf(customerAccounts, Number.MAX_SAFE_INTEGER, 1e9)
      .filter((e) => e.kind === 5);
    assert.equal(settlements.length, full.venue.trades);
    assert.ok(settlements.every((e) => e.tradeId > 0 && e.instrument > 0));
    // Trade ids are per instrument.
    const trades = new Set(settlements.map((e) => `${e.instrument}:${e.tradeId}`));
    assert.equal(trades.size, settlements.length);
    const others = full.entries
      .entriesOf(customerAccounts, Number.MAX_SAFE_INTEGER, 1e9)
      .filter((e) => e.kind !== 5);
    assert.ok(others.length > 0 && others.every((e) => e.tradeId === 0 && e.instrument === -1));
  });

  it('gives the same entries page by page as in one page, newest first', () => {
    const accounts = customerAccounts.slice(0, 6);
    const all = full.entries.entriesOf(accounts, Number.MAX_SAFE_INTEGER, 1e9);
    assert.ok(all.length > 50);
    const walked = [];
    for (let before = Number.MAX_SAFE_INTEGER; ;) {
      const page = full.entries.entriesOf(accounts, before, 7);
      walked.push(...page);
      if (page.length < 7) break;
      before = page[page.length - 1].entryId;
    }
    assert.deepEqual(
      walked.map((e) => e.entryId),
      all.map((e) => e.entryId),
    );
    for (let k = 1; k < all.length; k++) assert.ok(all[k - 1].entryId > all[k].entryId);
  });

  it('keeps only the newest entries when bounded, as the full history has them', () => {
    assert.equal(small.entries.size, 100);
    const kept = small.entries.entriesOf(customerAccounts, Number.MAX_SAFE_INTEGER, 1e9);
    assert.ok(kept.length > 0 && kept.length <= 100);
    const newest = full.entries.entriesOf(customerAccounts, Number.MAX_SAFE_INTEGER, kept.length);
    assert.deepEqual(kept, newest);
  });
});
