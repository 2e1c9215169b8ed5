/**
 * The chart of accounts, in the GnuCash sense: every ledger account has a class that says which side of the
 * balance sheet it sits on, and a kind that says what it is for. Per asset the venue keeps custody (what it
 * holds at its custodians), a deposits and withdrawals clearing account, fee income and rebate expense; each
 * customer has, per asset, what the venue owes them and they may use (available) and what is set aside for
 * their open orders (held).
 */

export const AccountClass = { Asset: 1, Liability: 2, Equity: 3, Income: 4, Expense: 5 } as const;
export type AccountClass = (typeof AccountClass)[keyof typeof AccountClass];

export const LedgerAccountKind = {
  Custody: 1,
  Clearing: 2,
  FeeIncome: 3,
  RebateExpense: 4,
  CustomerAvailable: 5,
  CustomerHeld: 6,
} as const;
export type LedgerAccountKind = (typeof LedgerAccountKind)[keyof typeof LedgerAccountKind];

const CLASS_OF_KIND: Readonly<Record<LedgerAccountKind, AccountClass>> = {
  [LedgerAccountKind.Custody]: AccountClass.Asset,
  [LedgerAccountKind.Clearing]: AccountClass.Asset,
  [LedgerAccountKind.FeeIncome]: AccountClass.Income,
  [LedgerAccountKind.RebateExpense]: AccountClass.Expense,
  [LedgerAccountKind.CustomerAvailable]: AccountClass.Liability,
  [LedgerAccountKind.CustomerHeld]: AccountClass.Liability,
};

export function classOfKind(kind: LedgerAccountKind): AccountClass {
  return CLASS_OF_KIND[kind];
}

/** Assets and expenses carry debit balances; liabilities, equity and income carry credit balances. */
export function isDebitNormal(cls: AccountClass): boolean {
  return cls === AccountClass.Asset || cls === AccountClass.Expense;
}

const KIND_NAMES: Readonly<Record<LedgerAccountKind, string>> = {
  [LedgerAccountKind.Custody]: 'custody',
  [LedgerAccountKind.Clearing]: 'clearing',
  [LedgerAccountKind.FeeIncome]: 'fee-income',
  [LedgerAccountKind.RebateExpense]: 'rebate-expense',
  [LedgerAccountKind.CustomerAvailable]: 'available',
  [LedgerAccountKind.CustomerHeld]: 'held',
};

export function kindName(kind: LedgerAccountKind): string {
  return KIND_NAMES[kind];
}

/** What an entry records; each kind has a fixed shape of lines (see ledger.ts). */
export const EntryKind = {
  Deposit: 1,
  Withdrawal: 2,
  /** Funds set aside for an open order (the pending phase of a two-phase transfer). */
  Hold: 3,
  /** Held funds returned to available: a cancel, an expiry, a reduction or what a filled order did not use. */
  Release: 4,
  /** One trade: base and quote between the two customers, fees and rebates, from the holds. */
  Settlement: 5,
} as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

const ENTRY_KIND_NAMES: Readonly<Record<EntryKind, string>> = {
  [EntryKind.Deposit]: 'deposit',
  [EntryKind.Withdrawal]: 'withdrawal',
  [EntryKind.Hold]: 'hold',
  [EntryKind.Release]: 'release',
  [EntryKind.Settlement]: 'settlement',
};

export function entryKindName(kind: EntryKind): string {
  return ENTRY_KIND_NAMES[kind];
}
