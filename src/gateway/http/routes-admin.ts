/**
 * Administration (accounts, deposits, withdrawals; admin keys only) and operations: /health (the process
 * answers) and /ready (every part answers, or those `only` names; 503 naming the failing part otherwise).
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

/**
 * The parts /ready may report. `only` judges readiness by some of them: a load balancer that should keep
 * sending orders while Redis, NATS or PostgreSQL is away (the order path keeps matching through each) asks
 * for `only=engine`, and still sees every part in the body.
 */
export const READINESS_CHECKS: readonly string[] = Object.freeze([
  'engine',
  'store',
  'audit',
  'marketData',
  'events',
  'redis',
  'nats',
]);

const ReadyQuery = Type.Object(
  { only: Type.Optional(Type.String({ pattern: '^[A-Za-z]+(,[A-Za-z]+)*$', maxLength: 200 })) },
  { additionalProperties: false },
);

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
        onRequest: admins,
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
          onRequest: admins,
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
      {
        schema: {
          summary:
            'Readiness: every part answers (503 names what does not); `only=engine,store` judges by those parts alone',
          querystring: ReadyQuery,
        },
      },
      async (req, reply) => {
        const only = req.query.only?.split(',');
        const unknown = only?.filter((name) => !READINESS_CHECKS.includes(name)) ?? [];
        if (unknown.length > 0) {
          throw validationError(
            `only: unknown checks ${unknown.join(', ')}; known: ${READINESS_CHECKS.join(', ')}`,
            {
              field: 'only',
            },
          );
        }
        const r = await deps.readiness();
        // A part this process does not run (Redis without REDIS_URL) has nothing to fail.
        const ready = only === undefined ? r.ready : only.every((name) => (r.checks[name] ?? 'ok') === 'ok');
        return reply
          .code(ready ? 200 : 503)
          .send({ status: ready ? 'ready' : 'not_ready', checks: r.checks });
      },
    );
    done();
  };
