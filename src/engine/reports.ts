/**
 * The reports the engine's worker reads from the core for the gateway: one account (balances with their
 * ledger accounts, positions marked as the core marks them), a page of accounts, the venue's instruments and
 * kill switch, and the venue's statements. They run between batches on the worker's thread, so each is a
 * consistent picture of the state after some command; the answers are plain data for a structured clone.
 */
import { venueStatements, type ExchangeCore } from '../core/index.js';
import { ENGINE_LIMITS } from './limits.js';
import type {
  AccountReport,
  AccountsPage,
  ReportAnswer,
  ReportQuery,
  Statements,
  VenueReport,
} from './protocol.js';

function accountReport(core: ExchangeCore, accountId: number): AccountReport | null {
  const account = core.account(accountId);
  if (account === undefined) return null;
  const balances = core.balances(accountId).map((b) => {
    const ledgerAvailable = core.ledger.findCustomerAccount(accountId, b.asset);
    if (ledgerAvailable === -1)
      throw new Error(`account ${accountId} has a balance without a ledger account`);
    return { ...b, ledgerAvailable, ledgerHeld: ledgerAvailable + 1 };
  });
  return { account, balances, positions: core.positionsOf(accountId), assets: core.assetList() };
}

function accountsPage(core: ExchangeCore, afterId: number, limit: number): AccountsPage {
  if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= ENGINE_LIMITS.reportAccountsMax)) {
    throw new RangeError(`a page holds 1 to ${ENGINE_LIMITS.reportAccountsMax} accounts, not ${limit}`);
  }
  const accounts = core.accountIds(afterId, limit).map((id) => {
    const a = core.account(id);
    if (a === undefined) throw new Error(`account ${id} was listed but is unknown`);
    return {
      accountId: a.accountId,
      type: a.type,
      status: a.status,
      killSwitch: a.killSwitch,
      openOrders: a.openOrders,
    };
  });
  return { accounts, total: core.accountTotal };
}

function venueReport(core: ExchangeCore): VenueReport {
  return {
    killSwitch: core.venueKillSwitch,
    accountKillSwitches: core.accountKillSwitchCount,
    instruments: core.instrumentList().map((s) => ({
      instrument: s.instrument,
      symbol: s.symbol,
      baseAsset: s.baseAsset,
      quoteAsset: s.quoteAsset,
      halted: core.isHalted(s.instrument),
    })),
    assets: core.assetList(),
  };
}

function statements(core: ExchangeCore): Statements {
  return { assets: core.assetList(), ...venueStatements(core.ledger) };
}

export function reportOf<Q extends ReportQuery>(core: ExchangeCore, query: Q): ReportAnswer<Q> {
  // Each branch's answer is the one ReportAnswer<Q> names for its kind; TypeScript cannot narrow Q itself.
  switch (query.kind) {
    case 'account':
      return accountReport(core, query.accountId) as ReportAnswer<Q>;
    case 'accounts':
      return accountsPage(core, query.afterId, query.limit) as ReportAnswer<Q>;
    case 'venue':
      return venueReport(core) as ReportAnswer<Q>;
    case 'statements':
      return statements(core) as ReportAnswer<Q>;
  }
  throw new RangeError('unknown report');
}
