/**
 * Market data adapters that talk to Redis (the one part of src/marketdata with sockets): the latest-price
 * projection, and the choice of projection by configuration.
 */
import { InMemoryLatest, type LatestProjection } from '../pipeline/index.js';
import { RedisLatest, createLatestRedisClient, type RedisLatestOptions } from './latest.js';

export {
  REDIS_LATEST_DEFAULTS,
  RedisLatest,
  barNotOlder,
  createLatestRedisClient,
  type RedisLatestCounters,
  type RedisLatestOptions,
} from './latest.js';

export interface OpenedProjection {
  readonly projection: LatestProjection;
  /** 'redis' when `redisUrl` was set, else 'memory'. */
  readonly kind: 'redis' | 'memory';
  /** Writes what is waiting and closes the connection. */
  close(): Promise<void>;
}

/** The Redis projection when `redisUrl` is set (`REDIS_URL`), else the in-memory one. */
export function openLatestProjection(
  redisUrl: string | null,
  options: Partial<RedisLatestOptions> = {},
): OpenedProjection {
  if (redisUrl === null) {
    return { projection: new InMemoryLatest(), kind: 'memory', close: () => Promise.resolve() };
  }
  const client = createLatestRedisClient(redisUrl);
  const projection = new RedisLatest(client, options);
  return {
    projection,
    kind: 'redis',
    async close() {
      try {
        await projection.close();
      } finally {
        client.disconnect();
      }
    },
  };
}
