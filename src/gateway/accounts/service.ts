/**
 * The account, risk and venue-report side of the API between the HTTP routes and the engine: who may read
 * which account, the engine's reports (balances, positions, accounts, instruments, statements) and the
 * ledger's entry history from the views, and the risk and admin commands (halts, kill switches, limits,
 * account status) submitted to the engine and answered once durable, from their own records.
 *
 * Reading: a trader reads its own accounts only; viewer, risk and admin read any. Another account is
 * FORBIDDEN to a trader whether or not it exists, so that a trader cannot learn which accounts exist.
 */
import {
  AccountStatus,
  AccountType,
  decodeRecord,
  type AssetInfo,
  type Command,
  type StreamEvent,
} from '../../core/index.js';
import {
  ENGINE_LIMITS,
  EngineError,
  type AccountReport,
  type AccountsPage,
  type EnginePort,
  type Statements,
  type VenueReport,
} from '../../engine/index.js';
import { EventBuffer } from '../../book/index.js';
import type { AssetConfig, InstrumentConfig, VenueConfig } from '../../ops/index.js';
import { ACCOUNT_ID_MAX, type Principal } from '../auth/index.js';
import { ApiError, ErrorCode, invalidSymbol, rejectError, validationError } from '../trading/errors.js';
import type { InstrumentTable } from '../instruments/index.js';
import type { EntryView, Views } from '../views/index.js';

/** The bounds of the account routes' pages. */
export const ACCOUNT_LIMITS = Object.freeze({
  entriesPageMax: 1000,
  entriesPageDefault: 100,
  accountsPageMax: ENGINE_LIMITS.reportAccountsMax,
  accountsPageDefault: 100,
});

/** The risk limits as the API names them: the core's integers, units last in the names. */
export const RISK_LIMIT_FIELDS = {
  order_quantity_max_lots: 'orderQtyMax',
  order_notional_max_minor: 'orderNotionalMax',
  open_orders_max: 'openOrdersMax',
  position_quantity_max_lots: 'positionQtyMax',
  position_equity_ppm: 'positionEquityPpm',
  daily_loss_max_minor: 'dailyLossMax',
  daily_loss_equity_ppm: 'dailyLossEquityPpm',
  emergency_loss_max_minor: 'emergencyLossMax',
  emergency_loss_equity_ppm: 'emergencyLossEquityPpm',
} as const;
export type ApiRiskLimits = { -readonly [K in keyof typeof RISK_LIMIT_FIELDS]: number };

export interface EntriesPage {
  /** The customer's ledger accounts: available and held per asset id. */
  readonly ledgerAccounts: ReadonlyMap<number, { asset: number; held: boolean }>;
  readonly entries: readonly EntryView[];
  /** The venue's assets, to show the amounts with. */
  readonly assets: readonly AssetInfo[];
}

/** The records of one command, decoded. */
function recordsOf(events: Float64Array): StreamEvent[] {
  const buf = new EventBuffer(1);
  buf.data = events;
  buf.count = events.length / 16;
  const out: StreamEvent[] = [];
  for (let i = 0; i < buf.count; i++) {
    const e = decodeRecord(buf, i);
    if (e !== undefined) out.push(e);
  }
  return out;
}

const accountNotFound = (accountId: number): ApiError =>
  new ApiError(404, ErrorCode.AccountNotFound, `account ${accountId} not found`, { account_id: accountId });

export class AccountService {
  constructor(
    private readonly engine: EnginePort,
    private readonly views: Views,
    readonly config: VenueConfig,
    /** The instruments and assets as the core has them (from its events, not the configuration). */
    private readonly table: InstrumentTable,
  ) {}

  instrumentById(id: number): InstrumentConfig | undefined {
    return this.table.instrumentById(id);
  }

  assetById(id: number): AssetConfig | undefined {
    return this.table.assetById(id);
  }

  /** Refuses a trader another account's data (FORBIDDEN, existing or not); the other roles read any. */
  checkRead(p: Principal, accountId: number): void {
    if (p.role === 'trader' && !p.accountIds.includes(accountId)) {
      throw new ApiError(403, ErrorCode.Forbidden, `this key may not read account ${accountId}`, {
        account_id: accountId,
      });
    }
  }

  /** One account's report (balances, positions, status, limits), after the caller's right to it. */
  async account(p: Principal, accountId: number): Promise<AccountReport> {
    this.checkRead(p, accountId);
    const report = await this.ask(() => this.engine.accountReport(accountId));
    if (report === null) throw accountNotFound(accountId);
    return report;
  }

  /** The accounts of `ids` the core does not know (for binding a new trader key: the admin routes). */
  async unknownOf(ids: readonly number[]): Promise<number[]> {
    const reports = await Promise.all(ids.map((id) => this.ask(() => this.engine.accountReport(id))));
    return ids.filter((_, i) => reports[i] === null);
  }

  /** A trader's own accounts, or for the other roles a page of every account. */
  async accounts(p: Principal, afterId: number, limit: number): Promise<AccountsPage> {
    if (p.role !== 'trader') return this.ask(() => this.engine.accounts(afterId, limit));
    const reports = await Promise.all(
      p.accountIds
        .filter((id) => id > afterId)
        .sort((a, b) => a - b)
        .slice(0, limit)
        .map((id) => this.ask(() => this.engine.accountReport(id))),
    );
    const accounts = reports
      .filter((r): r is AccountReport => r !== null)
      .map(({ account: a }) => ({
        accountId: a.accountId,
        type: a.type,
        status: a.status,
        killSwitch: a.killSwitch,
        openOrders: a.openOrders,
      }));
    return { accounts, total: p.accountIds.length };
  }

