/** The ledger's arithmetic, entries, compact records, statements and positions. */
import { describe, it } from 'node:test';
import { deepEqual, equal, throws } from 'node:assert/strict';
import { EventBuffer } from '../../src/book/index.js';
import {
  EntryKind,
  Ledger,
  LedgerAccountKind,
  LedgerHistory,
  Positions,
  balanceSheet,
  decodeEntry,
  EntryDecoder,
  feeOf,
  incomeStatement,
  isEntryRecord,
  mulDivFloor,
  trialBalance,
  venueStatements,
} from '../../src/ledger/index.js';
import { Rng } from '../book/helpers.js';

function funded(): { ledger: Ledger; events: EventBuffer; a: number; b: number } {
  const events = new EventBuffer(64);
  const ledger = new Ledger(events);
  ledger.addAsset(0);
  ledger.addAsset(1);
  const a = ledger.customerAccount(7, 0);
  const b = ledger.customerAccount(8, 0);
  ledger.begin(EntryKind.Deposit, 7, 1, 0);
  ledger.debit(ledger.venueAccount(LedgerAccountKind.Custody, 0), 1_000);
  ledger.credit(a, 1_000);
  ledger.commit();
  return { ledger, events, a, b };
}

/** The entries among the records; EntryDecoder (reused objects) is held to decodeEntry for each of them. */
const reused = new EntryDecoder();
function decodedEntries(events: EventBuffer): ReturnType<typeof decodeEntry>[] {
  const out = [];
  for (let i = 0; i < events.count; i++) {
    if (!isEntryRecord(events.data, i)) continue;
    const e = decodeEntry(events.data, i);
    deepEqual(structuredClone(reused.decode(events.data, i)), e);
    out.push(e);
  }
  return out;
}

void describe('entries decoded into reused objects', () => {
  void it('are the entries decodeEntry makes: continuation records, holds and releases', () => {
    const { ledger, events, a, b } = funded();
    // Ten lines: the header's four and six in a continuation record.
    ledger.begin(EntryKind.Deposit, 9, 3, 5);
    for (let k = 1; k <= 5; k++) {
      ledger.debit(ledger.venueAccount(LedgerAccountKind.Custody, 0), k);
      ledger.credit(b, k);
    }
    ledger.commit();
    ledger.moveHeld(EntryKind.Hold, 7, a, 300, 6);
    ledger.moveHeld(EntryKind.Release, 7, a, 100, 7);
    const entries = decodedEntries(events);
    deepEqual(
      entries.map((e) => [e.kind, e.lines.length]),
      [
        [EntryKind.Deposit, 2],
        [EntryKind.Deposit, 10],
        [EntryKind.Hold, 2],
        [EntryKind.Release, 2],
      ],
    );
  });
});

