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
 *
 * Under load, many requests carry the same key at once. Concurrent checks of one key string share one
 * verification (a burst of a client's first requests costs one argon2, not one per request), and an expired
 * entry whose secret still matches is renewed by reading the key's row again (revoked? changed?) without
 * argon2: the secret was proven when the entry was made, only the row can have changed since. While the
 * store is unavailable, such an expired entry keeps answering for `staleIfUnavailableMs` (the row cannot be
 * read, and no revocation can be written meanwhile): a database outage does not stop trading.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { StoreError, StoreErrorCode, type Store } from '../../store/index.js';
import { hashSecret, parseKey, secretMatches } from './api-key.js';
import {
  findKey,
  revokeKey,
  revokeKeyKeepingAdmin,
  unusableKeyIds,
  type GuardedRevokeOutcome,
  type RevokeOutcome,
} from './key-store.js';
import { AuthErrorCode, type AuthFailure, type Principal } from './roles.js';

export interface VerifierOptions {
  /** How long a verified key is trusted without looking at the store again. */
  cacheTtlMs: number;
  /** Keys cached at most; the oldest entry goes first. */
  cacheEntriesMax: number;
  /**
   * How long past its expiry an entry still answers while the store is unavailable (its row cannot be read
   * again): a key verified before a database outage keeps working through an outage this long. 0: never.
   */
  staleIfUnavailableMs: number;
  /** The clock, in milliseconds (tests pass their own). */
  nowMs: () => number;
}

export const VERIFIER_DEFAULTS: Readonly<VerifierOptions> = Object.freeze({
  cacheTtlMs: 30_000,
  cacheEntriesMax: 10_000,
  staleIfUnavailableMs: 300_000,
  nowMs: () => Date.now(),
});

export type VerifyResult = { readonly ok: true; readonly principal: Principal } | AuthFailure;

interface Entry {
  digest: Buffer;
  /** The stored hash the secret was verified against: a renewal needs the row to still have it. */
  secretHash: string;
  principal: Principal;
  expiresAtMs: number;
}

const unauthorized = (reason: string): AuthFailure => ({
  ok: false,
  code: AuthErrorCode.Unauthorized,
  reason,
});
/** SHA-256 of the secret, one call (no Hash object): every request with a cached key makes one. */
const digestOf = (secret: string): Buffer => hash('sha256', secret, 'buffer');

export class KeyVerifier {
  private readonly cache = new Map<string, Entry>();
  /** Checks under way, by key string: concurrent requests with one key wait for the same one. */
  private readonly inFlight = new Map<string, Promise<VerifyResult>>();
  /** Counts `forget` calls: a check that saw one happen while it read the store does not cache its row. */
  private forgotten = 0;
  private readonly options: VerifierOptions;
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly store: Store,
    options: Partial<VerifierOptions> = {},
  ) {
    this.options = { ...VERIFIER_DEFAULTS, ...options };
    const o = this.options;
    if (!(o.cacheEntriesMax >= 0 && o.cacheTtlMs >= 0 && o.staleIfUnavailableMs >= 0))
      throw new Error('bad cache bounds');
  }

  /** Keys in the cache now. */
  get cachedKeys(): number {
    return this.cache.size;
  }

  async verify(token: string): Promise<VerifyResult> {
    const now = this.verifyNow(token);
    if (now !== null) return now;
    const pending = this.inFlight.get(token);
    if (pending !== undefined) return pending;
    // verifyNow parsed it: a malformed key never gets here.
    const parts = parseKey(token);
    if (parts === null) return unauthorized('malformed key');
    const checking = this.check(parts.id, parts.secret).finally(() => this.inFlight.delete(token));
    this.inFlight.set(token, checking);
    return checking;
  }

  /**
   * verify's answer at once when it needs nothing asynchronous (a malformed key, or a key answered from the
   * cache), else null: then verify checks it. The REST routes take this path first, so that a cached key
   * costs a request no promise.
   */
  verifyNow(token: string): VerifyResult | null {
    const parts = parseKey(token);
    if (parts === null) return unauthorized('malformed key');
    const entry = this.cache.get(parts.id);
    if (entry !== undefined && entry.expiresAtMs > this.options.nowMs()) {
      if (timingSafeEqual(entry.digest, digestOf(parts.secret)))
        return { ok: true, principal: entry.principal };
    }
    return null;
  }

  /** A key not answered from the cache: renewed from its row, or verified with argon2. */
  private async check(id: string, secret: string): Promise<VerifyResult> {
    const now = this.options.nowMs();
    const digest = digestOf(secret);
    const entry = this.cache.get(id);
    // The hash this secret was proven against, when an entry (expired) holds the same secret.
    const provenHash = entry !== undefined && timingSafeEqual(entry.digest, digest) ? entry.secretHash : null;
    const forgotten = this.forgotten;
    let stored: Awaited<ReturnType<typeof findKey>>;
    try {
      stored = await findKey(this.store, id);
    } catch (e) {
      // The store is down: a key whose secret was proven, and not revoked through this verifier meanwhile,
      // stays good for a bounded while (no revocation can be written to a store that is down either).
      const stale =
        entry !== undefined &&
        provenHash !== null &&
        forgotten === this.forgotten &&
        e instanceof StoreError &&
        e.code === StoreErrorCode.Unavailable &&
        now - entry.expiresAtMs <= this.options.staleIfUnavailableMs;
      // The entry stays as it was (not renewed), also after a wrong secret: the next request asks again.
      if (!stale) throw e;
      return { ok: true, principal: entry.principal };
    }
    // The expired entry goes; a valid row makes a new one below.
    if (entry !== undefined && this.cache.get(id) === entry) this.cache.delete(id);
    let matches: boolean;
    if (provenHash !== null && stored !== null && stored.secretHash === provenHash) matches = true;
    else {
      // The same work whether or not the id exists: verify against a dummy hash for an unknown one.
      matches = await secretMatches(stored?.secretHash ?? (await this.dummy()), secret);
    }
    if (stored === null) return unauthorized('unknown key');
    if (!matches) return unauthorized('wrong secret');
    if (stored.revokedAt !== null) return unauthorized('revoked key');
    const principal: Principal = Object.freeze({
      keyId: stored.id,
      role: stored.role,
      accountIds: Object.freeze([...stored.accountIds]),
    });
    // A revocation through this verifier while the row was read: answer, but do not cache the old row.
    if (forgotten !== this.forgotten) return { ok: true, principal };
    this.remember(id, {
      digest,
      secretHash: stored.secretHash,
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

  /**
   * Revokes a key in the store unless it is the last unrevoked admin key (revokeKeyKeepingAdmin), and drops
   * it from this cache at once when it was revoked.
   */
  async revokeKeepingAdmin(id: string): Promise<GuardedRevokeOutcome> {
    this.forget(id);
    const outcome = await revokeKeyKeepingAdmin(this.store, id);
    this.forget(id);
    return outcome;
  }

  /**
   * Of these key ids, those revoked or gone in the store (unusableKeyIds), each dropped from the cache too.
   * Throws what the store throws (unavailable: the caller tries again later).
   */
  async unusableOf(ids: readonly string[]): Promise<string[]> {
    const gone = await unusableKeyIds(this.store, ids);
    for (const id of gone) this.forget(id);
    return gone;
  }

  /** Drops a key from the cache (after a change made elsewhere). */
  forget(id: string): void {
    this.forgotten++;
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
