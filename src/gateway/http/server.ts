/**
 * The HTTP server: fastify with JSON schemas on every route (unknown fields refused, nothing coerced),
 * one error shape for every failure, authentication by API key, and the feature plugins (orders, market
 * data, admin, operations). `buildServer` only assembles: it neither listens nor owns the engine.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { VenueFeed } from '../../marketdata/index.js';
import type { VenueConfig } from '../../ops/index.js';
import { StoreError, StoreErrorCode } from '../../store/index.js';
import type { AuditWriter } from '../../audit/index.js';
import type { AccountService } from '../accounts/index.js';
import type { InstrumentAdmin } from '../instruments/index.js';
import { auditPlugin } from '../audit/index.js';
import { requireRole, type KeyAdmin, type KeyVerifier, type Principal, type Role } from '../auth/index.js';
import type { JwtVerifier } from '../jwt/index.js';
import { rateLimit, type RateDecision, type RateLimiter, type VenueLimiters } from '../limits/index.js';
import { metricsPlugin, type VenueMetrics } from '../metrics/index.js';
import { ApiError, ErrorCode } from '../trading/errors.js';
import type { Trading } from '../trading/trading.js';
import { proxyTrust } from './client-address.js';
import { HTTP_LIMITS } from './limits.js';
import {
  GatewayError,
  AccessLogController,
  SECURITY_HEADERS_DEFAULTS,
  allSecurityHeaders,
  errorEnvelope,
  frameworkErrorsHandler,
  lazyChildLogger,
  loggerOptions,
  requestId,
  requestIdOptions,
  securityHeaders,
  sendError as sendEnvelope,
} from './plugins/index.js';
import { adminRoutes, opsRoutes, type Readiness } from './routes-admin.js';
import { keyRoutes } from './routes-keys.js';
import { historyRoutes } from './routes-history.js';
import { marketRoutes } from './routes-market.js';
import { orderRoutes } from './routes-orders.js';
import { accountRoutes } from './routes-accounts.js';
import { riskRoutes } from './routes-risk.js';
import { instrumentRoutes } from './routes-instruments.js';

export interface ServerDeps {
  readonly trading: Trading;
  readonly verifier: KeyVerifier;
  readonly config: VenueConfig;
  readonly readiness: () => Promise<Readiness>;
  /** The clock for response times, microseconds (tests pass their own). */
  readonly nowUs?: () => number;
  /** Fastify's logger on (pino, JSON lines, at the configuration's level); off in tests. */
  readonly log?: boolean;
  /** The per-IP and per-account rate limits; null or absent: none (`rateLimits.enabled: false`). */
  readonly limiters?: VenueLimiters | null;
  /** The venue's Prometheus metrics: requests timed and `/metrics` served; absent: neither. */
  readonly metrics?: VenueMetrics | null;
  /** JWTs accepted as bearer credentials besides API keys; null or absent: API keys only. */
  readonly jwt?: JwtVerifier | null;
  /** Accounts, risk controls and the venue's statements; null or absent: those routes are not served. */
  readonly accounts?: AccountService | null;
  /** Instruments added and changed at runtime; null or absent: those routes are not served. */
  readonly instruments?: InstrumentAdmin | null;
  /** The audit trail's writer: the routes of gateway/audit/actions.ts are recorded; null or absent: none. */
  readonly audit?: AuditWriter | null;
  /** API keys managed over the API (/api/v1/admin/keys); null or absent: those routes are not served. */
  readonly keys?: KeyAdmin | null;
  /** The market data pipeline and its store (candles and ticks); null or absent: those routes answer 503. */
  readonly marketData?: VenueFeed | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * The database is down or its circuit is open: the request was fine, so 503 and try again, not a 500. Null
 * for any other error. REST and the WebSocket gateway (its requests and upgrades) answer alike.
 */
export function unavailableErrorOf(err: unknown): ApiError | null {
  if (err instanceof StoreError && err.code === StoreErrorCode.Unavailable)
    return new ApiError(503, ErrorCode.ServiceUnavailable, 'the database is unavailable: try again shortly');
  return null;
}

/** The envelope error for an ApiError (the trading service's errors): same code, status, message, details. */
export function gatewayErrorOf(e: ApiError | GatewayError): GatewayError {
  return e instanceof GatewayError ? e : new GatewayError(e.code, e.status, e.message, e.details);
}

/** Sends an error in the gateway's one shape, through the plugins' envelope (with the error's headers). */
export function sendError(reply: FastifyReply, e: ApiError | GatewayError): FastifyReply {
  return sendEnvelope(reply, gatewayErrorOf(e));
}

/** A limiter that counts its refusals in `rialto_rate_limited_total{policy}`. */
export function countedLimiter(limiter: RateLimiter, metrics: VenueMetrics | null | undefined): RateLimiter {
  if (metrics === null || metrics === undefined) return limiter;
  const counted = (d: RateDecision): RateDecision => {
    if (!d.allowed) metrics.rateLimited.inc({ policy: limiter.policy.name });
    return d;
  };
  const now = limiter.consumeNow?.bind(limiter);
  return {
    policy: limiter.policy,
    async consume(key: string, cost?: number): Promise<RateDecision> {
      return counted(await limiter.consume(key, cost));
    },
    ...(now === undefined ? {} : { consumeNow: (key: string, cost?: number) => counted(now(key, cost)) }),
  };
}

