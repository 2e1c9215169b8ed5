/**
 * Checking an API key on a request. The first check of a key costs an argon2id verification (tens of
 * milliseconds by design); after it, the key is cached in memory with a SHA-256 digest of its secret, so
 * later requests cost a hash and a constant-time comparison. The cache is bounded in entries and in time:
 * a key revoked through this verifier is dropped at once; one revoked by another process (`rialto keys
 * revoke` against a shared PostgreSQL) stops working when its entry expires (`cacheTtlMs`).
 *
 * Every failure of a well-formed key takes the same path: a key that is unknown, revoked or wrong is checked
 * against a hash (a dummy one for an unknown id) before it is refused, so the time taken does not tell which.
 * Only a string that is not a key at all is refused at once. Failures are never cached.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../../store/index.js';
import { hashSecret, parseKey, secretMatches } from './api-key.js';
import { findKey, revokeKey, type RevokeOutcome } from './key-store.js';
import { AuthErrorCode, type AuthFailure, type Principal } from './roles.js';

export interface VerifierOptions {
  /** How long a verified key is trusted without looking at the store again. */
  cacheTtlMs: number;
  /** Keys cached at most; the oldest entry goes first. */
  cacheEntriesMax: number;
  /** The clock, in milliseconds (tests pass their own). */
  nowMs: () => number;
}

export const VERIFIER_DEFAULTS: Readonly<VerifierOptions> = Object.freeze({
  cacheTtlMs: 30_000,
  cacheEntriesMax: 10_000,
  nowMs: () => Date.now(),
});

export type VerifyResult = { readonly ok: true; readonly principal: Principal } | AuthFailure;

interface Entry {
  digest: Buffer;
  principal: Principal;
  expiresAtMs: number;
}

const unauthorized = (reason: string): AuthFailure => ({
  ok: false,
  code: AuthErrorCode.Unauthorized,
  reason,
});
const digestOf = (secret: string): Buffer => createHash('sha256').update(secret).digest();

export class KeyVerifier {
  private readonly cache = new Map<string, Entry>();
  private readonly options: VerifierOptions;
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly store: Store,
    options: Partial<VerifierOptions> = {},
  ) {
    this.options = { ...VERIFIER_DEFAULTS, ...options };
    if (!(this.options.cacheEntriesMax >= 0 && this.options.cacheTtlMs >= 0))
      throw new Error('bad cache bounds');
  }

  /** Keys in the cache now. */
  get cachedKeys(): number {
    return this.cache.size;
  }

  async verify(token: string): Promise<VerifyResult> {
    const parts = parseKey(token);
    if (parts === null) return unauthorized('malformed key');
    const now = this.options.nowMs();
    const entry = this.cache.get(parts.id);
    if (entry !== undefined) {
      if (entry.expiresAtMs > now && timingSafeEqual(entry.digest, digestOf(parts.secret))) {
        return { ok: true, principal: entry.principal };
      }
      this.cache.delete(parts.id);
    }
    const stored = await findKey(this.store, parts.id);
    // The same work whether or not the id exists: verify against a dummy hash for an unknown one.
    const matches = await secretMatches(stored?.secretHash ?? (await this.dummy()), parts.secret);
    if (stored === null) return unauthorized('unknown key');
    if (!matches) return unauthorized('wrong secret');
    if (stored.revokedAt !== null) return unauthorized('revoked key');
    const principal: Principal = Object.freeze({
      keyId: stored.id,
      role: stored.role,
      accountIds: Object.freeze([...stored.accountIds]),
    });
    this.remember(parts.id, {
      digest: digestOf(parts.secret),
      principal,
      expiresAtMs: now + this.options.cacheTtlMs,
    });
    return { ok: true, principal };
  }

  /** Revokes a key in the store and drops it from this cache at once. */
  async revoke(id: string): Promise<RevokeOutcome> {
    this.forget(id);
    const outcome = await revokeKey(this.store, id);
    this.forget(id);
    return outcome;
  }

  /** Drops a key from the cache (after a change made elsewhere). */
  forget(id: string): void {
    this.cache.delete(id);
  }

  private remember(id: string, entry: Entry): void {
    if (this.options.cacheEntriesMax === 0) return;
    while (this.cache.size >= this.options.cacheEntriesMax) {
      const oldest = this.cache.keys().next();
      if (oldest.done === true) break;
      this.cache.delete(oldest.value);
    }
    this.cache.set(id, entry);
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashSecret(randomBytes(32).toString('base64url'));
    return this.dummyHash;
  }
}