void describe('money', () => {
  void it('fees round up, rebates round down, exactly for any safe value', () => {
    equal(feeOf(1_000, 500), 1); // 0.5 → 1
    equal(feeOf(1_000, -500), 0); // rebate 0.5 → 0
    equal(feeOf(3_000, -500), -1);
    equal(feeOf(0, 500), 0);
    equal(feeOf(Number.MAX_SAFE_INTEGER, 1), 9_007_199_255); // ceil(9,007,199,254.740991)
    const rng = new Rng(5);
    for (let i = 0; i < 10_000; i++) {
      const v = rng.int(2 ** 30) * 2 ** 20 + rng.int(2 ** 20);
      const rate = rng.int(200_001) - 100_000;
      const exact = BigInt(v) * BigInt(Math.abs(rate));
      const q = exact / 1_000_000n;
      const r = exact % 1_000_000n;
      const want = rate >= 0 ? Number(q + (r > 0n ? 1n : 0n)) : -Number(q);
      equal(feeOf(v, rate), want === 0 ? 0 : want, `${v} at ${rate}`);
    }
    // Small values (the one-division path) and values around where it ends.
    for (let i = 0; i < 20_000; i++) {
      const rate = rng.int(2_000_001) - 1_000_000;
      const edge = rate === 0 ? 0 : Math.floor((2 ** 32 * 1_000_000) / Math.abs(rate));
      const v = i % 2 === 0 ? rng.int(2 ** 33) : Math.max(0, edge - 50 + rng.int(100));
      const exact = BigInt(v) * BigInt(Math.abs(rate));
      const q = exact / 1_000_000n;
      const r = exact % 1_000_000n;
      const want = rate >= 0 ? Number(q + (r > 0n ? 1n : 0n)) : -Number(q);
      equal(feeOf(v, rate), want === 0 ? 0 : want, `${v} at ${rate}`);
    }
  });

  void it('mulDivFloor is exact where a × b passes 2^53', () => {
    const rng = new Rng(6);
    for (let i = 0; i < 10_000; i++) {
      const a = rng.int(2 ** 30) * 2 ** 20 + rng.int(2 ** 20);
      const b = 1 + rng.int(2 ** 30);
      const c = 1 + rng.int(2 ** 30);
      equal(mulDivFloor(a, b, c), Number((BigInt(a) * BigInt(b)) / BigInt(c)));
    }
    equal(mulDivFloor(2 ** 53 - 1, 1, 3), Number((2n ** 53n - 1n) / 3n));
  });
});

