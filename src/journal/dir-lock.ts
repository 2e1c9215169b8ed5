/**
 * The data directory's lock: one writer at a time. Two engines appending to one journal would interleave
 * sequence numbers and cut each other's "torn" tails; an offline snapshot written beside a running engine
 * could cover a state the engine never had. So whatever writes a data directory (an engine, `rialto snapshot
 * create`) first creates its `LOCK` file with O_CREAT|O_EXCL, which the file system grants to one creator
 * only, and removes it when done. Tools that only read need no lock.
 *
 * The file holds who took it: pid, host name, and on Linux the boot id and the process's start time. A process
 * that dies (SIGKILL, power loss) leaves its file behind; the next taker finds it stale when, on the same host,
 * the boot id changed, no process has that pid, or the process with that pid started at another time (the pid
 * was reused: a container restarted, say). A holder on another host (a shared file system) cannot be checked
 * from here and counts as alive: the error says so and how to clear it. Why not flock or fcntl locks, which
 * the kernel releases by itself: node has neither, and a native addon for one call is not worth it.
 *
 * Breaking a stale lock renames it aside and checks that what moved is the file judged stale; if another
 * taker replaced it meanwhile, its file is linked back. Three takers racing over one stale lock at the same
 * instant could still both succeed; two cannot.
 *
 * The lock uses node's file system directly, not the journal's port: it is not part of the data path.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { JournalError, JournalErrorCode, errnoCode } from './errors.js';

export const LOCK_FILE_NAME = 'LOCK';
/** A lock file that does not parse and is older than this was left by a process that died while writing it. */
const UNREADABLE_STALE_MS = 10_000;
/** Attempts to create the file in one acquire (after a stale lock was broken, or the holder left meanwhile). */
const ATTEMPTS_MAX = 4;

/** Who holds a data directory: the content of its LOCK file. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Linux's boot id ('' elsewhere): a lock from before a reboot is stale. */
  boot: string;
  /** The process's start time in clock ticks after boot, from /proc (-1 where unknown): tells a reused pid apart. */
  startTicks: number;
  /** Says which taker this is; only the taker with this token removes the file. */
  token: string;
  /** What took it: 'engine', 'rialto snapshot create'. */
  purpose: string;
  /** When, as an ISO date. */
  since: string;
}

/** A LOCK file as read: its holder, or null when it does not parse (being written, or left half written). */
interface SeenLock {
  raw: string;
  holder: LockHolder | null;
  mtimeMs: number;
}

export class DirLock {
  private released = false;

  private constructor(
    /** The LOCK file. */
    readonly file: string,
    readonly holder: LockHolder,
    /** False for a lock confirmed on behalf of its owner, which releases it itself. */
    private readonly owned: boolean,
  ) {}

  /** The token that names this taker (passed to `confirm` by code that works under a lock taken elsewhere). */
  get token(): string {
    return this.holder.token;
  }

  /**
   * Takes the lock of `dir` (created if missing) for `purpose`, breaking a stale one. Throws DATA_DIR_LOCKED
   * naming the holder when another live process (or another taker in this one) has it.
   */
  static async acquire(dir: string, purpose: string): Promise<DirLock> {
    await fsp.mkdir(dir, { recursive: true });
    const file = join(dir, LOCK_FILE_NAME);
    const holder = currentHolder(purpose);
    const text = JSON.stringify(holder) + '\n';
    for (let attempt = 1; attempt <= ATTEMPTS_MAX; attempt++) {
      if (await createExclusive(file, text)) return new DirLock(file, holder, true);
      const seen = await readLock(file);
      if (seen === null) continue; // released between our attempt and the read: try again
      if (!isStale(seen)) throw lockedError(dir, file, seen);
      await breakStale(file, seen.raw);
    }
    throw new JournalError(
      JournalErrorCode.DataDirLocked,
      `${dir}: the LOCK file kept changing over ${ATTEMPTS_MAX} attempts to take it (other takers at work)`,
      { file },
    );
  }

  /**
   * Checks that `dir` is locked under `token` (taken by the caller's owner, such as the engine's main thread
   * for its worker) and returns a handle whose release does nothing: the owner releases it.
   */
  static async confirm(dir: string, token: string): Promise<DirLock> {
    const file = join(dir, LOCK_FILE_NAME);
    const seen = await readLock(file);
    if (seen === null || seen.holder === null || seen.holder.token !== token) {
      const found = seen === null ? 'there is no LOCK file' : `the LOCK file names ${describeHolder(seen)}`;
      throw new JournalError(
        JournalErrorCode.DataDirLocked,
        `${dir} should be locked for this engine, but ${found}`,
        { file },
      );
    }
    return new DirLock(file, seen.holder, false);
  }

