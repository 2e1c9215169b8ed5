/**
 * The internal transport's frames, and a gateway's RemoteEngine against a scripted engine (a bare WebSocket
 * server speaking the frames): it refuses to serve a state that differs from the engine's, stops on a wrong
 * secret, and treats a gap in the stream as a protocol error (reconnects, resumes after its last record).
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { ExchangeCore, type Command } from '../../../src/core/index.js';
import { decodeFramedCommands } from '../../../src/journal/index.js';
import {
  ENGINE_WS_PATH,
  RemoteEngine,
  decodeFrame,
  encodeFrame,
  frameCommands,
} from '../../../src/gateway/remote/index.js';
import { toEngineHeader, toGatewayHeader, eventsOfBody } from '../../../src/gateway/remote/wire.js';
import { Views } from '../../../src/gateway/index.js';

const setup: Command[] = [
  { kind: 'addAsset', timeUs: 0, asset: 1, code: 'BTC', decimals: 8 },
  { kind: 'addAsset', timeUs: 0, asset: 2, code: 'USDT', decimals: 6 },
];

describe('internal transport frames', () => {
  it('round-trips a header and body, and refuses what is not a frame', () => {
    const body = frameCommands(setup);
    const f = decodeFrame(encodeFrame({ t: 'submit', id: 7, count: 2 }, body), toEngineHeader);
    assert.ok(typeof f !== 'string');
    assert.deepEqual(f.header, { t: 'submit', id: 7, count: 2 });
    assert.deepEqual(
      decodeFramedCommands(f.body, 2).map((c) => c.kind),
      ['addAsset', 'addAsset'],
    );
    for (const bad of [
      new Uint8Array([1]),
      new Uint8Array([200, 0, 0, 0, 1]),
      Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from('{x')]),
      encodeFrame({ t: 'live' }),
    ]) {
      assert.equal(typeof decodeFrame(bad, toEngineHeader), 'string', `refused: ${bad.length} bytes`);
    }
    // Unknown fields and wrong types are refused by the schema, not passed on.
    const extra = Buffer.from(JSON.stringify({ t: 'follow', from: 1, more: true }));
    const framed = Buffer.concat([Buffer.from([extra.length, 0, 0, 0]), extra]);
    assert.equal(typeof decodeFrame(framed, toEngineHeader), 'string');
    assert.equal(typeof decodeFrame(encodeFrame({ t: 'follow', from: 0 }), toEngineHeader), 'string');
    assert.ok(typeof decodeFrame(encodeFrame({ t: 'live' }), toGatewayHeader) !== 'string');
  });

  it('checks a receipt body against its ends', () => {
    assert.equal(typeof eventsOfBody(new Uint8Array(16 * 8), [1]), 'object');
    assert.equal(typeof eventsOfBody(new Uint8Array(16 * 8), [2]), 'string');
    assert.equal(typeof eventsOfBody(new Uint8Array(32 * 8), [2, 1]), 'string');
  });
});

/** A scripted engine: `onFollow` answers each connection's follow. */
async function scripted(
  onFollow: (ws: WebSocket, from: number, connection: number) => void,
  status = 101,
): Promise<{ address: string; follows: number[]; close: () => Promise<void> }> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  const follows: number[] = [];
  http.on('upgrade', (req, socket, head) => {
    if (status !== 101 || req.url !== ENGINE_WS_PATH) {
      socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data: Buffer) => {
        const f = decodeFrame(data, toEngineHeader);
        if (typeof f !== 'string' && f.header.t === 'follow') {
          follows.push(f.header.from);
          onFollow(ws, f.header.from, follows.length);
        }
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    follows,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const batch = (firstSeq: number, commands: Command[]): Buffer =>
  encodeFrame({ t: 'batch', firstSeq, timeUs: 1000, count: commands.length }, frameCommands(commands));

function hashAfter(commands: Command[]): string {
  const core = new ExchangeCore();
  for (const c of commands) {
    core.events.clear();
    core.execute({ ...c, timeUs: 1000 });
  }
  return core.stateHash();
}

describe('RemoteEngine against a scripted engine', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of closers) await c();
  });
  const quiet = (): void => undefined;

  it('catches up, checks the state hash, and is ready', async () => {
    const engine = await scripted((ws) => {
      ws.send(encodeFrame({ t: 'hello', seq: 2, stateHash: hashAfter(setup) }));
      ws.send(batch(1, setup));
      ws.send(encodeFrame({ t: 'live' }));
    });
    closers.push(engine.close);
    const remote = new RemoteEngine({ address: engine.address, secret: 's', log: quiet });
    const replay = await remote.catchUp(new Views(), null);
    assert.equal(replay.commands, 2);
    assert.deepEqual(replay.assets, [1, 2]);
    assert.equal(remote.health(), 'ok');
    await remote.close();
  });

  it('says how far its first catch-up is while it runs, and nothing once live', async () => {
    const engineSide: { ws: WebSocket | null } = { ws: null };
    const engine = await scripted((ws) => {
      engineSide.ws = ws;
      ws.send(encodeFrame({ t: 'hello', seq: 2, stateHash: hashAfter(setup) }));
      ws.send(batch(1, setup.slice(0, 1)));
      ws.send(batch(2, setup.slice(1)));
      ws.send(encodeFrame({ t: 'live' }));
    });
    closers.push(engine.close);
    const said: string[] = [];
    const remote = new RemoteEngine({
      address: engine.address,
      secret: 's',
      log: (level, msg) => said.push(`${level}: ${msg}`),
      progressEveryMs: 0,
    });
    await remote.catchUp(new Views(), null);
    assert.deepEqual(said, [
      'info: catching up with the engine before listening: 1 of 2 records (50%)',
      'info: catching up with the engine before listening: 2 of 2 records (100%)',
    ]);
    // A batch after the catch-up is live traffic: nothing more is said.
    const applied = new Promise<void>((resolve) => remote.subscribe(() => resolve()));
    engineSide.ws?.send(batch(3, [{ kind: 'addAsset', timeUs: 0, asset: 3, code: 'ETH', decimals: 8 }]));
    await applied;
    assert.equal(remote.appliedSeq, 3);
    assert.equal(said.length, 2);
    await remote.close();
  });

  it('learns the client order ids from the place records it follows', async () => {
    const place: Command = {
      kind: 'placeOrder',
      timeUs: 0,
      accountId: 3,
      instrument: 1,
      orderId: 41,
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
      clientOrderId: 'cid-é1',
    };
    const commands = [...setup, place, { ...place, orderId: 42, clientOrderId: undefined }];
    const engine = await scripted((ws) => {
      ws.send(encodeFrame({ t: 'hello', seq: 4, stateHash: hashAfter(commands) }));
      ws.send(batch(1, commands));
      ws.send(encodeFrame({ t: 'live' }));
    });
    closers.push(engine.close);
    const remote = new RemoteEngine({ address: engine.address, secret: 's', log: quiet });
    await remote.catchUp(new Views(), null);
    assert.equal(remote.clientOrderIdOf(41), 'cid-é1');
    assert.equal(remote.clientOrderIdOf(42), null);
    // The batch header no longer has a field for them: an engine that sends one speaks another protocol.
    const old = { t: 'batch', firstSeq: 1, timeUs: 1, count: 1, clientOrderIds: [[41, 'x']] };
    assert.equal(
      typeof decodeFrame(encodeFrame(old as never, frameCommands([place])), toGatewayHeader),
      'string',
    );
    await remote.close();
  });

  it('refuses to serve when its state differs from the engine’s', async () => {
    const engine = await scripted((ws) => {
      ws.send(encodeFrame({ t: 'hello', seq: 2, stateHash: 'not-the-hash' }));
      ws.send(batch(1, setup));
      ws.send(encodeFrame({ t: 'live' }));
    });
    closers.push(engine.close);
    const remote = new RemoteEngine({ address: engine.address, secret: 's', log: quiet });
    await assert.rejects(remote.catchUp(new Views(), null), { code: 'ENGINE_STATE_MISMATCH' });
    assert.match(remote.health(), /^failed: ENGINE_STATE_MISMATCH/);
    await remote.close();
  });

  it('stops on a refused secret', async () => {
    const engine = await scripted(() => undefined, 401);
    closers.push(engine.close);
    const remote = new RemoteEngine({ address: engine.address, secret: 'wrong', log: quiet });
    await assert.rejects(remote.catchUp(new Views(), null), { code: 'ENGINE_UNAUTHORIZED' });
    await remote.close();
  });

  it('treats a gap in the stream as a protocol error: reconnects and resumes after its last record', async () => {
    const engine = await scripted((ws, from, connection) => {
      if (connection === 1) {
        // The first record, then one that skips a sequence number.
        ws.send(batch(1, setup.slice(0, 1)));
        ws.send(batch(3, setup.slice(1)));
        return;
      }
      ws.send(encodeFrame({ t: 'hello', seq: 2, stateHash: hashAfter(setup) }));
      ws.send(batch(from, setup.slice(from - 1)));
      ws.send(encodeFrame({ t: 'live' }));
    });
    closers.push(engine.close);
    const remote = new RemoteEngine({
      address: engine.address,
      secret: null,
      log: quiet,
      reconnectInitialMs: 1,
    });
    const replay = await remote.catchUp(new Views(), null);
    assert.deepEqual(engine.follows, [1, 2], 'the second follow resumes after the record applied');
    assert.equal(replay.commands, 2);
    await remote.close();
  });

  it('refuses requests while disconnected with ENGINE_UNAVAILABLE', async () => {
    const engine = await scripted((ws) => {
      ws.send(encodeFrame({ t: 'hello', seq: 0, stateHash: new ExchangeCore().stateHash() }));
      ws.send(encodeFrame({ t: 'live' }));
    });
    const remote = new RemoteEngine({ address: engine.address, secret: null, log: quiet });
    await remote.catchUp(new Views(), null);
    await engine.close();
    for (let i = 0; i < 1000 && remote.health() === 'ok'; i++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.match(remote.health(), /^disconnected/);
    await assert.rejects(remote.stateHash(), { code: 'ENGINE_UNAVAILABLE' });
    await remote.close();
  });
});
