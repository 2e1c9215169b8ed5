/**
 * The exchange core through its commands: holds, settlement with fees and rebates, releases, each risk
 * check's reject code, kill switches, halts, the emergency stop, reports, and bad input that changes nothing.
 */
import { describe, it } from 'node:test';
import { deepEqual, equal, ok } from 'node:assert/strict';
import { BookReject, CancelReason } from '../../src/book/index.js';
import {
  AccountType,
  AccountStatus,
  CoreReject,
  MarkMethod,
  type StreamEvent,
} from '../../src/core/index.js';
import {
  EntryKind,
  LedgerHistory,
  LedgerReject,
  balanceSheet,
  incomeStatement,
  trialBalance,
} from '../../src/ledger/index.js';
import { RiskReject } from '../../src/risk/index.js';
import {
  BTC,
  DAY_US,
  INSTRUMENT,
  OrderType,
  SelfTradePrevention,
  Side,
  TimeInForce,
  USD,
  Venue,
  rejectCode,
  types,
} from './helpers.js';

const FEES = { makerFeePpm: -100, takerFeePpm: 500 };

/** A venue with buyer 1 (10,000,000 USD) and seller 2 (1,000 BTC), maker rebate 1 bp, taker fee 5 bp. */
function twoParty(spec = {}): Venue {
  return new Venue()
    .setup({ ...FEES, ...spec })
    .account(1, 10_000_000)
    .account(2, 0, 1000);
}

function entries(events: readonly StreamEvent[]): Extract<StreamEvent, { type: 'EntryPosted' }>[] {
  return events.filter((e): e is Extract<StreamEvent, { type: 'EntryPosted' }> => e.type === 'EntryPosted');
}

