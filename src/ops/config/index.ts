/** The venue's configuration: a YAML file, the environment over it, checked at start (docs/configuration.md). */
export {
  ConfigError,
  formatPath,
  formatProblem,
  loadConfig,
  loadConfigOrThrow,
  type LoadOptions,
} from './load.js';
export {
  COMMAND_ENV_NAMES,
  CONFIG_ENV,
  CONFIG_ENV_NAMES,
  CONFIG_FILE_ENV,
  type Env,
  type EnvVar,
} from './env.js';
export { CONFIG_DEFAULTS, CONFIG_LIMITS } from './limits.js';
export { DEFAULT_ASSETS, DEFAULT_INSTRUMENTS, instrumentOfSpec, resolveInstrument } from './instruments.js';
export { decimalProblem, formatDecimal } from './decimal.js';
export { EXAMPLE_JWT_SECRET } from './production.js';
export {
  LOG_LEVELS,
  MARK_METHODS,
  MODES,
  redactUrl,
  type InstrumentEntry,
  type LogLevel,
  type Mode,
} from './schema.js';
export { configSummary } from './summary.js';
export type {
  AssetConfig,
  ConfigProblem,
  ConfigResult,
  DatabaseConfig,
  InstrumentConfig,
  InstrumentSpecConfig,
  JwtConfig,
  PipelineConfig,
  RateLimitsConfig,
  VenueConfig,
} from './types.js';
