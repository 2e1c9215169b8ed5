/**
 * The data directory's lock: one taker at a time, the holder named when refused, stale locks (dead pid, reused
 * pid, half-written file) broken, live ones (another host, a fresh half-written file) respected, and only
 * the taker's own file removed on release.
 */
import { after, describe, it } from 'node:test';
import { equal, notEqual, ok, rejects } from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  DirLock,
  JournalError,
  JournalErrorCode,
  LOCK_FILE_NAME,
  readLockHolder,
  type LockHolder,
} from '../../src/journal/index.js';
import { processStartTicks } from '../../src/journal/dir-lock.js';
import { TempDirs } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

function locked(pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    ok(e instanceof JournalError, String(e));
    equal(e.code, JournalErrorCode.DataDirLocked, e.message);
    ok(e.message.match(pattern), e.message);
    return true;
  };
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  const pid = Number(r.stdout);
  ok(Number.isSafeInteger(pid) && pid > 0, r.stdout);
  return pid;
}

function holder(fields: Partial<LockHolder>): LockHolder {
  return {
    pid: process.pid,
    host: hostname(),
    boot: '',
    startTicks: -1,
    token: 'abc',
    purpose: 'test',
    since: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}

const writeLock = (dir: string, text: string): void => writeFileSync(join(dir, LOCK_FILE_NAME), text);

describe('data directory lock', () => {
  void it('admits one taker, names it to the next, and lets the next in after release', async () => {
    const dir = join(temp.make(), 'data');
    const first = await DirLock.acquire(dir, 'engine');
    const seen = await readLockHolder(dir);
    equal(seen?.pid, process.pid);
    equal(seen?.token, first.token);
    equal(seen?.purpose, 'engine');
    await rejects(
      DirLock.acquire(dir, 'rialto snapshot create'),
      locked(
        new RegExp(
          `is locked by pid ${process.pid} \\(this process\\) \\(engine, since .*\\), which is running`,
        ),
      ),
    );
    await first.release();
    ok(!existsSync(join(dir, LOCK_FILE_NAME)));
    const second = await DirLock.acquire(dir, 'rialto snapshot create');
    notEqual(second.token, first.token);
    await first.release(); // a second release of the old lock must not remove the new one
    equal((await readLockHolder(dir))?.token, second.token);
    await second.release();
  });

  void it('breaks the lock of a process that is gone', async () => {
    const dir = temp.make();
    writeLock(dir, JSON.stringify(holder({ pid: deadPid(), token: 'dead' })));
    const lock = await DirLock.acquire(dir, 'engine');
    equal((await readLockHolder(dir))?.token, lock.token);
    await lock.release();
    ok(readdirSync(dir).length === 0, `nothing left behind: ${readdirSync(dir).join(', ')}`);
  });

  void it('breaks the lock of a reused pid (another start time) and of an earlier boot', async (t) => {
    const ticks = processStartTicks(process.pid);
    if (ticks < 0) {
      t.skip('no /proc here: the start time of a process is not known');
      return;
    }
    const dir = temp.make();
    // This process's pid with another start time: the holder was an earlier process with the same pid.
    writeLock(dir, JSON.stringify(holder({ startTicks: ticks + 1, token: 'reused' })));
    const lock = await DirLock.acquire(dir, 'engine');
    await lock.release();
    // The same pid and start time, but before a reboot.
    writeLock(dir, JSON.stringify(holder({ startTicks: ticks, boot: 'not-this-boot', token: 'rebooted' })));
    const again = await DirLock.acquire(dir, 'engine');
    await again.release();
    // The same pid, start time and boot: alive.
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeLock(dir, JSON.stringify(holder({ startTicks: ticks, boot })));
    await rejects(DirLock.acquire(dir, 'engine'), locked(/which is running/));
  });

  void it('respects a holder on another host, and says how to clear it', async () => {
    const dir = temp.make();
    writeLock(dir, JSON.stringify(holder({ pid: deadPid(), host: 'elsewhere.example' })));
    await rejects(
      DirLock.acquire(dir, 'engine'),
      locked(
        /locked by pid \d+ on host elsewhere\.example .*cannot be checked from here; if that process is gone, remove the LOCK file/,
      ),
    );
    ok(existsSync(join(dir, LOCK_FILE_NAME)));
  });

  void it('waits out a half-written lock file while it is fresh, and breaks it once it is old', async () => {
    const dir = temp.make();
    writeLock(dir, '{"pid":');
    await rejects(DirLock.acquire(dir, 'engine'), locked(/is being locked by another process/));
    const old = Date.now() / 1000 - 60;
    utimesSync(join(dir, LOCK_FILE_NAME), old, old);
    const lock = await DirLock.acquire(dir, 'engine');
    await lock.release();
  });

  void it('confirms a lock only under its token, and such a handle does not release it', async () => {
    const dir = temp.make();
    const lock = await DirLock.acquire(dir, 'engine');
    await rejects(
      DirLock.confirm(dir, 'someone-else'),
      locked(/should be locked for this engine, but the LOCK file names pid/),
    );
    const confirmed = await DirLock.confirm(dir, lock.token);
    await confirmed.release();
    ok(existsSync(join(dir, LOCK_FILE_NAME)), 'the owner releases, not the confirmed handle');
    await lock.release();
    await rejects(DirLock.confirm(dir, lock.token), locked(/there is no LOCK file/));
  });
});
