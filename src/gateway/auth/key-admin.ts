/**
 * API keys managed while the venue runs (the admin routes, /api/v1/admin/keys): created, listed and revoked in
 * the query store, revocations through this process's verifier so that its cache drops the key at once, and
 * `onRevoked` told so that this process's WebSocket sessions on the key end too. Other processes on a shared
 * PostgreSQL stop accepting a revoked key when their cache entry expires (VERIFIER_DEFAULTS.cacheTtlMs).
 */
import type { Store } from '../../store/index.js';
import {
  createKey,
  findKey,
  listKeys,
  publicPart,
  type ApiKeyRecord,
  type GuardedRevokeOutcome,
  type NewKey,
} from './key-store.js';
import type { KeyVerifier } from './verifier.js';

export class KeyAdmin {
  constructor(
    private readonly store: Store,
    private readonly verifier: KeyVerifier,
    private readonly onRevoked: (keyId: string) => void = () => undefined,
  ) {}

  /** A new key (settings checked: KeySettingsError); the returned token is the only copy of its secret. */
  create(key: NewKey): Promise<{ record: ApiKeyRecord; token: string }> {
    return createKey(this.store, key);
  }

  /** Every key, revoked ones included, oldest first. */
  list(): Promise<ApiKeyRecord[]> {
    return listKeys(this.store);
  }

  /** The key with this id (never its hash), or null. */
  async find(id: string): Promise<ApiKeyRecord | null> {
    const stored = await findKey(this.store, id);
    return stored === null ? null : publicPart(stored);
  }

  /**
   * Revokes a key unless it is the last unrevoked admin key. A key found revoked already (by `rialto keys
   * revoke`, say) still ends this process's sessions on it.
   */
  async revoke(id: string): Promise<GuardedRevokeOutcome> {
    const outcome = await this.verifier.revokeKeepingAdmin(id);
    if (outcome.status === 'revoked' || outcome.status === 'already-revoked') this.onRevoked(id);
    return outcome;
  }
}
