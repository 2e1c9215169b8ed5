/**
 * The engine's internal port as an HTTP server, in-process: `/metrics` serves the engine process's registry,
 * behind `metrics.token` when one is set (403 otherwise, as the gateways' `/metrics`), and is 404 where no
 * registry is given; the probes need neither the token nor the engine's secret.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import type { PlaceOrder } from '../../../src/core/index.js';
import { Engine } from '../../../src/engine/index.js';
import { ENGINE_WS_PATH, encodeFrame, frameCommands } from '../../../src/gateway/remote/index.js';
import { EngineServer } from '../../../src/gateway/remote/server.js';

describe('the internal port: /metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rialto-engine-port-'));
  let engine: Engine;
  const registry = new Registry();
  new Counter({ name: 'rialto_test_marker_total', help: 'a marker', registers: [registry] }).inc(3);
  const servers: EngineServer[] = [];
  const listen = async (metrics: Registry | undefined, metricsToken: string | null): Promise<string> => {
    const s = await EngineServer.listen({
      host: '127.0.0.1',
      port: 0,
      secret: 'engine-secret-0123456789abcdef0123',
      engine,
      entry: () => null,
      dir,
      log: () => undefined,
      metrics,
      metricsToken,
    });
    servers.push(s);
    return `http://${s.address}`;
  };

  before(async () => {
    engine = await Engine.start({ dir, snapshotEveryCommands: 0, snapshotEveryMs: 0 });
  });
  after(async () => {
    for (const s of servers) await s.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers only the metrics token when one is set', async () => {
    const base = await listen(registry, 'metrics-token-0123456789');
    for (const headers of [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: 'metrics-token-0123456789' },
    ] as Record<string, string>[]) {
      const r = await fetch(`${base}/metrics`, { headers });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.doesNotMatch(await r.text(), /rialto_test_marker_total/);
    }
    const r = await fetch(`${base}/metrics`, {
      headers: { authorization: 'Bearer metrics-token-0123456789' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), registry.contentType);
    assert.match(await r.text(), /^rialto_test_marker_total 3$/m);
    // The probes need no token.
    assert.equal((await fetch(`${base}/ready`)).status, 200);
    assert.equal((await fetch(`${base}/health`)).status, 200);
  });

  it('answers anyone who reaches it without a token, and 404 without a registry', async () => {
    const open = await listen(registry, null);
    const r = await fetch(`${open}/metrics`);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /^rialto_test_marker_total 3$/m);
    const none = await listen(undefined, null);
    assert.equal((await fetch(`${none}/metrics`)).status, 404);
    assert.equal((await fetch(`${open}/metrics`, { method: 'POST' })).status, 404);
  });
});

describe('the internal port: client order ids are the order entry’s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rialto-engine-port-'));
  const secret = 'engine-secret-0123456789abcdef0123';
  let engine: Engine;
  let server: EngineServer;
  before(async () => {
    engine = await Engine.start({ dir, snapshotEveryCommands: 0, snapshotEveryMs: 0 });
    server = await EngineServer.listen({
      host: '127.0.0.1',
      port: 0,
      secret,
      engine,
      entry: () => null,
      dir,
      log: () => undefined,
      metrics: undefined,
      metricsToken: null,
    });
  });
  after(async () => {
    await server.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const place: PlaceOrder = {
    kind: 'placeOrder',
    timeUs: 0,
    accountId: 1,
    instrument: 1,
    orderId: 0,
    side: 0,
    type: 1,
    tif: 1,
    price: 100,
    triggerPrice: 0,
    qty: 1,
    displayQty: 0,
    postOnly: false,
    stp: 0,
    expireTimeUs: 0,
    clientOrderId: 'mine',
  };

  /** Sends one frame on a fresh connection; the close code it gets. */
  const closeCodeOf = async (frame: Buffer): Promise<number> => {
    const ws = new WebSocket(`ws://${server.address}${ENGINE_WS_PATH}`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    await once(ws, 'open');
    ws.send(frame);
    const [code] = (await once(ws, 'close')) as [number];
    return code;
  };

  it('refuses a submit or a place whose record carries one (a protocol error), journaling nothing', async () => {
    const before = engine.recovery.lastSeq;
    const body = frameCommands([{ ...place, orderId: 7 }]);
    assert.equal(await closeCodeOf(encodeFrame({ t: 'submit', id: 1, count: 1 }, body)), 1002);
    const placed = encodeFrame({ t: 'place', id: 2, clientOrderId: 'mine' }, frameCommands([place]));
    assert.equal(await closeCodeOf(placed), 1002);
    assert.equal(await engine.highestOrderId(), 0);
    assert.equal((await engine.checkpoint()).seq, before);
  });
});
