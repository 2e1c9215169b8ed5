/**
 * Financial statements of the venue, per asset, read from the ledger's balances: the trial balance (every
 * account kind's debits and credits), the balance sheet (assets = liabilities + equity) and the income
 * statement (fee income less rebate expense). Amounts are minor units of the asset.
 */
import { AccountClass, LedgerAccountKind, classOfKind, kindName } from './chart.js';
import type { Ledger } from './ledger.js';

export interface TrialBalanceRow {
  asset: number;
  kind: string;
  cls: AccountClass;
  /** Sum of the debit balances of the kind's accounts. */
  debit: number;
  /** Sum of the credit balances of the kind's accounts. */
  credit: number;
}

export interface TrialBalance {
  rows: TrialBalanceRow[];
  /** Per asset, total debits minus total credits: 0 for every asset. */
  imbalanceByAsset: Record<number, number>;
}

const KIND_ORDER: readonly LedgerAccountKind[] = [
  LedgerAccountKind.Custody,
  LedgerAccountKind.Clearing,
  LedgerAccountKind.CustomerAvailable,
  LedgerAccountKind.CustomerHeld,
  LedgerAccountKind.FeeIncome,
  LedgerAccountKind.RebateExpense,
];

export function trialBalance(ledger: Ledger): TrialBalance {
  const sums = new Map<string, { debit: number; credit: number }>();
  ledger.forEachBalance((_a, kind, asset, _c, b) => {
    const key = `${asset}:${kind}`;
    const s = sums.get(key) ?? { debit: 0, credit: 0 };
    if (b > 0) s.debit += b;
    else s.credit -= b;
    sums.set(key, s);
  });
  const rows: TrialBalanceRow[] = [];
  const imbalanceByAsset: Record<number, number> = {};
  for (const asset of ledger.assetIds()) {
    let imbalance = 0;
    for (const kind of KIND_ORDER) {
      const s = sums.get(`${asset}:${kind}`) ?? { debit: 0, credit: 0 };
      rows.push({ asset, kind: kindName(kind), cls: classOfKind(kind), debit: s.debit, credit: s.credit });
      imbalance += s.debit - s.credit;
    }
    imbalanceByAsset[asset] = imbalance;
  }
  return { rows, imbalanceByAsset };
}

export interface BalanceSheet {
  asset: number;
  assets: { custody: number; clearing: number; total: number };
  liabilities: { customersAvailable: number; customersHeld: number; total: number };
  /** Retained earnings: fee income less rebate expense, not yet distributed. */
  equity: { retainedEarnings: number; total: number };
  /** assets.total === liabilities.total + equity.total */
  balances: boolean;
}

export function balanceSheet(ledger: Ledger, asset: number): BalanceSheet {
  return balanceSheetOf(asset, totalsByKind(ledger, asset));
}

function balanceSheetOf(asset: number, t: Readonly<Record<LedgerAccountKind, number>>): BalanceSheet {
  const custody = t[LedgerAccountKind.Custody];
  const clearing = t[LedgerAccountKind.Clearing];
  const available = -t[LedgerAccountKind.CustomerAvailable];
  const held = -t[LedgerAccountKind.CustomerHeld];
  const retained = -t[LedgerAccountKind.FeeIncome] - t[LedgerAccountKind.RebateExpense];
  const assetsTotal = custody + clearing;
  const liabilities = available + held;
  return {
    asset,
    assets: { custody, clearing, total: assetsTotal },
    liabilities: { customersAvailable: available, customersHeld: held, total: liabilities },
    equity: { retainedEarnings: retained, total: retained },
    balances: assetsTotal === liabilities + retained,
  };
}

export interface IncomeStatement {
  asset: number;
  feeIncome: number;
  rebateExpense: number;
  netIncome: number;
}

export function incomeStatement(ledger: Ledger, asset: number): IncomeStatement {
  return incomeStatementOf(asset, totalsByKind(ledger, asset));
}

function incomeStatementOf(asset: number, t: Readonly<Record<LedgerAccountKind, number>>): IncomeStatement {
  const feeIncome = -t[LedgerAccountKind.FeeIncome] || 0;
  const rebateExpense = t[LedgerAccountKind.RebateExpense];
  return { asset, feeIncome, rebateExpense, netIncome: feeIncome - rebateExpense };
}

/** Signed (debit positive) totals per account kind for one asset. */
function totalsByKind(ledger: Ledger, asset: number): Record<LedgerAccountKind, number> {
  const t: Record<LedgerAccountKind, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0 };
  ledger.forEachBalance((_a, kind, a, _c, b) => {
    if (a === asset) t[kind] += b;
  });
  return t;
}

export interface VenueStatements {
  trialBalance: TrialBalance;
  /** One per asset, in the order the assets were added. */
  balanceSheets: BalanceSheet[];
  incomeStatements: IncomeStatement[];
}

/**
 * All three statements from two passes over the ledger's balances (the trial balance's and one for the sums
 * per asset and kind), where the separate functions take one pass each per asset: what a report on a running
 * venue's thread should cost. Equal to the separate functions.
 */
export function venueStatements(ledger: Ledger): VenueStatements {
  const signed = new Map<number, Record<LedgerAccountKind, number>>();
  for (const asset of ledger.assetIds()) signed.set(asset, { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0 });
  ledger.forEachBalance((_a, kind, asset, _c, b) => {
    const t = signed.get(asset);
    if (t === undefined) throw new Error(`ledger account of asset ${asset}, which the ledger does not list`);
    t[kind] += b;
  });
  const assets = ledger.assetIds();
  return {
    trialBalance: trialBalance(ledger),
    balanceSheets: assets.map((a) => balanceSheetOf(a, signed.get(a) as Record<LedgerAccountKind, number>)),
    incomeStatements: assets.map((a) =>
      incomeStatementOf(a, signed.get(a) as Record<LedgerAccountKind, number>),
    ),
  };
}
