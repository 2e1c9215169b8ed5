/**
 * The shape of the configuration file (docs/configuration.md), as zod schemas: every section and key is
 * optional (a default fills it), unknown keys are refused, and each field says in its own words what it
 * must be. This checks shape and ranges only; what needs several fields at once (an instrument's sizes against
 * its assets' decimals, unique ids, the production rules) is checked in resolve.ts and production.ts.
 */
import { isIP } from 'node:net';
import * as z from 'zod';
import { decimalProblem } from './decimal.js';
import { CONFIG_LIMITS as L } from './limits.js';
import { MODES } from './modes.js';

export { MODES, type Mode } from './modes.js';

/** pino's levels, quietest last. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const MARK_METHODS = ['last_trade', 'mid'] as const;
export type MarkMethodName = (typeof MARK_METHODS)[number];

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${value}`;
  }
  return typeof value;
};

/** "must be WHAT, got …", or "is required" when the key is missing. */
const expected =
  (what: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : `must be ${what}, got ${describe(issue.input)}`;

const wholeNumber = (min: number, max: number) =>
  z
    .int({ error: expected(`a whole number from ${min} to ${max}`) })
    .min(min, { error: expected(`a whole number from ${min} to ${max}`) })
    .max(max, { error: expected(`a whole number from ${min} to ${max}`) });

const flag = () => z.boolean({ error: expected('true or false') });

const text = (what: string, min: number, max: number) =>
  z
    .string({ error: expected(what) })
    .min(min, { error: `must be ${what} (${min} to ${max} characters)` })
    .max(max, { error: `must be ${what} (${min} to ${max} characters)` });

/** A decimal written as a string, so that YAML never reads it as a float. */
const decimal = (what: string) =>
  z
    .string({
      error: (issue) =>
        typeof issue.input === 'number'
          ? `must be ${what} written as a string in quotes ("${issue.input}"): YAML reads an unquoted number as a float`
          : expected(`${what} written as a string`)(issue),
    })
    .superRefine((value, ctx) => {
      const problem = decimalProblem(value);
      if (problem !== '') ctx.addIssue({ code: 'custom', message: `${problem}, got ${describe(value)}` });
    });

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: expected(`one of ${values.join(', ')}`) });

const url = (what: string, protocols: readonly string[]) =>
  text(what, 1, L.urlLengthMax).superRefine((value, ctx) => {
    const parts = value.split(',');
    for (const part of parts) {
      let parsed: URL | null = null;
      try {
        parsed = new URL(part.trim());
      } catch {
        parsed = null;
      }
      if (parsed === null || !protocols.includes(parsed.protocol)) {
        const allowed = protocols.map((p) => `${p}//`).join(' or ');
        ctx.addIssue({
          code: 'custom',
          message: `must be a ${allowed} URL, got ${JSON.stringify(redactUrl(part))}`,
        });
        return;
      }
    }
  });

