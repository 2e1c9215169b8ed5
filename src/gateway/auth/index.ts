/** API keys: their format, storage (hashed), verification with a cache, and roles. */
export {
  ARGON2_OPTIONS,
  KEY_ID_PATTERN,
  KEY_LENGTH,
  KEY_PREFIX,
  generateKey,
  hashSecret,
  parseKey,
  secretMatches,
  type KeyParts,
} from './api-key.js';
export {
  KeySettingsError,
  createKey,
  ensureAdminKey,
  findKey,
  listKeys,
  revokeKey,
  revokeKeyKeepingAdmin,
  unusableKeyIds,
  type ApiKeyRecord,
  type GuardedRevokeOutcome,
  type NewKey,
  type RevokeOutcome,
  type StoredKey,
} from './key-store.js';
export {
  ACCOUNT_ID_MAX,
  AuthErrorCode,
  KEY_ACCOUNTS_MAX,
  KEY_LABEL_LENGTH_MAX,
  ROLES,
  isRole,
  keySettingsProblem,
  mayActFor,
  requireAccount,
  requireRole,
  type AuthFailure,
  type Principal,
  type Role,
} from './roles.js';
export { KeyAdmin } from './key-admin.js';
export { KeyVerifier, VERIFIER_DEFAULTS, type VerifierOptions, type VerifyResult } from './verifier.js';
