/**
 * The rebuild over files: streams the message file in fixed chunks through one reusable buffer (a LOBSTER day
 * can be gigabytes), writes the rows to a file or stdout as they come with backpressure, and reads only the
 * first line of the initial order-book file. Malformed input and unreadable files end as a LobsterInputError
 * whose message names the file and line.
 */
import { once } from 'node:events';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { BOOK_ROW_BYTES_MAX, READ_CHUNK_BYTES } from './limits.js';
import { LobsterFormatError } from './parse.js';
import type { LobsterReportJson } from './report.js';
import { LobsterReplay } from './replay.js';
import { parseBookRow, type BookRow } from './seed.js';

export class LobsterInputError extends Error {
  override name = 'LobsterInputError';
}

export interface LobsterFilesOptions {
  messages: string;
  levels: number;
  initialBook?: string | null;
  /** A file to write the rows to, or null for stdout. */
  output: string | null;
  /** Called after each chunk read, with the bytes read so far and the file's size. */
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
}

export interface LobsterFilesResult {
  report: LobsterReportJson;
  seconds: number;
  messagesPerSec: number;
  bytesIn: number;
  bytesOut: number;
}

function cannotRead(what: string, path: string, e: unknown): LobsterInputError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(e));
  return new LobsterInputError(`cannot read ${what} ${path}: ${why}`);
}

async function openInput(what: string, path: string): Promise<FileHandle> {
  try {
    const handle = await open(path, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    }
    return handle;
  } catch (e) {
    throw cannotRead(what, path, e);
  }
}

/** The first line of the order-book file, parsed. */
export async function readInitialBook(path: string): Promise<BookRow> {
  const handle = await openInput('initial book', path);
  try {
    const buf = Buffer.alloc(Math.min(BOOK_ROW_BYTES_MAX, READ_CHUNK_BYTES * 16));
    let len = 0;
    let nl = -1;
    while (nl < 0 && len < buf.length) {
      const { bytesRead } = await handle.read(buf, len, buf.length - len, len);
      if (bytesRead === 0) break;
      nl = buf.indexOf(0x0a, len);
      len += bytesRead;
    }
    if (nl < 0 && len === buf.length)
      throw new LobsterInputError(`${path} line 1: longer than ${buf.length} bytes`);
    const text = buf.toString('latin1', 0, nl < 0 ? len : nl);
    if (text.trim() === '') throw new LobsterInputError(`${path} line 1: empty (expected an order-book row)`);
    return parseBookRow(text, 1);
  } catch (e) {
    if (e instanceof LobsterFormatError) throw new LobsterInputError(`${path} ${e.message}`);
    throw e;
  } finally {
    await handle.close();
  }
}

interface Output {
  write(bytes: Buffer): Promise<void>;
  close(): Promise<void>;
}

async function openOutput(path: string | null): Promise<Output> {
  if (path === null) {
    const out = process.stdout;
    return {
      write: async (bytes) => {
        if (!out.write(bytes)) await once(out, 'drain');
      },
      close: () => Promise.resolve(),
    };
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'w');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new LobsterInputError(`cannot write output ${path}: ${code}`);
  }
  return {
    write: async (bytes) => {
      await handle.write(bytes);
    },
    close: () => handle.close(),
  };
}

export async function replayLobsterFiles(options: LobsterFilesOptions): Promise<LobsterFilesResult> {
  const seed = options.initialBook ? await readInitialBook(options.initialBook) : null;
  const input = await openInput('messages', options.messages);
  const started = performance.now();
  let output: Output | null = null;
  try {
    const bytesTotal = (await stat(options.messages)).size;
    output = await openOutput(options.output);
    // Rows produced while one chunk is applied; written out (with backpressure) before the next chunk.
    const pending: Buffer[] = [];
    const replay = new LobsterReplay({
      levels: options.levels,
      seed,
      sink: (b) => void pending.push(Buffer.from(b)),
    });
    const chunk = Buffer.alloc(READ_CHUNK_BYTES);
    let bytesIn = 0;
    for (;;) {
      const { bytesRead } = await input.read(chunk, 0, chunk.length, bytesIn);
      if (bytesRead === 0) break;
      bytesIn += bytesRead;
      replay.push(chunk.subarray(0, bytesRead));
      for (const b of pending.splice(0)) await output.write(b);
      options.onProgress?.(bytesIn, bytesTotal);
    }
    const report = replay.finish();
    for (const b of pending.splice(0)) await output.write(b);
    const seconds = (performance.now() - started) / 1000;
    return {
      report,
      seconds,
      messagesPerSec: seconds > 0 ? Math.round(report.messages / seconds) : 0,
      bytesIn,
      bytesOut: replay.bytesOut,
    };
  } catch (e) {
    if (e instanceof LobsterFormatError) throw new LobsterInputError(`${options.messages} ${e.message}`);
    throw e;
  } finally {
    await input.close();
    await output?.close();
  }
}
