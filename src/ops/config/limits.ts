/**
 * Every bound the configuration checks, in one place. The domain's own limits (asset and instrument ids,
 * symbol lengths, fee and band ranges) are repeated here because ops imports nothing of the domain; a test
 * (test/ops/config/limits.test.ts) checks that each equals the core's.
 */
export const CONFIG_LIMITS = Object.freeze({
  /** A configuration file larger than this is not a configuration file. */
  fileBytesMax: 1 << 20,
  /** YAML aliases expanded per file (a bound against alias bombs). */
  yamlAliasesMax: 100,
  /** Asset ids are 0 .. assetsMax - 1 (the ledger's bound). */
  assetsMax: 1024,
  assetCodePattern: /^[A-Z0-9]{1,12}$/,
  assetDecimalsMax: 18,
  /** Instrument ids are 0 .. instrumentsMax - 1 (the core's bound). */
  instrumentsMax: 1 << 16,
  /** Instruments one configuration file may define. */
  instrumentsListedMax: 4096,
  symbolLengthMax: 32,
  symbolPattern: /^[A-Z0-9]+(?:[-/_.][A-Z0-9]+)*$/,
  /** Fees are parts per million of the traded value; above 10% is a typing error, not a fee schedule. */
  feePpmMax: 100_000,
  bandBpsMax: 10_000,
  protectionBpsMax: 10_000,
  /** An HS256 secret shorter than the hash (32 bytes) weakens it (RFC 7518, section 3.2). */
  jwtSecretLengthMin: 32,
  jwtSecretLengthMax: 4096,
  pemLengthMax: 16_384,
  urlLengthMax: 2048,
  pathLengthMax: 4096,
  hostLengthMax: 255,
  portMax: 65_535,
  requestsPerMinutePerIpMax: 10_000_000,
  ordersPerSecondPerAccountMax: 10_000_000,
  wsConnectionsPerIpMax: 1_000_000,
  /** Two years: browsers' preload lists ask for one year at least; more than two is a typing error. */
  hstsMaxAgeSecondsMax: 63_072_000,
  /** A metrics token shorter than this is guessable; longer than this is not a token. */
  metricsTokenLengthMin: 16,
  metricsTokenLengthMax: 4096,
  /** Addresses and networks listed as trusted proxies. */
  trustedProxiesMax: 64,
  /** Bar specs of the market data pipeline (the aggregator's bound). */
  barSpecsMax: 16,
  /** A bar spec: `time:N{s,m,h,d}` (dividing a day), `tick:N`, `volume:N` (lots) or `dollar:N` (ticks × lots). */
  barSpecPattern: /^(time:[1-9][0-9]{0,4}[smhd]|(tick|volume|dollar):[1-9][0-9]{0,14})$/,
  barLatenessMsMax: 3_600_000,
  partitionsAheadDaysMax: 366,
  /** JetStream stream names allow letters, digits, `_` and `-`; the family's name follows the prefix. */
  natsStreamPrefixPattern: /^[A-Za-z0-9_-]{1,32}$/,
  /** At most the streams' maximum age (a day), which the server requires. */
  natsDuplicateWindowSecondsMax: 86_400,
  natsAckWaitSecondsMax: 3_600,
  /** JETSTREAM_LIMITS.ackPendingMax. */
  natsAckPendingMax: 100_000,
  /** A stream's storage bound: 1 MiB to 1 TiB. */
  natsStreamMaxMegabytesMax: 1_048_576,
  /** Words each followed by a dot (`rialto.`), put before every subject; JetStream subjects are case-sensitive. */
  natsSubjectPrefixPattern: /^([a-z0-9_-]+\.){0,8}$/,
  natsSubjectPrefixLengthMax: 64,
  redisKeyPrefixPattern: /^[A-Za-z0-9:_.-]{1,64}$/,
});

/** What the venue runs with when neither the file nor the environment says otherwise. */
export const CONFIG_DEFAULTS = Object.freeze({
  /** The JetStream bus's, as JETSTREAM_DEFAULTS in src/bus/limits.ts (a test checks they agree). */
  natsStreamPrefix: 'RIALTO_MD_',
  natsDuplicateWindowSeconds: 120,
  natsAckWaitSeconds: 30,
  natsAckPendingMax: 1_000,
  natsStreamMaxMegabytes: 1_024,
  natsSubjectPrefix: '',
  /** As REDIS_LATEST_DEFAULTS in src/marketdata/redis. */
  redisKeyPrefix: 'rialto:md:',
  mode: 'development',
  dataDir: './data',
  host: '0.0.0.0',
  port: 8080,
  logLevel: 'info',
  requestsPerMinutePerIp: 1_000,
  ordersPerSecondPerAccount: 10_000,
  wsConnectionsPerIp: 100,
  /** One year, the usual HSTS max-age. */
  hstsMaxAgeSeconds: 31_536_000,
  marketProtectionBps: 500,
  /** The PGlite store's folder inside the data directory. */
  pgliteDirName: 'pglite',
  /** The market data pipeline's bars, how late a trade may come, and the partitions made ahead. */
  barSpecs: ['time:1s', 'time:1m', 'time:5m', 'time:1h', 'time:1d'],
  barLatenessMs: 2_000,
  partitionsAheadDays: 2,
} as const);
