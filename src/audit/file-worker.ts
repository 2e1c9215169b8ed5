/**
 * The audit file's appender thread (file-thread.ts has why): appends the groups it is sent, one after the
 * other, to the file named in its data, as AuditFile.append does on its own thread, and makes a group's COPY
 * text for the projection when asked to.
 */
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { CopyTextWriter, copyRowOfLine } from './copy-row.js';
import type { AuditWorkerData, FromAuditWorker, ToAuditWorker } from './file-thread.js';
import { GroupLines } from './lines.js';

const port = parentPort;
if (port === null) throw new Error('file-worker.js runs as a worker thread');
const { path } = workerData as AuditWorkerData;
const send = (m: FromAuditWorker): void =>
  port.postMessage(m, m.ok && m.copy !== null ? [m.copy.buffer] : []);
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * The COPY text of a group's rows: events `firstSeq` and on, their canonical JSON `jsonLines` (UTF-8, joined
 * by line breaks) and their hashes. Null when a line is not an event: the projection reads that group from the
 * file instead, and reports it there as it always has.
 */
function copyTextOf(
  firstSeq: number,
  jsonLines: Uint8Array,
  hashes: readonly string[],
): Uint8Array<ArrayBuffer> | null {
  const jsons = Buffer.from(jsonLines.buffer, jsonLines.byteOffset, jsonLines.byteLength)
    .toString('utf8')
    .split('\n');
  if (jsons.length !== hashes.length) return null;
  const text = new CopyTextWriter(jsonLines.byteLength + hashes.length * 128);
  try {
    for (let i = 0; i < jsons.length; i++) text.add(copyRowOfLine(firstSeq + i, hashes[i], jsons[i]));
  } catch {
    return null;
  }
  return text.bytes();
}

try {
  const fh = await open(path, 'a');
  const lines = new GroupLines();
  const hashes: string[] = [];

  const writeAndSync = async (bytes: Buffer): Promise<void> => {
    for (let at = 0; at < bytes.length;) at += (await fh.write(bytes, at)).bytesWritten;
    await fh.datasync();
  };

  const handle = async (m: ToAuditWorker): Promise<void> => {
    if (m.kind === 'close') {
      await fh.close();
      send({ id: m.id, ok: true, hash: '', bytes: 0, copy: null });
      return;
    }
    try {
      hashes.length = 0;
      const prev = Buffer.from(m.prev, 'hex');
      const group = lines.buildFromBytes(prev, m.firstSeq, m.bytes, m.count, m.copy ? hashes : null);
      const written = writeAndSync(group.bytes);
      // Made while the write and its sync are in the kernel's hands; given only if they succeed.
      const copy = m.copy ? copyTextOf(m.firstSeq, m.bytes, hashes) : null;
      await written;
      send({ id: m.id, ok: true, hash: group.hash.toString('hex'), bytes: group.bytes.length, copy });
    } catch (e) {
      // What reached the file is unknown: cut back to the last durable group, so that a retry is clean.
      await fh
        .truncate(m.size)
        .then(() => fh.datasync())
        .catch(() => undefined);
      send({ id: m.id, ok: false, message: message(e) });
    }
  };

  // One group at a time, in the order sent.
  let last = Promise.resolve();
  port.on('message', (m: ToAuditWorker) => {
    last = last.then(() => handle(m));
  });
  send({ id: 0, ok: true, hash: '', bytes: 0, copy: null });
} catch (e) {
  send({ id: 0, ok: false, message: message(e) });
}
