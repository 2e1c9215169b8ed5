/**
 * Rate limits: the port (a rate per key, a concurrency per key), in-memory and Redis adapters, the venue's
 * policies from its configuration, and the per-IP fastify plugin with X-RateLimit headers.
 */
export {
  LimiterUnavailableError,
  LimitsErrorCode,
  POLICY_NAME_PATTERN,
  silentLog,
  type Acquired,
  type ConcurrencyLimiter,
  type FailMode,
  type LimitsLog,
  type RateDecision,
  type RateLimiter,
  type RatePolicy,
} from './types.js';
export { gcraOf, gcraStep, type Gcra, type GcraStep } from './gcra.js';
export {
  MEMORY_LIMITER_DEFAULTS,
  MemoryConcurrencyLimiter,
  MemoryRateLimiter,
  type MemoryLimiterOptions,
} from './memory.js';
export {
  LEASE_TTL_DEFAULT_MS,
  REDIS_FAILURES,
  REDIS_LIMITER_DEFAULTS,
  RedisConcurrencyLimiter,
  RedisRateLimiter,
  type RedisConcurrencyOptions,
  redisLimiterGuard,
  type RedisLimiterOptions,
} from './redis.js';
export { REDIS_CLIENT_DEFAULTS, createRedisClient, type RedisClientOptions } from './redis-client.js';
export {
  IP_WINDOW_MS,
  ORDERS_WINDOW_MS,
  venueLimiters,
  venuePolicies,
  type VenueLimiters,
  type VenuePolicies,
} from './policies.js';
export {
  ORDER_BUDGET_REFUSAL,
  RATE_LIMIT_HEADERS,
  limiterUnavailableError,
  rateLimit,
  rateLimitedError,
  setRateLimitHeaders,
  takeBudget,
  takeBudgetNow,
  type RateLimitPluginOptions,
} from './plugin.js';
