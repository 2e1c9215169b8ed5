/**
 * Security headers on every response, errors and 404s included, set in an onSend hook so that no path
 * through fastify misses them. The API serves JSON only, so the policy is the strictest one: nothing may be
 * framed, sniffed, referred, loaded or cached. A route that serves something else (an OpenAPI page) sets
 * its own Content-Security-Policy or Cache-Control, which this plugin then leaves alone; the other headers
 * are always these.
 */
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

export interface SecurityHeadersOptions {
  /**
   * Strict-Transport-Security, only when the venue is reached over HTTPS (behind a TLS proxy): browsers that
   * saw it refuse plain HTTP to the host for `maxAgeSeconds`. Null: not sent (the default, since a venue on
   * plain HTTP in development must not pin itself to HTTPS).
   */
  readonly hsts: { readonly maxAgeSeconds: number; readonly includeSubDomains: boolean } | null;
  /** The API's policy; a route may set another. */
  readonly contentSecurityPolicy: string;
}

export const SECURITY_HEADERS_DEFAULTS: Readonly<SecurityHeadersOptions> = Object.freeze({
  hsts: null,
  contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
});

/** The headers every response carries, whatever a route says. */
export function fixedSecurityHeaders(options: SecurityHeadersOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
  };
  if (options.hsts !== null) {
    const { maxAgeSeconds, includeSubDomains } = options.hsts;
    if (!(Number.isInteger(maxAgeSeconds) && maxAgeSeconds >= 0)) throw new RangeError('bad HSTS max-age');
    headers['strict-transport-security'] =
      `max-age=${maxAgeSeconds}` + (includeSubDomains ? '; includeSubDomains' : '');
  }
  return headers;
}

/** Every header the plugin sets, for the paths where fastify's hooks do not run (`frameworkErrorsHandler`). */
export function allSecurityHeaders(
  options: SecurityHeadersOptions = SECURITY_HEADERS_DEFAULTS,
): Record<string, string> {
  return {
    ...fixedSecurityHeaders(options),
    'content-security-policy': options.contentSecurityPolicy,
    'cache-control': 'no-store',
  };
}

const plugin: FastifyPluginCallback<Partial<SecurityHeadersOptions>> = (app, options, done) => {
  const settings: SecurityHeadersOptions = { ...SECURITY_HEADERS_DEFAULTS, ...options };
  const fixed = Object.freeze(fixedSecurityHeaders(settings));
  const csp = settings.contentSecurityPolicy;
  app.addHook('onSend', (_request, reply, payload, next) => {
    reply.headers(fixed);
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', csp);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    next(null, payload);
  });
  done();
};

export const securityHeaders = fp(plugin, { fastify: '5.x', name: 'rialto-security-headers' });