void describe('core: holds and settlement', () => {
  void it('a buy holds quantity × (price + the largest taker fee per lot); a sell holds its base', () => {
    const v = twoParty();
    const events = v.place(1, 11, Side.Buy, 10_000, 100);
    deepEqual(types(events).slice(0, 1), ['OrderAccepted']);
    const hold = entries(events);
    equal(hold.length, 1);
    equal(hold[0].kind, EntryKind.Hold);
    // 10,000 + ceil(10,000 × 5 bp) = 10,005 per lot.
    equal(v.held(1, USD), 1_000_500);
    equal(v.available(1, USD), 10_000_000 - 1_000_500);
    v.place(2, 21, Side.Sell, 10_100, 30);
    equal(v.held(2, BTC), 30);
    equal(v.available(2, BTC), 970);
  });

  void it('a trade settles in one balanced entry: base, quote, taker fee, maker rebate, price improvement', () => {
    const v = twoParty();
    v.place(1, 11, Side.Buy, 10_000, 100);
    const events = v.place(2, 21, Side.Sell, 9_990, 60);
    const trade = events.find((e) => e.type === 'TradeExecuted');
    ok(trade && trade.type === 'TradeExecuted');
    equal(trade.price, 10_000);
    equal(trade.qty, 60);
    const settlement = entries(events).find((e) => e.kind === EntryKind.Settlement);
    ok(settlement);
    equal(settlement.ref, 11);
    equal(settlement.ref2, 21);
    equal(
      settlement.lines.reduce((s, l) => s + l.amount, 0),
      0,
    );
    // Value 600,000; seller (taker) pays 300; buyer (maker) gets a 60 rebate; hold released 60 × 10,005.
    equal(v.available(1, BTC), 60);
    equal(v.held(1, USD), 40 * 10_005);
    equal(v.available(1, USD), 10_000_000 - 600_000 + 60 - 40 * 10_005);
    equal(v.available(2, USD), 600_000 - 300);
    equal(v.available(2, BTC), 940);
    equal(v.held(2, BTC), 0);
    deepEqual(incomeStatement(v.core.ledger, USD), {
      asset: USD,
      feeIncome: 300,
      rebateExpense: 60,
      netIncome: 240,
    });
    const [p1] = v.core.positionsOf(1);
    equal(p1.qty, 60);
    equal(p1.cost, 600_000);
    equal(p1.avgCostPerLot, 10_000);
    equal(p1.fees, -60);
    const [p2] = v.core.positionsOf(2);
    equal(p2.qty, -60);
    equal(p2.fees, 300);
  });

  void it('a buy that trades below its limit gets the difference back', () => {
    const v = twoParty();
    v.place(2, 21, Side.Sell, 9_000, 10);
    v.place(1, 11, Side.Buy, 10_000, 10);
    // Paid 90,000 + taker fee 45; nothing stays held.
    equal(v.held(1, USD), 0);
    equal(v.available(1, USD), 10_000_000 - 90_000 - 45);
  });

  void it('order ids are scoped to their instrument: cancels and amends name it', () => {
    const v = twoParty();
    const ETH = 2;
    v.exec({ kind: 'addAsset', asset: ETH, code: 'ETH', decimals: 8 });
    v.exec({ kind: 'deposit', accountId: 1, asset: ETH, amount: 1_000, ref: 9 });
    v.exec({
      kind: 'defineInstrument',
      spec: { instrument: 2, symbol: 'ETH-USD', baseAsset: ETH, quoteAsset: USD },
    });
    // The same id, live in both books.
    v.place(1, 11, Side.Buy, 10_000, 10);
    ok(types(v.place(1, 11, Side.Sell, 20_000, 3, { instrument: 2 })).includes('OrderAccepted'));
    equal(v.held(1, ETH), 3);
    const before = v.core.stateHash();
    equal(
      rejectCode(v.exec({ kind: 'cancelOrder', instrument: 7, accountId: 1, orderId: 11 })),
      RiskReject.UnknownInstrument,
    );
    equal(
      rejectCode(v.exec({ kind: 'cancelOrder', instrument: 2, accountId: 2, orderId: 11 })),
      BookReject.NotOrderOwner,
    );
    equal(
      rejectCode(
        v.exec({
          kind: 'amendOrder',
          instrument: 2,
          accountId: 1,
          orderId: 12,
          price: 1,
          qty: 0,
          triggerPrice: 0,
        }),
      ),
      BookReject.OrderNotFound,
    );
    equal(v.core.stateHash(), before, 'a refused cancel or amend changes nothing, not even a book sequence');
    // Cancelling in instrument 2 leaves the buy in instrument 1 alone.
    ok(
      types(v.exec({ kind: 'cancelOrder', instrument: 2, accountId: 1, orderId: 11 })).includes(
        'OrderCancelled',
      ),
    );
    equal(v.held(1, ETH), 0);
    equal(v.held(1, USD), 10 * 10_005);
    equal(v.core.book(INSTRUMENT)?.order(11)?.qtyLeft, 10);
  });

  void it('cancel, expiry and IOC remainder release exactly what the rest of the order held', () => {
    const v = twoParty();
    v.place(1, 11, Side.Buy, 10_000, 100);
    v.place(2, 21, Side.Sell, 10_000, 60);
    const cancelled = v.exec({ kind: 'cancelOrder', instrument: INSTRUMENT, accountId: 1, orderId: 11 });
    const release = entries(cancelled);
    equal(release.length, 1);
    equal(release[0].kind, EntryKind.Release);
    equal(v.held(1, USD), 0);
    equal(v.available(1, USD), 10_000_000 - 600_000 + 60);

    v.place(1, 12, Side.Buy, 9_000, 5, { tif: TimeInForce.GTD, expireTimeUs: v.timeUs + 1000 });
    equal(v.held(1, USD), 5 * 9_005);
    v.timeUs += 2000;
    const expired = v.exec({ kind: 'advanceTime' });
    ok(types(expired).includes('OrderExpired'));
    equal(v.held(1, USD), 0);

    v.place(2, 22, Side.Sell, 11_000, 5);
    const ioc = v.place(1, 13, Side.Buy, 11_000, 8, { tif: TimeInForce.IOC });
    ok(ioc.some((e) => e.type === 'OrderCancelled' && e.reason === CancelReason.ImmediateRemainder));
    equal(v.held(1, USD), 0);
  });

  void it('an amend moves the hold with the new price and quantity; one it cannot fund is refused', () => {
    const v = twoParty();
    v.place(1, 11, Side.Buy, 1_000, 10);
    equal(v.held(1, USD), 10 * 1_001);
    v.exec({
      kind: 'amendOrder',
      instrument: INSTRUMENT,
      accountId: 1,
      orderId: 11,
      price: 1_100,
      qty: 0,
      triggerPrice: 0,
    });
    equal(v.held(1, USD), 10 * 1_101);
    v.exec({
      kind: 'amendOrder',
      instrument: INSTRUMENT,
      accountId: 1,
      orderId: 11,
      price: 0,
      qty: 5,
      triggerPrice: 0,
    });
    equal(v.held(1, USD), 5 * 1_101);
    const before = v.core.stateHash();
    const refused = v.exec({
      kind: 'amendOrder',
      instrument: INSTRUMENT,
      accountId: 1,
      orderId: 11,
      price: 0,
      qty: 100_000,
      triggerPrice: 0,
    });
    equal(rejectCode(refused), RiskReject.InsufficientFunds);
    equal(v.core.stateHash(), before);
  });

  void it('a market buy holds at the protection price and releases what it did not use', () => {
    const v = twoParty({ referencePrice: 10_000, marketProtectionBps: 500 });
    v.place(2, 21, Side.Sell, 10_200, 3);
    const events = v.place(1, 11, Side.Buy, 0, 5, { type: OrderType.Market, tif: TimeInForce.IOC });
    const hold = entries(events)[0];
    equal(hold.kind, EntryKind.Hold);
    // Protection 10,000 × 1.05 = 10,500, plus ceil(10,500 × 5 bp) = 6 per lot.
    equal(hold.lines[0].amount, 5 * 10_506);
    equal(v.held(1, USD), 0);
    equal(v.available(1, BTC), 3);
    equal(v.available(1, USD), 10_000_000 - 3 * 10_200 - Math.ceil((3 * 10_200 * 500) / 1e6));
  });

  void it('a market buy with nothing to price its protection from is refused', () => {
    const v = twoParty();
    const events = v.place(1, 11, Side.Buy, 0, 5, { type: OrderType.Market, tif: TimeInForce.IOC });
    equal(rejectCode(events), RiskReject.NoReferencePrice);
  });

  void it('a stop-limit holds at placement and settles when it triggers', () => {
    const v = twoParty().account(3, 10_000_000).account(4, 0, 1000);
    v.place(1, 11, Side.Buy, 10_200, 5, { type: OrderType.StopLimit, triggerPrice: 10_100 });
    equal(v.held(1, USD), 5 * (10_200 + 6));
    v.place(2, 21, Side.Sell, 10_150, 5);
    v.place(4, 41, Side.Sell, 10_100, 1);
    const events = v.place(3, 31, Side.Buy, 10_100, 1);
    ok(types(events).includes('OrderTriggered'));
    equal(v.available(1, BTC), 5);
    equal(v.held(1, USD), 0);
  });

  void it('an iceberg holds its whole quantity', () => {
    const v = twoParty();
    v.place(1, 11, Side.Buy, 1_000, 50, { displayQty: 10 });
    equal(v.held(1, USD), 50 * 1_001);
  });

  void it('self-trade prevention that cancels the resting order releases its hold', () => {
    const v = new Venue().setup(FEES).account(1, 10_000_000, 100);
    v.place(1, 11, Side.Buy, 1_000, 10);
    const events = v.place(1, 12, Side.Sell, 1_000, 4, { stp: SelfTradePrevention.CancelResting });
    ok(types(events).includes('OrderCancelled'));
    equal(v.held(1, USD), 0);
    equal(v.available(1, USD), 10_000_000);
  });

  void it('decrement-both self-trade prevention releases what each order no longer needs', () => {
    const v = new Venue().setup(FEES).account(1, 10_000_000, 100);
    v.place(1, 11, Side.Buy, 1_000, 10);
    const events = v.place(1, 12, Side.Sell, 1_000, 4, { stp: SelfTradePrevention.DecrementBoth });
    ok(!types(events).includes('TradeExecuted'));
    equal(v.held(1, USD), 6 * 1_001);
    equal(v.held(1, BTC), 0);
    equal(v.available(1, BTC), 100);
  });

  void it('a self-trade without prevention settles against itself and keeps the ledger whole', () => {
    const v = new Venue().setup(FEES).account(1, 10_000_000, 100);
    v.place(1, 11, Side.Buy, 10_000, 10);
    v.place(1, 12, Side.Sell, 10_000, 10);
    // The customer pays the taker fee and receives the maker rebate on 100,000.
    equal(v.available(1, USD), 10_000_000 - 50 + 10);
    equal(v.available(1, BTC), 100);
    equal(v.held(1, USD) + v.held(1, BTC), 0);
  });
});

