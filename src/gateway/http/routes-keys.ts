/**
 * API keys over the API, for admins (/api/v1/admin/keys): create one (its secret in the answer, the only time
 * it is shown), list them and read one (never a secret or hash), revoke one. The same keys as `rialto keys`,
 * without stopping the venue, which the embedded store's lock needs for the command line. A trader key is
 * bound to accounts that exist; the last unrevoked admin key cannot be revoked here (409 LAST_ADMIN_KEY),
 * so that the API always has someone to manage keys.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { keySettingsProblem, type ApiKeyRecord, type KeyAdmin } from '../auth/index.js';
import type { AccountService } from '../accounts/index.js';
import { ApiError, ErrorCode, validationError } from '../trading/errors.js';
import { CreateKeyBody, ERRORS, KeyParams } from './schemas.js';
import { authenticate, type ServerDeps } from './server.js';

const KeyResponse = Type.Object({
  id: Type.String(),
  role: Type.String(),
  account_ids: Type.Array(Type.Integer()),
  label: Type.String(),
  created_at: Type.String(),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
});

const keyJson = (k: ApiKeyRecord) => ({
  id: k.id,
  role: k.role,
  account_ids: [...k.accountIds],
  label: k.label,
  created_at: k.createdAt.toISOString(),
  revoked_at: k.revokedAt?.toISOString() ?? null,
});

const keyNotFound = (id: string): ApiError =>
  new ApiError(404, ErrorCode.KeyNotFound, `no API key with id ${id}`, { id });

export const keyRoutes =
  (deps: ServerDeps, keys: KeyAdmin, accounts: AccountService | null): FastifyPluginCallbackTypebox =>
  (app, _opts, done) => {
    const admins = authenticate(deps, ['admin']);

    app.post(
      '/api/v1/admin/keys',
      {
        schema: {
          summary:
            'Create an API key (admin): role, the accounts a trader key acts for, a label; the answer holds its secret, shown only this once',
          body: CreateKeyBody,
          response: { 201: Type.Object({ ...KeyResponse.properties, key: Type.String() }), ...ERRORS },
        },
        onRequest: admins,
      },
      async (req, reply) => {
        const b = req.body;
        const accountIds = b.account_ids ?? [];
        const label = b.label ?? '';
        const problem = keySettingsProblem(b.role, accountIds, label);
        if (problem !== '') throw validationError(problem, { role: b.role });
        const unknown = accounts === null ? [] : await accounts.unknownOf(accountIds);
        if (unknown.length > 0) {
          throw new ApiError(
            404,
            ErrorCode.AccountNotFound,
            `account ${unknown.join(', ')} not found: a trader key acts for existing accounts`,
            { account_ids: unknown },
          );
        }
        const made = await keys.create({ role: b.role, accountIds, label });
        return reply.code(201).send({ ...keyJson(made.record), key: made.token });
      },
    );

    app.get(
      '/api/v1/admin/keys',
      {
        schema: {
          summary: 'The API keys, revoked ones included, oldest first (admin); never a secret',
          response: { 200: Type.Object({ keys: Type.Array(KeyResponse) }), ...ERRORS },
        },
        onRequest: admins,
      },
      async () => ({ keys: (await keys.list()).map(keyJson) }),
    );

    app.get(
      '/api/v1/admin/keys/:id',
      {
        schema: {
          summary: 'An API key (admin): role, accounts, label, when it was created and revoked',
          params: KeyParams,
          response: { 200: KeyResponse, ...ERRORS },
        },
        onRequest: admins,
      },
      async (req) => {
        const k = await keys.find(req.params.id);
        if (k === null) throw keyNotFound(req.params.id);
        return keyJson(k);
      },
    );

    app.delete(
      '/api/v1/admin/keys/:id',
      {
        schema: {
          summary:
            'Revoke an API key (admin): refused from then on, its WebSocket sessions closed; revoking it again changes nothing; the last admin key cannot be revoked',
          params: KeyParams,
          response: { 200: KeyResponse, ...ERRORS },
        },
        onRequest: admins,
      },
      async (req) => {
        const id = req.params.id;
        const o = await keys.revoke(id);
        switch (o.status) {
          case 'unknown':
            throw keyNotFound(id);
          case 'last-admin':
            throw new ApiError(
              409,
              ErrorCode.LastAdminKey,
              'this is the last admin key: create another admin key before revoking it',
              { id },
            );
          default:
            return keyJson(o.record);
        }
      },
    );
    done();
  };