/** Who is calling: the API key of `X-API-Key`, or the API key or JWT of `Authorization: Bearer`. */
function credential(headers: IncomingHttpHeaders): { token: string; bearer: boolean } | null {
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key !== '') return { token: key, bearer: false };
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) {
    return { token: auth.slice('Bearer '.length).trim(), bearer: true };
  }
  return null;
}

/** Three base64url parts: a JWT (compact JWS). API keys never contain a dot. */
const looksLikeJwt = (token: string): boolean =>
  /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

const ANONYMOUS_ADMIN: Principal = Object.freeze({ keyId: 'anonymous', role: 'admin', accountIds: [] });

/**
 * An onRequest hook that sets `req.principal` from the credential (see principalOfHeaders) and checks its
 * role. It runs before the body is read and validated, so that a caller without the right gets 401 or 403
 * whatever it sent (not the route's schema errors), and a refusal for a bad body names who sent it. A
 * callback hook: a key answered from the verifier's cache (the usual request) costs no promise.
 */
export function authenticate(deps: ServerDeps, roles: readonly Role[]) {
  const admit = (req: FastifyRequest, principal: Principal): void => {
    const refused = requireRole(principal, roles);
    if (refused !== null)
      throw new ApiError(403, ErrorCode.Forbidden, `this route needs the role ${roles.join(' or ')}`);
    req.principal = principal;
  };
  return (req: FastifyRequest, _reply: FastifyReply, done: (e?: Error) => void): void => {
    // Throws (401, 403) go to fastify's hook runner, which answers with them.
    const now = principalNow(deps, req.headers);
    if (now !== null) {
      admit(req, now);
      done();
      return;
    }
    principalOfHeaders(deps, req.headers).then(
      (principal) => {
        try {
          admit(req, principal);
        } catch (e) {
          done(e as Error);
          return;
        }
        done();
      },
      (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
    );
  };
}

/**
 * principalOfHeaders's answer at once when it needs nothing asynchronous (authentication off, no credential,
 * an API key answered from the verifier's cache), else null. Throws 401 UNAUTHORIZED as it does.
 */
function principalNow(
  deps: Pick<ServerDeps, 'config' | 'verifier' | 'jwt'>,
  headers: IncomingHttpHeaders,
): Principal | null {
  if (!deps.config.auth.enabled) return ANONYMOUS_ADMIN;
  const given = credential(headers);
  if (given === null) {
    throw new ApiError(401, ErrorCode.Unauthorized, 'an API key (X-API-Key) or a bearer token is required');
  }
  if (given.bearer && looksLikeJwt(given.token) && deps.jwt !== null && deps.jwt !== undefined) return null;
  const r = deps.verifier.verifyNow(given.token);
  if (r === null) return null;
  if (!r.ok) throw new ApiError(401, ErrorCode.Unauthorized, 'the credential is not valid');
  return r.principal;
}

/**
 * The principal of a request's credential headers (the WebSocket upgrade uses it too), or 401 UNAUTHORIZED.
 * With authentication disabled (development only; production mode refuses it) every caller is an admin.
 */
export async function principalOfHeaders(
  deps: Pick<ServerDeps, 'config' | 'verifier' | 'jwt'>,
  headers: IncomingHttpHeaders,
): Promise<Principal> {
  if (!deps.config.auth.enabled) return ANONYMOUS_ADMIN;
  const given = credential(headers);
  if (given === null) {
    throw new ApiError(401, ErrorCode.Unauthorized, 'an API key (X-API-Key) or a bearer token is required');
  }
  return principalOfToken(deps, given.token, given.bearer);
}

/** The principal of one credential: a JWT only as a bearer token and when the venue has JWT keys, else an API key. */
export async function principalOfToken(
  deps: Pick<ServerDeps, 'verifier' | 'jwt'>,
  token: string,
  bearer: boolean,
): Promise<Principal> {
  const jwt = bearer && looksLikeJwt(token) ? (deps.jwt ?? null) : null;
  const r = jwt !== null ? await jwt.verify(token) : await deps.verifier.verify(token);
  if (!r.ok) throw new ApiError(401, ErrorCode.Unauthorized, 'the credential is not valid');
  return r.principal;
}

/** The principal `authenticate` set; a route without it never calls this. */
export function principalOf(req: FastifyRequest): Principal {
  if (req.principal === null) throw new Error('route without authentication asked for the principal');
  return req.principal;
}

/**
 * The venue's own errors in the envelope (the trading service's ApiError, a store that is down); null for
 * fastify's, which the error envelope classifies (plugins/error-envelope.ts): never a 5xx for bad input.
 */
function venueErrorOf(err: unknown): GatewayError | null {
  if (err instanceof ApiError || err instanceof GatewayError) return gatewayErrorOf(err);
  const unavailable = unavailableErrorOf(err);
  return unavailable === null ? null : gatewayErrorOf(unavailable);
}

/**
 * Who may read `/metrics`: anyone who reaches it, or with `metrics.token` set, a request with
 * `Authorization: Bearer TOKEN` (compared in constant time, through SHA-256 digests of equal length).
 */
export function metricsAuthorizer(
  token: string | null,
): (req: { readonly headers: { readonly authorization?: string } }) => boolean {
  if (token === null) return () => true;
  const expected = createHash('sha256').update(token).digest();
  return (req) => {
    const auth = req.headers.authorization;
    if (typeof auth !== 'string' || !auth.startsWith('Bearer ')) return false;
    const given = createHash('sha256').update(auth.slice('Bearer '.length)).digest();
    return timingSafeEqual(given, expected);
  };
}

export async function buildServer(deps: ServerDeps) {
  const headerOptions = { ...SECURITY_HEADERS_DEFAULTS, hsts: deps.config.server.hsts };
  const errorHeaders = allSecurityHeaders(headerOptions);
  // `request.ip` through the trusted proxies' X-Forwarded-For (http/client-address.ts), or the peer's.
  const trust = proxyTrust(deps.config.server.trustedProxies);
  const app = Fastify({
    trustProxy: trust === null ? false : (address: string) => trust(address),
    logger: deps.log === true ? loggerOptions(deps.config.logLevel) : false,
    // The request's child logger only when a line is written through it (plugins/logging.ts).
    childLoggerFactory: lazyChildLogger,
    ...requestIdOptions(),
    bodyLimit: HTTP_LIMITS.bodyBytesMax,
    connectionTimeout: HTTP_LIMITS.connectionTimeoutMs,
    requestTimeout: HTTP_LIMITS.requestTimeoutMs,
    keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
    routerOptions: { maxParamLength: HTTP_LIMITS.paramLengthMax },
    // Fastify's own 503 while closing is a bare answer (no security headers, no request id, not the error
    // envelope): the closing hook below refuses in the gateway's shape instead.
    return503OnClosing: false,
    // One line per request, at info only when it needs a look (plugins/logging.ts).
    logController: new AccessLogController(),
    // The router's own refusals (a path parameter too long, a malformed URL) in the same shape as the rest.
    // The plugins' hooks do not run for these, so the security headers and request id are set here.
    frameworkErrors: frameworkErrorsHandler(errorHeaders),
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorateRequest('principal', null);
  // A JSON content type over an empty body is no body, not a syntax error: clients that set the header on
  // every request send it with DELETE and with the POSTs that take no body. A route that needs a body still
  // refuses one missing, in its schema. Anything else is parsed as fastify does by default.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') done(null, undefined);
    else void parseJson(req, text, done);
  });
  // A text/plain body is refused (415) like any other that is not JSON, rather than parsed into a string
  // for the schema to refuse as a type.
  app.removeContentTypeParser('text/plain');

  // Before the routes: the id and the headers are on every answer, refusals included, and the error envelope
  // learns the routes' paths as they are added (405 with Allow for a known path's other methods).
  await app.register(errorEnvelope, { mapError: venueErrorOf });
  await app.register(requestId);
  await app.register(securityHeaders, headerOptions);
  // A request that arrives while the server drains (pipelined, or on a busy keep-alive connection) is
  // refused with 503 SERVICE_UNAVAILABLE before anything runs, and its connection is not kept.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_req, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    reply.header('connection', 'close');
    done(
      new GatewayError(ErrorCode.ServiceUnavailable, 503, 'the venue is closing', {}, { 'retry-after': '1' }),
    );
  });
  if (deps.metrics) {
    const authorize = metricsAuthorizer(deps.config.metrics.token);
    await app.register(metricsPlugin, { metrics: deps.metrics, authorize });
  }
  if (deps.limiters) {
    // Every request takes from its IP's budget, authentication included; probes and scrapes do not.
    const unmetered = new Set(['/health', '/ready', '/metrics']);
    await app.register(rateLimit, {
      limiter: countedLimiter(deps.limiters.ip, deps.metrics),
      skip: (req) => {
        // The path without its query, made only when there is a query (no array per request).
        const url = req.url;
        const q = url.indexOf('?');
        return unmetered.has(q < 0 ? url : url.slice(0, q));
      },
    });
  }

  // Before the routes, which it learns as they are added; after the rate limit, whose refusals change nothing.
  if (deps.audit) await app.register(auditPlugin, { writer: deps.audit, nowUs: deps.nowUs });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Rialto trading API', version: '1' },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });

  await app.register(orderRoutes(deps));
  await app.register(marketRoutes(deps));
  await app.register(historyRoutes(deps));
  await app.register(adminRoutes(deps));
  if (deps.accounts) {
    await app.register(accountRoutes(deps, deps.accounts));
    await app.register(riskRoutes(deps, deps.accounts));
  }
  if (deps.instruments) await app.register(instrumentRoutes(deps, deps.instruments));
  if (deps.keys) await app.register(keyRoutes(deps, deps.keys, deps.accounts ?? null));
  await app.register(opsRoutes(deps));
  app.get('/docs', { schema: { hide: true } }, () => app.swagger());
  return app;
}
