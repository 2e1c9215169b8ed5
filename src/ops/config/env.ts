/**
 * Environment variables that override the configuration file, one table. A variable set to the empty string
 * counts as unset (so `DATABASE_URL= rialto …` falls back to the file or the default). Whole numbers and
 * flags are parsed strictly here; a bad one is a problem naming the variable, not a silent default.
 */
import type { ConfigProblem } from './types.js';

export type EnvKind = 'string' | 'int' | 'bool' | 'list';

export interface EnvVar {
  readonly name: string;
  /** Where it goes in the file's shape. */
  readonly path: readonly string[];
  readonly kind: EnvKind;
}

export const CONFIG_FILE_ENV = 'RIALTO_CONFIG';

export const CONFIG_ENV: readonly EnvVar[] = Object.freeze([
  { name: 'RIALTO_MODE', path: ['mode'], kind: 'string' },
  { name: 'RIALTO_DATA_DIR', path: ['dataDir'], kind: 'string' },
  { name: 'HOST', path: ['server', 'host'], kind: 'string' },
  { name: 'PORT', path: ['server', 'port'], kind: 'int' },
  { name: 'RIALTO_HSTS_ENABLED', path: ['server', 'hsts', 'enabled'], kind: 'bool' },
  { name: 'RIALTO_TRUSTED_PROXIES', path: ['server', 'trustedProxies'], kind: 'list' },
  { name: 'DATABASE_URL', path: ['database', 'url'], kind: 'string' },
  { name: 'RIALTO_QUERY_TABLES', path: ['database', 'queryTables'], kind: 'bool' },
  { name: 'REDIS_URL', path: ['redis', 'url'], kind: 'string' },
  { name: 'NATS_URL', path: ['nats', 'url'], kind: 'string' },
  { name: 'RIALTO_NATS_STREAM_PREFIX', path: ['nats', 'streamPrefix'], kind: 'string' },
  { name: 'RIALTO_NATS_SUBJECT_PREFIX', path: ['nats', 'subjectPrefix'], kind: 'string' },
  { name: 'RIALTO_NATS_DUPLICATE_WINDOW_SECONDS', path: ['nats', 'duplicateWindowSeconds'], kind: 'int' },
  { name: 'RIALTO_NATS_ACK_WAIT_SECONDS', path: ['nats', 'ackWaitSeconds'], kind: 'int' },
  { name: 'RIALTO_NATS_ACK_PENDING_MAX', path: ['nats', 'ackPendingMax'], kind: 'int' },
  { name: 'RIALTO_NATS_STREAM_MAX_MEGABYTES', path: ['nats', 'streamMaxMegabytes'], kind: 'int' },
  { name: 'LOG_LEVEL', path: ['log', 'level'], kind: 'string' },
  { name: 'RIALTO_AUTH_ENABLED', path: ['auth', 'enabled'], kind: 'bool' },
  { name: 'RIALTO_JWT_SECRET', path: ['auth', 'jwt', 'secret'], kind: 'string' },
  { name: 'RIALTO_JWT_PUBLIC_KEY', path: ['auth', 'jwt', 'publicKey'], kind: 'string' },
  { name: 'RIALTO_JWT_PRIVATE_KEY', path: ['auth', 'jwt', 'privateKey'], kind: 'string' },
  { name: 'RIALTO_JWT_ISSUER', path: ['auth', 'jwt', 'issuer'], kind: 'string' },
  { name: 'RIALTO_JWT_AUDIENCE', path: ['auth', 'jwt', 'audience'], kind: 'string' },
  { name: 'RIALTO_RATE_LIMITS_ENABLED', path: ['rateLimits', 'enabled'], kind: 'bool' },
  { name: 'RIALTO_REQUESTS_PER_MINUTE_PER_IP', path: ['rateLimits', 'requestsPerMinutePerIp'], kind: 'int' },
  { name: 'MAX_ORDERS_PER_SECOND', path: ['rateLimits', 'ordersPerSecondPerAccount'], kind: 'int' },
  { name: 'RIALTO_WS_CONNECTIONS_PER_IP', path: ['rateLimits', 'wsConnectionsPerIp'], kind: 'int' },
  { name: 'RIALTO_MARKET_DATA_PUBLIC', path: ['marketData', 'public'], kind: 'bool' },
  { name: 'RIALTO_MD_PIPELINE_ENABLED', path: ['marketData', 'pipeline', 'enabled'], kind: 'bool' },
  { name: 'RIALTO_MD_REDIS_PREFIX', path: ['marketData', 'redisKeyPrefix'], kind: 'string' },
  { name: 'RIALTO_METRICS_TOKEN', path: ['metrics', 'token'], kind: 'string' },
]);

/** Every variable the configuration reads, the file's location included. */
/**
 * Variables that are options of one command rather than settings (`rialto engine` and `rialto gateway`, see
 * docs/internal-transport.md): known, so not warned about, and not part of the configuration.
 */
export const COMMAND_ENV_NAMES: readonly string[] = Object.freeze([
  'RIALTO_ENGINE_LISTEN',
  'RIALTO_ENGINE_ADDRESS',
  'RIALTO_ENGINE_SECRET',
]);

export const CONFIG_ENV_NAMES: readonly string[] = Object.freeze([
  CONFIG_FILE_ENV,
  ...CONFIG_ENV.map((v) => v.name),
]);

/** A variable's value, typed by its kind (a list: comma-separated, blanks dropped). */
export type EnvValue = string | number | boolean | readonly string[];

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvOverrides {
  /** Values by path (joined with '.'), already typed. */
  readonly values: ReadonlyMap<string, { readonly variable: EnvVar; readonly value: EnvValue }>;
  readonly problems: readonly ConfigProblem[];
  /** RIALTO_* variables that are not ours: probably a typing error. */
  readonly unknown: readonly string[];
}

const TRUE = new Set(['true', '1']);
const FALSE = new Set(['false', '0']);

const isProblem = (v: EnvValue | ConfigProblem): v is ConfigProblem =>
  typeof v === 'object' && !Array.isArray(v);

function parse(v: EnvVar, raw: string): EnvValue | ConfigProblem {
  const problem = (message: string): ConfigProblem => ({ path: v.path.join('.'), env: v.name, message });
  switch (v.kind) {
    case 'string':
      return raw;
    case 'int': {
      const n = /^[0-9]{1,15}$/.test(raw) ? Number(raw) : NaN;
      return Number.isSafeInteger(n) ? n : problem(`must be a whole number, got ${JSON.stringify(raw)}`);
    }
    case 'bool': {
      const lower = raw.toLowerCase();
      if (TRUE.has(lower)) return true;
      if (FALSE.has(lower)) return false;
      return problem(`must be true or false (or 1 or 0), got ${JSON.stringify(raw)}`);
    }
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
  }
}

export function readEnvOverrides(env: Env): EnvOverrides {
  const values = new Map<string, { variable: EnvVar; value: EnvValue }>();
  const problems: ConfigProblem[] = [];
  for (const v of CONFIG_ENV) {
    const raw = env[v.name];
    if (raw === undefined || raw === '') continue;
    const value = parse(v, raw);
    if (isProblem(value)) problems.push(value);
    else values.set(v.path.join('.'), { variable: v, value });
  }
  const known = new Set([...CONFIG_ENV_NAMES, ...COMMAND_ENV_NAMES]);
  const unknown = Object.keys(env)
    .filter((name) => name.startsWith('RIALTO_') && !known.has(name))
    .sort();
  return { values, problems, unknown };
}
