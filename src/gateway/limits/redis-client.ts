/**
 * The Redis connection the limiters share, with every option that matters set here rather than left to
 * ioredis's defaults: commands fail at once while disconnected (no offline queue that would hold requests
 * for the length of an outage), a command that gets no answer fails after `commandTimeoutMs`, reconnection
 * backs off to at most two seconds and never gives up, and commands issued in one tick share one round trip.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type * as IORedis from 'ioredis';
import type { LimitsLog } from './types.js';

// ioredis is loaded when a client is made, not with this module: a venue without REDIS_URL never loads it (the
// limits' index, which every venue imports, exports this module). It is CommonJS, so require loads it at once.
const require = createRequire(import.meta.url);
const ioredis = (): typeof IORedis => require('ioredis') as typeof IORedis;

export interface RedisClientOptions {
  readonly connectTimeoutMs: number;
  /** A limiter decision waits at most this long for Redis before the fail mode applies. */
  readonly commandTimeoutMs: number;
  readonly reconnectDelayMaxMs: number;
}

export const REDIS_CLIENT_DEFAULTS: Readonly<RedisClientOptions> = Object.freeze({
  connectTimeoutMs: 2000,
  commandTimeoutMs: 250,
  reconnectDelayMaxMs: 2000,
});

/**
 * A client for `url` (redis:// or rediss://). It connects in the background; until it is up, commands fail
 * and the limiters apply their fail mode. Connection errors are logged once per outage, not per attempt.
 */
export function createRedisClient(
  url: string,
  log: LimitsLog,
  options: Partial<RedisClientOptions> = {},
): Redis {
  const o = { ...REDIS_CLIENT_DEFAULTS, ...options };
  const client = new (ioredis().Redis)(url, {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    connectTimeout: o.connectTimeoutMs,
    commandTimeout: o.commandTimeoutMs,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, o.reconnectDelayMaxMs),
    lazyConnect: false,
  });
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: { message: error.message } }, 'redis: connection failed, retrying');
  });
  client.on('ready', () => {
    if (down) log.info({}, 'redis: connected again');
    down = false;
  });
  return client;
}

/** A Lua script run by its SHA-1, loaded on first use and again after a Redis restart (NOSCRIPT). */
export class RedisScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** An integer array reply, checked: anything else means the script and this code disagree. */
export function integers(reply: unknown, length: number): number[] {
  if (!Array.isArray(reply) || reply.length !== length || !reply.every((v) => typeof v === 'number')) {
    throw new Error(`unexpected script reply ${JSON.stringify(reply)}`);
  }
  return reply;
}
