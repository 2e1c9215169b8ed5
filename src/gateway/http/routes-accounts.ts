/**
 * Accounts as their owners and the venue's staff read them: the caller's accounts with status and kill
 * switch, balances per asset (available, held, total), positions with average price and PnL, and the
 * ledger's entries, newest first, a page at a time. A trader reads its own accounts only (another is
 * FORBIDDEN, existing or not); viewer, risk and admin read any. Read from the engine after every command
 * submitted before, and only once those are durable.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ACCOUNT_LIMITS,
  AssetTable,
  accountSummaryJson,
  balanceJson,
  entryJson,
  positionJson,
  riskLimitsJson,
  type AccountService,
} from '../accounts/index.js';
import { ACCOUNT_ID_MAX } from '../auth/index.js';
import { validationError } from '../trading/errors.js';
import { AccountParams, ERRORS } from './schemas.js';
import { authenticate, principalOf, type ServerDeps } from './server.js';

const Strict = { additionalProperties: false } as const;
const Digits = (max: number) => Type.String({ pattern: `^[0-9]{1,${max}}$` });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const AccountsQuery = Type.Object(
  { after_id: Type.Optional(Digits(7)), limit: Type.Optional(Digits(4)) },
  Strict,
);
export const EntriesQuery = Type.Object(
  {
    asset: Type.Optional(Type.String({ minLength: 1, maxLength: 12, pattern: '^[A-Z0-9]+$' })),
    before: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
    limit: Type.Optional(Digits(4)),
  },
  Strict,
);

export const AccountSummary = Type.Object({
  account_id: Type.Integer(),
  type: Type.String(),
  status: Type.String(),
  kill_switch: Type.Boolean(),
  open_orders: Type.Integer(),
});
const Limit = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const RiskLimitsObject = Type.Object(
  {
    order_quantity_max_lots: Limit,
    order_notional_max_minor: Limit,
    open_orders_max: Limit,
    position_quantity_max_lots: Limit,
    position_equity_ppm: Limit,
    daily_loss_max_minor: Limit,
    daily_loss_equity_ppm: Limit,
    emergency_loss_max_minor: Limit,
    emergency_loss_equity_ppm: Limit,
  },
  Strict,
);
const Balance = Type.Object({
  asset: Type.String(),
  available: Type.String(),
  held: Type.String(),
  total: Type.String(),
});
const Position = Type.Object({
  symbol: Type.String(),
  quantity: Type.String(),
  side: Type.String(),
  average_price: Nullable(Type.String()),
  cost: Type.String(),
  mark_price: Nullable(Type.String()),
  realized_pnl: Type.String(),
  unrealized_pnl: Type.String(),
  fees: Type.String(),
  currency: Type.String(),
  open_buy_quantity: Type.String(),
  open_sell_quantity: Type.String(),
});
const Entry = Type.Object({
  entry_id: Type.String(),
  time: Type.String(),
  kind: Type.String(),
  changes: Type.Array(Type.Object({ asset: Type.String(), available: Type.String(), held: Type.String() })),
  order_id: Nullable(Type.String()),
  trade_id: Nullable(Type.String()),
  symbol: Nullable(Type.String()),
  buy_order_id: Nullable(Type.String()),
  sell_order_id: Nullable(Type.String()),
  reference: Nullable(Type.Integer()),
});

/** An account id of a path, 1 .. ACCOUNT_ID_MAX (the schema has checked the digits). */
export function accountIdOf(text: string): number {
  const id = Number(text);
  if (id > ACCOUNT_ID_MAX) throw validationError(`account ids are 1 to ${ACCOUNT_ID_MAX}`, { field: 'id' });
  return id;
}

/** A page size of a query: `fallback` when absent, else 1 .. `max`. */
export function pageSize(text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(n >= 1 && n <= max)) throw validationError(`limit must be 1 to ${max}`, { field: 'limit' });
  return n;
}

