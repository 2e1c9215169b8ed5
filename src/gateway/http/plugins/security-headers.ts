/**
 * Security headers on every response, errors and 404s included, set in an onRequest hook, when the request
 * arrives: fastify keeps a reply's headers through its error handling, so every answer that follows carries
 * them, refusals by later hooks included (and the answer of an error handler that failed in turn, which
 * skips the onSend hooks). The router's own refusals, which run no hook, get them from
 * `frameworkErrors` (server.ts). The API serves JSON only, so the policy is the strictest one: nothing may be
 * framed, sniffed, referred, loaded or cached. A route that serves something else (an OpenAPI page) sets
 * its own Content-Security-Policy or Cache-Control over these; no route sets the other headers.
 *
 * (The headers were set in an onSend hook before, which looked at what the route had set: one more hook
 * and three header look-ups on every answer, for the same headers.)
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
  const all = Object.freeze(allSecurityHeaders({ ...SECURITY_HEADERS_DEFAULTS, ...options }));
  app.addHook('onRequest', (_request, reply, next) => {
    reply.headers(all);
    next();
  });
  done();
};

export const securityHeaders = fp(plugin, { fastify: '5.x', name: 'rialto-security-headers' });
