/**
 * JSON Web Tokens as credentials, verified with jose: HS256 with the venue's shared secret and EdDSA
 * (Ed25519) with its public key, whichever the configuration sets (both may be). The defences, each tested:
 *
 * - Only the configured algorithms pass, each with its own key: `alg: none`, HS512, RS256 and the like are
 *   refused, and an HS256 token made with the EdDSA public key as its secret (algorithm confusion) is
 *   checked against the HS256 secret, or refused outright when the venue has none.
 * - `exp` is required and enforced, `nbf` respected, both with a small clock tolerance; `iss` and `aud`
 *   must match when configured; `sub` is required.
 * - The claims become the same Principal an API key gives: `role` one of the four roles (an unknown one is
 *   refused, not mapped to a default), `accounts` the trader's account ids, under the same rules as a key's.
 *
 * Every refusal is UNAUTHORIZED with a reason for logs; clients see only the code.
 */
import { decodeProtectedHeader, errors, importSPKI, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import type { JwtConfig } from '../../ops/config/index.js';
import {
  AuthErrorCode,
  isRole,
  keySettingsProblem,
  type AuthFailure,
  type Principal,
  type VerifyResult,
} from '../auth/index.js';

export interface JwtVerifierOptions {
  /** Seconds of leeway on `exp` and `nbf` for clocks that disagree a little. */
  readonly clockToleranceSec: number;
  /** The claim that carries the role, and the one that carries the account ids. */
  readonly roleClaim: string;
  readonly accountsClaim: string;
  /** Longer tokens are refused before any parsing. */
  readonly tokenLengthMax: number;
  /** The clock, in milliseconds (tests pass their own). */
  readonly nowMs: () => number;
}

export const JWT_VERIFIER_DEFAULTS: Readonly<JwtVerifierOptions> = Object.freeze({
  clockToleranceSec: 5,
  roleClaim: 'role',
  accountsClaim: 'accounts',
  tokenLengthMax: 8192,
  nowMs: () => Date.now(),
});

export const JWT_ALGORITHMS = ['HS256', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** A JWS compact serialization: three base64url parts (the signature may not be empty here). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** `sub` values that make a readable, unambiguous principal id. */
const SUBJECT_PATTERN = /^[\x21-\x7e]{1,128}$/;

const unauthorized = (reason: string): AuthFailure => ({
  ok: false,
  code: AuthErrorCode.Unauthorized,
  reason,
});

/** Why jose refused a token, in a few words for the log. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  return 'malformed token';
}

export class JwtVerifier {
  private readonly options: JwtVerifierOptions;

  private constructor(
    private readonly keys: ReadonlyMap<JwtAlgorithm, CryptoKey | Uint8Array>,
    private readonly config: JwtConfig,
    options: Partial<JwtVerifierOptions>,
  ) {
    this.options = { ...JWT_VERIFIER_DEFAULTS, ...options };
    if (!(this.options.clockToleranceSec >= 0 && this.options.clockToleranceSec <= 300)) {
      throw new RangeError('the clock tolerance is 0 to 300 seconds');
    }
  }

  /** A verifier for the configured keys, or null when the configuration has none (no JWTs accepted). */
  static async create(
    config: JwtConfig,
    options: Partial<JwtVerifierOptions> = {},
  ): Promise<JwtVerifier | null> {
    const keys = new Map<JwtAlgorithm, CryptoKey | Uint8Array>();
    if (config.secret !== null) keys.set('HS256', new TextEncoder().encode(config.secret));
    if (config.publicKey !== null) keys.set('EdDSA', await importSPKI(config.publicKey, 'EdDSA'));
    return keys.size === 0 ? null : new JwtVerifier(keys, config, options);
  }

  /** The algorithms accepted, as configured. */
  get algorithms(): JwtAlgorithm[] {
    return [...this.keys.keys()];
  }

  async verify(token: string): Promise<VerifyResult> {
    if (token.length > this.options.tokenLengthMax) return unauthorized('token too long');
    if (!COMPACT_JWS.test(token)) return unauthorized('not a signed JWT');
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return unauthorized('malformed header');
    }
    const key = typeof alg === 'string' ? this.keys.get(alg as JwtAlgorithm) : undefined;
    if (key === undefined) return unauthorized(`algorithm ${String(alg)} not accepted`);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [alg as JwtAlgorithm],
        clockTolerance: this.options.clockToleranceSec,
        currentDate: new Date(this.options.nowMs()),
        requiredClaims: ['exp', 'sub'],
        ...(this.config.issuer === null ? {} : { issuer: this.config.issuer }),
        ...(this.config.audience === null ? {} : { audience: this.config.audience }),
      }));
    } catch (error) {
      return unauthorized(reasonOf(error));
    }
    return this.principalOf(payload);
  }

  private principalOf(payload: JWTPayload): VerifyResult {
    const { sub } = payload;
    if (typeof sub !== 'string' || !SUBJECT_PATTERN.test(sub)) return unauthorized('bad sub claim');
    const role = payload[this.options.roleClaim];
    if (!isRole(role)) return unauthorized(`unknown role ${JSON.stringify(role) ?? 'undefined'}`);
    const accounts = payload[this.options.accountsClaim] ?? [];
    const list: readonly unknown[] = Array.isArray(accounts) ? accounts : [accounts];
    const accountIds = list.filter((a): a is number => typeof a === 'number');
    if (!Array.isArray(accounts) || accountIds.length !== list.length) {
      return unauthorized('accounts claim is not a list of account ids');
    }
    const problem = keySettingsProblem(role, accountIds, '');
    if (problem !== '') return unauthorized(problem);
    // jose has checked that `exp` is a number and not passed (give or take the tolerance).
    const exp = payload.exp as number;
    const principal: Principal = Object.freeze({
      keyId: `jwt:${sub}`,
      role,
      accountIds: Object.freeze([...accountIds]),
      expiresAtMs: (exp + this.options.clockToleranceSec) * 1000,
    });
    return { ok: true, principal };
  }
}

/** The token of an `Authorization: Bearer TOKEN` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  return m === null ? null : m[1];
}
