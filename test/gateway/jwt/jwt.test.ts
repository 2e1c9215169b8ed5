/**
 * JWT verification with real signed tokens: HS256 and EdDSA accepted as configured and mapped to the
 * Principal an API key gives; refused, always as UNAUTHORIZED: expired, not yet valid, without exp or sub,
 * `alg: none`, algorithm confusion (HS256 signed with the EdDSA public key), algorithms not configured,
 * wrong issuer or audience, tampered payloads, unknown roles and bad account claims.
 */
import { strict as assert } from 'node:assert';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, importPKCS8, type JWTPayload } from 'jose';
import type { JwtConfig } from '../../../src/ops/config/index.js';
import { JwtVerifier, bearerToken, type JwtVerifierOptions } from '../../../src/gateway/jwt/index.js';
import type { VerifyResult } from '../../../src/gateway/auth/index.js';

const NOW_MS = 1_800_000_000_000;
const NOW_S = NOW_MS / 1000;
const SECRET = randomBytes(32).toString('base64url');
const ed = generateKeyPairSync('ed25519');
const PUBLIC_PEM = ed.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const PRIVATE_PEM = ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const other = generateKeyPairSync('ed25519');
const OTHER_PRIVATE_PEM = other.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

const config = (c: Partial<JwtConfig>): JwtConfig => ({
  secret: null,
  publicKey: null,
  privateKey: null,
  issuer: null,
  audience: null,
  ...c,
});

const trader: JWTPayload = { sub: 'alice', role: 'trader', accounts: [7, 9], exp: NOW_S + 300 };

