/**
 * API keys: the format, storage (only an argon2id hash), create, list, revoke, the first run's admin key,
 * verification (every failure UNAUTHORIZED, revoked keys refused, the cache bounded and honouring
 * revocation) and the role checks. Storage runs against PGlite and PostgreSQL alike.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  ACCOUNT_ID_MAX,
  AuthErrorCode,
  KEY_LENGTH,
  KeySettingsError,
  KeyVerifier,
  createKey,
  ensureAdminKey,
  findKey,
  generateKey,
  hashSecret,
  keySettingsProblem,
  listKeys,
  mayActFor,
  parseKey,
  requireAccount,
  requireRole,
  revokeKey,
  revokeKeyKeepingAdmin,
  unusableKeyIds,
  type Principal,
} from '../../src/gateway/index.js';
import { StoreError, StoreErrorCode, migrate, type Store } from '../../src/store/index.js';
import { storeFactories } from '../store/helpers.js';

describe('API key format', () => {
  it('is rk_<16 base64url>.<43 base64url>, 32 random bytes of secret, parsed back exactly', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const k = generateKey();
      assert.match(k.token, /^rk_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
      assert.equal(k.token.length, KEY_LENGTH);
      assert.equal(Buffer.from(k.secret, 'base64url').length, 32);
      assert.deepEqual(parseKey(k.token), { id: k.id, secret: k.secret });
      seen.add(k.id);
    }
    assert.equal(seen.size, 50);
  });

  it('never begins an id with "-", which a command line would read as an option', () => {
    // One draw in 64 would; 3,000 draws miss all of them with odds of about e^-47.
    for (let i = 0; i < 3000; i++) assert.doesNotMatch(generateKey().id, /^-/);
  });

  it('refuses anything else', () => {
    const { token } = generateKey();
    for (const bad of [
      '',
      'rk_',
      token + 'x',
      token.slice(1),
      'xk' + token.slice(2),
      token.replace('.', '_'),
      token.slice(0, -1) + '=',
      token.slice(0, -1) + '+',
      `Bearer ${token}`,
      token.toUpperCase().replace('RK_', 'rk_') + ' ',
    ]) {
      assert.equal(parseKey(bad), null, JSON.stringify(bad));
    }
  });
});

describe('key settings and roles', () => {
  it('traders need accounts, other roles take none; labels are bounded and printable', () => {
    assert.equal(keySettingsProblem('trader', [1, 2], 'bot'), '');
    assert.match(keySettingsProblem('trader', [], ''), /at least one account/);
    assert.match(keySettingsProblem('admin', [1], ''), /bound to no account/);
    assert.match(keySettingsProblem('trader', [0], ''), /account ids are 1 to/);
    assert.match(keySettingsProblem('trader', [ACCOUNT_ID_MAX + 1], ''), /account ids are 1 to/);
    assert.match(keySettingsProblem('trader', [3, 3], ''), /listed twice/);
    assert.match(keySettingsProblem('viewer', [], 'x'.repeat(101)), /at most 100/);
    assert.match(keySettingsProblem('viewer', [], 'a\nb'), /control characters/);
    assert.match(keySettingsProblem('viewer', [], 'a\u001b[2Jb'), /control characters/);
  });

  it('admin and risk act for any account, a trader for its own, a viewer for none', () => {
    const p = (role: Principal['role'], accountIds: number[] = []): Principal => ({
      keyId: 'k',
      role,
      accountIds,
    });
    assert.ok(mayActFor(p('admin'), 5));
    assert.ok(mayActFor(p('risk'), 5));
    assert.ok(mayActFor(p('trader', [5]), 5));
    assert.ok(!mayActFor(p('trader', [4]), 5));
    assert.ok(!mayActFor(p('viewer'), 5));
    assert.equal(requireAccount(p('trader', [5]), 5), null);
    assert.equal(requireAccount(p('trader', [4]), 5)?.code, AuthErrorCode.Forbidden);
    assert.equal(requireRole(p('viewer'), ['admin', 'risk'])?.code, 'FORBIDDEN');
    assert.equal(requireRole(p('risk'), ['admin', 'risk']), null);
  });
});

for (const factory of storeFactories()) {
  describe(`API keys in the store: ${factory.name}`, () => {
    let store: Store;

    before(async () => {
      store = await factory.fresh();
      await migrate(store);
    });
    after(async () => {
      await store.close();
      await factory.cleanup();
    });

    it('ensureAdminKey creates one admin key on an empty store, and nothing after', async () => {
      const first = await ensureAdminKey(store);
      assert.ok(first !== null);
      assert.equal(first.record.role, 'admin');
      assert.deepEqual(first.record.accountIds, []);
      assert.equal((await new KeyVerifier(store).verify(first.token)).ok, true);
      assert.equal(await ensureAdminKey(store), null);
      assert.equal((await listKeys(store)).length, 1);
    });

    it('creates keys whose secret is stored only as an argon2id hash, and lists them without it', async () => {
      const { record, token } = await createKey(store, { role: 'trader', accountIds: [7, 9], label: 'bot' });
      const parts = parseKey(token);
      assert.ok(parts !== null);
      assert.equal(parts.id, record.id);
      assert.deepEqual(record.accountIds, [7, 9]);
      assert.equal(record.label, 'bot');
      assert.equal(record.revokedAt, null);
      assert.ok(record.createdAt instanceof Date);
      const stored = await findKey(store, record.id);
      assert.ok(stored !== null);
      assert.match(stored.secretHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.ok(!stored.secretHash.includes(parts.secret));
      const rows = await store.query('SELECT * FROM api_keys');
      assert.ok(!JSON.stringify(rows).includes(parts.secret));
      const listed = (await listKeys(store)).find((k) => k.id === record.id);
      assert.deepEqual(listed, record);
      assert.ok(!('secretHash' in (listed as object)));
    });

    it('refuses invalid settings before touching the store', async () => {
      const before = (await listKeys(store)).length;
      await assert.rejects(createKey(store, { role: 'trader' }), KeySettingsError);
      await assert.rejects(createKey(store, { role: 'viewer', accountIds: [1] }), KeySettingsError);
      assert.equal((await listKeys(store)).length, before);
    });

    it('verifies a key, refuses every other string as UNAUTHORIZED, and a revoked key from then on', async () => {
      const { record, token } = await createKey(store, { role: 'risk' });
      const verifier = new KeyVerifier(store);
      const good = await verifier.verify(token);
      assert.deepEqual(good, { ok: true, principal: { keyId: record.id, role: 'risk', accountIds: [] } });

      const other = generateKey();
      const wrongSecret = `rk_${record.id}.${other.secret}`;
      const failures: [string, string][] = [
        ['', 'malformed key'],
        ['rk_nope', 'malformed key'],
        [other.token, 'unknown key'],
        [wrongSecret, 'wrong secret'],
      ];
      for (const [t, reason] of failures) {
        const r = await verifier.verify(t);
        assert.deepEqual(r, { ok: false, code: 'UNAUTHORIZED', reason }, t);
      }
      // A wrong secret for a cached key is refused too, and does not evict the right one for good.
      assert.equal((await verifier.verify(token)).ok, true);

      assert.equal((await verifier.revoke(record.id)).status, 'revoked');
      assert.deepEqual(await verifier.verify(token), {
        ok: false,
        code: 'UNAUTHORIZED',
        reason: 'revoked key',
      });
      assert.equal((await verifier.revoke(record.id)).status, 'already-revoked');
      assert.equal((await revokeKey(store, 'no-such-key-id00')).status, 'unknown');
      assert.equal((await revokeKey(store, '../etc')).status, 'unknown');
      const listed = (await listKeys(store)).find((k) => k.id === record.id);
      assert.ok(listed?.revokedAt instanceof Date);
    });

    it('revokeKeyKeepingAdmin revokes any key but the last unrevoked admin key', async () => {
      const a = await createKey(store, { role: 'admin', label: 'guard a' });
      const b = await createKey(store, { role: 'admin', label: 'guard b' });
      // The store's other admin keys revoked first, so that a and b are its last two.
      for (const k of await listKeys(store)) {
        if (k.role === 'admin' && k.revokedAt === null && k.id !== a.record.id && k.id !== b.record.id) {
          await revokeKey(store, k.id);
        }
      }
      const first = await revokeKeyKeepingAdmin(store, a.record.id);
      assert.equal(first.status, 'revoked');
      const last = await revokeKeyKeepingAdmin(store, b.record.id);
      assert.equal(last.status, 'last-admin');
      assert.equal((await findKey(store, b.record.id))?.revokedAt, null, 'the last admin key stays usable');
      assert.equal((await revokeKeyKeepingAdmin(store, a.record.id)).status, 'already-revoked');
      const viewer = await createKey(store, { role: 'viewer' });
      assert.equal((await revokeKeyKeepingAdmin(store, viewer.record.id)).status, 'revoked');
      assert.equal((await revokeKeyKeepingAdmin(store, 'AAAAAAAAAAAAAAAA')).status, 'unknown');
      assert.equal((await revokeKeyKeepingAdmin(store, '../etc')).status, 'unknown');
    });

    it('names the revoked, unknown and malformed among key ids, and no usable one', async () => {
      const live = await createKey(store, { role: 'viewer', label: 'live' });
      const dead = await createKey(store, { role: 'viewer', label: 'dead' });
      await revokeKey(store, dead.record.id);
      const ids = [live.record.id, dead.record.id, 'AAAAAAAAAAAAAAAA', 'not a key id'];
      assert.deepEqual(await unusableKeyIds(store, ids), ids.slice(1));
      assert.deepEqual(await unusableKeyIds(store, [live.record.id]), []);
      assert.deepEqual(await unusableKeyIds(store, ['x']), ['x']);
      assert.deepEqual(await unusableKeyIds(store, []), []);
    });

    it('the cache spares argon2 on later requests and honours revocation elsewhere once it expires', async () => {
      let now = 1_000;
      const verifier = new KeyVerifier(store, { cacheTtlMs: 500, nowMs: () => now });
      const { record, token } = await createKey(store, { role: 'viewer' });
      const t0 = performance.now();
      assert.equal((await verifier.verify(token)).ok, true);
      const firstMs = performance.now() - t0;
      const t1 = performance.now();
      for (let i = 0; i < 20; i++) assert.equal((await verifier.verify(token)).ok, true);
      const cachedMs = (performance.now() - t1) / 20;
      assert.ok(cachedMs < firstMs / 5, `cached ${cachedMs} ms vs first ${firstMs} ms`);

      // Revoked by another process (straight in the store): trusted until the entry expires, then refused.
      await revokeKey(store, record.id);
      assert.equal((await verifier.verify(token)).ok, true);
      now += 501;
      assert.deepEqual(await verifier.verify(token), {
        ok: false,
        code: 'UNAUTHORIZED',
        reason: 'revoked key',
      });
    });

    it('concurrent checks of one key share one lookup (and one argon2)', async () => {
      let lookups = 0;
      const counted: Store = {
        kind: store.kind,
        query: (sql, params) => {
          if (sql.includes('FROM api_keys')) lookups++;
          return store.query(sql, params);
        },
        exec: (sql) => store.exec(sql),
        transaction: (work) => store.transaction(work),
        listen: (channel, handler) => store.listen(channel, handler),
        close: () => store.close(),
      };
      const verifier = new KeyVerifier(counted);
      const { token } = await createKey(store, { role: 'viewer', label: 'burst' });
      const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
      assert.ok(results.every((r) => r.ok));
      assert.equal(lookups, 1);
      const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      const refused = await Promise.all([verifier.verify(wrong), verifier.verify(wrong)]);
      assert.ok(refused.every((r) => !r.ok));
      assert.equal(lookups, 2, 'a wrong secret is checked once for the burst too');
    });

    it('renews an expired entry from its row: a changed hash refuses the old secret', async () => {
      let now = 1_000;
      const verifier = new KeyVerifier(store, { cacheTtlMs: 500, nowMs: () => now });
      const { record, token } = await createKey(store, { role: 'viewer', label: 'rotated' });
      assert.equal((await verifier.verify(token)).ok, true);
      now += 501;
      assert.equal((await verifier.verify(token)).ok, true, 'renewed: the row is unchanged');
      // The key's secret replaced in the store (by another process): the old secret no longer verifies.
      const other = generateKey();
      await store.query('UPDATE api_keys SET secret_hash = $1 WHERE id = $2', [
        await hashSecret(other.secret),
        record.id,
      ]);
      assert.equal((await verifier.verify(token)).ok, true, 'trusted until the entry expires');
      now += 501;
      assert.deepEqual(await verifier.verify(token), {
        ok: false,
        code: 'UNAUTHORIZED',
        reason: 'wrong secret',
      });
      assert.equal((await verifier.verify(`rk_${record.id}.${other.secret}`)).ok, true);
    });

    it('while the store is unavailable, an expired entry keeps answering for staleIfUnavailableMs, and only it', async () => {
      let now = 1_000;
      let down = false;
      const unavailable = (): Promise<never> =>
        Promise.reject(new StoreError(StoreErrorCode.Unavailable, 'postgres is unavailable: ECONNREFUSED'));
      const flaky: Store = {
        kind: store.kind,
        query: (sql, params) => (down ? unavailable() : store.query(sql, params)),
        exec: (sql) => (down ? unavailable() : store.exec(sql)),
        transaction: (work) => (down ? unavailable() : store.transaction(work)),
        listen: (channel, handler) => store.listen(channel, handler),
        close: () => store.close(),
      };
      const verifier = new KeyVerifier(flaky, {
        cacheTtlMs: 500,
        staleIfUnavailableMs: 1_000,
        nowMs: () => now,
      });
      const seen = await createKey(store, { role: 'viewer', label: 'seen' });
      const unseen = await createKey(store, { role: 'viewer', label: 'unseen' });
      assert.equal((await verifier.verify(seen.token)).ok, true);
      down = true;
      now += 501;
      const stale = await verifier.verify(seen.token);
      assert.equal(stale.ok, true, 'verified before the outage: still good');
      // A key never verified, and a wrong secret for a cached one, need the store: the outage is their error,
      // and the wrong secret does not cost the right one its entry.
      await assert.rejects(verifier.verify(unseen.token), StoreError);
      const wrong = `${seen.token.slice(0, -1)}${seen.token.endsWith('A') ? 'B' : 'A'}`;
      await assert.rejects(verifier.verify(wrong), StoreError);
      now += 999;
      assert.equal((await verifier.verify(seen.token)).ok, true, 'still within the bound');
      now += 2;
      await assert.rejects(verifier.verify(seen.token), StoreError, 'past the bound the store must answer');
      // Revoked through this verifier (the store down, so the revocation fails): never served stale again.
      down = false;
      now += 1;
      assert.equal((await verifier.verify(seen.token)).ok, true, 'renewed once the store is back');
      down = true;
      await assert.rejects(verifier.revoke(seen.record.id), StoreError);
      now += 501;
      await assert.rejects(verifier.verify(seen.token), StoreError);
    });

    it('the cache holds at most cacheEntriesMax keys', async () => {
      const verifier = new KeyVerifier(store, { cacheEntriesMax: 2 });
      const keys = [];
      for (let i = 0; i < 3; i++) keys.push(await createKey(store, { role: 'viewer', label: `k${i}` }));
      for (const k of keys) assert.equal((await verifier.verify(k.token)).ok, true);
      assert.equal(verifier.cachedKeys, 2);
      for (const k of keys) assert.equal((await verifier.verify(k.token)).ok, true);
      assert.equal(verifier.cachedKeys, 2);
    });
  });
}

describe('API keys: racing revocations', () => {
  it('two admins revoking each other at once on PostgreSQL leave one admin key', async () => {
    const [factory] = storeFactories().filter((f) => f.name === 'postgres');
    const store = await factory.fresh();
    try {
      await migrate(store);
      const a = await createKey(store, { role: 'admin' });
      const b = await createKey(store, { role: 'admin' });
      const outcomes = await Promise.all([
        revokeKeyKeepingAdmin(store, a.record.id),
        revokeKeyKeepingAdmin(store, b.record.id),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status).sort(), ['last-admin', 'revoked']);
      assert.equal((await listKeys(store)).filter((k) => k.revokedAt === null).length, 1);
    } finally {
      await store.close();
      await factory.cleanup();
    }
  });
});

describe('API keys: racing first runs', () => {
  it('two ensureAdminKey at once on PostgreSQL create one key', async () => {
    const [factory] = storeFactories().filter((f) => f.name === 'postgres');
    const store = await factory.fresh();
    try {
      await migrate(store);
      const results = await Promise.all([
        ensureAdminKey(store),
        ensureAdminKey(store),
        ensureAdminKey(store),
      ]);
      assert.equal(results.filter((r) => r !== null).length, 1);
      assert.equal((await listKeys(store)).length, 1);
    } finally {
      await store.close();
      await factory.cleanup();
    }
  });
});