void describe('core: the risk gate', () => {
  void it('refuses unknown, suspended and killed accounts and unknown or halted instruments', () => {
    const v = twoParty();
    equal(rejectCode(v.place(9, 91, Side.Buy, 1_000, 1)), RiskReject.UnknownAccount);
    // Ids that are not account ids, including a numeric string for an existing account (commands come from
    // outside the type system), are unknown accounts.
    for (const id of [0, -1, 1.5, Number.NaN, 1 << 30, '1' as unknown as number])
      equal(rejectCode(v.place(id, 91, Side.Buy, 1_000, 1)), RiskReject.UnknownAccount, `account ${id}`);
    equal(rejectCode(v.place(1, 92, Side.Buy, 1_000, 1, { instrument: 77 })), RiskReject.UnknownInstrument);
    v.exec({ kind: 'setAccountStatus', accountId: 1, status: AccountStatus.Suspended });
    equal(rejectCode(v.place(1, 93, Side.Buy, 1_000, 1)), RiskReject.AccountSuspended);
    v.exec({ kind: 'setAccountStatus', accountId: 1, status: AccountStatus.Active });
    v.place(1, 94, Side.Buy, 1_000, 1);
    v.exec({ kind: 'setTradingStatus', instrument: INSTRUMENT, halted: true });
    equal(rejectCode(v.place(1, 95, Side.Buy, 1_000, 1)), RiskReject.InstrumentHalted);
    equal(
      rejectCode(
        v.exec({
          kind: 'amendOrder',
          instrument: INSTRUMENT,
          accountId: 1,
          orderId: 94,
          price: 1_001,
          qty: 0,
          triggerPrice: 0,
        }),
      ),
      RiskReject.InstrumentHalted,
    );
    // Cancels go through a halt.
    ok(
      types(v.exec({ kind: 'cancelOrder', instrument: INSTRUMENT, accountId: 1, orderId: 94 })).includes(
        'OrderCancelled',
      ),
    );
    v.exec({ kind: 'setTradingStatus', instrument: INSTRUMENT, halted: false });
    equal(rejectCode(v.place(1, 96, Side.Buy, 1_000, 1)), 0);
  });

  void it('refuses an order beyond its size, notional, open-order and position limits', () => {
    const v = twoParty();
    v.exec({
      kind: 'setRiskLimits',
      accountId: 1,
      limits: { orderQtyMax: 100, orderNotionalMax: 500_000, openOrdersMax: 2, positionQtyMax: 150 },
    });
    equal(rejectCode(v.place(1, 11, Side.Buy, 1_000, 101)), RiskReject.OrderQuantityAboveLimit);
    equal(rejectCode(v.place(1, 12, Side.Buy, 10_000, 51)), RiskReject.OrderNotionalAboveLimit);
    equal(rejectCode(v.place(1, 13, Side.Buy, 1_000, 100)), 0);
    // Open buys count toward the position: 100 open + 60 > 150.
    equal(rejectCode(v.place(1, 14, Side.Buy, 1_000, 60)), RiskReject.PositionAboveLimit);
    equal(rejectCode(v.place(1, 15, Side.Buy, 1_000, 50)), 0);
    equal(rejectCode(v.place(1, 16, Side.Sell, 1_000, 1)), RiskReject.OpenOrdersAboveLimit);
  });

  void it('refuses exposure beyond a fraction of equity', () => {
    const v = twoParty();
    v.exec({ kind: 'setRiskLimits', accountId: 1, limits: { positionEquityPpm: 100_000 } });
    // Equity 10,000,000: 10% is 1,000,000 of exposure.
    equal(rejectCode(v.place(1, 11, Side.Buy, 10_000, 101)), RiskReject.PositionAboveEquityFraction);
    equal(rejectCode(v.place(1, 12, Side.Buy, 10_000, 100)), 0);
  });

  void it('refuses funds it does not have and changes nothing', () => {
    const v = twoParty();
    const before = v.core.stateHash();
    equal(rejectCode(v.place(1, 11, Side.Buy, 10_000, 1_000)), RiskReject.InsufficientFunds);
    equal(rejectCode(v.place(2, 21, Side.Sell, 10_000, 1_001)), RiskReject.InsufficientFunds);
    equal(v.core.stateHash(), before);
    equal(v.core.openOrderCount, 0);
  });

  void it('a place refused by the core carries the type and time in force it asked for', () => {
    const v = twoParty();
    const refused = v.place(1, 11, Side.Buy, 10_000, 1_000, { tif: TimeInForce.IOC });
    const byRisk = refused.find((e) => e.type === 'OrderRejected');
    ok(byRisk?.type === 'OrderRejected');
    deepEqual(
      [byRisk.code, byRisk.orderType, byRisk.tif],
      [RiskReject.InsufficientFunds, OrderType.Limit, TimeInForce.IOC],
    );
    const unknown = v.place(99, 12, Side.Sell, 10_000, 1, {
      type: OrderType.StopMarket,
      tif: TimeInForce.DAY,
    });
    const byCore = unknown.find((e) => e.type === 'OrderRejected');
    ok(byCore?.type === 'OrderRejected');
    deepEqual(
      [byCore.code, byCore.orderType, byCore.tif],
      [RiskReject.UnknownAccount, OrderType.StopMarket, TimeInForce.DAY],
    );
    // A cancel's refusal, written in the same record slot next, names no type.
    const cancel = v.exec({ kind: 'cancelOrder', accountId: 1, instrument: INSTRUMENT, orderId: 404 });
    const refusedCancel = cancel.find((e) => e.type === 'OrderRejected');
    ok(refusedCancel?.type === 'OrderRejected');
    deepEqual([refusedCancel.orderType, refusedCancel.tif], [0, 0]);
  });

  void it('refuses a limit price outside the band around the reference price', () => {
    const v = twoParty({ referencePrice: 10_000, priceBandBps: 1_000 });
    equal(rejectCode(v.place(1, 11, Side.Buy, 11_001, 1)), RiskReject.PriceOutsideBand);
    equal(rejectCode(v.place(1, 12, Side.Buy, 11_000, 1)), 0);
    equal(rejectCode(v.place(1, 13, Side.Buy, 8_999, 1)), RiskReject.PriceOutsideBand);
  });

  void it('refuses orders that add exposure once the day loss passes its limit, and not those that reduce it', () => {
    const v = twoParty().account(3, 10_000_000).account(4, 0, 1000);
    v.exec({ kind: 'setRiskLimits', accountId: 1, limits: { dailyLossMax: 50_000 } });
    v.place(2, 21, Side.Sell, 10_000, 100);
    v.place(1, 11, Side.Buy, 10_000, 100);
    // The market trades 1,000 lower: account 1 is down 100,000 plus its fee.
    v.place(4, 41, Side.Sell, 9_000, 1);
    v.place(3, 31, Side.Buy, 9_000, 1);
    equal(v.core.positionsOf(1)[0].unrealizedPnl, -100_000);
    equal(rejectCode(v.place(1, 12, Side.Buy, 9_000, 1)), RiskReject.DailyLossLimitReached);
    equal(rejectCode(v.place(1, 13, Side.Sell, 9_500, 10)), 0);
    // A new UTC day starts the count again.
    v.timeUs += DAY_US;
    equal(rejectCode(v.place(1, 14, Side.Buy, 9_000, 1)), 0);
  });

  void it('past the emergency threshold the core cancels the account’s orders and sets its kill switch', () => {
    const v = twoParty().account(3, 10_000_000).account(4, 0, 1000).account(5, 0, 0, AccountType.RiskOfficer);
    v.exec({ kind: 'setRiskLimits', accountId: 1, limits: { emergencyLossMax: 80_000 } });
    v.place(2, 21, Side.Sell, 10_000, 100);
    v.place(1, 11, Side.Buy, 10_000, 100);
    v.place(1, 12, Side.Buy, 8_000, 10);
    v.place(4, 41, Side.Sell, 9_000, 1);
    v.place(3, 31, Side.Buy, 9_000, 1);
    const events = v.exec({ kind: 'advanceTime' });
    const stop = events.find((e) => e.type === 'EmergencyStop');
    ok(stop && stop.type === 'EmergencyStop');
    equal(stop.accountId, 1);
    ok(events.some((e) => e.type === 'KillSwitchSet' && e.accountId === 1 && e.ordersCancelled === 1));
    equal(v.held(1, USD), 0);
    equal(v.core.account(1)?.killSwitch, true);
    equal(v.core.accountKillSwitchCount, 1);
    equal(rejectCode(v.place(1, 13, Side.Sell, 9_000, 1)), RiskReject.AccountKillSwitch);
    equal(
      rejectCode(v.exec({ kind: 'resetKillSwitch', officerId: 3, accountId: 1 })),
      CoreReject.NotRiskOfficer,
    );
    deepEqual(types(v.exec({ kind: 'resetKillSwitch', officerId: 5, accountId: 1 })), ['KillSwitchReset']);
    equal(v.core.accountKillSwitchCount, 0);
    equal(rejectCode(v.place(1, 14, Side.Sell, 9_000, 1)), 0, 'trades again after the reset');
    equal(
      rejectCode(v.exec({ kind: 'resetKillSwitch', officerId: 5, accountId: 1 })),
      CoreReject.KillSwitchNotSet,
    );
  });

  void it('the venue kill switch cancels every order and refuses new ones until a risk officer resets it', () => {
    const v = twoParty().account(5, 0, 0, AccountType.RiskOfficer);
    v.place(1, 11, Side.Buy, 1_000, 10);
    v.place(2, 21, Side.Sell, 2_000, 10);
    const events = v.exec({ kind: 'killSwitch', accountId: 0 });
    ok(events.some((e) => e.type === 'KillSwitchSet' && e.accountId === 0 && e.ordersCancelled === 2));
    equal(v.core.openOrderCount, 0);
    equal(v.held(1, USD) + v.held(2, BTC), 0);
    equal(rejectCode(v.place(1, 12, Side.Buy, 1_000, 1)), RiskReject.VenueKillSwitch);
    v.exec({ kind: 'resetKillSwitch', officerId: 5, accountId: 0 });
    equal(rejectCode(v.place(1, 13, Side.Buy, 1_000, 1)), 0);
  });

  void it('an account kill switch cancels that account’s orders only', () => {
    const v = twoParty();
    v.place(1, 11, Side.Buy, 1_000, 10);
    v.place(2, 21, Side.Sell, 2_000, 10);
    equal(v.core.accountKillSwitchCount, 0);
    v.exec({ kind: 'killSwitch', accountId: 1 });
    equal(v.core.openOrderCount, 1);
    equal(v.held(1, USD), 0);
    equal(v.held(2, BTC), 10);
    equal(v.core.accountKillSwitchCount, 1);
    // The venue's own switch is not an account's.
    v.exec({ kind: 'killSwitch', accountId: 0 });
    equal(v.core.accountKillSwitchCount, 1);
    equal(v.core.venueKillSwitch, true);
  });
});

