/**
 * The data directory's lock through the engine: a second engine (worker or same-thread host) on a directory
 * in use is refused with DATA_DIR_LOCKED naming the holder; closing releases it; a lock left by a process
 * that is gone does not stop a start.
 */
import { after, describe, it } from 'node:test';
import { equal, ok, rejects } from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Engine, EngineHost } from '../../src/engine/index.js';
import { LOCK_FILE_NAME, readLockHolder } from '../../src/journal/index.js';
import { TempDirs, stream } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

/** DATA_DIR_LOCKED naming this process as the holder and the LOCK file of `dir`. */
function isLocked(dir: string): (e: unknown) => boolean {
  return (e) => {
    ok(e instanceof Error, String(e));
    const code = (e as Error & { code?: unknown }).code;
    equal(code, 'DATA_DIR_LOCKED', e.message);
    ok(e.message.includes(`locked by pid ${process.pid} (this process) (engine, since `), e.message);
    ok(e.message.includes(join(dir, LOCK_FILE_NAME)), e.message);
    return true;
  };
}

describe('engine data directory lock', () => {
  void it('refuses a second engine or host on a directory in use, and lets one in after close', async () => {
    const dir = join(temp.make(), 'data');
    const engine = await Engine.start({ dir });
    equal((await readLockHolder(dir))?.purpose, 'engine');
    await rejects(Engine.start({ dir }), isLocked(dir));
    await rejects(EngineHost.open({ dir }), isLocked(dir));
    await engine.submit(stream(1, 10));
    await engine.close();
    ok(!existsSync(join(dir, LOCK_FILE_NAME)), 'released on close');

    const { host } = await EngineHost.open({ dir });
    await rejects(Engine.start({ dir }), isLocked(dir));
    await host.close();
    const again = await Engine.start({ dir });
    equal(again.recovery.lastSeq, 10);
    await again.close();
  });

  void it('starts over the lock of a process that is gone', async () => {
    const dir = temp.make();
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const pid = Number(child.stdout);
    const stale = {
      pid,
      host: hostname(),
      boot: '',
      startTicks: -1,
      token: 't',
      purpose: 'engine',
      since: '',
    };
    writeFileSync(join(dir, LOCK_FILE_NAME), JSON.stringify(stale));
    const engine = await Engine.start({ dir });
    equal((await readLockHolder(dir))?.pid, process.pid);
    await engine.close();
    ok(!existsSync(join(dir, LOCK_FILE_NAME)));
  });
});
