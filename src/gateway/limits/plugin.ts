/**
 * The per-IP request limit as a fastify plugin: every request takes one unit of its IP's budget before
 * anything else runs (authentication included, so that guessing keys is limited too). Every answer carries
 * the budget:
 *
 * - `X-RateLimit-Limit`: requests per window;
 * - `X-RateLimit-Remaining`: requests left right now;
 * - `X-RateLimit-Reset`: seconds until the whole budget is back (a delta, as in the IETF RateLimit draft,
 *   not a time of day, so clients need no synchronized clock).
 *
 * A refusal is 429 RATE_LIMITED with `Retry-After` (whole seconds, rounded up) and `details.retryAfterMs`.
 * When the limiter fails closed (Redis down), the answer is 503 SERVICE_UNAVAILABLE with `Retry-After: 1`.
 * `request.ip` is the client's address as fastify sees it: behind a proxy listed in `server.trustedProxies`, the
 * address the proxy names in X-Forwarded-For (http/client-address.ts).
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GatewayError, HttpErrorCode, sendError } from '../http/plugins/index.js';
import { LimiterUnavailableError, type RateDecision, type RateLimiter } from './types.js';

export interface RateLimitPluginOptions {
  readonly limiter: RateLimiter;
  /** The key of a request; its IP address by default. */
  readonly keyOf?: (request: FastifyRequest) => string;
  /** Requests that take nothing from the budget (health checks, metrics scrapes). */
  readonly skip?: (request: FastifyRequest) => boolean;
}

export const RATE_LIMIT_HEADERS = {
  limit: 'x-ratelimit-limit',
  remaining: 'x-ratelimit-remaining',
  reset: 'x-ratelimit-reset',
} as const;

/** The three X-RateLimit headers for a decision. */
export function setRateLimitHeaders(reply: FastifyReply, d: RateDecision): void {
  reply.header(RATE_LIMIT_HEADERS.limit, d.limit);
  reply.header(RATE_LIMIT_HEADERS.remaining, d.remaining);
  reply.header(RATE_LIMIT_HEADERS.reset, Math.ceil(d.resetMs / 1000));
}

/** The error for a refused decision: 429 RATE_LIMITED with Retry-After. Routes throw it for order limits. */
export function rateLimitedError(d: RateDecision, what = 'too many requests'): GatewayError {
  return new GatewayError(
    HttpErrorCode.RateLimited,
    429,
    what,
    { retryAfterMs: d.retryAfterMs, limit: d.limit },
    { 'retry-after': String(Math.max(1, Math.ceil(d.retryAfterMs / 1000))) },
  );
}

/** The error when a limiter that fails closed cannot decide. */
export function limiterUnavailableError(): GatewayError {
  return new GatewayError(
    HttpErrorCode.ServiceUnavailable,
    503,
    'rate limiting is unavailable; try again shortly',
    { reason: 'RATE_LIMITER_UNAVAILABLE' },
    { 'retry-after': '1' },
  );
}

/** The message of a refusal by an account's order budget, over REST and WebSocket alike. */
export const ORDER_BUDGET_REFUSAL = 'too many orders for this account';

/**
 * Takes one unit of `key`'s budget, or throws the refusal: 429 RATE_LIMITED (`what` as its message) past the
 * budget, 503 when a limiter that fails closed cannot decide. The order budgets of REST and WebSocket and the
 * WebSocket's per-IP budget go through here; the plugin below answers itself, since it sets headers too.
 */
export async function takeBudget(limiter: RateLimiter, key: string, what?: string): Promise<void> {
  let d: RateDecision;
  try {
    d = await limiter.consume(key);
  } catch (e) {
    if (e instanceof LimiterUnavailableError) throw limiterUnavailableError();
    throw e;
  }
  if (!d.allowed) throw rateLimitedError(d, what);
}

/**
 * As takeBudget, without a promise when the limiter decides in this process: null once the unit is taken,
 * RATE_LIMITED thrown at once when refused; else takeBudget's promise.
 */
export function takeBudgetNow(limiter: RateLimiter, key: string, what?: string): Promise<void> | null {
  if (limiter.consumeNow === undefined) return takeBudget(limiter, key, what);
  const d = limiter.consumeNow(key);
  if (!d.allowed) throw rateLimitedError(d, what);
  return null;
}

const plugin: FastifyPluginCallback<RateLimitPluginOptions> = (app, options, done) => {
  const { limiter } = options;
  const keyOf = options.keyOf ?? ((request: FastifyRequest) => request.ip);
  const skip = options.skip ?? (() => false);
  /** The decision's headers, and the request goes on or is refused with 429. */
  const decided = (reply: FastifyReply, decision: RateDecision, next: () => void): void => {
    setRateLimitHeaders(reply, decision);
    if (decision.allowed) next();
    else void sendError(reply, rateLimitedError(decision));
  };
  // A callback hook: with a limiter in this process (`consumeNow`) the decision costs no promise, which
  // an async hook would on every request.
  const now = limiter.consumeNow?.bind(limiter);
  app.addHook('onRequest', (request, reply, next) => {
    if (skip(request)) {
      next();
      return;
    }
    const key = keyOf(request);
    if (now !== undefined) {
      decided(reply, now(key), next);
      return;
    }
    limiter.consume(key).then(
      (decision) => decided(reply, decision, next),
      (error: unknown) => {
        if (error instanceof LimiterUnavailableError) {
          request.log.warn({ code: error.code }, 'rate limiter unavailable: request refused');
          void sendError(reply, limiterUnavailableError());
        } else next(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
  done();
};

export const rateLimit = fp(plugin, { fastify: '5.x', name: 'rialto-rate-limit' });