void describe('core: money movements and reference data', () => {
  void it('deposits and withdrawals leave one balanced entry each, through clearing', () => {
    const v = new Venue().setup().account(1);
    const dep = entries(v.exec({ kind: 'deposit', accountId: 1, asset: USD, amount: 5_000, ref: 77 }));
    equal(dep.length, 1);
    equal(dep[0].kind, EntryKind.Deposit);
    equal(dep[0].ref2, 77);
    equal(
      dep[0].lines.reduce((s, l) => s + l.amount, 0),
      0,
    );
    const wd = entries(v.exec({ kind: 'withdraw', accountId: 1, asset: USD, amount: 2_000, ref: 78 }));
    equal(wd[0].kind, EntryKind.Withdrawal);
    equal(v.available(1, USD), 3_000);
    const sheet = balanceSheet(v.core.ledger, USD);
    equal(sheet.assets.custody, 3_000);
    equal(sheet.assets.clearing, 0);
    equal(sheet.liabilities.customersAvailable, 3_000);
    ok(sheet.balances);
  });

  void it('refuses bad amounts, unknown ids and overdrafts with a code and changes nothing', () => {
    const v = new Venue().setup().account(1, 1_000);
    const before = v.core.stateHash();
    const cases: [Record<string, unknown>, number][] = [
      [{ kind: 'deposit', accountId: 1, asset: USD, amount: 0, ref: 1 }, LedgerReject.InvalidAmount],
      [{ kind: 'deposit', accountId: 1, asset: USD, amount: -5, ref: 1 }, LedgerReject.InvalidAmount],
      [{ kind: 'deposit', accountId: 1, asset: USD, amount: 1.5, ref: 1 }, LedgerReject.InvalidAmount],
      [
        { kind: 'deposit', accountId: 1, asset: USD, amount: 2 ** 53, ref: 1 },
        LedgerReject.AmountAboveSafeRange,
      ],
      [{ kind: 'deposit', accountId: 1, asset: USD, amount: Number.NaN, ref: 1 }, LedgerReject.InvalidAmount],
      [{ kind: 'deposit', accountId: 1, asset: USD, amount: '100', ref: 1 }, LedgerReject.InvalidAmount],
      [{ kind: 'deposit', accountId: 1, asset: 9, amount: 100, ref: 1 }, LedgerReject.UnknownAsset],
      [{ kind: 'deposit', accountId: 42, asset: USD, amount: 100, ref: 1 }, RiskReject.UnknownAccount],
      [
        { kind: 'withdraw', accountId: 1, asset: USD, amount: 1_001, ref: 1 },
        LedgerReject.InsufficientAvailable,
      ],
      [{ kind: 'withdraw', accountId: 1, asset: USD, amount: -1, ref: 1 }, LedgerReject.InvalidAmount],
      [{ kind: 'cancelOrder', instrument: INSTRUMENT, accountId: 1, orderId: 999 }, BookReject.OrderNotFound],
      [{ kind: 'createAccount', accountId: 1, accountType: AccountType.Customer }, CoreReject.AccountExists],
      [
        { kind: 'createAccount', accountId: 0, accountType: AccountType.Customer },
        CoreReject.InvalidAccountId,
      ],
      [
        { kind: 'createAccount', accountId: 2 ** 21, accountType: AccountType.Customer },
        CoreReject.InvalidAccountId,
      ],
      [{ kind: 'createAccount', accountId: 3, accountType: 9 }, CoreReject.InvalidAccountType],
      [{ kind: 'addAsset', asset: USD, code: 'EUR', decimals: 2 }, CoreReject.AssetExists],
      [{ kind: 'addAsset', asset: 5, code: 'usd!', decimals: 2 }, CoreReject.InvalidAssetCode],
      [{ kind: 'setRiskLimits', accountId: 1, limits: { orderQtyMax: -1 } }, CoreReject.InvalidRiskLimits],
      [{ kind: 'setRiskLimits', accountId: 1, limits: { nonsense: 1 } }, CoreReject.InvalidRiskLimits],
      [
        { kind: 'defineInstrument', spec: { instrument: 2, symbol: 'X', baseAsset: 1, quoteAsset: 1 } },
        CoreReject.InvalidInstrumentSpec,
      ],
      [
        { kind: 'defineInstrument', spec: { instrument: INSTRUMENT, quoteScale: 10 } },
        CoreReject.InstrumentFieldFixed,
      ],
      [
        { kind: 'defineInstrument', spec: { instrument: INSTRUMENT, takerFeePpm: 100, makerFeePpm: -200 } },
        CoreReject.InvalidInstrumentSpec,
      ],
      [{ kind: 'setTradingStatus', instrument: 33, halted: true }, RiskReject.UnknownInstrument],
      [{ kind: 'killSwitch', accountId: 77 }, RiskReject.UnknownAccount],
      [{ kind: 'resetKillSwitch', officerId: 1, accountId: 0 }, CoreReject.NotRiskOfficer],
      [{ kind: 'nonsense' }, CoreReject.UnknownCommand],
      [{ kind: 'advanceTime', timeUs: -1 }, CoreReject.InvalidTime],
      [{ kind: 'advanceTime', timeUs: 1.5 }, CoreReject.InvalidTime],
    ];
    for (const [cmd, code] of cases) {
      const events = v.exec(cmd as never);
      equal(rejectCode(events), code, JSON.stringify(cmd));
      equal(events.length, 1, JSON.stringify(cmd));
    }
    equal(v.core.stateHash(), before);
    equal(v.available(1, USD), 1_000);
  });

  void it('a deposit that would take custody past 2^53 is refused', () => {
    const v = new Venue().setup().account(1).account(2);
    v.exec({ kind: 'deposit', accountId: 1, asset: USD, amount: Number.MAX_SAFE_INTEGER - 10, ref: 1 });
    equal(
      rejectCode(v.exec({ kind: 'deposit', accountId: 2, asset: USD, amount: 11, ref: 2 })),
      LedgerReject.CustodyOverflow,
    );
  });

  void it('refuses an order whose value overflows 2^53 minor units', () => {
    const v = new Venue().setup({ quoteScale: 1_000_000 }).account(1, 1_000);
    equal(rejectCode(v.place(1, 11, Side.Buy, 2 ** 30, 2 ** 30)), RiskReject.AmountOverflow);
  });

  void it('malformed orders get the book’s reject codes and hold nothing', () => {
    const v = twoParty();
    // The book's reject takes the instrument's next event sequence number; money, orders and positions stay.
    const ledgerBefore = JSON.stringify(trialBalance(v.core.ledger));
    equal(rejectCode(v.place(1, 11, Side.Buy, 1_000, 0)), BookReject.InvalidQuantity);
    equal(JSON.stringify(trialBalance(v.core.ledger)), ledgerBefore);
    equal(v.core.openOrderCount, 0);
    deepEqual(v.core.positionsOf(1), []);
    equal(rejectCode(v.place(1, 12, Side.Buy, -5, 1)), BookReject.InvalidPrice);
    equal(rejectCode(v.place(1, 13, 7 as Side, 1_000, 1)), BookReject.InvalidSide);
    equal(rejectCode(v.place(1, 0, Side.Buy, 1_000, 1)), BookReject.InvalidOrderId);
    v.place(1, 14, Side.Buy, 1_000, 1);
    const dup = v.place(1, 14, Side.Buy, 1_000, 1);
    equal(rejectCode(dup), BookReject.DuplicateOrderId);
    equal(
      rejectCode(v.exec({ kind: 'cancelOrder', instrument: INSTRUMENT, accountId: 2, orderId: 14 })),
      BookReject.NotOrderOwner,
    );
    v.exec({ kind: 'cancelOrder', instrument: INSTRUMENT, accountId: 1, orderId: 14 });
    equal(v.held(1, USD), 0);
  });

  void it('a fee change applies to orders entered after it', () => {
    const v = twoParty();
    v.place(1, 11, Side.Buy, 10_000, 10);
    v.exec({
      kind: 'defineInstrument',
      spec: { instrument: INSTRUMENT, takerFeePpm: 1_000, makerFeePpm: 0 },
    });
    v.place(1, 12, Side.Buy, 10_000, 10);
    equal(v.held(1, USD), 10 * 10_005 + 10 * 10_010);
    v.place(2, 21, Side.Sell, 10_000, 20);
    // Order 11 keeps its rebate of 1 bp, order 12 its new maker rate of 0; the seller pays 10 bp as taker.
    equal(incomeStatement(v.core.ledger, USD).feeIncome, 200);
    equal(incomeStatement(v.core.ledger, USD).rebateExpense, 10);
  });

  void it('marks positions at the last trade or at the mid, by the instrument’s choice', () => {
    const v = twoParty({ markMethod: MarkMethod.Mid }).account(3, 10_000_000);
    v.place(2, 21, Side.Sell, 10_000, 10);
    v.place(1, 11, Side.Buy, 10_000, 10);
    v.place(3, 31, Side.Buy, 9_800, 1);
    v.place(2, 22, Side.Sell, 10_400, 1);
    equal(v.core.positionsOf(1)[0].markPrice, 10_100);
    equal(v.core.positionsOf(1)[0].unrealizedPnl, 1_000);
  });
});