void describe('ledger entries', () => {
  void it('an entry that does not balance is refused whole and changes nothing', () => {
    const { ledger, a, b } = funded();
    ledger.begin(EntryKind.Deposit, 0, 0, 0);
    ledger.debit(a, 10);
    ledger.credit(b, 9);
    throws(() => ledger.commit(), /does not balance/);
    equal(ledger.available(7, 0), 1_000);
    equal(ledger.available(8, 0), 0);
    equal(ledger.audit(), '');
  });

  void it('an entry that would take a customer below zero is undone and refused', () => {
    const { ledger, a, b } = funded();
    ledger.begin(EntryKind.Withdrawal, 0, 0, 0);
    ledger.debit(a, 1_001);
    ledger.credit(b, 1_001);
    throws(() => ledger.commit(), /negative/);
    equal(ledger.available(7, 0), 1_000);
    equal(ledger.audit(), '');
  });

  void it('holds, releases and settlements write compact records that decode to balanced lines', () => {
    const { ledger, events, a } = funded();
    events.clear();
    ledger.moveHeld(EntryKind.Hold, 99, a, 400, 5);
    equal(ledger.available(7, 0), 600);
    equal(ledger.held(7, 0), 400);
    throws(() => ledger.moveHeld(EntryKind.Hold, 99, a, 601, 5), /negative/);
    ledger.moveHeld(EntryKind.Release, 99, a, 100, 6);
    equal(ledger.held(7, 0), 300);
    const [hold, release] = decodedEntries(events);
    deepEqual(hold.lines, [
      { account: a, amount: 400 },
      { account: a + 1, amount: -400 },
    ]);
    equal(release.kind, EntryKind.Release);
    equal(release.ref, 99);
  });

  void it('a settlement moves base and quote between two customers and books fees and rebates', () => {
    const events = new EventBuffer(64);
    const l = new Ledger(events);
    l.addAsset(0);
    l.addAsset(1);
    const buyerQ = l.customerAccount(1, 0);
    const buyerB = l.customerAccount(1, 1);
    const sellerQ = l.customerAccount(2, 0);
    const sellerB = l.customerAccount(2, 1);
    for (const [acct, asset, amount] of [
      [buyerQ, 0, 10_000],
      [sellerB, 1, 50],
    ] as const) {
      l.begin(EntryKind.Deposit, 0, 0, 0);
      l.debit(l.venueAccount(LedgerAccountKind.Custody, asset), amount);
      l.credit(acct, amount);
      l.commit();
    }
    l.moveHeld(EntryKind.Hold, 1, buyerQ, 5_010, 0);
    l.moveHeld(EntryKind.Hold, 2, sellerB, 5, 0);
    events.clear();
    const fee = l.venueAccount(LedgerAccountKind.FeeIncome, 0);
    // Value 5,000; buyer pays a 5 taker fee, the seller gets a 1 rebate; the buyer's hold refunds 5.
    l.settle(1, 2, buyerQ, 5_010, 5, sellerQ, 5_001, sellerB, 5, buyerB, fee, 5, 1, 9);
    equal(l.available(1, 0), 10_000 - 5_010 + 5);
    equal(l.held(1, 0), 0);
    equal(l.available(1, 1), 5);
    equal(l.available(2, 0), 5_001);
    equal(l.held(2, 1), 0);
    deepEqual(incomeStatement(l, 0), { asset: 0, feeIncome: 5, rebateExpense: 1, netIncome: 4 });
    equal(l.audit(), '');
    const [entry] = decodedEntries(events);
    equal(entry.kind, EntryKind.Settlement);
    equal(
      entry.lines.reduce((s, x) => s + x.amount, 0),
      0,
    );
    throws(
      () => l.settle(1, 2, buyerQ, 10, 0, sellerQ, 5, sellerB, 1, buyerB, fee, 0, 0, 9),
      /does not balance/,
    );
    const history = new LedgerHistory();
    history.addRecords(events.data, events.count);
    equal(history.entriesOf(buyerQ).length, 1);
  });

  void it('statements: the trial balance nets to zero and the balance sheet balances', () => {
    const { ledger } = funded();
    const tb = trialBalance(ledger);
    deepEqual(tb.imbalanceByAsset, { 0: 0, 1: 0 });
    const sheet = balanceSheet(ledger, 0);
    equal(sheet.assets.total, 1_000);
    equal(sheet.liabilities.total, 1_000);
    equal(sheet.balances, true);
    // The one-pass form gives the same statements as the separate functions.
    deepEqual(venueStatements(ledger), {
      trialBalance: tb,
      balanceSheets: [sheet, balanceSheet(ledger, 1)],
      incomeStatements: [incomeStatement(ledger, 0), incomeStatement(ledger, 1)],
    });
  });

  void it('an entry with more than four lines spills into a continuation record', () => {
    const events = new EventBuffer(64);
    const l = new Ledger(events);
    l.addAsset(0);
    const custody = l.venueAccount(LedgerAccountKind.Custody, 0);
    l.begin(EntryKind.Deposit, 0, 0, 0);
    for (let c = 1; c <= 6; c++) l.credit(l.customerAccount(c, 0), c);
    l.debit(custody, 21);
    l.commit();
    equal(events.count, 2);
    const [entry] = decodedEntries(events);
    equal(entry.lines.length, 7);
    equal(
      entry.lines.reduce((s, x) => s + x.amount, 0),
      0,
    );
  });
});

void describe('positions', () => {
  void it('average cost, realized PnL on reduction, a flip through zero and a short', () => {
    const p = new Positions();
    const s = p.slot(1, 1);
    p.applyFill(s, true, 10, 1_000, 1); // long 10 at 100
    p.applyFill(s, true, 10, 1_200, 1); // long 20, cost 2,200
    equal(p.view(s).avgCostPerLot, 110);
    equal(p.applyFill(s, false, 5, 650, 1), 650 - 550); // sold 5 at 130
    equal(p.view(s).qty, 15);
    equal(p.view(s).cost, 1_650);
    // Sell 25 at 100: closes 15 (cost 1,650, value 1,500) and opens a short of 10 at 100.
    equal(p.applyFill(s, false, 25, 2_500, 0), 1_500 - 1_650);
    equal(p.view(s).qty, -10);
    equal(p.view(s).cost, -1_000);
    equal(p.unrealized(s, -900), 100); // marked at 90: the short gains 100
    equal(p.applyFill(s, true, 10, 800, 0), 200);
    equal(p.view(s).qty, 0);
    equal(p.view(s).cost, 0);
    equal(p.view(s).realizedPnl, 100 - 150 + 200);
    equal(p.view(s).fees, 3);
  });
});
