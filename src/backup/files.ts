/**
 * Copying files into and out of a backup, each one hashed (SHA-256) as it is read, and made durable (the file
 * and its directory fsynced) as it is written: a backup that the machine loses power in the middle of is
 * incomplete (no manifest), never silently short.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type TransformCallback } from 'node:stream';

export interface FileEntry {
  /** Relative to the backup's root, with `/` separators. */
  readonly path: string;
  readonly bytes: number;
  /** SHA-256 of the content, hex. */
  readonly sha256: string;
}

class Hashing extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

async function fsyncPath(path: string): Promise<void> {
  const h = await fsp.open(path, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Copies `from` to `to` (creating its directory), fsyncs the copy and returns what was copied. */
export async function copyHashed(from: string, to: string): Promise<{ bytes: number; sha256: string }> {
  await fsp.mkdir(dirname(to), { recursive: true });
  const hashing = new Hashing();
  await pipeline(createReadStream(from), hashing, createWriteStream(to, { flags: 'wx' }));
  await fsyncPath(to);
  return { bytes: hashing.bytes, sha256: hashing.hash.digest('hex') };
}

/** The SHA-256 and size of a file as it is on disk now. */
export async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    const b = chunk as Buffer;
    hash.update(b);
    bytes += b.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Every regular file under `dir`, recursively, as paths relative to it (sorted, so listings compare). */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Every directory under `dir`, recursively, relative to it (sorted): empty ones matter to PostgreSQL. */
export async function listDirectories(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      out.push(relative(dir, p));
      await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/** fsyncs every directory from `dir` down (after files were created in them). */
export async function fsyncTree(dir: string): Promise<void> {
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await fsyncTree(join(dir, e.name));
  }
  await fsyncPath(dir);
}

/** A relative path in a manifest: forward slashes, no `..`, not absolute. */
export function toManifestPath(rel: string): string {
  return rel.split(sep).join('/');
}

export function isSafeManifestPath(p: string): boolean {
  if (p.length === 0 || p.length > 4096 || p.startsWith('/') || p.includes('\\') || p.includes('\0'))
    return false;
  return p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** True when `dir` does not exist or is an empty directory; throws when it is a file. */
export async function isAbsentOrEmpty(dir: string): Promise<boolean> {
  try {
    return (await fsp.readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
}
