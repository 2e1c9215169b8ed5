/**
 * API keys in the query store's `api_keys` table: create (returning the key string once), list, revoke, look
 * up, and `ensureAdminKey` for a venue's first run. Rows are read back field by field, checked, never cast.
 */
import type { Queryable, Row, Store } from '../../store/index.js';
import { generateKey, hashSecret, KEY_ID_PATTERN } from './api-key.js';
import { isRole, keySettingsProblem, type Role } from './roles.js';

export interface ApiKeyRecord {
  readonly id: string;
  readonly role: Role;
  readonly accountIds: readonly number[];
  readonly label: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

/** A stored key with its hash: for verification only, never printed. */
export interface StoredKey extends ApiKeyRecord {
  readonly secretHash: string;
}

export interface NewKey {
  readonly role: Role;
  readonly accountIds?: readonly number[];
  readonly label?: string;
}

/** A key's settings are invalid (the message says why). */
export class KeySettingsError extends Error {
  override name = 'KeySettingsError';
}

const COLUMNS = 'id, secret_hash, role, account_ids, label, created_at, revoked_at';

function decode(row: Row): StoredKey {
  const { id, secret_hash, role, account_ids, label, created_at, revoked_at } = row;
  const bad = (field: string): never => {
    throw new Error(`api_keys row ${String(id)}: unexpected ${field}`);
  };
  if (typeof id !== 'string') return bad('id');
  if (typeof secret_hash !== 'string') return bad('secret_hash');
  if (!isRole(role)) return bad('role');
  const accountIds: unknown = account_ids;
  if (!Array.isArray(accountIds) || !accountIds.every((a): a is number => typeof a === 'number')) {
    return bad('account_ids');
  }
  if (typeof label !== 'string') return bad('label');
  if (!(created_at instanceof Date)) return bad('created_at');
  if (revoked_at !== null && !(revoked_at instanceof Date)) return bad('revoked_at');
  return {
    id,
    secretHash: secret_hash,
    role,
    accountIds,
    label,
    createdAt: created_at,
    revokedAt: revoked_at,
  };
}

/** A stored key without its hash: what may be shown. */
export const publicPart = ({ secretHash: _, ...record }: StoredKey): ApiKeyRecord => record;

async function insert(q: Queryable, id: string, hash: string, key: NewKey): Promise<ApiKeyRecord> {
  const rows = await q.query(
    `INSERT INTO api_keys (id, secret_hash, role, account_ids, label) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [id, hash, key.role, key.accountIds ?? [], key.label ?? ''],
  );
  return publicPart(decode(rows[0]));
}

function check(key: NewKey): void {
  const problem = keySettingsProblem(key.role, key.accountIds ?? [], key.label ?? '');
  if (problem !== '') throw new KeySettingsError(problem);
}

/** Creates a key; the returned `token` is the only copy of its secret. */
export async function createKey(store: Store, key: NewKey): Promise<{ record: ApiKeyRecord; token: string }> {
  check(key);
  const { id, secret, token } = generateKey();
  const record = await insert(store, id, await hashSecret(secret), key);
  return { record, token };
}

/** Every key, oldest first (revoked ones included). */
export async function listKeys(store: Store): Promise<ApiKeyRecord[]> {
  const rows = await store.query(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
  return rows.map((r) => publicPart(decode(r)));
}

/** The key with this id, hash included, or null. */
export async function findKey(store: Store, id: string): Promise<StoredKey | null> {
  if (!KEY_ID_PATTERN.test(id)) return null;
  const rows = await store.query(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  return rows.length === 0 ? null : decode(rows[0]);
}

export type RevokeOutcome =
  | { readonly status: 'revoked'; readonly record: ApiKeyRecord }
  | { readonly status: 'already-revoked'; readonly record: ApiKeyRecord }
  | { readonly status: 'unknown' };

/** Revokes a key (it stays listed, with the time). Revoking twice is no error. */
export async function revokeKey(store: Store, id: string): Promise<RevokeOutcome> {
  if (!KEY_ID_PATTERN.test(id)) return { status: 'unknown' };
  const rows = await store.query(
    `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
    [id],
  );
  if (rows.length > 0) return { status: 'revoked', record: publicPart(decode(rows[0])) };
  const existing = await findKey(store, id);
  return existing === null
    ? { status: 'unknown' }
    : { status: 'already-revoked', record: publicPart(existing) };
}

/**
 * Of `ids`, those that are no longer usable: revoked, or gone from the table. For the WebSocket gateway's
 * sweep of its sessions (a key revoked by another process or gateway ends them too).
 */
export async function unusableKeyIds(store: Store, ids: readonly string[]): Promise<string[]> {
  const wellFormed = ids.filter((id) => KEY_ID_PATTERN.test(id));
  if (wellFormed.length === 0) return [...ids];
  const rows = await store.query('SELECT id FROM api_keys WHERE id = ANY($1) AND revoked_at IS NULL', [
    wellFormed,
  ]);
  const usable = new Set(rows.map((r) => r.id));
  return ids.filter((id) => !usable.has(id));
}

/** revokeKeyKeepingAdmin's outcomes: revokeKey's, and a refusal to revoke the last usable admin key. */
export type GuardedRevokeOutcome =
  RevokeOutcome | { readonly status: 'last-admin'; readonly record: ApiKeyRecord };

/**
 * Revokes a key as revokeKey does, unless it is the last unrevoked admin key: then nothing changes and the
 * outcome says 'last-admin'. Over the API, revoking it would leave no one able to manage keys there (only
 * `rialto keys create`, with the embedded store a venue stopped, could). The table is locked for the check
 * and the update, so two admins revoking each other's keys at once leave one.
 */
export async function revokeKeyKeepingAdmin(store: Store, id: string): Promise<GuardedRevokeOutcome> {
  if (!KEY_ID_PATTERN.test(id)) return { status: 'unknown' };
  return store.transaction(async (tx): Promise<GuardedRevokeOutcome> => {
    await tx.exec('LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE');
    const rows = await tx.query(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    if (rows.length === 0) return { status: 'unknown' };
    const key = publicPart(decode(rows[0]));
    if (key.revokedAt !== null) return { status: 'already-revoked', record: key };
    if (key.role === 'admin') {
      const others = await tx.query(
        "SELECT 1 AS one FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL AND id <> $1 LIMIT 1",
        [id],
      );
      if (others.length === 0) return { status: 'last-admin', record: key };
    }
    const revoked = await tx.query(
      `UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return { status: 'revoked', record: publicPart(decode(revoked[0])) };
  });
}

/**
 * For a venue's first run: when the store holds no key at all, creates an admin key and returns its key
 * string (for `rialto start` to print once); otherwise null. Two processes racing here create one key: the
 * table is locked for the check and the insert.
 */
export async function ensureAdminKey(store: Store): Promise<{ record: ApiKeyRecord; token: string } | null> {
  // Hashing takes a moment: done before the transaction, so the lock is held only for the check and insert.
  const { id, secret, token } = generateKey();
  const hash = await hashSecret(secret);
  const record = await store.transaction(async (tx) => {
    await tx.exec('LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE');
    const rows = await tx.query('SELECT 1 AS one FROM api_keys LIMIT 1');
    if (rows.length > 0) return null;
    return insert(tx, id, hash, { role: 'admin', label: 'first admin key (created at first run)' });
  });
  return record === null ? null : { record, token };
}