async function hs256(
  payload: JWTPayload,
  secret: string | Uint8Array = SECRET,
  alg = 'HS256',
): Promise<string> {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

async function eddsa(payload: JWTPayload, pem = PRIVATE_PEM): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA' }).sign(await importPKCS8(pem, 'EdDSA'));
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

async function verifier(c: Partial<JwtConfig>, o: Partial<JwtVerifierOptions> = {}): Promise<JwtVerifier> {
  const v = await JwtVerifier.create(config(c), { nowMs: () => NOW_MS, ...o });
  assert.ok(v !== null);
  return v;
}

function refused(result: VerifyResult, reason?: RegExp): void {
  assert.equal(result.ok, false, JSON.stringify(result));
  if (result.ok) return;
  assert.equal(result.code, 'UNAUTHORIZED');
  if (reason !== undefined) assert.match(result.reason, reason);
}

describe('JWT verification', () => {
  it('accepts HS256 and EdDSA as configured, mapping the claims to a Principal', async () => {
    const both = await verifier({ secret: SECRET, publicKey: PUBLIC_PEM });
    assert.deepEqual(both.algorithms, ['HS256', 'EdDSA']);
    for (const token of [await hs256(trader), await eddsa(trader)]) {
      const result = await both.verify(token);
      assert.deepEqual(result, {
        ok: true,
        // Valid until exp plus the default tolerance of 5 s: a WebSocket session ends then.
        principal: {
          keyId: 'jwt:alice',
          role: 'trader',
          accountIds: [7, 9],
          expiresAtMs: (NOW_S + 305) * 1000,
        },
      });
    }
    const admin = await both.verify(await eddsa({ sub: 'ops', role: 'admin', exp: NOW_S + 60 }));
    assert.deepEqual(admin, {
      ok: true,
      principal: { keyId: 'jwt:ops', role: 'admin', accountIds: [], expiresAtMs: (NOW_S + 65) * 1000 },
    });
  });

  it('no keys configured: no verifier, so no token is accepted', async () => {
    assert.equal(await JwtVerifier.create(config({})), null);
  });

  it('enforces exp (required) and nbf, with the configured clock tolerance', async () => {
    const v = await verifier({ secret: SECRET }, { clockToleranceSec: 5 });
    refused(await v.verify(await hs256({ ...trader, exp: NOW_S - 6 })), /expired/);
    const late = await v.verify(await hs256({ ...trader, exp: NOW_S - 4 }));
    assert.equal(late.ok && late.principal.expiresAtMs, (NOW_S + 1) * 1000, 'valid for one more second');
    refused(await v.verify(await hs256({ ...trader, nbf: NOW_S + 60 })), /nbf/);
    assert.equal((await v.verify(await hs256({ ...trader, nbf: NOW_S + 4 }))).ok, true);
    const { exp: _exp, ...noExp } = trader;
    refused(await v.verify(await hs256(noExp)), /exp/);
    const { sub: _sub, ...noSub } = trader;
    refused(await v.verify(await hs256(noSub)), /sub/);
    const strict = await verifier({ secret: SECRET }, { clockToleranceSec: 0 });
    refused(await strict.verify(await hs256({ ...trader, exp: NOW_S - 1 })), /expired/);
  });

  it('refuses alg none in any spelling, with or without a signature', async () => {
    const v = await verifier({ secret: SECRET, publicKey: PUBLIC_PEM });
    const body = b64(trader);
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      refused(await v.verify(`${b64({ alg, typ: 'JWT' })}.${body}.`));
      refused(await v.verify(`${b64({ alg, typ: 'JWT' })}.${body}.c2lnbmF0dXJl`), /not accepted/);
    }
  });

  it('refuses algorithm confusion: HS256 signed with the EdDSA public key as its secret', async () => {
    const forged = await hs256(trader, new TextEncoder().encode(PUBLIC_PEM));
    const der = ed.publicKey.export({ format: 'der', type: 'spki' });
    const forgedDer = await hs256(trader, new Uint8Array(der));
    const eddsaOnly = await verifier({ publicKey: PUBLIC_PEM });
    refused(await eddsaOnly.verify(forged), /algorithm HS256 not accepted/);
    refused(await eddsaOnly.verify(forgedDer), /algorithm HS256 not accepted/);
    const both = await verifier({ secret: SECRET, publicKey: PUBLIC_PEM });
    refused(await both.verify(forged), /bad signature/);
    refused(await both.verify(forgedDer), /bad signature/);
  });

  it('accepts only the configured algorithms and keys', async () => {
    const hsOnly = await verifier({ secret: SECRET });
    refused(await hsOnly.verify(await eddsa(trader)), /EdDSA not accepted/);
    refused(await hsOnly.verify(await hs256(trader, SECRET, 'HS512')), /HS512 not accepted/);
    refused(await hsOnly.verify(await hs256(trader, randomBytes(32).toString('hex'))), /bad signature/);
    const edOnly = await verifier({ publicKey: PUBLIC_PEM });
    refused(await edOnly.verify(await eddsa(trader, OTHER_PRIVATE_PEM)), /bad signature/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs256 = await new SignJWT(trader).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    refused(await edOnly.verify(rs256), /RS256 not accepted/);
  });

  it('checks issuer and audience when configured', async () => {
    const v = await verifier({ secret: SECRET, issuer: 'https://auth.example', audience: 'rialto' });
    const ok = { ...trader, iss: 'https://auth.example', aud: 'rialto' };
    assert.equal((await v.verify(await hs256(ok))).ok, true);
    assert.equal((await v.verify(await hs256({ ...ok, aud: ['other', 'rialto'] }))).ok, true);
    refused(await v.verify(await hs256({ ...ok, iss: 'https://evil.example' })), /iss/);
    refused(await v.verify(await hs256({ ...ok, aud: 'other' })), /aud/);
    refused(await v.verify(await hs256(trader)), /iss|aud/);
    const open = await verifier({ secret: SECRET });
    assert.equal((await open.verify(await hs256({ ...trader, iss: 'anyone', aud: 'anything' }))).ok, true);
  });

  it('refuses tampered and malformed tokens', async () => {
    const v = await verifier({ secret: SECRET, publicKey: PUBLIC_PEM });
    const [header, , signature] = (await eddsa(trader)).split('.');
    refused(await v.verify(`${header}.${b64({ ...trader, role: 'admin' })}.${signature}`), /bad signature/);
    for (const bad of [
      '',
      'a.b',
      'a.b.c.d',
      'x'.repeat(9000),
      '!!!.???.***',
      `${b64({ alg: 'HS256' })}.e30.`,
    ]) {
      refused(await v.verify(bad));
    }
    refused(await v.verify(`bm90IGpzb24.${b64(trader)}.c2ln`), /malformed header/);
  });

  it('maps roles and accounts under the same rules as API keys', async () => {
    const v = await verifier({ secret: SECRET });
    const cases: [JWTPayload, RegExp][] = [
      [{ ...trader, role: 'superuser' }, /unknown role/],
      [{ ...trader, role: 'Admin' }, /unknown role/],
      [{ ...trader, role: undefined }, /unknown role/],
      [{ ...trader, accounts: [] }, /trader key needs at least one account/],
      [{ ...trader, accounts: undefined }, /trader key needs at least one account/],
      [{ ...trader, role: 'viewer' }, /bound to no account/],
      [{ ...trader, accounts: [0] }, /account ids/],
      [{ ...trader, accounts: [1.5] }, /account ids/],
      [{ ...trader, accounts: ['7'] }, /not a list/],
      [{ ...trader, accounts: 7 }, /not a list/],
      [{ ...trader, accounts: [7, 7] }, /twice/],
      [{ ...trader, accounts: Array.from({ length: 65 }, (_, i) => i + 1) }, /at most 64/],
      [{ ...trader, sub: 'two words' }, /sub/],
      [{ ...trader, sub: 'x'.repeat(129) }, /sub/],
    ];
    for (const [payload, reason] of cases) refused(await v.verify(await hs256(payload)), reason);
    const custom = await verifier(
      { secret: SECRET },
      { roleClaim: 'rialto/role', accountsClaim: 'rialto/accounts' },
    );
    const mapped = await custom.verify(
      await hs256({ sub: 'bob', exp: NOW_S + 60, 'rialto/role': 'trader', 'rialto/accounts': [3] }),
    );
    assert.deepEqual(mapped, {
      ok: true,
      principal: { keyId: 'jwt:bob', role: 'trader', accountIds: [3], expiresAtMs: (NOW_S + 65) * 1000 },
    });
  });

  it('bearerToken takes the token of an Authorization header, and nothing else', () => {
    assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(bearerToken('bearer abc.def-_ghi~+/=='), 'abc.def-_ghi~+/==');
    for (const bad of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Basic abc',
      'Bearer a b',
      'Bearer  abc',
      'Bearer abc\n',
    ]) {
      assert.equal(bearerToken(bad), null, JSON.stringify(bad));
    }
  });
});
