/**
 * deploy/nginx/nginx.conf, checked by the real nginx: `nginx -t` on a test copy (temporary certificate, ports,
 * pid and log files, run as the current user with `-p` and `-c`), then that copy run in front of a venue on
 * loopback with a certificate made by openssl at test time: HTTP to HTTPS, REST (health, an order) and the
 * WebSocket API (/ws and /ws/trades/{symbol}) over TLS, the security headers once each, the request id,
 * /metrics kept off, a client's X-Forwarded-For not passed on, and the proxy's own refusals (body too large, rate limited) in the venue's envelope.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { AuditLog } from '../../src/audit/index.js';
import type { Venue } from '../../src/gateway/index.js';
import { call, openVenue, order, tempDir, testConfig, traders } from '../gateway/helpers.js';
import { Daemon, GiveUp, ROOT, freePort, output, run, waitFor } from './tools.js';

interface Ports {
  readonly http: number;
  readonly https: number;
  readonly upstream: string;
}

/** Replaces `from` in `text`, which must hold it exactly `times` times (so the copy follows the shipped file). */
function replaceExactly(text: string, from: string, to: string, times = 1): string {
  const found = text.split(from).length - 1;
  assert.equal(found, times, `nginx.conf holds ${JSON.stringify(from)} ${found} times, expected ${times}`);
  return text.split(from).join(to);
}

/**
 * The shipped configuration with only its host-specific parts changed: loopback ports instead of 80 and 443
 * (IPv4 only), the venue's address, the temporary certificate, pid and logs, temp directories in the prefix,
 * and the current user (nginx ignores `user` unless it runs as root).
 */
function testCopy(dir: string, ports: Ports): string {
  let conf = readFileSync(join(ROOT, 'deploy/nginx/nginx.conf'), 'utf8');
  const root = process.getuid?.() === 0;
  conf = replaceExactly(conf, 'user nginx;', root ? `user ${userInfo().username};` : '');
  conf = replaceExactly(conf, 'pid /var/run/nginx.pid;', `pid ${join(dir, 'nginx.pid')};`);
  conf = replaceExactly(conf, '/var/log/nginx/error.log', join(dir, 'error.log'));
  conf = replaceExactly(conf, '/var/log/nginx/access.log', join(dir, 'access.log'));
  conf = replaceExactly(conf, 'listen 80;', `listen 127.0.0.1:${ports.http};`);
  conf = replaceExactly(conf, 'listen [::]:80;', '');
  conf = replaceExactly(conf, 'listen 443 ssl http2;', `listen 127.0.0.1:${ports.https} ssl http2;`);
  conf = replaceExactly(conf, 'listen [::]:443 ssl http2;', '');
  conf = replaceExactly(
    conf,
    'ssl_certificate /etc/nginx/tls/tls.crt;',
    `ssl_certificate ${join(dir, 'tls.crt')};`,
  );
  conf = replaceExactly(
    conf,
    'ssl_certificate_key /etc/nginx/tls/tls.key;',
    `ssl_certificate_key ${join(dir, 'tls.key')};`,
  );
  conf = replaceExactly(conf, 'server rialto:8080 ', `server ${ports.upstream} `);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `    ${t}_temp_path ${join(dir, 'temp', t)};\n`)
    .join('');
  conf = replaceExactly(conf, 'http {\n', `http {\n${temp}`);
  mkdirSync(join(dir, 'temp'), { recursive: true });
  const path = join(dir, 'nginx.conf');
  writeFileSync(path, conf);
  return path;
}

/** A self-signed certificate for localhost and 127.0.0.1, made now by openssl; the test's clients trust it. */
function makeCertificate(dir: string): Buffer {
  const r = run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    join(dir, 'tls.key'),
    '-out',
    join(dir, 'tls.crt'),
  ]);
  assert.equal(r.status, 0, output(r));
  return readFileSync(join(dir, 'tls.crt'));
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Header names as sent, lower case, once per occurrence (to see that none is sent twice). */
  readonly names: string[];
  readonly body: string;
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

function assertSecurityHeaders(r: Reply, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    assert.equal(r.headers[name], value, `${what}: ${name}`);
    assert.equal(r.names.filter((n) => n === name).length, 1, `${what}: ${name} once`);
  }
  assert.equal(r.names.filter((n) => n === 'content-security-policy').length, 1, `${what}: one CSP`);
  assert.match(String(r.headers['content-security-policy']), /default-src 'none'/, what);
  assert.equal(r.headers.server, 'nginx', `${what}: no version in Server`);
}

