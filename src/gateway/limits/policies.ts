/**
 * The venue's limits (issue 5) as policies, from the configuration's `rateLimits` section, and the limiters
 * for them: in memory, or shared through Redis when the venue has a `redis.url`.
 */
import type { Redis } from 'ioredis';
import type { RateLimitsConfig } from '../../ops/config/index.js';
import { MemoryConcurrencyLimiter, MemoryRateLimiter } from './memory.js';
import { RedisConcurrencyLimiter, RedisRateLimiter, type RedisLimiterOptions } from './redis.js';
import type { ConcurrencyLimiter, RateLimiter, RatePolicy } from './types.js';

export const IP_WINDOW_MS = 60_000;
export const ORDERS_WINDOW_MS = 1000;

export interface VenuePolicies {
  /** Requests per IP address per minute (all HTTP requests). */
  readonly ip: RatePolicy;
  /** Orders per account per second (placing, amending; REST and WebSocket alike). */
  readonly orders: RatePolicy;
  /** Open WebSocket connections per IP address. */
  readonly wsConnectionsPerIp: number;
}

export function venuePolicies(config: RateLimitsConfig): VenuePolicies {
  return {
    ip: { name: 'ip', limit: config.requestsPerMinutePerIp, windowMs: IP_WINDOW_MS },
    orders: { name: 'orders', limit: config.ordersPerSecondPerAccount, windowMs: ORDERS_WINDOW_MS },
    wsConnectionsPerIp: config.wsConnectionsPerIp,
  };
}

export interface VenueLimiters {
  readonly ip: RateLimiter;
  readonly orders: RateLimiter;
  readonly wsConnections: ConcurrencyLimiter;
  /** Stops background work (lease renewal); does not close the Redis client, which the caller owns. */
  close(): void;
}

/**
 * The venue's limiters: through `redis` when given (a client from createRedisClient, owned by the caller),
 * else in this process's memory. Null when limits are disabled (`rateLimits.enabled: false`).
 */
export function venueLimiters(
  config: RateLimitsConfig,
  redis: Redis | null,
  options: Partial<RedisLimiterOptions> = {},
): VenueLimiters | null {
  if (!config.enabled) return null;
  const p = venuePolicies(config);
  if (redis === null) {
    const clock = options.nowMs === undefined || options.nowMs === null ? {} : { nowMs: options.nowMs };
    return {
      ip: new MemoryRateLimiter(p.ip, clock),
      orders: new MemoryRateLimiter(p.orders, clock),
      wsConnections: new MemoryConcurrencyLimiter(p.wsConnectionsPerIp),
      close: () => undefined,
    };
  }
  const connections = new RedisConcurrencyLimiter(redis, p.wsConnectionsPerIp, options);
  return {
    ip: new RedisRateLimiter(redis, p.ip, options),
    orders: new RedisRateLimiter(redis, p.orders, options),
    wsConnections: connections,
    close: () => connections.close(),
  };
}
