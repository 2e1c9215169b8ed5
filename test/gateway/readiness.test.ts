/**
 * Readiness: each probe on its own (bounded, never throwing, naming what is wrong), against the real Redis
 * and NATS of the machine, and a venue on PostgreSQL whose database goes away behind a TCP proxy and comes
 * back: `/ready` answers 503 naming the store while it is gone, the process keeps serving, and 200 after.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { openPostgresStore } from '../../src/store/index.js';
import { createRedisClient, silentLog } from '../../src/gateway/limits/index.js';
import { bounded, natsProbe, readinessOf, redisProbe } from '../../src/gateway/readiness.js';
import { TEST_DATABASE_URL } from '../store/helpers.js';
import type { Venue } from '../../src/gateway/index.js';
import { openVenue, tempDir, testConfig } from './helpers.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A TCP server that greets with `greeting` (or never speaks) and counts nothing else. */
async function fakeServer(greeting: string | null): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const s = createServer((c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    c.on('error', () => undefined);
    if (greeting !== null) c.write(greeting);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    port: (s.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy();
        s.close(() => r());
      }),
  };
}

/**
 * A TCP proxy to `target` that can be cut (listener closed, every connection destroyed) and restored on the
 * same port: the database "goes away" for the venue without touching the real server.
 */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect({ host: this.host, port: this.targetPort });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server !== null) await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('readiness probes', () => {
  it('bounds a probe that never answers and turns a throw into a reason', async () => {
    const r = await readinessOf(
      {
        fine: () => Promise.resolve('ok'),
        hangs: () => new Promise<string>(() => undefined),
        throws: () => Promise.reject(new Error('boom')),
      },
      50,
    );
    assert.equal(r.ready, false);
    assert.deepEqual(r.checks, {
      fine: 'ok',
      hangs: 'unreachable: no answer within 50 ms',
      throws: 'unreachable: boom',
    });
    assert.equal((await readinessOf({ a: () => Promise.resolve('ok') })).ready, true);
    assert.equal(await bounded(() => Promise.resolve('closing'), 50), 'closing');
  });

  it('NATS: ok against the real server, and says why against a closed port or another protocol', async () => {
    assert.equal(await natsProbe(NATS_URL)(), 'ok');
    assert.match(await natsProbe(`nats://127.0.0.1:${await closedPort()}`)(), /^unreachable: .*ECONNREFUSED/);
    const other = await fakeServer('+OK hello\r\n');
    try {
      assert.equal(
        await natsProbe(`nats://127.0.0.1:${other.port}`)(),
        'unexpected greeting: not a NATS server',
      );
    } finally {
      await other.close();
    }
    const silent = await fakeServer(null);
    try {
      assert.match(await bounded(natsProbe(`nats://127.0.0.1:${silent.port}`), 100), /^unreachable: /);
    } finally {
      await silent.close();
    }
  });

  it('Redis: ok against the real server, unreachable against a closed port', async () => {
    const up = createRedisClient(REDIS_URL, silentLog);
    const down = createRedisClient(`redis://127.0.0.1:${await closedPort()}`, silentLog);
    try {
      // The client connects in the background; the first probe may come before it has.
      let answer = '';
      for (let i = 0; i < 50 && answer !== 'ok'; i++) {
        answer = await bounded(redisProbe(up));
        if (answer !== 'ok') await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(answer, 'ok');
      assert.match(await bounded(redisProbe(down)), /^unreachable: /);
    } finally {
      up.disconnect();
      down.disconnect();
    }
  });
});

async function metricsText(venue: Venue): Promise<string> {
  const r = await venue.server.inject({ method: 'GET', url: '/metrics' });
  assert.equal(r.statusCode, 200);
  return r.body;
}

describe('readiness of a venue whose database goes away', () => {
  const schema = `rialto_ready_${process.pid}`;
  const target = new URL(TEST_DATABASE_URL);
  const proxy = new CuttableProxy(target.hostname, Number(target.port === '' ? 5432 : target.port));

  before(async () => {
    const db = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await db.close();
    await proxy.open();
  });
  after(async () => {
    await proxy.cut();
    const db = await openPostgresStore({ url: TEST_DATABASE_URL, schema: null });
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });

  it('answers 503 naming the store while it is gone, opens the circuit, keeps serving, and 200 once it is back', async () => {
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    viaProxy.searchParams.set('options', `-c search_path=${schema}`);
    const config = testConfig(tempDir(), { DATABASE_URL: viaProxy.toString() });
    const venue = await openVenue(config, false);
    try {
      const ready = async (): Promise<{ status: number; checks: Record<string, string> }> => {
        const r = await venue.server.inject({ method: 'GET', url: '/ready' });
        return { status: r.statusCode, checks: r.json<{ checks: Record<string, string> }>().checks };
      };
      const first = await ready();
      assert.equal(first.status, 200, JSON.stringify(first.checks));
      assert.equal(first.checks.store, 'ok');

      await proxy.cut();
      const gone = await ready();
      assert.equal(gone.status, 503);
      assert.match(gone.checks.store, /^unreachable: /);
      assert.equal(gone.checks.engine, 'ok', 'only the failing part is named');
      // A probe that judges by the engine alone (what keeps a process in a load balancer) still sees the store.
      const byEngine = await venue.server.inject({ method: 'GET', url: '/ready?only=engine' });
      assert.equal(byEngine.statusCode, 200, byEngine.body);
      assert.match(byEngine.json<{ checks: Record<string, string> }>().checks.store, /^unreachable: /);
      const byEngineAndStore = await venue.server.inject({ method: 'GET', url: '/ready?only=engine,store' });
      assert.equal(byEngineAndStore.statusCode, 503, byEngineAndStore.body);
      // A part this process does not run has nothing to fail; an unknown name or a malformed list is refused.
      assert.equal(
        (await venue.server.inject({ method: 'GET', url: '/ready?only=engine,nats' })).statusCode,
        200,
      );
      for (const url of [
        '/ready?only=engin',
        '/ready?only=',
        '/ready?only=engine,,store',
        '/ready?other=1',
      ]) {
        const bad = await venue.server.inject({ method: 'GET', url });
        assert.equal(bad.statusCode, 400, `${url}: ${bad.body}`);
        assert.equal(bad.json<{ error: { code: string } }>().error.code, 'VALIDATION_ERROR', url);
      }
      const health = await venue.server.inject({ method: 'GET', url: '/health' });
      assert.equal(health.statusCode, 200, 'the process keeps answering');
      const book = await venue.server.inject({ method: 'GET', url: '/api/v1/orderbook/BTC-USDT' });
      assert.equal(book.statusCode, 200, 'market data does not need the store');
      // A request that needs the database (a key never seen, so not cached) is refused with 503, not a 500.
      const unknownKey = `rk_${'A'.repeat(16)}.${'b'.repeat(43)}`;
      const refused = await venue.server.inject({
        method: 'GET',
        url: '/api/v1/accounts',
        headers: { 'x-api-key': unknownKey },
      });
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal(refused.json<{ error: { code: string } }>().error.code, 'SERVICE_UNAVAILABLE');
      // Consecutive failures open the circuit: calls are then refused without a round trip, as /metrics shows.
      for (let i = 0; i < 5; i++) await ready();
      const open = await metricsText(venue);
      assert.match(open, /^rialto_dependency_circuit_state\{dependency="postgres"\} 2$/m);
      assert.match(open, /^rialto_dependency_circuit_opened_total\{dependency="postgres"\} [1-9]/m);
      assert.match(open, /^rialto_dependency_failures_total\{dependency="postgres"\} [1-9]/m);
      assert.match(open, /^rialto_dependency_rejected_total\{dependency="postgres"\} [1-9]/m);
      assert.match((await ready()).checks.store, /circuit|refused without trying/);

      await proxy.open();
      // The circuit lets a trial call through after its wait (5 s); the pool drops its dead connections on
      // their first error. Poll with a deadline (a bound against hangs, not a timing claim).
      let back = await ready();
      for (const end = Date.now() + 30_000; back.status !== 200 && Date.now() < end;) {
        await new Promise((r) => setTimeout(r, 200));
        back = await ready();
      }
      assert.equal(back.status, 200, JSON.stringify(back.checks));
      assert.match(await metricsText(venue), /^rialto_dependency_circuit_state\{dependency="postgres"\} 0$/m);
    } finally {
      await venue.close();
    }
  });
});
