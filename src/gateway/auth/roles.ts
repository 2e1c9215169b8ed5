/**
 * Who may do what, coarsely: four roles, and for traders the accounts their key is bound to. Routes name the
 * roles they allow; account checks go through `mayActFor`.
 *
 * - viewer: reads market data and the venue's public state; acts for no account.
 * - trader: places and cancels orders, reads balances, only for its bound accounts (at least one).
 * - risk: reads every account, sets limits, halts and kill switches.
 * - admin: everything, keys included.
 */
export const ROLES = ['viewer', 'trader', 'risk', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: unknown): value is Role => (ROLES as readonly unknown[]).includes(value);

/** Account ids are 1 .. 2^20 (the core's bound; a test keeps them equal). */
export const ACCOUNT_ID_MAX = 1 << 20;
/** Accounts one trader key may be bound to. */
export const KEY_ACCOUNTS_MAX = 64;
export const KEY_LABEL_LENGTH_MAX = 100;

/** An authenticated caller. */
export interface Principal {
  readonly keyId: string;
  readonly role: Role;
  /** A trader's accounts; empty for the other roles. */
  readonly accountIds: readonly number[];
  /**
   * When the credential stops being valid, milliseconds since 1970: a JWT's `exp` plus the clock tolerance.
   * Absent for API keys, which are valid until revoked. A WebSocket session ends at this time.
   */
  readonly expiresAtMs?: number;
}

export const AuthErrorCode = {
  /** No credential, or one that is malformed, unknown, revoked or wrong. */
  Unauthorized: 'UNAUTHORIZED',
  /** A valid credential without the right for this. */
  Forbidden: 'FORBIDDEN',
} as const;
export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

/** A refusal. `reason` is for logs and tests only: clients see the code and a generic message. */
export interface AuthFailure {
  readonly ok: false;
  readonly code: AuthErrorCode;
  readonly reason: string;
}

export const forbidden = (reason: string): AuthFailure => ({
  ok: false,
  code: AuthErrorCode.Forbidden,
  reason,
});

/** Null when `p` has one of the `allowed` roles, else FORBIDDEN. */
export function requireRole(p: Principal, allowed: readonly Role[]): AuthFailure | null {
  return allowed.includes(p.role) ? null : forbidden(`role ${p.role} is not one of ${allowed.join(', ')}`);
}

/** True when `p` may act for `accountId`: admin and risk for any, a trader for its own, a viewer for none. */
export function mayActFor(p: Principal, accountId: number): boolean {
  switch (p.role) {
    case 'admin':
    case 'risk':
      return true;
    case 'trader':
      return p.accountIds.includes(accountId);
    case 'viewer':
      return false;
  }
}

/** Null when `p` may act for `accountId`, else FORBIDDEN. */
export function requireAccount(p: Principal, accountId: number): AuthFailure | null {
  return mayActFor(p, accountId) ? null : forbidden(`key ${p.keyId} may not act for account ${accountId}`);
}

/** Why a key with these settings cannot be created, or ''. */
export function keySettingsProblem(role: Role, accountIds: readonly number[], label: string): string {
  if (role === 'trader' && accountIds.length === 0) return 'a trader key needs at least one account';
  if (role !== 'trader' && accountIds.length > 0)
    return `${role === 'admin' ? 'an' : 'a'} ${role} key is bound to no account (only traders are)`;
  if (accountIds.length > KEY_ACCOUNTS_MAX) return `a key is bound to at most ${KEY_ACCOUNTS_MAX} accounts`;
  for (const a of accountIds) {
    if (!Number.isInteger(a) || a < 1 || a > ACCOUNT_ID_MAX)
      return `account ids are 1 to ${ACCOUNT_ID_MAX}, got ${a}`;
  }
  if (new Set(accountIds).size !== accountIds.length) return 'an account is listed twice';
  if (label.length > KEY_LABEL_LENGTH_MAX) return `a label has at most ${KEY_LABEL_LENGTH_MAX} characters`;
  // Labels are printed in lists and logs: no control characters that could forge lines or move the cursor.
  if (/\p{Cc}/u.test(label)) return 'a label cannot contain control characters';
  return '';
}
