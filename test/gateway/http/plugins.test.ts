/**
 * The HTTP plugins on a tiny fastify app: security headers and request ids on success and error responses,
 * every kind of error mapped to its status and stable code (never a stack trace), 405 against 404, a
 * fuzz run of malformed requests against a strict schema that only ever gets 4xx with a code, and logs
 * that never contain a credential.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type InjectOptions,
  type LightMyRequestResponse,
} from 'fastify';
import {
  AccessLogController,
  ERROR_CODE_PATTERN,
  GatewayError,
  REDACTED,
  SECURITY_HEADERS_DEFAULTS,
  STRICT_AJV_OPTIONS,
  allSecurityHeaders,
  frameworkErrorsHandler,
  errorEnvelope,
  LazyChildLogger,
  lazyChildLogger,
  loggerOptions,
  redactUrl,
  requestId,
  requestIdOptions,
  routePattern,
  securityHeaders,
  type SecurityHeadersOptions,
} from '../../../src/gateway/http/plugins/index.js';

const BODY_LIMIT_BYTES = 1024;

const orderSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol', 'side', 'quantity'],
  properties: {
    symbol: { type: 'string', pattern: '^[A-Z]{2,10}-[A-Z]{2,10}$' },
    side: { type: 'string', enum: ['buy', 'sell'] },
    quantity: { type: 'string', pattern: '^[0-9]{1,12}(\\.[0-9]{1,8})?$' },
    price: { type: 'string', pattern: '^[0-9]{1,12}(\\.[0-9]{1,8})?$' },
  },
} as const;

async function makeApp(headers: Partial<SecurityHeadersOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...requestIdOptions(),
    frameworkErrors: frameworkErrorsHandler(allSecurityHeaders({ ...SECURITY_HEADERS_DEFAULTS, ...headers })),
    ajv: STRICT_AJV_OPTIONS,
    bodyLimit: BODY_LIMIT_BYTES,
    logger: false,
  });
  await app.register(requestId);
  await app.register(securityHeaders, headers);
  await app.register(errorEnvelope);
  app.post('/api/v1/orders', { schema: { body: orderSchema } }, () => ({ accepted: true }));
  app.get(
    '/api/v1/orders/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } } },
      },
    },
    () => ({ id: 1 }),
  );
  app.delete('/api/v1/orders/:id', () => {
    throw new GatewayError('ORDER_NOT_FOUND', 404, 'no such order', { orderId: '7' });
  });
  app.get('/boom', () => {
    throw new Error('database password is hunter2 at /srv/rialto/src/secret.ts:12');
  });
  app.get('/teapot', () => {
    throw Object.assign(new Error('internal detail'), { statusCode: 418 });
  });
  app.get('/docs', (_req, reply) =>
    reply
      .header('content-security-policy', "default-src 'self'")
      .header('cache-control', 'max-age=60')
      .send('ok'),
  );
  await app.ready();
  return app;
}

interface Envelope {
  error: { code: string; message: string; details: Record<string, unknown> };
  timestamp: string;
}

function envelopeOf(res: LightMyRequestResponse): Envelope {
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json<Envelope>();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'timestamp']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'details', 'message']);
  assert.match(body.error.code, ERROR_CODE_PATTERN);
  assert.equal(typeof body.error.message, 'string');
  assert.equal(typeof body.error.details, 'object');
  assert.equal(new Date(body.timestamp).toISOString(), body.timestamp);
  return body;
}

function assertSecurityHeaders(res: LightMyRequestResponse): void {
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assert.equal(res.headers['referrer-policy'], 'no-referrer');
  assert.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(String(res.headers['x-request-id']), /^[A-Za-z0-9\-_.:+=@]{1,128}$/);
}

const order = { symbol: 'BTC-USDT', side: 'buy', quantity: '1.5', price: '65000.01' };

describe('security headers and request ids', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await makeApp();
  });
  after(() => app.close());

  it('are on successful responses', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/orders', payload: order });
    assert.equal(res.statusCode, 200);
    assertSecurityHeaders(res);
    assert.equal(res.headers['strict-transport-security'], undefined);
  });

  it('are on every error response: 400, 404, 405, 413, 415, 500 and a bad URL', async () => {
    const requests = [
      { method: 'POST', url: '/api/v1/orders', payload: { ...order, side: 'up' } },
      { method: 'GET', url: '/nowhere' },
      { method: 'PUT', url: '/api/v1/orders/5' },
      { method: 'POST', url: '/api/v1/orders', payload: { ...order, symbol: 'X'.repeat(2000) } },
      {
        method: 'POST',
        url: '/api/v1/orders',
        payload: '<order/>',
        headers: { 'content-type': 'application/xml' },
      },
      { method: 'GET', url: '/boom' },
      { method: 'GET', url: '/api/v1/orders/%E0%A4%A' },
      { method: 'GET', url: '/api/v1/orders/%ZZ' },
      { method: 'GET', url: '/api/v1/orders/' + '1'.repeat(200) },
    ] as const;
    for (const r of requests) {
      const res = await app.inject(r);
      assert.ok(res.statusCode >= 400, `${r.method} ${r.url}: ${res.statusCode}`);
      assertSecurityHeaders(res);
      envelopeOf(res);
    }
  });

  it('leave a route its own Content-Security-Policy and Cache-Control', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs' });
    assert.equal(res.headers['content-security-policy'], "default-src 'self'");
    assert.equal(res.headers['cache-control'], 'max-age=60');
    assert.equal(res.headers['x-frame-options'], 'DENY');
  });

  it('send Strict-Transport-Security only when configured', async () => {
    const tls = await makeApp({ hsts: { maxAgeSeconds: 31_536_000, includeSubDomains: true } });
    try {
      for (const url of ['/api/v1/orders/1', '/nowhere']) {
        const res = await tls.inject({ method: 'GET', url });
        assert.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
      }
    } finally {
      await tls.close();
    }
  });

  it('keep a sane incoming X-Request-Id and replace anything else by a UUID', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const kept = await app.inject({
      method: 'GET',
      url: '/nowhere',
      headers: { 'x-request-id': 'trace-1:abc.DEF_9' },
    });
    assert.equal(kept.headers['x-request-id'], 'trace-1:abc.DEF_9');
    for (const bad of ['', 'a'.repeat(129), 'two words', 'line\tbreak', 'é', '{"json":1}']) {
      const res = await app.inject({
        method: 'GET',
        url: '/api/v1/orders/1',
        headers: { 'x-request-id': bad },
      });
      assert.match(String(res.headers['x-request-id']), uuid, JSON.stringify(bad));
    }
    const a = await app.inject({ method: 'GET', url: '/api/v1/orders/1' });
    const b = await app.inject({ method: 'GET', url: '/api/v1/orders/1' });
    assert.match(String(a.headers['x-request-id']), uuid);
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
  });
});

describe('the error envelope', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await makeApp();
  });
  after(() => app.close());

  const expect = async (request: InjectOptions, status: number, code: string): Promise<Envelope> => {
    const res = await app.inject(request);
    assert.equal(res.statusCode, status, res.body);
    const body = envelopeOf(res);
    assert.equal(body.error.code, code, res.body);
    return body;
  };

  it('VALIDATION_ERROR (400) for a schema failure, naming the field', async () => {
    const wrongType = await expect(
      { method: 'POST', url: '/api/v1/orders', payload: { ...order, quantity: 1.5 } },
      400,
      'VALIDATION_ERROR',
    );
    assert.deepEqual(wrongType.error.details.issues, [{ path: 'body/quantity', message: 'must be string' }]);
    const missing = await expect(
      { method: 'POST', url: '/api/v1/orders', payload: { symbol: 'BTC-USDT', side: 'buy' } },
      400,
      'VALIDATION_ERROR',
    );
    assert.deepEqual(missing.error.details.issues, [{ path: 'body/quantity', message: 'is required' }]);
    const badId = await expect({ method: 'GET', url: '/api/v1/orders/abc' }, 400, 'VALIDATION_ERROR');
    assert.equal(badId.error.message, 'params/id must be a whole number of at most 15 digits');
  });

  it('VALIDATION_ERROR for an unknown field (refused, not silently dropped)', async () => {
    const body = await expect(
      { method: 'POST', url: '/api/v1/orders', payload: { ...order, leverage: '100' } },
      400,
      'VALIDATION_ERROR',
    );
    assert.deepEqual(body.error.details.issues, [{ path: 'body/leverage', message: 'is not a known field' }]);
  });

  it('BAD_JSON (400) for a body that does not parse, is empty, or poisons a prototype', async () => {
    const json = { 'content-type': 'application/json' };
    for (const payload of ['{"symbol":', '{', 'nul', '{"a":1}}', '{"__proto__":{"admin":true}}', '\u0000']) {
      await expect({ method: 'POST', url: '/api/v1/orders', payload, headers: json }, 400, 'BAD_JSON');
    }
    await expect({ method: 'POST', url: '/api/v1/orders', payload: '', headers: json }, 400, 'BAD_JSON');
  });

  it('PAYLOAD_TOO_LARGE (413) past the body limit, with the limit', async () => {
    const body = await expect(
      { method: 'POST', url: '/api/v1/orders', payload: { ...order, symbol: 'A'.repeat(BODY_LIMIT_BYTES) } },
      413,
      'PAYLOAD_TOO_LARGE',
    );
    assert.equal(body.error.details.limitBytes, BODY_LIMIT_BYTES);
  });

  it('UNSUPPORTED_MEDIA_TYPE (415) for a body that is not JSON', async () => {
    for (const type of [
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
    ]) {
      await expect(
        { method: 'POST', url: '/api/v1/orders', payload: 'a=1', headers: { 'content-type': type } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    }
  });

  it('NOT_FOUND (404) for an unknown route, METHOD_NOT_ALLOWED (405) with Allow for a known path', async () => {
    const missing = await expect({ method: 'GET', url: '/api/v2/orders?x=1' }, 404, 'NOT_FOUND');
    assert.deepEqual(missing.error.details, { method: 'GET', path: '/api/v2/orders' });
    await expect({ method: 'POST', url: '/api/v1/orders/12/extra' }, 404, 'NOT_FOUND');
    const res = await app.inject({ method: 'PUT', url: '/api/v1/orders/12' });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'DELETE, GET, HEAD');
    assert.equal(envelopeOf(res).error.code, 'METHOD_NOT_ALLOWED');
    await expect({ method: 'GET', url: '/api/v1/orders' }, 405, 'METHOD_NOT_ALLOWED');
  });

  it('a GatewayError keeps its code, status, message and details', async () => {
    const body = await expect({ method: 'DELETE', url: '/api/v1/orders/7' }, 404, 'ORDER_NOT_FOUND');
    assert.equal(body.error.message, 'no such order');
    assert.deepEqual(body.error.details, { orderId: '7' });
  });

  it('INTERNAL_ERROR (500) for a bug, with the request id and nothing of the error', async () => {
    const res = await app.inject({ method: 'GET', url: '/boom' });
    assert.equal(res.statusCode, 500);
    const body = envelopeOf(res);
    assert.equal(body.error.code, 'INTERNAL_ERROR');
    assert.equal(body.error.message, 'internal error');
    assert.deepEqual(body.error.details, { requestId: res.headers['x-request-id'] });
    for (const leak of ['hunter2', 'secret.ts', 'stack', 'at ']) assert.ok(!res.body.includes(leak), leak);
  });

  it('a 4xx thrown by a plugin keeps its status but not its message', async () => {
    const body = await expect({ method: 'GET', url: '/teapot' }, 418, 'BAD_REQUEST');
    assert.equal(body.error.message, 'bad request');
  });

  it('GatewayError refuses a malformed code or a status that is not an error', () => {
    assert.throws(() => new GatewayError('lower_case', 400, 'x'), RangeError);
    assert.throws(() => new GatewayError('OK', 200, 'x'), RangeError);
    assert.throws(() => new GatewayError('TOO_BIG', 600, 'x'), RangeError);
  });

  it('route patterns: parameters (with regexes) match one segment, * the rest, :: is a colon', () => {
    assert.ok(routePattern('/api/v1/orders/:id').test('/api/v1/orders/12'));
    assert.ok(!routePattern('/api/v1/orders/:id').test('/api/v1/orders/12/x'));
    assert.ok(routePattern('/a/:id(^\\d+)/b').test('/a/5/b'));
    assert.ok(routePattern('/files/*').test('/files/a/b/c'));
    assert.ok(routePattern('/x::y').test('/x:y'));
    assert.ok(!routePattern('/a.b').test('/aXb'));
  });

  it('fuzz: hundreds of malformed requests get a 4xx with a code, never a 5xx, and the app keeps serving', async () => {
    const methods = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');
    const paths = fc.oneof(
      fc.constantFrom(
        '/api/v1/orders',
        '/api/v1/orders/1',
        '/api/v1/orders/x',
        '/',
        '/api',
        '/api/v1/orders/%ZZ',
      ),
      fc.stringMatching(/^\/[a-z0-9/._~%-]{0,40}$/),
    );
    const types = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/xml',
      'application/octet-stream',
      '',
      'json',
    );
    const fieldValue = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.double(),
      fc.integer(),
      fc.bigInt().map(String),
      fc.constant(null),
      fc.boolean(),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.constant('9'.repeat(400)),
    );
    const bodies = fc.oneof(
      fc.json(),
      fc.string({ maxLength: 200 }),
      fc
        .record(
          { symbol: fieldValue, side: fieldValue, quantity: fieldValue, price: fieldValue },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
      fc.dictionary(fc.string({ maxLength: 10 }), fieldValue, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
      fc.nat(3 * BODY_LIMIT_BYTES).map((n) => '"' + 'x'.repeat(n) + '"'),
    );
    let count = 0;
    await fc.assert(
      fc.asyncProperty(methods, paths, types, bodies, async (method, url, type, body) => {
        const withBody = method !== 'GET' && method !== 'OPTIONS';
        const res = await app.inject({
          method,
          url,
          ...(withBody ? { payload: body, headers: type === '' ? {} : { 'content-type': type } } : {}),
        });
        count++;
        if (res.statusCode === 200) return; // a well-formed order, or a valid GET: fine
        assert.ok(
          res.statusCode >= 400 && res.statusCode < 500,
          `${method} ${url} ${type} ${body}: ${res.statusCode} ${res.body}`,
        );
        const code = envelopeOf(res).error.code;
        assert.notEqual(code, 'INTERNAL_ERROR');
      }),
      { numRuns: 400, seed: 20_240_605 },
    );
    assert.equal(count, 400);
    const ok = await app.inject({ method: 'POST', url: '/api/v1/orders', payload: order });
    assert.equal(ok.statusCode, 200);
  });
});

describe('logging', () => {
  it('redacts credentials in headers, bodies and query strings', async () => {
    const lines: string[] = [];
    const app = Fastify({
      ...requestIdOptions(),
      logger: loggerOptions('info', { stream: { write: (l) => void lines.push(l) } }),
    });
    await app.register(errorEnvelope);
    app.post('/login', (request) => {
      // What a careless handler might do: log the whole headers and body.
      request.log.info({ headers: request.headers, body: request.body }, 'dump');
      throw Object.assign(new Error('boom'), { request: { headers: request.headers } });
    });
    await app.ready();
    const res = await app.inject({
      method: 'POST',
      url: '/login?symbol=BTC-USDT&token=SECRET-QUERY-1&API_KEY=SECRET-QUERY-2',
      headers: {
        authorization: 'Bearer SECRET-HEADER-1',
        'x-api-key': 'rk_SECRET-HEADER-2',
        cookie: 'sid=SECRET-COOKIE',
      },
      payload: {
        user: 'ann',
        password: 'SECRET-BODY-1',
        nested: { secret: 'SECRET-BODY-2', deeper: { token: 'SECRET-BODY-3' } },
      },
    });
    await app.close();
    assert.equal(res.statusCode, 500);
    const log = lines.join('');
    assert.ok(log.includes('"dump"') && log.includes('unexpected error'), log);
    assert.ok(!log.includes('SECRET'), log);
    assert.ok(log.includes(REDACTED));
    assert.ok(log.includes('symbol=BTC-USDT'));
    assert.ok(log.includes('"user":"ann"'));
    assert.ok(log.includes(`"reqId":"`));
  });

  it('logs one line per request, at info only for refusals and failures (debug for the rest)', async () => {
    const linesAt = async (level: 'info' | 'debug'): Promise<Record<string, unknown>[]> => {
      const lines: string[] = [];
      const app = Fastify({
        ...requestIdOptions(),
        logger: loggerOptions(level, { stream: { write: (l) => void lines.push(l) } }),
        logController: new AccessLogController(),
      });
      app.get('/ok', () => ({ ok: true }));
      await app.ready();
      assert.equal((await app.inject({ method: 'GET', url: '/ok?token=SECRET-1' })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/missing?token=SECRET-2' })).statusCode, 404);
      await app.close();
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(!lines.join('').includes('SECRET'), lines.join(''));
      return parsed.filter((l) => typeof l.msg === 'string' && /request/.test(l.msg));
    };
    const info = await linesAt('info');
    assert.deepEqual(
      info.map((l) => [l.msg, (l.res as { statusCode: number }).statusCode]),
      [['request completed', 404]],
    );
    assert.equal((info[0].req as { method: string }).method, 'GET');
    assert.equal(typeof info[0].responseTime, 'number');
    assert.equal(typeof info[0].reqId, 'string');
    const debug = await linesAt('debug');
    assert.deepEqual(
      debug
        .filter((l) => l.msg === 'request completed')
        .map((l) => (l.res as { statusCode: number }).statusCode),
      [200, 404],
    );
  });

  it("makes the request's child logger only when a line at its level is written, with the same lines", async () => {
    // A parent that records the children it makes and the lines written through them.
    const made: { bindings: object; options: object }[] = [];
    const written: [string, unknown[]][] = [];
    const fake = (level: string): FastifyBaseLogger => {
      const at =
        (name: string) =>
        (...args: unknown[]): void =>
          void written.push([name, args]);
      return {
        level,
        fatal: at('fatal'),
        error: at('error'),
        warn: at('warn'),
        info: at('info'),
        debug: at('debug'),
        trace: at('trace'),
        silent: () => undefined,
        child: (bindings, options = {}) => {
          made.push({ bindings, options });
          return fake(options.level ?? level);
        },
      };
    };
    const lazy = new LazyChildLogger(fake('info'), { reqId: 'r1' }, {});
    lazy.debug('not at info');
    lazy.trace({ a: 1 }, 'nor this');
    assert.equal(lazy.level, 'info');
    assert.deepEqual(made, []);
    assert.deepEqual(written, []);
    lazy.info({ a: 1 }, 'one');
    lazy.warn('two');
    lazy.debug('below the level, through the child now');
    assert.deepEqual(made, [{ bindings: { reqId: 'r1' }, options: {} }]);
    assert.deepEqual(written, [
      ['info', [{ a: 1 }, 'one']],
      ['warn', ['two']],
      ['debug', ['below the level, through the child now']],
    ]);
    // A route's own level (fastify's logLevel) is the child's.
    const debugging = new LazyChildLogger(fake('info'), { reqId: 'r2' }, { level: 'debug' });
    assert.equal(debugging.level, 'debug');
    debugging.debug('at debug');
    assert.equal(made.length, 2);

    // With pino through fastify: the lines carry the request id as before.
    const lines: string[] = [];
    const app = Fastify({
      ...requestIdOptions(),
      logger: loggerOptions('info', { stream: { write: (l) => void lines.push(l) } }),
      logController: new AccessLogController(),
      childLoggerFactory: lazyChildLogger,
    });
    await app.register(requestId);
    app.get('/ok', () => ({ ok: true }));
    app.get('/says', (request) => {
      request.log.info({ password: 'SECRET-1' }, 'said');
      return { ok: true };
    });
    await app.ready();
    assert.equal((await app.inject({ method: 'GET', url: '/ok' })).statusCode, 200);
    const said = await app.inject({ method: 'GET', url: '/says' });
    assert.equal((await app.inject({ method: 'GET', url: '/missing' })).statusCode, 404);
    await app.close();
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const byMsg = (msg: string) => parsed.filter((l) => l.msg === msg);
    assert.equal(byMsg('said').length, 1);
    assert.equal(byMsg('said')[0].reqId, said.headers['x-request-id']);
    assert.equal(byMsg('said')[0].password, REDACTED);
    assert.deepEqual(
      byMsg('request completed').map((l) => (l.res as { statusCode: number }).statusCode),
      [404],
    );
    assert.equal(typeof byMsg('request completed')[0].reqId, 'string');
  });

  it('writes the access line without the redaction pass, the same line as with it', async () => {
    const lines: string[] = [];
    const app = Fastify({ logger: loggerOptions('info', { stream: { write: (l) => void lines.push(l) } }) });
    await app.ready();
    const fields = {
      req: { method: 'DELETE', url: '/api/v1/orders/7?token=SECRET-1&depth=5', ip: '10.0.0.1' },
      res: { statusCode: 409 },
      responseTime: 1.5,
    };
    new LazyChildLogger(app.log, { reqId: 'r1' }, {}).infoUnredacted(fields, 'request completed');
    app.log.child({ reqId: 'r1' }, {}).info(fields, 'request completed');
    // Above info, nothing, as info would do.
    new LazyChildLogger(app.log, { reqId: 'r2' }, { level: 'warn' }).infoUnredacted(
      fields,
      'request completed',
    );
    await app.close();
    const untimed = lines.map((l) => l.replace(/"time":[0-9]+,/, ''));
    assert.equal(untimed.length, 2, lines.join(''));
    assert.equal(untimed[0], untimed[1]);
    assert.ok(!untimed[0].includes('SECRET'), untimed[0]);
    assert.ok(untimed[0].includes('depth=5') && untimed[0].includes('"reqId":"r1"'), untimed[0]);
  });

  it('redactUrl keeps other parameters and the path as they are', () => {
    assert.equal(redactUrl('/ws?token=abc&depth=10'), `/ws?token=${REDACTED}&depth=10`);
    assert.equal(redactUrl('/a/b'), '/a/b');
    assert.equal(redactUrl('/a?flag&key=1'), `/a?flag&key=${REDACTED}`);
  });
});
