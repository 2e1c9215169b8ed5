/**
 * Turns every error into the envelope (errors.ts), with a stable code per kind of failure: schema failures
 * are VALIDATION_ERROR, bodies that are not JSON BAD_JSON, oversized bodies PAYLOAD_TOO_LARGE, unknown
 * routes NOT_FOUND, a known path with another method METHOD_NOT_ALLOWED (with `Allow`). A `GatewayError`
 * keeps its own code, status, message and details. Anything else is a bug: the client gets INTERNAL_ERROR
 * with the request id and nothing of the error itself (no message, no stack); the log gets the whole error.
 *
 * Register it (awaited) before the routes: it learns the routes' paths as they are added, to tell 405 from
 * 404, and its handlers apply to the whole server (the plugin is not encapsulated).
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import fp from 'fastify-plugin';
import { REQUEST_ID_HEADER } from './request-id.js';
import { codeForStatus, GatewayError, HttpErrorCode } from './errors.js';
import { readableIssues } from './validation-issues.js';

/** At most this many schema problems are listed in a VALIDATION_ERROR's details. */
export const VALIDATION_ISSUES_MAX = 10;
/** Client-supplied text echoed in details (a path, a media type) is cut to this length. */
export const ECHO_LENGTH_MAX = 200;

/**
 * ajv options for strict request schemas: unknown fields are refused (fastify's default removes them
 * silently), body types are never coerced, and validation stops at the first problem (cheap on bad input).
 * Pass as the server's `ajv` option: `fastify({ ajv: STRICT_AJV_OPTIONS })`. Query strings still need
 * coercion (every value is a string): give their schemas string types, or coerce in the route.
 */
export const STRICT_AJV_OPTIONS = Object.freeze({
  customOptions: Object.freeze({
    removeAdditional: false,
    coerceTypes: false,
    useDefaults: true,
    allErrors: false,
  }),
});

interface ErrorFields {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly validation?: unknown;
  readonly validationContext?: unknown;
}

interface ValidationIssue {
  readonly instancePath?: unknown;
  readonly keyword?: unknown;
  readonly message?: unknown;
  readonly params?: unknown;
}

const clip = (text: string): string =>
  text.length > ECHO_LENGTH_MAX ? text.slice(0, ECHO_LENGTH_MAX) + '…' : text;
/** The fields of an error (or an ajv issue) this module reads, each still to be checked. */
const fieldsOf = (value: unknown): ErrorFields & ValidationIssue =>
  typeof value === 'object' && value !== null ? value : {};

/** `body/quantity: must be string`, naming the missing or unknown property where ajv gives one. */
function issuesOf(context: unknown, validation: readonly unknown[]): { path: string; message: string }[] {
  const where = typeof context === 'string' ? context : 'request';
  const raw = validation.map((v) => {
    const f = fieldsOf(v);
    return {
      instancePath: typeof f.instancePath === 'string' ? f.instancePath : '',
      keyword: typeof f.keyword === 'string' ? f.keyword : undefined,
      message: typeof f.message === 'string' ? f.message : 'is invalid',
      params: f.params,
    };
  });
  return readableIssues(raw)
    .slice(0, VALIDATION_ISSUES_MAX)
    .map((issue) => {
      const params: Record<string, unknown> =
        typeof issue.params === 'object' && issue.params !== null ? { ...issue.params } : {};
      const unknownField = params.additionalProperty;
      const named = params.missingProperty ?? unknownField;
      const base = issue.instancePath;
      const path = typeof named === 'string' ? `${base}/${named}` : base;
      return {
        path: clip(where + path),
        message: typeof unknownField === 'string' ? 'is not a known field' : issue.message,
      };
    });
}

