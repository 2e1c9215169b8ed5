/**
 * API keys as clients hold them: `rk_<id>.<secret>`, where the id (12 random bytes) names the key in lists
 * and logs, and the secret (32 random bytes, 256 bits) is the credential, both base64url. The secret is
 * shown once when the key is created and stored only as an argon2id hash.
 *
 * Why argon2id for a random 256-bit secret (which no one can guess, however fast the hash): a leaked table of
 * hashes must not let anyone check candidate secrets quickly, and the issue asks for it. The parameters are
 * OWASP's minimum for argon2id and are passed explicitly; since a verified key is cached (verifier.ts), the
 * cost is paid once per key and process, not per request.
 */
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

export const KEY_PREFIX = 'rk_';
export const KEY_ID_BYTES = 12;
export const KEY_SECRET_BYTES = 32;
/** base64url lengths of the above. */
export const KEY_ID_LENGTH = 16;
export const KEY_SECRET_LENGTH = 43;
export const KEY_LENGTH = KEY_PREFIX.length + KEY_ID_LENGTH + 1 + KEY_SECRET_LENGTH;

const KEY_PATTERN = /^rk_([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{16}$/;

export const ARGON2_OPTIONS = Object.freeze({
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  hashLength: 32,
});

export interface KeyParts {
  readonly id: string;
  readonly secret: string;
}

/** A new key: its parts and the string the client keeps. */
export function generateKey(): KeyParts & { readonly token: string } {
  let id = randomBytes(KEY_ID_BYTES).toString('base64url');
  // An id is typed as a command-line argument (`rialto keys revoke ID`), where a leading '-' reads as an option;
  // drawing again costs 1/64 of the ids' 96 bits, which names a key, not a credential.
  while (id.startsWith('-')) id = randomBytes(KEY_ID_BYTES).toString('base64url');
  const secret = randomBytes(KEY_SECRET_BYTES).toString('base64url');
  if (id.length !== KEY_ID_LENGTH || secret.length !== KEY_SECRET_LENGTH) throw new Error('key length');
  return { id, secret, token: `${KEY_PREFIX}${id}.${secret}` };
}

/** The parts of a key string, or null when it is not one (wrong prefix, length or alphabet). */
export function parseKey(token: string): KeyParts | null {
  if (token.length !== KEY_LENGTH) return null;
  const m = KEY_PATTERN.exec(token);
  return m === null ? null : { id: m[1], secret: m[2] };
}

export function hashSecret(secret: string): Promise<string> {
  return argon2.hash(secret, ARGON2_OPTIONS);
}

/** True when `secret` matches `hash`; false for a wrong secret or a hash that does not parse. */
export async function secretMatches(hash: string, secret: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, secret);
  } catch {
    return false;
  }
}