  /** Removes the LOCK file if it is still this taker's. Idempotent. */
  async release(): Promise<void> {
    if (!this.owned || this.released) return;
    this.released = true;
    const seen = await readLock(this.file);
    if (seen?.holder?.token !== this.token) return;
    try {
      await fsp.unlink(this.file);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
    }
  }
}

/** The holder of `dir`'s LOCK file, or null when there is none (or it does not parse). */
export async function readLockHolder(dir: string): Promise<LockHolder | null> {
  return (await readLock(join(dir, LOCK_FILE_NAME)))?.holder ?? null;
}

function currentHolder(purpose: string): LockHolder {
  return {
    pid: process.pid,
    host: hostname(),
    boot: bootId(),
    startTicks: processStartTicks(process.pid),
    token: randomBytes(12).toString('hex'),
    purpose,
    since: new Date().toISOString(),
  };
}

/** Creates `file` holding `text` if it does not exist; false if it does. */
async function createExclusive(file: string, text: string): Promise<boolean> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'wx', 0o644);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw e;
  }
  try {
    await handle.writeFile(text, 'utf8');
  } catch (e) {
    // A lock file without its holder would block the directory for UNREADABLE_STALE_MS; take it back.
    await handle.close();
    await fsp.unlink(file).catch(() => undefined);
    throw e;
  }
  await handle.close();
  return true;
}

async function readLock(file: string): Promise<SeenLock | null> {
  let raw: string;
  let mtimeMs: number;
  try {
    [raw, mtimeMs] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file).then((s) => s.mtimeMs)]);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw e;
  }
  return { raw, holder: parseHolder(raw), mtimeMs };
}

function parseHolder(raw: string): LockHolder | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const h = value as Record<string, unknown>;
  const { pid, host, boot, startTicks, token, purpose, since } = h;
  // A pid of 0 or below would make process.kill signal a process group; such a file is not a holder.
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return null;
  if (typeof startTicks !== 'number' || !Number.isSafeInteger(startTicks)) return null;
  for (const text of [host, boot, token, purpose, since]) if (typeof text !== 'string') return null;
  return h as unknown as LockHolder;
}

/** Whether the lock's holder is certainly gone (see the module comment for how that is told). */
function isStale(seen: SeenLock): boolean {
  const h = seen.holder;
  if (h === null) return Date.now() - seen.mtimeMs > UNREADABLE_STALE_MS;
  if (h.host !== hostname()) return false;
  const boot = bootId();
  if (h.boot !== '' && boot !== '' && h.boot !== boot) return true;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    // EPERM: the process exists under another user, so it is alive.
    if (errnoCode(e) === 'ESRCH') return true;
  }
  if (h.startTicks < 0) return false;
  const start = processStartTicks(h.pid);
  return start >= 0 && start !== h.startTicks;
}

async function breakStale(file: string, raw: string): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await fsp.rename(file, aside);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return; // someone else broke it first
    throw e;
  }
  const moved = await fsp.readFile(aside, 'utf8').catch(() => '');
  if (moved !== raw) {
    // Another taker broke the same stale lock and took the directory between our read and the rename: its
    // lock goes back. If a third took the name meanwhile, the next attempt reports that one as the holder.
    try {
      await fsp.link(aside, file);
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
    }
  }
  await fsp.unlink(aside);
}

function describeHolder(seen: SeenLock): string {
  const h = seen.holder;
  if (h === null) return 'a holder it cannot read';
  const where = h.host !== hostname() ? ` on host ${h.host}` : h.pid === process.pid ? ' (this process)' : '';
  return `pid ${h.pid}${where} (${h.purpose}, since ${h.since})`;
}

function lockedError(dir: string, file: string, seen: SeenLock): JournalError {
  const h = seen.holder;
  let message: string;
  if (h === null) {
    message = `${dir} is being locked by another process (its LOCK file is not complete yet)`;
  } else if (h.host !== hostname()) {
    message =
      `${dir} is locked by ${describeHolder(seen)}, which cannot be checked from here; ` +
      'if that process is gone, remove the LOCK file';
  } else {
    message = `${dir} is locked by ${describeHolder(seen)}, which is running`;
  }
  return new JournalError(JournalErrorCode.DataDirLocked, message, { file });
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** Field 22 of /proc/PID/stat (start time in clock ticks after boot), or -1 where there is no /proc. */
export function processStartTicks(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return -1;
  }
  // The command name (field 2) is in parentheses and may hold spaces or parentheses: count after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[22 - 3]);
  return Number.isSafeInteger(ticks) ? ticks : -1;
}