void describe('core: reports', () => {
  void it('trial balance, balance sheet and per-account entry history agree with the trades', () => {
    const history = new LedgerHistory();
    const run = (events: StreamEvent[]): void => {
      for (const e of events) if (e.type === 'EntryPosted') history.add(e);
    };
    // The setup's deposits happened before the history started; replay them into it from a fresh venue.
    const w = new Venue();
    run(w.setup(FEES).exec({ kind: 'createAccount', accountId: 1, accountType: AccountType.Customer }));
    run(w.exec({ kind: 'deposit', accountId: 1, asset: USD, amount: 10_000_000, ref: 10 }));
    run(w.exec({ kind: 'createAccount', accountId: 2, accountType: AccountType.Customer }));
    run(w.exec({ kind: 'deposit', accountId: 2, asset: BTC, amount: 1000, ref: 21 }));
    run(w.place(1, 11, Side.Buy, 10_000, 100));
    run(w.place(2, 21, Side.Sell, 9_990, 60));
    run(w.exec({ kind: 'cancelOrder', instrument: INSTRUMENT, accountId: 1, orderId: 11 }));
    const tb = trialBalance(w.core.ledger);
    deepEqual(tb.imbalanceByAsset, { [USD]: 0, [BTC]: 0 });
    const sheet = balanceSheet(w.core.ledger, USD);
    ok(sheet.balances);
    equal(sheet.equity.retainedEarnings, 240);
    const usdOf1 = w.core.ledger.findCustomerAccount(1, USD);
    const kinds = history.entriesOf(usdOf1).map((e) => e.kind);
    deepEqual(kinds, [EntryKind.Deposit, EntryKind.Hold, EntryKind.Settlement, EntryKind.Release]);
    // Replaying the history's lines gives the ledger's balance.
    const replayed = history
      .entriesOf(usdOf1)
      .reduce((s, e) => s + e.lines.filter((l) => l.account === usdOf1).reduce((a, l) => a + l.amount, 0), 0);
    equal(-replayed, w.available(1, USD));
  });
});

void describe('core: determinism', () => {
  void it('the same commands give the same records and the same state hash', () => {
    const build = (): { v: Venue; log: string[] } => {
      const v = twoParty().account(3, 5_000_000, 500);
      const log: string[] = [];
      const record = (events: StreamEvent[]): void => {
        log.push(JSON.stringify(events));
      };
      record(v.place(1, 11, Side.Buy, 10_000, 100));
      record(v.place(3, 31, Side.Sell, 9_950, 30));
      record(v.place(2, 21, Side.Sell, 9_900, 100));
      record(
        v.exec({
          kind: 'amendOrder',
          instrument: INSTRUMENT,
          accountId: 3,
          orderId: 31,
          price: 10_100,
          qty: 0,
          triggerPrice: 0,
        }),
      );
      record(v.exec({ kind: 'massCancel', accountId: 0, instrument: -1, side: -1 }));
      return { v, log };
    };
    const a = build();
    const b = build();
    deepEqual(a.log, b.log);
    equal(a.v.core.stateHash(), b.v.core.stateHash());
    const c = twoParty();
    ok(c.core.stateHash() !== a.v.core.stateHash());
  });
});
