/**
 * Checks that need more than one field: the JWT keys (that they are Ed25519 keys and belong together) in any
 * mode, and the rules of `production` mode, which refuses a venue that would run open: without secrets to
 * verify tokens, without authentication, logging at debug or trace, or without rate limits.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { ConfigProblem, VenueConfig } from './types.js';

/** The placeholder of rialto.example.yaml: a file copied without changing it must not reach production. */
export const EXAMPLE_JWT_SECRET = 'change-me-to-a-long-random-secret-of-32-characters-or-more';

function problem(path: string, message: string): ConfigProblem {
  return { path, env: null, message };
}

function ed25519(pem: string, make: (pem: string) => KeyObject): KeyObject | string {
  let key: KeyObject;
  try {
    key = make(pem);
  } catch {
    return 'is not a PEM key that node can read';
  }
  return key.asymmetricKeyType === 'ed25519'
    ? key
    : `is a ${key.asymmetricKeyType ?? 'symmetric'} key, not Ed25519 (EdDSA)`;
}

export function keyProblems(config: VenueConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { publicKey, privateKey } = config.auth.jwt;
  const pub = publicKey === null ? null : ed25519(publicKey, createPublicKey);
  const priv = privateKey === null ? null : ed25519(privateKey, createPrivateKey);
  if (typeof pub === 'string') problems.push(problem('auth.jwt.publicKey', pub));
  if (typeof priv === 'string') problems.push(problem('auth.jwt.privateKey', priv));
  if (priv !== null && typeof priv !== 'string') {
    const derived = createPublicKey(priv).export({ format: 'der', type: 'spki' });
    if (pub === null) {
      problems.push(
        problem(
          'auth.jwt.publicKey',
          'is required with a private key (tokens the venue signs are verified with it)',
        ),
      );
    } else if (typeof pub !== 'string' && !derived.equals(pub.export({ format: 'der', type: 'spki' }))) {
      problems.push(problem('auth.jwt.privateKey', 'does not belong to auth.jwt.publicKey'));
    }
  }
  return problems;
}

export function productionProblems(config: VenueConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const refuse = (path: string, message: string): void => void problems.push(problem(path, message));
  const { auth, rateLimits } = config;
  if (!auth.enabled) {
    refuse('auth.enabled', 'production mode refuses to run without authentication: set auth.enabled to true');
  }
  if (auth.jwt.secret === null && auth.jwt.publicKey === null) {
    refuse(
      'auth.jwt',
      'production mode needs a secret to verify tokens: set auth.jwt.secret (RIALTO_JWT_SECRET, HS256) or ' +
        'auth.jwt.publicKey (RIALTO_JWT_PUBLIC_KEY, EdDSA)',
    );
  }
  if (auth.jwt.secret === EXAMPLE_JWT_SECRET) {
    refuse(
      'auth.jwt.secret',
      "is the example file's placeholder: production mode needs a secret of your own",
    );
  }
  if (config.logLevel === 'debug' || config.logLevel === 'trace') {
    refuse(
      'log.level',
      `production mode refuses ${config.logLevel} logging (it logs request details): use info or above`,
    );
  }
  if (!rateLimits.enabled) {
    refuse(
      'rateLimits.enabled',
      'production mode refuses to run without rate limits: set rateLimits.enabled to true',
    );
  }
  return problems;
}
