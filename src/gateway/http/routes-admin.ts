/**
 * Administration (accounts, deposits, withdrawals; admin keys only) and operations: /health (the process
 * answers) and /ready (the engine runs and the store answers; 503 naming the failing part otherwise).
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ACCOUNT_ID_MAX } from '../auth/index.js';
import { validationError } from '../trading/errors.js';
import { AccountParams, CreateAccountBody, ERRORS, TransferBody } from './schemas.js';
import { authenticate, type ServerDeps } from './server.js';

/** What /ready reports: each part's state ('ok' or why not). */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, string>>;
}

const accountIdOf = (text: string): number => {
  const id = Number(text);
  if (id > ACCOUNT_ID_MAX) throw validationError(`account ids are 1 to ${ACCOUNT_ID_MAX}`, { field: 'id' });
  return id;
};

export const adminRoutes =
  (deps: ServerDeps): FastifyPluginCallbackTypebox =>
  (app, _opts, done) => {
    const { trading } = deps;
    const admins = authenticate(deps, ['admin']);

    app.post(
      '/api/v1/admin/accounts',
      {
        schema: {
          summary: 'Create an account (admin)',
          body: CreateAccountBody,
          response: { 201: Type.Object({ account_id: Type.Integer() }), ...ERRORS },
        },
        preHandler: admins,
      },
      async (req, reply) => {
        await trading.createAccount(req.body.account_id, req.body.market_maker ?? false);
        return reply.code(201).send({ account_id: req.body.account_id });
      },
    );

    for (const kind of ['deposit', 'withdraw'] as const) {
      app.post(
        `/api/v1/admin/accounts/:id/${kind === 'deposit' ? 'deposits' : 'withdrawals'}`,
        {
          schema: {
            summary: `${kind === 'deposit' ? 'Deposit to' : 'Withdraw from'} an account (admin); amount as a decimal string`,
            params: AccountParams,
            body: TransferBody,
            response: {
              201: Type.Object({ account_id: Type.Integer(), asset: Type.String(), amount: Type.String() }),
              ...ERRORS,
            },
          },
          preHandler: admins,
        },
        async (req, reply) => {
          const accountId = accountIdOf(req.params.id);
          const b = req.body;
          await trading.transfer(kind, accountId, b.asset, b.amount, b.reference ?? 0);
          return reply.code(201).send({ account_id: accountId, asset: b.asset, amount: b.amount });
        },
      );
    }
    done();
  };

export const opsRoutes =
  (deps: ServerDeps): FastifyPluginCallbackTypebox =>
  (app, _opts, done) => {
    app.get('/health', { schema: { summary: 'Liveness: the process answers' } }, () => ({
      status: 'ok',
    }));
    app.get(
      '/ready',
      { schema: { summary: 'Readiness: the engine runs and the store answers (503 names what does not)' } },
      async (_req, reply) => {
        const r = await deps.readiness();
        return reply
          .code(r.ready ? 200 : 503)
          .send({ status: r.ready ? 'ready' : 'not_ready', checks: r.checks });
      },
    );
    done();
  };