/** A URL with its password replaced, for messages and summaries. */
export function redactUrl(text: string): string {
  try {
    const u = new URL(text.trim());
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return text.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** A section or list entry: a mapping whose unknown keys are refused. */
const section = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, { error: expected('a mapping') });

const nullable = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

export const HstsSchema = section({
  /** Default: on in production mode (TLS ends at a proxy in front), off in development. */
  enabled: flag().optional(),
  maxAgeSeconds: wholeNumber(0, L.hstsMaxAgeSecondsMax).optional(),
  includeSubDomains: flag().optional(),
});

/** An IP address, or a network as ADDRESS/PREFIX (`10.0.0.0/8`, `fd00::/8`). */
export function proxyAddressProblem(value: string): string {
  const [address, prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return 'must be an IP address or a network such as 10.0.0.0/8';
  if (prefix === undefined) return '';
  const bits = family === 4 ? 32 : 128;
  const n = /^[0-9]{1,3}$/.test(prefix) ? Number(prefix) : -1;
  return n >= 0 && n <= bits ? '' : `must have a prefix length from 0 to ${bits} after the /`;
}

const proxyAddress = () =>
  text('an IP address or network', 1, 64).superRefine((value, ctx) => {
    const problem = proxyAddressProblem(value);
    if (problem !== '') ctx.addIssue({ code: 'custom', message: `${problem}, got ${describe(value)}` });
  });

export const ServerSchema = section({
  host: text('a host name or IP address', 1, L.hostLengthMax).optional(),
  /** 0 asks the system for a free port (tests). */
  port: wholeNumber(0, L.portMax).optional(),
  hsts: HstsSchema.optional(),
  /**
   * The proxies in front of the venue (nginx): a request from one of them is taken to come from the address it
   * names in X-Forwarded-For. Default none: the header is ignored.
   */
  trustedProxies: z
    .array(proxyAddress(), { error: expected('a list of IP addresses or networks') })
    .max(L.trustedProxiesMax, { error: `must list at most ${L.trustedProxiesMax} addresses or networks` })
    .optional(),
});

export const DatabaseSchema = section({
  /** Null or absent: PGlite in the data directory. */
  url: nullable(url('PostgreSQL', ['postgres:', 'postgresql:'])),
  /** Projects the journal into the query tables (orders, trades, ...); default: on for PostgreSQL, off for PGlite. */
  queryTables: flag().optional(),
});

export const RedisSchema = section({ url: nullable(url('Redis', ['redis:', 'rediss:'])) });
export const NatsSchema = section({
  url: nullable(url('NATS', ['nats:', 'tls:'])),
  /** The JetStream streams' names start with it (`RIALTO_MD_INGESTION`). */
  streamPrefix: z
    .string({ error: expected('a stream name prefix') })
    .regex(L.natsStreamPrefixPattern, {
      error: 'must be 1 to 32 letters, digits, _ or -, such as "RIALTO_MD_"',
    })
    .optional(),
  /** Put before every subject (`rialto.` makes `rialto.venue.events.v1.btc-usdt`): venues sharing a server. */
  subjectPrefix: z
    .string({ error: expected('a subject prefix') })
    .max(L.natsSubjectPrefixLengthMax, {
      error: `must be at most ${L.natsSubjectPrefixLengthMax} characters`,
    })
    .regex(L.natsSubjectPrefixPattern, {
      error: 'must be lowercase words of letters, digits, _ or -, each followed by a dot, such as "rialto."',
    })
    .optional(),
  duplicateWindowSeconds: wholeNumber(1, L.natsDuplicateWindowSecondsMax).optional(),
  ackWaitSeconds: wholeNumber(1, L.natsAckWaitSecondsMax).optional(),
  ackPendingMax: wholeNumber(1, L.natsAckPendingMax).optional(),
  /** Each stream's storage bound; the server reserves it for the stream (the oldest messages go first). */
  streamMaxMegabytes: wholeNumber(1, L.natsStreamMaxMegabytesMax).optional(),
});
export const LogSchema = section({ level: oneOf(LOG_LEVELS).optional() });

export const JwtSchema = section({
  /** HS256 shared secret. */
  secret: nullable(text('a secret', L.jwtSecretLengthMin, L.jwtSecretLengthMax)),
  /** EdDSA (Ed25519) public key, PEM: verifies tokens. */
  publicKey: nullable(text('a PEM public key', 1, L.pemLengthMax)),
  /** EdDSA (Ed25519) private key, PEM: signs tokens the venue issues. */
  privateKey: nullable(text('a PEM private key', 1, L.pemLengthMax)),
  issuer: nullable(text('an issuer name', 1, 256)),
  audience: nullable(text('an audience name', 1, 256)),
});

export const AuthSchema = section({
  enabled: flag().optional(),
  jwt: JwtSchema.optional(),
});

export const RateLimitsSchema = section({
  enabled: flag().optional(),
  requestsPerMinutePerIp: wholeNumber(1, L.requestsPerMinutePerIpMax).optional(),
  ordersPerSecondPerAccount: wholeNumber(1, L.ordersPerSecondPerAccountMax).optional(),
  wsConnectionsPerIp: wholeNumber(1, L.wsConnectionsPerIpMax).optional(),
});

const SECONDS_OF = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

/** A bar spec's problem ('' when none): the pattern, and a time bar's period must divide a day. */
export function barSpecProblem(spec: string): string {
  if (!L.barSpecPattern.test(spec)) return 'must be time:N{s,m,h,d}, tick:N, volume:N or dollar:N';
  const m = /^time:([0-9]+)([smhd])$/.exec(spec);
  if (m === null) return '';
  const sec = Number(m[1]) * SECONDS_OF[m[2] as keyof typeof SECONDS_OF];
  return 86_400 % sec === 0 ? '' : "a time bar's period must divide a day (1s, 1m, 5m, 1h, 1d, ...)";
}

export const PipelineSchema = section({
  /** Runs the venue's market data pipeline and its storage (default true). */
  enabled: flag().optional(),
  bars: z
    .array(
      z.string({ error: expected('a bar spec such as "time:1m"') }).superRefine((v, ctx) => {
        const problem = barSpecProblem(v);
        if (problem !== '') ctx.addIssue({ code: 'custom', message: `${problem}, got ${describe(v)}` });
      }),
      { error: expected('a list of bar specs') },
    )
    .min(1, { error: 'must list at least one bar spec' })
    .max(L.barSpecsMax, { error: `must list at most ${L.barSpecsMax} bar specs` })
    .refine((list) => new Set(list).size === list.length, { error: 'must not list a bar spec twice' })
    .optional(),
  latenessMs: wholeNumber(0, L.barLatenessMsMax).optional(),
  partitionsAheadDays: wholeNumber(0, L.partitionsAheadDaysMax).optional(),
});

export const MarketDataSchema = section({
  public: flag().optional(),
  pipeline: PipelineSchema.optional(),
  /** The Redis latest-price projection's keys start with it. */
  redisKeyPrefix: z
    .string({ error: expected('a key prefix') })
    .regex(L.redisKeyPrefixPattern, {
      error: 'must be 1 to 64 letters, digits, :, _, . or -, such as "rialto:md:"',
    })
    .optional(),
});

/** `/metrics`: a bearer token that scrapes must send; null or absent: served to anyone who reaches it. */
export const MetricsSchema = section({
  token: nullable(text('a bearer token', L.metricsTokenLengthMin, L.metricsTokenLengthMax)),
});

export const AssetSchema = section({
  id: wholeNumber(0, L.assetsMax - 1),
  code: z
    .string({ error: expected('an asset code such as "BTC"') })
    .regex(L.assetCodePattern, { error: 'must be 1 to 12 capital letters or digits, such as "BTC"' }),
  decimals: wholeNumber(0, L.assetDecimalsMax),
});

export const InstrumentSchema = section({
  id: wholeNumber(0, L.instrumentsMax - 1),
  symbol: z
    .string({ error: expected('a symbol such as "BTC-USDT"') })
    .max(L.symbolLengthMax, { error: `must have at most ${L.symbolLengthMax} characters` })
    .regex(L.symbolPattern, { error: 'must be capital letters and digits in parts joined by - / _ or .' }),
  base: z.string({ error: expected('an asset code') }),
  quote: z.string({ error: expected('an asset code') }),
  tickSize: decimal('a price step in the quote asset'),
  lotSize: decimal('a quantity step in the base asset'),
  priceUnit: decimal('a price unit in the quote asset').optional(),
  qtyUnit: decimal('a quantity unit in the base asset').optional(),
  minQty: decimal('a quantity in the base asset').optional(),
  maxQty: decimal('a quantity in the base asset'),
  referencePrice: decimal('a price in the quote asset').optional(),
  priceBandBps: wholeNumber(0, L.bandBpsMax).optional(),
  marketProtectionBps: wholeNumber(1, L.protectionBpsMax).optional(),
  makerFee: decimal('a fee rate (a fraction of the traded value, such as "0.0001")').optional(),
  takerFee: decimal('a fee rate (a fraction of the traded value, such as "0.0005")').optional(),
  markMethod: oneOf(MARK_METHODS).optional(),
});

export const ConfigFileSchema = section({
  mode: oneOf(MODES).optional(),
  dataDir: text('a directory path', 1, L.pathLengthMax).optional(),
  server: ServerSchema.optional(),
  database: DatabaseSchema.optional(),
  redis: RedisSchema.optional(),
  nats: NatsSchema.optional(),
  log: LogSchema.optional(),
  auth: AuthSchema.optional(),
  rateLimits: RateLimitsSchema.optional(),
  marketData: MarketDataSchema.optional(),
  metrics: MetricsSchema.optional(),
  assets: z
    .array(AssetSchema, { error: expected('a list of assets') })
    .min(1, { error: 'must list at least one asset' })
    .max(L.assetsMax, { error: `must list at most ${L.assetsMax} assets` })
    .optional(),
  instruments: z
    .array(InstrumentSchema, { error: expected('a list of instruments') })
    .max(L.instrumentsListedMax, { error: `must list at most ${L.instrumentsListedMax} instruments` })
    .optional(),
});

export type ConfigFile = z.infer<typeof ConfigFileSchema>;
export type AssetEntry = z.infer<typeof AssetSchema>;
export type InstrumentEntry = z.infer<typeof InstrumentSchema>;
