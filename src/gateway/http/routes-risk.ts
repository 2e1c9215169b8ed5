/**
 * The venue's controls and reports for risk officers and administrators: instruments with their trading
 * status, halt and resume, kill switches (one account or the whole venue) and their reset in a risk
 * officer's name, risk limits, suspending and reactivating accounts, and the venue's trial balance, balance
 * sheet and income statement. Every change is a command through the engine (journaled), answered once durable.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  accountSummaryJson,
  balanceSheetJson,
  incomeStatementJson,
  riskLimitsJson,
  trialBalanceJson,
  type AccountService,
} from '../accounts/index.js';
import { ACCOUNT_ID_MAX } from '../auth/index.js';
import { validationError } from '../trading/errors.js';
import { AccountSummary, RiskLimitsObject, accountIdOf } from './routes-accounts.js';
import { AccountParams, ERRORS, SymbolParams } from './schemas.js';
import { authenticate, principalOf, type ServerDeps } from './server.js';

const Strict = { additionalProperties: false } as const;
const AccountId = Type.Integer({ minimum: 1, maximum: ACCOUNT_ID_MAX });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const KillBody = Type.Object({ account_id: Type.Optional(AccountId) }, Strict);
const ResetBody = Type.Object(
  { account_id: Type.Optional(AccountId), officer_account_id: AccountId },
  Strict,
);
/**
 * Actions named by their path take no fields: a body, if sent, must be an empty object. Checked here rather
 * than by a body schema, which would also refuse a request that sends no body at all.
 */
function noFields(body: unknown): void {
  if (body === undefined || body === null) return;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
  throw validationError('this action takes no fields: send no body or {}', { field: '' });
}
const RiskOfficerBody = Type.Object({ account_id: AccountId }, Strict);
/** Risk limits to change: any of them, the others keep their values; 0 switches a limit off. */
const LimitsPatch = Type.Partial(RiskLimitsObject, Strict);
const Str = Type.String();
const TrialBalanceAsset = Type.Object({
  asset: Str,
  accounts: Type.Array(Type.Object({ account: Str, debit: Str, credit: Str })),
  total_debit: Str,
  total_credit: Str,
  balanced: Type.Boolean(),
});
const BalanceSheetAsset = Type.Object({
  asset: Str,
  assets: Type.Object({ custody: Str, clearing: Str, total: Str }),
  liabilities: Type.Object({ customers_available: Str, customers_held: Str, total: Str }),
  equity: Type.Object({ retained_earnings: Str, total: Str }),
  balanced: Type.Boolean(),
});
const IncomeStatementAsset = Type.Object({
  asset: Str,
  fee_income: Str,
  rebate_expense: Str,
  net_income: Str,
});

const InstrumentState = Type.Object({
  symbol: Type.String(),
  base: Type.String(),
  quote: Type.String(),
  status: Type.String(),
});
const KillAnswer = Type.Object({
  account_id: Nullable(Type.Integer()),
  kill_switch: Type.Boolean(),
  orders_cancelled: Type.Optional(Type.Integer()),
});

