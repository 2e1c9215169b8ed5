/**
 * The file operations the journal and the snapshot store use, as a small port: node's file system by default,
 * and in tests a wrapper that fails on cue (ENOSPC on a write, EIO on a sync) or counts syncs. Offsets are
 * explicit on every read and write (pread/pwrite), so no call depends on a file position left by another.
 */
import * as fs from 'node:fs';
import { JournalError, JournalErrorCode } from './errors.js';

/** 'r' reads; 'r+' reads and writes an existing file; 'wx' creates a new file (failing if it exists); 'w' creates or empties. */
export type OpenMode = 'r' | 'r+' | 'wx' | 'w';

export interface JournalFs {
  /** Creates the directory and its parents if missing. */
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  open(path: string, mode: OpenMode): Promise<number>;
  close(fd: number): Promise<void>;
  size(fd: number): Promise<number>;
  /** Reads up to `length` bytes at file offset `position`; returns how many it read (0 at the end). */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Writes up to `length` bytes at file offset `position`; returns how many it wrote (short on a full disk). */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Makes the file's data (and the size needed to read it) durable. */
  fdatasync(fd: number): Promise<void>;
  /** Makes the file's data and all its metadata durable. */
  fsync(fd: number): Promise<void>;
  truncate(fd: number, length: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Makes the directory's entries (files created, renamed or removed in it) durable. */
  syncDir(path: string): Promise<void>;
}

function done<T>(resolve: (v: T) => void, reject: (e: unknown) => void) {
  return (err: NodeJS.ErrnoException | null, value: T): void => (err === null ? resolve(value) : reject(err));
}

function call<T>(run: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => run(done(resolve, reject)));
}

function callVoid(run: (cb: (err: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => run((err) => (err === null ? resolve() : reject(err))));
}

/** Node's file system, through the callback API on plain descriptors (no FileHandle objects on the hot path). */
export const nodeFs: JournalFs = {
  mkdir: (path) => callVoid((cb) => fs.mkdir(path, { recursive: true }, (err) => cb(err))),
  readdir: (path) => call<string[]>((cb) => fs.readdir(path, cb)),
  open: (path, mode) => call<number>((cb) => fs.open(path, mode, 0o644, cb)),
  close: (fd) => callVoid((cb) => fs.close(fd, cb)),
  size: (fd) => call<fs.Stats>((cb) => fs.fstat(fd, cb)).then((s) => s.size),
  read: (fd, buffer, offset, length, position) =>
    call<number>((cb) => fs.read(fd, buffer, offset, length, position, cb)),
  write: (fd, buffer, offset, length, position) =>
    call<number>((cb) => fs.write(fd, buffer, offset, length, position, cb)),
  fdatasync: (fd) => callVoid((cb) => fs.fdatasync(fd, cb)),
  fsync: (fd) => callVoid((cb) => fs.fsync(fd, cb)),
  truncate: (fd, length) => callVoid((cb) => fs.ftruncate(fd, length, cb)),
  rename: (from, to) => callVoid((cb) => fs.rename(from, to, cb)),
  unlink: (path) => callVoid((cb) => fs.unlink(path, cb)),
  syncDir: async (path) => {
    const fd = await call<number>((cb) => fs.open(path, 'r', cb));
    try {
      await callVoid((cb) => fs.fsync(fd, cb));
    } finally {
      await callVoid((cb) => fs.close(fd, cb));
    }
  },
};

/** The promise of `run`'s result, or of its exception: a blocking call in the port's asynchronous shape. */
function settled<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (e) {
    // Node's file calls throw Errors (with their errno code); anything else is wrapped.
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/**
 * Node's file system through its blocking calls, each answered with a settled promise. For a thread that has
 * nothing else to do while its journal writes: the engine's worker. There a write and an fdatasync through
 * libuv's thread pool cost two hand-overs between threads each way, which on a virtual machine cost more CPU
 * than the calls themselves (a group commit of one write and one fdatasync: about 330 µs of CPU through the
 * pool against 200 blocking, docs/performance.md). Commands that arrive while the thread blocks wait in its
 * message queue and join the next group commit.
 */
export const blockingNodeFs: JournalFs = {
  mkdir: (path) =>
    settled(() => {
      fs.mkdirSync(path, { recursive: true });
    }),
  readdir: (path) => settled(() => fs.readdirSync(path)),
  open: (path, mode) => settled(() => fs.openSync(path, mode, 0o644)),
  close: (fd) => settled(() => fs.closeSync(fd)),
  size: (fd) => settled(() => fs.fstatSync(fd).size),
  read: (fd, buffer, offset, length, position) =>
    settled(() => fs.readSync(fd, buffer, offset, length, position)),
  write: (fd, buffer, offset, length, position) =>
    settled(() => fs.writeSync(fd, buffer, offset, length, position)),
  fdatasync: (fd) => settled(() => fs.fdatasyncSync(fd)),
  fsync: (fd) => settled(() => fs.fsyncSync(fd)),
  truncate: (fd, length) => settled(() => fs.ftruncateSync(fd, length)),
  rename: (from, to) => settled(() => fs.renameSync(from, to)),
  unlink: (path) => settled(() => fs.unlinkSync(path)),
  syncDir: (path) =>
    settled(() => {
      const fd = fs.openSync(path, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }),
};

/** Writes all of buffer[from, to) at `position`, looping over short writes; returns nothing until all is written. */
export async function writeFully(
  io: JournalFs,
  fd: number,
  buffer: Uint8Array,
  from: number,
  to: number,
  position: number,
): Promise<void> {
  let at = from;
  while (at < to) {
    const n = await io.write(fd, buffer, at, to - at, position + (at - from));
    // A write that makes no progress would loop for ever; node reports a full disk as ENOSPC, never as 0.
    if (n <= 0) throw new Error(`write made no progress at file offset ${position + (at - from)}`);
    at += n;
  }
}

/** Reads exactly `length` bytes at `position` into buffer[0, length); fewer means the file is shorter. */
export async function readFully(
  io: JournalFs,
  fd: number,
  buffer: Uint8Array,
  length: number,
  position: number,
): Promise<number> {
  let got = 0;
  while (got < length) {
    // node refuses single reads over 2 GiB; 1 GiB steps stay clear of that.
    const n = await io.read(fd, buffer, got, Math.min(length - got, 1 << 30), position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * A port that reads through `io` and refuses every change (writes, truncation, renames, removals, syncs and
 * opening for writing) with JOURNAL_READ_ONLY. The read-only tools (`rialto journal verify`, `inspect`,
 * `tail`, `snapshot list`) read through it, so that a path meant to look never repairs, whatever it calls.
 */
export function readOnlyFs(io: JournalFs = nodeFs): JournalFs {
  const refuse = (what: string) => (): Promise<never> =>
    Promise.reject(
      new JournalError(JournalErrorCode.ReadOnly, `${what} through a read-only view of the data directory`),
    );
  return {
    mkdir: refuse('mkdir'),
    readdir: (path) => io.readdir(path),
    open: (path, mode) => (mode === 'r' ? io.open(path, mode) : refuse(`open for '${mode}'`)()),
    close: (fd) => io.close(fd),
    size: (fd) => io.size(fd),
    read: (fd, buffer, offset, length, position) => io.read(fd, buffer, offset, length, position),
    write: refuse('write'),
    fdatasync: refuse('fdatasync'),
    fsync: refuse('fsync'),
    truncate: refuse('truncate'),
    rename: refuse('rename'),
    unlink: refuse('unlink'),
    syncDir: refuse('syncDir'),
  };
}
