/**
 * The venue's configuration once loaded and checked: every default filled in, every size an integer. This is
 * what the rest of Rialto reads; the file's own shape (schema.ts) stays inside this folder.
 */
import type { LogLevel, Mode } from './schema.js';

export interface AssetConfig {
  readonly id: number;
  readonly code: string;
  /** Decimal places of one minor unit: 2 for cents, 8 for satoshis. */
  readonly decimals: number;
}

/**
 * An instrument in the core's integer terms. The field names and units are those of the core's
 * InstrumentSpec (src/core/instruments.ts), so the object serves as a DefineInstrument command's spec as it
 * is; a test keeps the two in step. Prices are integers in price units, quantities in quantity units.
 */
export interface InstrumentSpecConfig {
  readonly instrument: number;
  readonly symbol: string;
  readonly baseAsset: number;
  readonly quoteAsset: number;
  /** Base minor units per quantity unit. */
  readonly baseScale: number;
  /** Quote minor units per quantity unit per price unit. */
  readonly quoteScale: number;
  /** Prices are multiples of this many price units; quantities of this many quantity units. */
  readonly tickSize: number;
  readonly lotSize: number;
  readonly qtyMin: number;
  readonly qtyMax: number;
  readonly priceBandBps: number;
  /** In price units; 0 for none. */
  readonly referencePrice: number;
  readonly marketProtectionBps: number;
  readonly makerFeePpm: number;
  readonly takerFeePpm: number;
  /** 1 last trade, 2 mid (the core's MarkMethod). */
  readonly markMethod: 1 | 2;
}

export interface InstrumentConfig {
  readonly spec: InstrumentSpecConfig;
  readonly baseCode: string;
  readonly quoteCode: string;
  /** The assets' decimals (of one minor unit): fees and amounts are shown with them. */
  readonly baseDecimals: number;
  readonly quoteDecimals: number;
  /**
   * The decimal value of one price unit (in the quote asset) and one quantity unit (in the base asset), in
   * canonical form: what the gateway multiplies integers by, and divides decimal strings by.
   */
  readonly priceUnit: string;
  readonly qtyUnit: string;
  /** Digits after the point of a price and a quantity, in canonical form ("0.01" has 2). */
  readonly priceDecimals: number;
  readonly qtyDecimals: number;
  /** The configured steps, as decimal strings in canonical form (for messages and summaries). */
  readonly tickSize: string;
  readonly lotSize: string;
}

export type DatabaseConfig =
  /** The embedded default: PostgreSQL in-process, its files in `dir` (inside the data directory). */
  { readonly kind: 'pglite'; readonly dir: string } | { readonly kind: 'postgres'; readonly url: string };

export interface JwtConfig {
  readonly secret: string | null;
  readonly publicKey: string | null;
  readonly privateKey: string | null;
  readonly issuer: string | null;
  readonly audience: string | null;
}

/** The venue's market data pipeline (docs/marketdata.md#in-rialto-start). */
export interface PipelineConfig {
  readonly enabled: boolean;
  /** Bar specs as written (`time:1m`, `tick:500`), checked. */
  readonly bars: readonly string[];
  readonly latenessMs: number;
  readonly partitionsAheadDays: number;
}

export interface RateLimitsConfig {
  readonly enabled: boolean;
  readonly requestsPerMinutePerIp: number;
  readonly ordersPerSecondPerAccount: number;
  readonly wsConnectionsPerIp: number;
}

export interface VenueConfig {
  readonly mode: Mode;
  /** Absolute. */
  readonly dataDir: string;
  readonly server: {
    readonly host: string;
    readonly port: number;
    /** Strict-Transport-Security on every answer, or null: not sent. */
    readonly hsts: { readonly maxAgeSeconds: number; readonly includeSubDomains: boolean } | null;
    /** Addresses and networks (CIDR) of the proxies whose X-Forwarded-For is believed; empty: none. */
    readonly trustedProxies: readonly string[];
  };
  readonly database: DatabaseConfig;
  /**
   * The query tables (orders, trades, ledger entries, balances, accounts, instruments) kept as a projection of
   * the journal in the query store: on by default for PostgreSQL, off for PGlite (whose SQL runs on the
   * venue's own thread); docs/architecture.md#query-tables-srcprojection.
   */
  readonly queryTables: { readonly enabled: boolean };
  readonly redisUrl: string | null;
  readonly natsUrl: string | null;
  /** The JetStream bus's settings, used when `natsUrl` is set. */
  readonly jetstream: {
    readonly streamPrefix: string;
    /** Before every subject ('' or words each followed by a dot). */
    readonly subjectPrefix: string;
    readonly duplicateWindowMs: number;
    readonly ackWaitMs: number;
    readonly ackPendingMax: number;
    /** Each stream's storage bound, bytes. */
    readonly streamMaxBytes: number;
  };
  readonly logLevel: LogLevel;
  readonly auth: { readonly enabled: boolean; readonly jwt: JwtConfig };
  readonly rateLimits: RateLimitsConfig;
  readonly marketData: {
    readonly public: boolean;
    readonly pipeline: PipelineConfig;
    /** The Redis latest-price projection's key prefix, used when `redisUrl` is set. */
    readonly redisKeyPrefix: string;
  };
  /** `/metrics` asks for `Authorization: Bearer TOKEN` when a token is set. */
  readonly metrics: { readonly token: string | null };
  readonly assets: readonly AssetConfig[];
  readonly instruments: readonly InstrumentConfig[];
}

/** One thing wrong with a configuration: where (a field path such as `instruments[0].tickSize`) and what. */
export interface ConfigProblem {
  readonly path: string;
  /** The environment variable the value came from, when it did not come from the file. */
  readonly env: string | null;
  readonly message: string;
}

export type ConfigResult =
  | {
      readonly ok: true;
      readonly config: VenueConfig;
      /** Where the values came from: the file (or null for defaults only) and the variables applied. */
      readonly file: string | null;
      readonly envApplied: readonly string[];
      readonly warnings: readonly string[];
    }
  | {
      readonly ok: false;
      readonly problems: readonly ConfigProblem[];
      readonly file: string | null;
      readonly warnings: readonly string[];
    };