  /** The newest ledger entries of an account (of one asset, when given) below entry `beforeId`. */
  async entries(
    p: Principal,
    accountId: number,
    filter: { asset?: string; beforeId: number; limit: number },
  ): Promise<EntriesPage> {
    const report = await this.account(p, accountId);
    let assetId = -1;
    if (filter.asset !== undefined) {
      const asset = this.table.assetByCode(filter.asset);
      if (asset === undefined) {
        throw validationError(`unknown asset ${JSON.stringify(filter.asset)}`, { field: 'asset' });
      }
      assetId = asset.id;
    }
    const ledgerAccounts = new Map<number, { asset: number; held: boolean }>();
    for (const b of report.balances) {
      ledgerAccounts.set(b.ledgerAvailable, { asset: b.asset, held: false });
      ledgerAccounts.set(b.ledgerHeld, { asset: b.asset, held: true });
    }
    const wanted = report.balances
      .filter((b) => assetId === -1 || b.asset === assetId)
      .flatMap((b) => [b.ledgerAvailable, b.ledgerHeld]);
    const entries = this.views.entries.entriesOf(wanted, filter.beforeId, filter.limit);
    return { ledgerAccounts, entries, assets: report.assets };
  }

  venue(): Promise<VenueReport> {
    return this.ask(() => this.engine.venueReport());
  }

  statements(): Promise<Statements> {
    return this.ask(() => this.engine.statements());
  }

  // ------------------------------------------------------------ risk and admin commands

  async setHalted(symbol: string, halted: boolean): Promise<void> {
    const inst = this.table.instrumentBySymbol(symbol);
    if (inst === undefined) throw invalidSymbol(symbol);
    await this.command(
      { kind: 'setTradingStatus', timeUs: 0, instrument: inst.spec.instrument, halted },
      `${symbol} was not ${halted ? 'halted' : 'resumed'}`,
    );
  }

  /** Sets the kill switch of one account (0: the whole venue); returns the orders it cancelled. */
  async kill(accountId: number): Promise<number> {
    const records = await this.command(
      { kind: 'killSwitch', timeUs: 0, accountId },
      `the kill switch was not set`,
    );
    const set = records.find((e) => e.type === 'KillSwitchSet');
    if (set?.type !== 'KillSwitchSet') throw new Error('a kill switch command left no KillSwitchSet record');
    return set.ordersCancelled;
  }

  /** Clears a kill switch (0: the venue's), in the name of a risk officer's account. */
  async resetKill(accountId: number, officerId: number): Promise<void> {
    await this.command(
      { kind: 'resetKillSwitch', timeUs: 0, accountId, officerId },
      'the kill switch was not reset',
    );
  }

  async setLimits(accountId: number, limits: Partial<ApiRiskLimits>): Promise<void> {
    const core: Record<string, number> = {};
    for (const [api, value] of Object.entries(limits)) {
      const name = RISK_LIMIT_FIELDS[api as keyof ApiRiskLimits];
      if (name === undefined || value === undefined) continue;
      core[name] = value;
    }
    if (Object.keys(core).length === 0) throw validationError('give at least one limit to set');
    await this.command(
      { kind: 'setRiskLimits', timeUs: 0, accountId, limits: core },
      `the risk limits of account ${accountId} were not set`,
    );
  }

  async setStatus(accountId: number, status: 'active' | 'suspended'): Promise<void> {
    await this.command(
      {
        kind: 'setAccountStatus',
        timeUs: 0,
        accountId,
        status: status === 'active' ? AccountStatus.Active : AccountStatus.Suspended,
      },
      `the status of account ${accountId} was not changed`,
    );
  }

  /** Creates a risk officer's account: the account in whose name kill switches are reset. */
  async createRiskOfficer(accountId: number): Promise<void> {
    if (!(Number.isSafeInteger(accountId) && accountId >= 1 && accountId <= ACCOUNT_ID_MAX)) {
      throw validationError(`account_id must be 1 to ${ACCOUNT_ID_MAX}`, { field: 'account_id' });
    }
    await this.command(
      { kind: 'createAccount', timeUs: 0, accountId, accountType: AccountType.RiskOfficer },
      `account ${accountId} was not created`,
    );
  }

  /** Submits one command, waits until it is durable, and refuses with its reject code if it was rejected. */
  private async command(cmd: Command, message: string): Promise<StreamEvent[]> {
    const receipt = await this.ask(() => this.engine.submit([cmd]));
    const records = recordsOf(receipt.events(0));
    for (const e of records) {
      if (e.type === 'CommandRejected') throw rejectError(e.code, message);
    }
    return records;
  }

  /** An engine call, with the engine's refusals (closed, journal failed) as 503. */
  private async ask<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof EngineError) {
        throw new ApiError(503, ErrorCode.ServiceUnavailable, 'the engine cannot answer now', {
          engine: e.code,
        });
      }
      throw e;
    }
  }
}