export const accountRoutes =
  (deps: ServerDeps, accounts: AccountService): FastifyPluginCallbackTypebox =>
  (app, _opts, done) => {
    const readers = authenticate(deps, ['viewer', 'trader', 'risk', 'admin']);

    app.get(
      '/api/v1/accounts',
      {
        schema: {
          summary:
            "The caller's accounts (a trader's own; every account, a page at a time, for the other roles)",
          querystring: AccountsQuery,
          response: {
            200: Type.Object({ accounts: Type.Array(AccountSummary), total: Type.Integer() }),
            ...ERRORS,
          },
        },
        onRequest: readers,
      },
      async (req) => {
        const q = req.query;
        const limit = pageSize(q.limit, ACCOUNT_LIMITS.accountsPageDefault, ACCOUNT_LIMITS.accountsPageMax);
        const page = await accounts.accounts(principalOf(req), Number(q.after_id ?? '0'), limit);
        return { accounts: page.accounts.map(accountSummaryJson), total: page.total };
      },
    );

    app.get(
      '/api/v1/accounts/:id',
      {
        schema: {
          summary: 'An account: type, status, kill switch, open orders and risk limits',
          params: AccountParams,
          response: {
            200: Type.Object({ ...AccountSummary.properties, risk_limits: RiskLimitsObject }),
            ...ERRORS,
          },
        },
        onRequest: readers,
      },
      async (req) => {
        const r = await accounts.account(principalOf(req), accountIdOf(req.params.id));
        return { ...accountSummaryJson(r.account), risk_limits: riskLimitsJson({ ...r.account.limits }) };
      },
    );

    app.get(
      '/api/v1/accounts/:id/balances',
      {
        schema: {
          summary: 'Balances per asset: available, held for open orders, and total (decimal strings)',
          params: AccountParams,
          response: {
            200: Type.Object({ account_id: Type.Integer(), balances: Type.Array(Balance) }),
            ...ERRORS,
          },
        },
        onRequest: readers,
      },
      async (req) => {
        const id = accountIdOf(req.params.id);
        const r = await accounts.account(principalOf(req), id);
        const assets = new AssetTable(r.assets);
        return { account_id: id, balances: r.balances.map((b) => balanceJson(b, assets)) };
      },
    );

    app.get(
      '/api/v1/accounts/:id/positions',
      {
        schema: {
          summary:
            'Positions per instrument: quantity, average price, cost, realized and unrealized PnL (marked as the core marks), fees',
          params: AccountParams,
          response: {
            200: Type.Object({ account_id: Type.Integer(), positions: Type.Array(Position) }),
            ...ERRORS,
          },
        },
        onRequest: readers,
      },
      async (req) => {
        const id = accountIdOf(req.params.id);
        const r = await accounts.account(principalOf(req), id);
        const assets = new AssetTable(r.assets);
        const positions = [];
        for (const p of r.positions) {
          const inst = accounts.instrumentById(p.instrument);
          // An instrument the journal has but the configuration no longer names cannot be shown in its units.
          if (inst !== undefined) positions.push(positionJson(p, inst, assets));
        }
        return { account_id: id, positions };
      },
    );

    app.get(
      '/api/v1/accounts/:id/entries',
      {
        schema: {
          summary:
            "The account's ledger entries, newest first: deposits, withdrawals, holds, releases, settlements (page with `before`)",
          params: AccountParams,
          querystring: EntriesQuery,
          response: {
            200: Type.Object({
              account_id: Type.Integer(),
              entries: Type.Array(Entry),
              next_before: Nullable(Type.String()),
            }),
            ...ERRORS,
          },
        },
        onRequest: readers,
      },
      async (req) => {
        const id = accountIdOf(req.params.id);
        const q = req.query;
        const limit = pageSize(q.limit, ACCOUNT_LIMITS.entriesPageDefault, ACCOUNT_LIMITS.entriesPageMax);
        const beforeId = q.before === undefined ? Number.MAX_SAFE_INTEGER : Number(q.before);
        const page = await accounts.entries(principalOf(req), id, { asset: q.asset, beforeId, limit });
        const assets = new AssetTable(page.assets);
        const symbolOf = (i: number): string | null => accounts.instrumentById(i)?.spec.symbol ?? null;
        const entries = page.entries.map((e) => entryJson(e, page, assets, symbolOf));
        const last = page.entries[page.entries.length - 1];
        return {
          account_id: id,
          entries,
          next_before: entries.length === limit && last !== undefined ? String(last.entryId) : null,
        };
      },
    );
    done();
  };