export const riskRoutes =
  (deps: ServerDeps, accounts: AccountService): FastifyPluginCallbackTypebox =>
  (app, _opts, done) => {
    const staff = authenticate(deps, ['risk', 'admin']);
    const admins = authenticate(deps, ['admin']);

    const instrumentsNow = async () => {
      const v = await accounts.venue();
      const code = (id: number): string => v.assets.find((a) => a.asset === id)?.code ?? String(id);
      return {
        venue_kill_switch: v.killSwitch,
        instruments: v.instruments.map((i) => ({
          symbol: i.symbol,
          base: code(i.baseAsset),
          quote: code(i.quoteAsset),
          status: i.halted ? 'halted' : 'trading',
        })),
      };
    };

    app.get(
      '/api/v1/admin/instruments',
      {
        schema: {
          summary:
            'Instruments with their trading status (trading, halted) and the venue kill switch (risk, admin)',
          response: {
            200: Type.Object({ venue_kill_switch: Type.Boolean(), instruments: Type.Array(InstrumentState) }),
            ...ERRORS,
          },
        },
        onRequest: staff,
      },
      instrumentsNow,
    );

    for (const action of ['halt', 'resume'] as const) {
      app.post(
        `/api/v1/admin/instruments/:symbol/${action}`,
        {
          schema: {
            summary: `${action === 'halt' ? 'Halt trading in' : 'Resume trading in'} an instrument (risk, admin)`,
            params: SymbolParams,
            response: { 200: Type.Object({ symbol: Type.String(), status: Type.String() }), ...ERRORS },
          },
          onRequest: staff,
        },
        async (req) => {
          noFields(req.body);
          await accounts.setHalted(req.params.symbol, action === 'halt');
          return { symbol: req.params.symbol, status: action === 'halt' ? 'halted' : 'trading' };
        },
      );
    }

    app.post(
      '/api/v1/admin/kill-switch',
      {
        schema: {
          summary:
            'Set the kill switch of one account (account_id) or of the whole venue (no account_id): cancels the open orders and refuses new ones (risk, admin)',
          body: KillBody,
          response: { 200: KillAnswer, ...ERRORS },
        },
        onRequest: staff,
      },
      async (req) => {
        const accountId = req.body.account_id ?? 0;
        const cancelled = await accounts.kill(accountId);
        return {
          account_id: accountId === 0 ? null : accountId,
          kill_switch: true,
          orders_cancelled: cancelled,
        };
      },
    );

    app.post(
      '/api/v1/admin/kill-switch/reset',
      {
        schema: {
          summary:
            "Reset the kill switch of one account or of the venue, in the name of a risk officer's account (risk, admin)",
          body: ResetBody,
          response: { 200: KillAnswer, ...ERRORS },
        },
        onRequest: staff,
      },
      async (req) => {
        const accountId = req.body.account_id ?? 0;
        await accounts.resetKill(accountId, req.body.officer_account_id);
        return { account_id: accountId === 0 ? null : accountId, kill_switch: false };
      },
    );

    app.post(
      '/api/v1/admin/risk-officers',
      {
        schema: {
          summary: "Create a risk officer's account, in whose name kill switches are reset (admin)",
          body: RiskOfficerBody,
          response: { 201: Type.Object({ account_id: Type.Integer(), type: Type.String() }), ...ERRORS },
        },
        onRequest: admins,
      },
      async (req, reply) => {
        await accounts.createRiskOfficer(req.body.account_id);
        return reply.code(201).send({ account_id: req.body.account_id, type: 'risk_officer' });
      },
    );

    app.get(
      '/api/v1/admin/accounts/:id/risk-limits',
      {
        schema: {
          summary:
            "An account's risk limits: lots, minor units of each order's quote asset, ppm of equity; 0 is off (risk, admin)",
          params: AccountParams,
          response: { 200: RiskLimitsObject, ...ERRORS },
        },
        onRequest: staff,
      },
      async (req) => {
        const r = await accounts.account(principalOf(req), accountIdOf(req.params.id));
        return riskLimitsJson({ ...r.account.limits });
      },
    );

    app.patch(
      '/api/v1/admin/accounts/:id/risk-limits',
      {
        schema: {
          summary: "Change some of an account's risk limits; answers all of them (risk, admin)",
          params: AccountParams,
          body: LimitsPatch,
          response: { 200: RiskLimitsObject, ...ERRORS },
        },
        onRequest: staff,
      },
      async (req) => {
        const id = accountIdOf(req.params.id);
        await accounts.setLimits(id, req.body);
        const r = await accounts.account(principalOf(req), id);
        return riskLimitsJson({ ...r.account.limits });
      },
    );

    for (const action of ['suspend', 'reactivate'] as const) {
      app.post(
        `/api/v1/admin/accounts/:id/${action}`,
        {
          schema: {
            summary: `${action === 'suspend' ? 'Suspend' : 'Reactivate'} an account (risk, admin)`,
            params: AccountParams,
            response: { 200: AccountSummary, ...ERRORS },
          },
          onRequest: staff,
        },
        async (req) => {
          noFields(req.body);
          const id = accountIdOf(req.params.id);
          await accounts.setStatus(id, action === 'suspend' ? 'suspended' : 'active');
          const r = await accounts.account(principalOf(req), id);
          return accountSummaryJson(r.account);
        },
      );
    }

    const statements = [
      {
        path: 'trial-balance',
        summary:
          "The venue's trial balance per asset: debits and credits of each kind of ledger account (risk, admin)",
        row: TrialBalanceAsset,
        present: trialBalanceJson,
      },
      {
        path: 'balance-sheet',
        summary:
          "The venue's balance sheet per asset: assets = customer liabilities + retained earnings (risk, admin)",
        row: BalanceSheetAsset,
        present: balanceSheetJson,
      },
      {
        path: 'income-statement',
        summary: "The venue's income statement per asset: fee income less rebate expense (risk, admin)",
        row: IncomeStatementAsset,
        present: incomeStatementJson,
      },
    ] as const;
    for (const s of statements) {
      app.get(
        `/api/v1/admin/statements/${s.path}`,
        {
          schema: {
            summary: s.summary,
            response: { 200: Type.Object({ assets: Type.Array(s.row) }), ...ERRORS },
          },
          onRequest: staff,
        },
        async () => s.present(await accounts.statements()),
      );
    }
    done();
  };
