/**
 * The gateway's logger options: pino (fastify's logger) at the configured level, JSON lines, with secrets
 * redacted wherever they may appear. Fastify's own request log lines carry the method, URL, host and
 * addresses, never headers or bodies; the redaction is for everything else that gets logged (a handler that
 * logs headers or a body, an error carrying a request). Query strings are logged with the values of
 * credential-like parameters replaced, since a browser WebSocket client can only send a token there.
 *
 * Requests: one line each, when the answer is sent (`AccessLogController`, in place of fastify's two): at `info` for refusals, failures and slow answers (`ACCESS_LOG.slowMs`), at `debug` for the
 * rest. The journal already records every order command; a line per accepted order at `info` cost the
 * server as much as the order itself (pino and its redaction, at 10,000 orders a second: see
 * docs/performance.md), and told an operator nothing the metrics do not.
 *
 * Guidance: log objects by field, not interpolated into the message (redaction works on fields only); never
 * log a configuration object (`configSummary` from src/ops/config is the printable form).
 */
import {
  LogController,
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
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

/** The access log's threshold: an answer slower than this is logged at info whatever its status. */
export const ACCESS_LOG = Object.freeze({ slowMs: 250 });

/**
 * fastify's request lines, one per request, when its answer is sent: method, URL (credentials redacted),
 * client address, status and milliseconds; at `info` for a status of 400 or more, an error or a slow
 * answer, else at `debug`. fastify's "incoming request" line is at `debug` too. Pass an instance as
 * fastify's `logController`.
 */
export class AccessLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  /** fastify's own 404 line has the raw URL, query and all: the access line (redacted) says it instead. */
  override routeNotFound(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error !== null && error !== undefined) reply.log.error({ ...fields, err: error }, 'request errored');
    else if (reply.statusCode >= 400 || reply.elapsedTime >= ACCESS_LOG.slowMs) {
      const log = reply.log;
      if (log instanceof LazyChildLogger) log.infoUnredacted(fields, 'request completed');
      else log.info(fields, 'request completed');
    } else {
      // pino's debug is a no-op below its level: the usual answer costs one small object.
      reply.log.debug(fields, 'request completed');
    }
  }
}

type ChildBindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;

/** pino's levels by rank: a call below the logger's level writes nothing. */
const LEVEL_RANK: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

/** Loggers' twins without redaction, by logger (LazyChildLogger.infoUnredacted). */
const unredactedTwins = new WeakMap<FastifyBaseLogger, FastifyBaseLogger>();

function unredactedTwin(logger: FastifyBaseLogger): FastifyBaseLogger {
  let twin = unredactedTwins.get(logger);
  if (twin === undefined) {
    // No bindings of its own and no redaction paths: pino then writes every field as it is.
    twin = logger.child({}, { redact: { paths: [] } });
    unredactedTwins.set(logger, twin);
  }
  return twin;
}

/**
 * A request's logger that becomes pino's child logger only when a line is written through it. fastify makes a
 * child per request (its request id bound), and pino's child, with the redaction of its bindings, cost the
 * server about as much as the rest of fastify's work on a request; most requests write no line at `info`
 * (see AccessLogController), so most never need one. Lines, bindings and levels are the child's, as before.
 */
export class LazyChildLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | null = null;
  /** The child of the parent's unredacted twin, for infoUnredacted; made at its first line. */
  private unredacted: FastifyBaseLogger | null = null;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: ChildBindings,
    private readonly options: ChildOptions,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  /**
   * `info(fields, msg)` without pino's redaction pass, for a line whose fields hold no secret by how they are
   * made: the access line (the method, the URL with its credentials already replaced by redactUrl, the
   * client's address, the status, the time; the request id as binding). The same line byte for byte; with the
   * venue's redaction paths, most of them wildcards that pino tries on every field, the pass cost about ten
   * times the rest of the line (35-40 µs against 3-4, measured with pino alone), and refusals and slow answers
   * are logged at info: when the venue falls behind, every answer is slow. A route with serializers of its
   * own (which could put anything in the line) keeps the redaction, and so does a logger whose child was
   * made already (its level may have been changed through it).
   */
  infoUnredacted(fields: Readonly<Record<string, unknown>>, msg: string): void {
    if (this.options.serializers !== undefined || this.made !== null) {
      this.info(fields, msg);
      return;
    }
    const at = LEVEL_RANK[this.level];
    if (at === undefined || LEVEL_RANK.info < at) {
      // Below the logger's level (or a level of its own): as info would decide.
      this.info(fields, msg);
      return;
    }
    this.unredacted ??= unredactedTwin(this.parent).child(this.bindings, this.options);
    this.unredacted.info(fields, msg);
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  /**
   * A line at `name` through the child, or nothing to do while no child is made and the level is below the
   * logger's. The six level methods are the class's (on its prototype), not functions made per request: a
   * request's logger is one object, made for every request.
   */
  private write(name: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', args: unknown[]): void {
    if (this.made === null) {
      const at = LEVEL_RANK[this.level];
      if (at !== undefined && LEVEL_RANK[name] < at) return;
    }
    const real = this.real;
    Reflect.apply(real[name], real, args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: ChildBindings, options?: ChildOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

/** fastify's `childLoggerFactory`: the request's logger made when first written to (LazyChildLogger). */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: ChildBindings,
  options: ChildOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options);
}
