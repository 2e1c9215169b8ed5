/**
 * `rialto keys create | list | revoke`: API keys in the configured query store (--config FILE, else
 * RIALTO_CONFIG, else ./rialto.yaml when present, else the defaults and the environment). With the embedded
 * store (PGlite in the data directory), a command takes the data directory's LOCK, as every writer of it
 * does, so it fails naming the holder while a venue runs there: PGlite allows one process at a time.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  ROLES,
  KEY_LABEL_LENGTH_MAX,
  ACCOUNT_ID_MAX,
  keySettingsProblem,
  type Role,
} from '../gateway/auth/roles.js';
import type { ApiKeyRecord } from '../gateway/index.js';
import type { Store } from '../store/index.js';
import type { Outcome } from '../audit/index.js';
import { auditCli, withStore, type StoreOptions } from './cli-store.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { wholeNumber } from './options.js';
import { configOption, loadCliConfig } from './serving.js';

// The command tree is built for every `rialto` run (`--help`, `journal verify`, ...): what only a command's
// action needs (the key store; the store and the audit trail, through cli-store.ts) is
// loaded by that action, so that the others do not pay for it at start.
const loadKeyStore = () => import('../gateway/auth/key-store.js');

const refusedUnknown: Outcome = { status: 'refused', code: 'KEY_NOT_FOUND' };

/** The store of a command that creates it: never null. */
function created(store: Store | null): Store {
  if (store === null) throw new Error('withStore(create: true) gave no store');
  return store;
}

const accountId = wholeNumber('ID', 1, ACCOUNT_ID_MAX);
const collectAccount = (value: string, previous: number[]): number[] => [...previous, accountId(value)];

function label(value: string): string {
  const problem = keySettingsProblem('viewer', [], value);
  if (problem !== '') throw new InvalidArgumentError(problem.replace(/^a /, 'A ') + '.');
  return value;
}

const iso = (d: Date | null): string => (d === null ? '-' : d.toISOString().replace(/\.\d{3}Z$/, 'Z'));

function keysTable(keys: readonly ApiKeyRecord[]): string {
  const rows = [
    ['ID', 'ROLE', 'ACCOUNTS', 'CREATED', 'REVOKED', 'LABEL'],
    ...keys.map((k) => [
      k.id,
      k.role,
      k.accountIds.length === 0 ? '-' : k.accountIds.join(','),
      iso(k.createdAt),
      iso(k.revokedAt),
      k.label,
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

const keyJson = (k: ApiKeyRecord) => ({
  id: k.id,
  role: k.role,
  accountIds: k.accountIds,
  label: k.label,
  createdAt: k.createdAt.toISOString(),
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

export function addKeysCommands(program: Command, io: ProgramIo): void {
  const keys = program
    .command('keys')
    .description('API keys in the configured store (secrets shown once, kept hashed)');

  keys
    .command('create')
    .summary('create an API key and print it (the only time its secret is shown)')
    .description(
      'Create an API key and print it on stdout, alone on its line (rk_<id>.<secret>), or with --json as one ' +
        'JSON object with its id, role, accounts, label and creation time. The secret is stored only as an ' +
        'argon2id hash: it cannot be shown again. A trader key is bound to the accounts named with --account ' +
        '(at least one); the other roles take none. Exits 1 when the store cannot be opened or the data ' +
        'directory is locked by a running venue (an admin key manages keys there over the API: ' +
        'POST /api/v1/admin/keys).',
    )
    .addOption(new Option('--role <role>', "the key's role").choices(ROLES).makeOptionMandatory())
    .option('--account <id>', 'an account the trader key acts for (repeat for more)', collectAccount, [])
    .option('--label <text>', `a note for lists (at most ${KEY_LABEL_LENGTH_MAX} characters)`, label, '')
    .option('--json', 'print one JSON object instead of the key alone')
    .addOption(configOption())
    .action(
      async (
        opts: StoreOptions & { role: Role; account: number[]; label: string; json?: boolean },
        cmd: Command,
      ) => {
        const problem = keySettingsProblem(opts.role, opts.account, opts.label);
        if (problem !== '') cmd.error(`error: ${problem}`, { exitCode: 2, code: 'rialto.usage' });
        const config = await loadCliConfig(opts, io);
        const { createKey } = await loadKeyStore();
        const made = await withStore(config, 'rialto keys create', true, async (store) => {
          const key = await createKey(created(store), {
            role: opts.role,
            accountIds: opts.account,
            label: opts.label,
          });
          const r = key.record;
          await auditCli(config, store, {
            action: 'key.create',
            target: { kind: 'key', id: r.id },
            result: { status: 'ok', code: null },
            details: { role: r.role, accounts: [...r.accountIds], label: r.label },
          });
          return key;
        });
        if (opts.json === true)
          io.stdout(JSON.stringify({ ...keyJson(made.record), key: made.token }) + '\n');
        else io.stdout(made.token + '\n');
        io.stderr(`created ${made.record.role} key ${made.record.id}: its secret is shown only this once\n`);
      },
    );

  keys
    .command('list')
    .summary('list the API keys (never their secrets or hashes)')
    .description(
      'List every API key, revoked ones included, oldest first: id, role, accounts, creation and revocation ' +
        'time, label. Secrets and hashes are never printed. --json prints one JSON object {"keys": [...]}.',
    )
    .option('--json', 'print one JSON object instead of a table')
    .addOption(configOption())
    .action(async (opts: StoreOptions & { json?: boolean }) => {
      const config = await loadCliConfig(opts, io);
      const { listKeys } = await loadKeyStore();
      const list = await withStore(config, 'rialto keys list', false, async (store) =>
        store === null ? [] : listKeys(store),
      );
      if (opts.json === true) io.stdout(JSON.stringify({ keys: list.map(keyJson) }) + '\n');
      else if (list.length === 0) io.stderr('no API keys\n');
      else io.stdout(keysTable(list));
    });

  keys
    .command('revoke')
    .summary('revoke an API key by its id')
    .description(
      'Revoke the API key with this id (the part between "rk_" and the dot): it is refused from then on ' +
        '(a running venue on a shared PostgreSQL stops accepting it within its key cache time, 30 seconds). ' +
        'The key stays listed, with the time of revocation. Revoking a revoked key changes nothing and exits ' +
        '0; an unknown id exits 1. An id that begins with "-" (versions up to 0.1.0 could draw one) ' +
        'goes after "--": rialto keys revoke -- -AbC...',
    )
    .argument('<id>', 'the key id, as `rialto keys list` shows it')
    .addOption(configOption())
    .action(async (id: string, opts: StoreOptions) => {
      const config = await loadCliConfig(opts, io);
      const { revokeKey } = await loadKeyStore();
      const outcome = await withStore(config, 'rialto keys revoke', false, async (store) => {
        const o = store === null ? ({ status: 'unknown' } as const) : await revokeKey(store, id);
        const result = o.status === 'unknown' ? refusedUnknown : ({ status: 'ok', code: null } as const);
        await auditCli(config, store, {
          action: 'key.revoke',
          target: { kind: 'key', id },
          result,
          details: { before: o.status },
        });
        return o;
      });
      if (outcome.status === 'unknown') throw new CliError(`no API key with id ${JSON.stringify(id)}`);
      const when = iso(outcome.record.revokedAt);
      io.stdout(
        outcome.status === 'revoked'
          ? `revoked ${outcome.record.role} key ${id} at ${when}\n`
          : `key ${id} was already revoked at ${when}\n`,
      );
    });
}
