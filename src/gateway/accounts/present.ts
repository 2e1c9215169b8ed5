/**
 * How the account and report routes show their values: amounts as decimal strings in each asset's decimals
 * (signed where a change or a PnL can be negative), quantities and prices as the instrument's decimal
 * strings, lower-case names for enums, ISO 8601 times, ids of orders, trades and entries as strings.
 */
import { AccountStatus, AccountType, type AssetInfo, type PositionReport } from '../../core/index.js';
import type { AccountBalance, AccountsPage, Statements } from '../../engine/index.js';
import type { InstrumentConfig } from '../../ops/index.js';
import { averagePrice, lotsToQty, minorToAmount, ticksToPrice } from '../trading/units.js';
import type { EntryView } from '../views/index.js';
import { RISK_LIMIT_FIELDS, type ApiRiskLimits, type EntriesPage } from './service.js';

const isoOfUs = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

const TYPE_NAME: Readonly<Record<number, string>> = {
  [AccountType.Customer]: 'customer',
  [AccountType.MarketMaker]: 'market_maker',
  [AccountType.RiskOfficer]: 'risk_officer',
};
const STATUS_NAME: Readonly<Record<number, string>> = {
  [AccountStatus.Active]: 'active',
  [AccountStatus.Suspended]: 'suspended',
};
/** The ledger's entry kinds (ledger/chart.ts EntryKind), by number. */
const ENTRY_KIND_NAME: Readonly<Record<number, string>> = {
  1: 'deposit',
  2: 'withdrawal',
  3: 'hold',
  4: 'release',
  5: 'settlement',
};
const DEPOSIT = 1;
const WITHDRAWAL = 2;
const SETTLEMENT = 5;

/** The venue's assets by id; an amount in an asset the core does not know is a broken invariant. */
export class AssetTable {
  private readonly byId = new Map<number, AssetInfo>();
  constructor(assets: readonly AssetInfo[]) {
    for (const a of assets) this.byId.set(a.asset, a);
  }
  get(id: number): AssetInfo {
    const a = this.byId.get(id);
    if (a === undefined) throw new Error(`asset ${id} is not one of the venue's`);
    return a;
  }
  amount(minor: number, id: number): string {
    return minorToAmount(minor, this.get(id).decimals);
  }
}

export interface AccountSummaryJson {
  account_id: number;
  type: string;
  status: string;
  kill_switch: boolean;
  open_orders: number;
}

export const accountSummaryJson = (a: AccountsPage['accounts'][number]): AccountSummaryJson => ({
  account_id: a.accountId,
  type: TYPE_NAME[a.type] ?? 'unknown',
  status: STATUS_NAME[a.status] ?? 'unknown',
  kill_switch: a.killSwitch,
  open_orders: a.openOrders,
});

export function riskLimitsJson(limits: Readonly<Record<string, number>>): ApiRiskLimits {
  const out: Partial<ApiRiskLimits> = {};
  for (const [api, core] of Object.entries(RISK_LIMIT_FIELDS)) {
    out[api as keyof ApiRiskLimits] = limits[core] ?? 0;
  }
  return out as ApiRiskLimits;
}

export const balanceJson = (b: AccountBalance, assets: AssetTable) => ({
  asset: assets.get(b.asset).code,
  available: assets.amount(b.available, b.asset),
  held: assets.amount(b.held, b.asset),
  total: assets.amount(b.available + b.held, b.asset),
});

export function positionJson(p: PositionReport, inst: InstrumentConfig, assets: AssetTable) {
  const quote = inst.spec.quoteAsset;
  const lots = Math.abs(p.qty);
  return {
    symbol: inst.spec.symbol,
    quantity: lotsToQty(p.qty, inst),
    side: p.qty > 0 ? 'long' : p.qty < 0 ? 'short' : 'flat',
    average_price:
      lots === 0 ? null : averagePrice(BigInt(Math.abs(p.cost)), lots * inst.spec.quoteScale, inst),
    cost: assets.amount(p.cost, quote),
    mark_price: p.markPrice > 0 ? ticksToPrice(p.markPrice, inst) : null,
    realized_pnl: assets.amount(p.realizedPnl, quote),
    unrealized_pnl: assets.amount(p.unrealizedPnl, quote),
    fees: assets.amount(p.fees, quote),
    currency: assets.get(quote).code,
    open_buy_quantity: lotsToQty(p.openBuyQty, inst),
    open_sell_quantity: lotsToQty(p.openSellQty, inst),
  };
}

