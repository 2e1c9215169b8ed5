/** The PostgreSQL adapter's defaults, apart from it so that reading them does not load pg. */
export const POSTGRES_DEFAULTS = Object.freeze({
  poolSize: 10,
  connectTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  statementTimeoutMs: 30_000,
});