/** The gateway error a thrown value stands for, or null for a bug (an unexpected error). */
export function classifyError(error: unknown, request: FastifyRequest): GatewayError | null {
  if (error instanceof GatewayError) return error;
  const e = fieldsOf(error);
  if (Array.isArray(e.validation)) {
    const issues = issuesOf(e.validationContext, e.validation);
    const first = issues[0];
    const message = first === undefined ? 'the request is invalid' : `${first.path} ${first.message}`;
    return new GatewayError(HttpErrorCode.ValidationError, 400, message, { issues });
  }
  switch (e.code) {
    case 'FST_ERR_BAD_URL':
      return new GatewayError(HttpErrorCode.BadRequest, 400, 'the URL does not decode');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GatewayError(HttpErrorCode.BadJson, 400, 'the request body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError(
        HttpErrorCode.BadJson,
        400,
        'the request body is empty, but its type says JSON',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError(HttpErrorCode.PayloadTooLarge, 413, 'the request body is too large', {
        limitBytes: request.routeOptions.bodyLimit,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError(HttpErrorCode.UnsupportedMediaType, 415, 'unsupported content type', {
        contentType: clip(String(request.headers['content-type'] ?? '')),
      });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError(HttpErrorCode.BadRequest, 400, 'the body does not match its Content-Length');
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    // A 4xx from fastify or a plugin: its own message may carry anything, so only the status is trusted.
    const { code, message } = codeForStatus(status);
    return new GatewayError(code, status, message);
  }
  return null;
}

/** Sends an error as the envelope, with the error's own headers. The payload is a string, so that no
 * response schema of the route can reshape it. */
export function sendError(reply: FastifyReply, error: GatewayError): FastifyReply {
  return reply
    .code(error.statusCode)
    .headers(error.headers)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(error.toBody()));
}

/** A route's path as a pattern: `:param` (with or without a regex) matches one segment, `*` the rest. */
export function routePattern(url: string): RegExp {
  let out = '';
  let i = 0;
  while (i < url.length) {
    const c = url[i];
    if (c === ':' && url[i + 1] === ':') {
      out += ':';
      i += 2;
    } else if (c === ':') {
      i++;
      while (i < url.length && /\w/.test(url[i])) i++;
      if (url[i] === '(') {
        let depth = 0;
        do {
          if (url[i] === '(') depth++;
          else if (url[i] === ')') depth--;
          i++;
        } while (i < url.length && depth > 0);
      }
      out += '[^/]+';
    } else if (c === '*') {
      out += '.*';
      i++;
    } else {
      out += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  return new RegExp(`^${out}$`);
}

interface KnownRoute {
  readonly pattern: RegExp;
  readonly methods: readonly string[];
}

function allowedMethods(routes: readonly KnownRoute[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
  return [...methods].sort();
}

export interface ErrorEnvelopeOptions {
  /**
   * The application's own errors as gateway errors (a service's error type, a dependency that is down), or
   * null for what this module should classify. Consulted first.
   */
  readonly mapError?: (error: unknown) => GatewayError | null;
}

const plugin: FastifyPluginCallback<ErrorEnvelopeOptions> = (app: FastifyInstance, options, done) => {
  const mapError = options.mapError ?? ((): null => null);
  const routes: KnownRoute[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    routes.push({ pattern: routePattern(route.url), methods: methods.map((m) => String(m).toUpperCase()) });
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    const known = mapError(error) ?? classifyError(error, request);
    if (known !== null) {
      if (known.statusCode >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.debug({ code: known.code, statusCode: known.statusCode }, 'request refused');
      return sendError(reply, known);
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendError(
      reply,
      new GatewayError(HttpErrorCode.InternalError, 500, 'internal error', { requestId: request.id }),
    );
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0];
    const allow = allowedMethods(routes, path);
    if (allow.length > 0) {
      return sendError(
        reply,
        new GatewayError(
          HttpErrorCode.MethodNotAllowed,
          405,
          `${request.method} is not allowed here`,
          { method: clip(request.method), allowed: allow },
          { allow: allow.join(', ') },
        ),
      );
    }
    return sendError(
      reply,
      new GatewayError(HttpErrorCode.NotFound, 404, 'no such route', {
        method: clip(request.method),
        path: clip(path),
      }),
    );
  });
  done();
};

/**
 * The server's `frameworkErrors` option: errors fastify raises before routing (a URL that does not decode,
 * a parameter past `maxParamLength`), which never reach the error handler, in the envelope too. The
 * plugins' hooks do not run for them, so the security headers are set here as well: pass
 * `allSecurityHeaders(options)` (security-headers.ts).
 */
export function frameworkErrorsHandler(
  headers: Readonly<Record<string, string>>,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const known =
      classifyError(error, request) ?? new GatewayError(HttpErrorCode.BadRequest, 400, 'bad request');
    reply.headers(headers).header(REQUEST_ID_HEADER, request.id);
    void sendError(reply, known);
  };
}

/** The error handler and the not-found handler for the whole server. */
export const errorEnvelope = fp(plugin, { fastify: '5.x', name: 'rialto-error-envelope' });
