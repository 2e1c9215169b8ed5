/**
 * The private-services harness itself: each server starts on a port of its own, answers as itself, goes
 * away when stopped (crash-like or graceful), comes back on the same port with its data (PostgreSQL's rows,
 * NATS's store directory), and `close` ends every process it started and removes its directory.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { openPostgresStore } from '../../src/store/index.js';
import { natsProbe, redisProbe, bounded } from '../../src/gateway/readiness.js';
import { createRedisClient, silentLog } from '../../src/gateway/limits/index.js';
import { PrivateServices } from './private-services.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('private PostgreSQL, Redis and NATS for outage tests', { timeout: 180_000 }, () => {
  let services: PrivateServices | null = null;
  after(async () => {
    await services?.close();
  });

  it('starts, stops and restarts each on its own port, keeping data, and cleans up after itself', async () => {
    services = await PrivateServices.start(['postgres', 'redis', 'nats']);
    const { postgres, redis, nats } = services;
    assert.equal(new Set([postgres.port, redis.port, nats.port, 5432, 6379, 4222]).size, 6);

    const db = await openPostgresStore({ url: postgres.url, schema: null, poolSize: 1 });
    try {
      await db.exec('CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)');
    } finally {
      await db.close();
    }
    await postgres.stop('crash');
    assert.equal(postgres.running, false);
    await postgres.start();
    const again = await openPostgresStore({ url: postgres.url, schema: null, poolSize: 1 });
    try {
      assert.deepEqual(await again.query('SELECT n FROM kept'), [{ n: 7 }], 'the cluster survives a crash');
    } finally {
      await again.close();
    }

    const client = createRedisClient(redis.url, silentLog);
    try {
      let answer = '';
      for (let i = 0; i < 100 && answer !== 'ok'; i++) {
        answer = await bounded(redisProbe(client));
        if (answer !== 'ok') await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(answer, 'ok');
      await redis.stop('crash');
      assert.match(await bounded(redisProbe(client)), /^unreachable: /);
      await redis.start();
    } finally {
      client.disconnect();
    }

    assert.equal(await natsProbe(nats.url)(), 'ok');
    await nats.stop('graceful');
    assert.match(await natsProbe(nats.url)(), /^unreachable: /);
    await nats.start();
    assert.equal(await natsProbe(nats.url)(), 'ok');

    const pids = [postgres.pid, redis.pid, nats.pid];
    assert.ok(pids.every((p) => p !== null && alive(p)));
    const dir = services.dir;
    await services.close();
    services = null;
    assert.deepEqual(
      pids.map((p) => alive(p as number)),
      [false, false, false],
    );
    assert.equal(existsSync(dir), false);
  });
});