describe('deploy/nginx: nginx -t, then a real nginx in front of a venue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rialto-nginx-'));
  let venue: Venue;
  let nginx: Daemon | null = null;
  let ports: Ports;
  let ca: Buffer;
  let agent: Agent;
  let keys: { admin: string; t1: string; t2: string };

  before(async () => {
    // The venue trusts nginx (loopback here), as a deployment behind it should (docs/deployment.md).
    venue = await openVenue(testConfig(tempDir(), { RIALTO_TRUSTED_PROXIES: '127.0.0.1' }));
    const admin = venue.adminKey;
    assert.ok(admin !== null);
    keys = { admin, ...(await traders(venue, admin)) };
    ports = { http: await freePort(), https: await freePort(), upstream: new URL(venue.url).host };
    ca = makeCertificate(dir);
    agent = new Agent({ ca, keepAlive: true, maxSockets: 32 });
  });

  after(async () => {
    agent.destroy();
    await nginx?.stop();
    await venue.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function send(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string; tls?: boolean; trust?: boolean } = {},
  ): Promise<Reply> {
    const tls = options.tls ?? true;
    const make = tls ? httpsRequest : httpRequest;
    const body = options.body;
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = make(
        {
          host: '127.0.0.1',
          port: tls ? ports.https : ports.http,
          method,
          path,
          headers,
          ...(tls ? { agent: options.trust === false ? new Agent({ keepAlive: false }) : agent } : {}),
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              names: res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
              body: text,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('passes `nginx -t` as a test copy (temporary certificate, ports, pid and logs; prefix and -c)', () => {
    const conf = testCopy(dir, ports);
    const r = run('nginx', ['-t', '-p', `${dir}/`, '-c', conf, '-e', join(dir, 'error.log')]);
    assert.equal(r.status, 0, output(r));
    assert.match(output(r), /syntax is ok/);
    assert.match(output(r), /test is successful/);
  });

  it('runs in front of the venue: HTTP to HTTPS, and a TLS client trusts it only with the test CA', async () => {
    const conf = join(dir, 'nginx.conf');
    const started = new Daemon(
      'nginx',
      ['-p', `${dir}/`, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
      dir,
    );
    nginx = started;
    const why = (): string => `nginx says:\n${started.output}\n${readIfThere(join(dir, 'error.log'))}`;
    await waitFor(`nginx serving HTTPS; ${why()}`, 30_000, async () => {
      if (!started.running) throw new GiveUp(`nginx exited; ${why()}`);
      return (await send('GET', '/health')).status === 200 ? true : undefined;
    });

    const plain = await send('GET', '/api/v1/instruments?x=1', { tls: false });
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.location, 'https://127.0.0.1/api/v1/instruments?x=1');

    await assert.rejects(send('GET', '/health', { trust: false }), /self[- ]signed|unable to verify/i);

    const health = await send('GET', '/health');
    assert.equal(health.status, 200, health.body);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
    assertSecurityHeaders(health, 'GET /health');
    // The request id nginx made reached the venue, which kept it (its own would be a UUID with dashes).
    assert.match(String(health.headers['x-request-id']), /^[0-9a-f]{32}$/);
    const named = await send('GET', '/health', { headers: { 'x-request-id': 'client-id-42' } });
    assert.equal(named.headers['x-request-id'], 'client-id-42');
  });

  it('proxies REST: an order placed and read back, errors from the venue as the venue sent them', async () => {
    const placed = await send('POST', '/api/v1/orders', {
      // A client's claim to another address goes no further than nginx.
      headers: { 'x-api-key': keys.t1, 'x-forwarded-for': '203.0.113.66', 'x-request-id': 'nginx-order-1' },
      body: JSON.stringify(
        order({ side: 'buy', quantity: '0.5', price: '60000', client_order_id: 'via-nginx' }),
      ),
    });
    assert.equal(placed.status, 201, placed.body);
    assertSecurityHeaders(placed, 'POST /api/v1/orders');
    const o = JSON.parse(placed.body) as { order_id: string; status: string; client_order_id: string };
    assert.equal(o.client_order_id, 'via-nginx');
    const read = await send('GET', `/api/v1/orders/${o.order_id}`, { headers: { 'x-api-key': keys.t1 } });
    assert.equal(read.status, 200, read.body);
    assert.equal((JSON.parse(read.body) as { order_id: string }).order_id, o.order_id);
    // The same order through the store directly: nginx changed nothing on the way.
    const direct = await call(venue, 'GET', `/api/v1/orders/${o.order_id}`, keys.t1);
    assert.deepEqual(JSON.parse(read.body), direct.body);

    await venue.audit.flush();
    // The table is a projection of the audit file: wait until it holds what the file does.
    await venue.auditTable.catchUp();
    const event = (await new AuditLog(venue.store).tail(50)).find((e) => e.requestId === 'nginx-order-1');
    assert.equal(event?.action, 'order.place');
    assert.equal(event.actor.ip, '127.0.0.1', 'the address nginx saw, not the one the client claimed');

    const refused = await send('GET', '/api/v1/orders');
    assert.equal(refused.status, 401);
    assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
    assertSecurityHeaders(refused, 'a 401 of the venue');
    assert.equal(refused.headers['cache-control'], 'no-store');

    const metrics = await send('GET', '/metrics');
    assert.equal(metrics.status, 404, 'the venue insides are not served through the proxy');
    assert.doesNotMatch(metrics.body, /rialto_/);
  });

  it('upgrades /ws and /ws/trades/{symbol} over TLS: a book subscription and a trade come through', async () => {
    const open = (
      path: string,
    ): Promise<{ ws: WebSocket; next: (type: string) => Promise<Record<string, unknown>> }> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`wss://127.0.0.1:${ports.https}${path}`, { ca, perMessageDeflate: false });
        const queue: Record<string, unknown>[] = [];
        const waiting: { type: string; resolve: (m: Record<string, unknown>) => void }[] = [];
        ws.on('message', (data: Buffer) => {
          const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
          const k = waiting.findIndex((w) => w.type === m.type);
          if (k >= 0) waiting.splice(k, 1)[0].resolve(m);
          else queue.push(m);
        });
        const next = (type: string): Promise<Record<string, unknown>> => {
          const k = queue.findIndex((m) => m.type === type);
          if (k >= 0) return Promise.resolve(queue.splice(k, 1)[0]);
          return new Promise((r) => waiting.push({ type, resolve: r }));
        };
        ws.once('open', () => resolve({ ws, next }));
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(`upgrade refused: ${res.statusCode ?? 0}`)),
        );
        ws.once('error', reject);
      });

    const main = await open('/ws');
    main.ws.send(JSON.stringify({ op: 'subscribe', id: 's1', channel: 'book:BTC-USDT:10' }));
    const subscribed = await main.next('subscribed');
    assert.equal(subscribed.channel, 'book:BTC-USDT:10');
    const snapshot = await main.next('book_snapshot');
    assert.deepEqual(snapshot.bids, [['60000.00', '0.5000']], JSON.stringify(snapshot));
    const trades = await open('/ws/trades/BTC-USDT');

    const sell = await send('POST', '/api/v1/orders', {
      headers: { 'x-api-key': keys.t2 },
      body: JSON.stringify(order({ side: 'sell', quantity: '0.2', price: '60000' })),
    });
    assert.equal(sell.status, 201, sell.body);
    const delta = await main.next('book_delta');
    assert.deepEqual(delta.bids, [['60000.00', '0.3000']], JSON.stringify(delta));
    const trade = await trades.next('trade_execution');
    assert.equal(trade.symbol, 'BTC-USDT');
    assert.equal(trade.quantity, '0.2000');

    // A request over the connection and its answer, both ways through the proxy.
    main.ws.send(JSON.stringify({ op: 'ping', id: 'p1' }));
    assert.equal((await main.next('pong')).id, 'p1');
    for (const c of [main, trades]) {
      const closed = new Promise((r) => c.ws.once('close', r));
      c.ws.close(1000);
      await closed;
    }
  });

  it("answers its own refusals in the venue's envelope: a body over 16 KiB, then a flood of upgrades", async () => {
    const big = await send('POST', '/api/v1/orders', {
      headers: { 'x-api-key': keys.t1 },
      body: JSON.stringify({ padding: 'x'.repeat(20_000) }),
    });
    assert.equal(big.status, 413);
    assert.equal((JSON.parse(big.body) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
    assert.match(String(big.headers['content-type']), /^application\/json/);
    assertSecurityHeaders(big, 'the proxy 413');

    // The upgrade path allows 5 a second with a burst of 20 per address: 100 at once cannot all pass.
    const replies = await Promise.all(Array.from({ length: 100 }, () => send('GET', '/ws/trades/BTC-USDT')));
    const limited = replies.filter((r) => r.status === 429);
    assert.ok(limited.length > 0, `statuses: ${[...new Set(replies.map((r) => r.status))].join(',')}`);
    const body = JSON.parse(limited[0].body) as { error: { code: string }; timestamp: string };
    assert.equal(body.error.code, 'RATE_LIMITED');
    assert.ok(!Number.isNaN(Date.parse(body.timestamp)), body.timestamp);
    assert.equal(limited[0].headers['retry-after'], '1');
    assertSecurityHeaders(limited[0], 'the proxy 429');
    // The others reached the venue, which refuses a plain GET on a WebSocket path in its own way.
    assert.ok(replies.every((r) => r.status === 429 || (r.status >= 400 && r.status < 500)));
  });

  it('answers 503 SERVICE_UNAVAILABLE in the envelope once the venue is gone', async () => {
    await venue.close();
    const r = await send('GET', '/api/v1/instruments');
    assert.equal(r.status, 503, r.body);
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'SERVICE_UNAVAILABLE');
    assert.equal(r.headers['retry-after'], '1');
    assertSecurityHeaders(r, 'the proxy 503');
  });
});

function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
