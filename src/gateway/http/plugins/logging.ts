/**
 * The gateway's logger options: pino (fastify's logger) at the configured level, JSON lines, with secrets
 * redacted wherever they may appear. Fastify's own request log lines carry the method, URL, host and
 * addresses, never headers or bodies; the redaction is for everything else that gets logged (a handler that
 * logs headers or a body, an error carrying a request). Query strings are logged with the values of
 * credential-like parameters replaced, since a browser WebSocket client can only send a token there.
 *
 * Guidance: log objects by field, not interpolated into the message (redaction works on fields only); never
 * log a configuration object (`configSummary` from src/ops/config is the printable form).
 */
import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import type { LogLevel } from '../../../ops/config/index.js';

/** fastify's logger options (pino's, plus fastify's serializers), as the server's `logger` option takes them. */
export type GatewayLoggerOptions = Exclude<NonNullable<FastifyServerOptions['logger']>, boolean>;

export const REDACTED = '[redacted]';

/** Header names that carry credentials, lower case (node's form). */
export const SECRET_HEADERS = ['authorization', 'x-api-key', 'cookie', 'set-cookie', 'proxy-authorization'];
/** Field names that carry secrets wherever they appear (up to three levels deep). */
export const SECRET_FIELDS = [
  'secret',
  'password',
  'token',
  'apiKey',
  'api_key',
  'privateKey',
  'accessToken',
];
/** Query parameters whose values are dropped from logged URLs (compared in lower case). */
export const SECRET_QUERY_PARAMS = [
  'token',
  'access_token',
  'api_key',
  'apikey',
  'key',
  'secret',
  'password',
];

/** pino's redact paths (fast-redact syntax) for the lists above. */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`, `*.*.headers["${h}"]`]),
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]),
]);

/** A URL with the values of credential-like query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = (eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
      return eq >= 0 && SECRET_QUERY_PARAMS.includes(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

export interface LoggerOptionsExtra {
  /** Where lines go (tests capture them); stdout when absent. */
  readonly stream?: { write(line: string): void };
}

/** Options for `fastify({ logger: loggerOptions(config.logLevel) })`. */
export function loggerOptions(level: LogLevel, extra: LoggerOptionsExtra = {}): GatewayLoggerOptions {
  return {
    level,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
      }),
    },
    ...(extra.stream === undefined ? {} : { stream: extra.stream }),
  };
}
