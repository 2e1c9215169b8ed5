/**
 * A request id on every request and response. A client (or the proxy in front) may send its own
 * `X-Request-Id` so that its logs and ours meet; a sane one is kept, anything else (too long, odd
 * characters that could forge log lines, several values) is replaced by a fresh UUID. The id is fastify's
 * `request.id`, so it is in every log line of the request, and it is echoed in the response's `X-Request-Id`.
 *
 * Two parts: `requestIdOptions()` goes into the server's constructor options (fastify chooses the id before
 * any plugin runs), and the `requestId` plugin echoes it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

export const REQUEST_ID_HEADER = 'x-request-id';
/** Letters, digits and `-_.:+=@`, 1 to 128 of them: UUIDs, ULIDs, trace ids; nothing that breaks a log. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9\-_.:+=@]{1,128}$/;

/** The id for a request: the client's, when sane, else a new UUID. */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

/** Server options: `fastify({ ...requestIdOptions(), ... })`. */
export function requestIdOptions(): {
  requestIdHeader: false;
  genReqId: (raw: IncomingMessage) => string;
} {
  // requestIdHeader false: fastify would otherwise take the header as it is, unchecked. Log lines carry the
  // id as `reqId` (fastify's default label).
  return { requestIdHeader: false, genReqId: requestIdOf };
}

const plugin: FastifyPluginCallback = (app, _options, done) => {
  app.addHook('onRequest', (request, reply, next) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    next();
  });
  done();
};

export const requestId = fp(plugin, { fastify: '5.x', name: 'rialto-request-id' });