/** One entry as the account sees it: its own lines summed into changes of available and held per asset. */
export function entryJson(
  e: EntryView,
  page: EntriesPage,
  assets: AssetTable,
  symbolOf: (instrument: number) => string | null,
) {
  const changes = new Map<number, { available: number; held: number }>();
  for (const l of e.lines) {
    const mine = page.ledgerAccounts.get(l.ledgerAccount);
    if (mine === undefined) continue;
    const c = changes.get(mine.asset) ?? { available: 0, held: 0 };
    // Customer accounts are liabilities: a credit (negative) is money the customer gains.
    if (mine.held) c.held -= l.amount;
    else c.available -= l.amount;
    changes.set(mine.asset, c);
  }
  const external = e.kind === DEPOSIT || e.kind === WITHDRAWAL;
  const settlement = e.kind === SETTLEMENT;
  return {
    entry_id: String(e.entryId),
    time: isoOfUs(e.timeUs),
    kind: ENTRY_KIND_NAME[e.kind] ?? 'unknown',
    changes: [...changes].map(([asset, c]) => ({
      asset: assets.get(asset).code,
      available: assets.amount(c.available, asset),
      held: assets.amount(c.held, asset),
    })),
    order_id: external || settlement ? null : String(e.ref),
    trade_id: settlement ? String(e.tradeId) : null,
    symbol: settlement ? symbolOf(e.instrument) : null,
    buy_order_id: settlement ? String(e.ref) : null,
    sell_order_id: settlement ? String(e.ref2) : null,
    reference: external ? e.ref2 : null,
  };
}

/** The trial balance, balance sheet and income statement per asset, amounts in the asset's decimals. */
export function trialBalanceJson(s: Statements) {
  const assets = new AssetTable(s.assets);
  return {
    assets: s.assets.map((a) => {
      const rows = s.trialBalance.rows.filter((r) => r.asset === a.asset);
      let debit = 0;
      let credit = 0;
      for (const r of rows) {
        debit += r.debit;
        credit += r.credit;
      }
      return {
        asset: a.code,
        accounts: rows.map((r) => ({
          account: r.kind,
          debit: assets.amount(r.debit, a.asset),
          credit: assets.amount(r.credit, a.asset),
        })),
        total_debit: assets.amount(debit, a.asset),
        total_credit: assets.amount(credit, a.asset),
        balanced: debit === credit && (s.trialBalance.imbalanceByAsset[a.asset] ?? 0) === 0,
      };
    }),
  };
}

export function balanceSheetJson(s: Statements) {
  const assets = new AssetTable(s.assets);
  return {
    assets: s.balanceSheets.map((b) => {
      const m = (minor: number): string => assets.amount(minor, b.asset);
      return {
        asset: assets.get(b.asset).code,
        assets: { custody: m(b.assets.custody), clearing: m(b.assets.clearing), total: m(b.assets.total) },
        liabilities: {
          customers_available: m(b.liabilities.customersAvailable),
          customers_held: m(b.liabilities.customersHeld),
          total: m(b.liabilities.total),
        },
        equity: { retained_earnings: m(b.equity.retainedEarnings), total: m(b.equity.total) },
        balanced: b.balances,
      };
    }),
  };
}

export function incomeStatementJson(s: Statements) {
  const assets = new AssetTable(s.assets);
  return {
    assets: s.incomeStatements.map((i) => ({
      asset: assets.get(i.asset).code,
      fee_income: assets.amount(i.feeIncome, i.asset),
      rebate_expense: assets.amount(i.rebateExpense, i.asset),
      net_income: assets.amount(i.netIncome, i.asset),
    })),
  };
}
