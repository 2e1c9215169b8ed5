/**
 * The audit file's appender thread (file-thread.ts has why): appends the groups it is sent, one after the
 * other, to the file named in its data, as AuditFile.append does on its own thread.
 */
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditWorkerData, FromAuditWorker, ToAuditWorker } from './file-thread.js';
import { GroupLines } from './lines.js';

const port = parentPort;
if (port === null) throw new Error('file-worker.js runs as a worker thread');
const { path } = workerData as AuditWorkerData;
const send = (m: FromAuditWorker): void => port.postMessage(m);
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

try {
  const fh = await open(path, 'a');
  const lines = new GroupLines();

  const handle = async (m: ToAuditWorker): Promise<void> => {
    if (m.kind === 'close') {
      await fh.close();
      send({ id: m.id, ok: true, hash: '', bytes: 0 });
      return;
    }
    try {
      const group = lines.buildFromBytes(Buffer.from(m.prev, 'hex'), m.firstSeq, m.bytes, m.count);
      for (let at = 0; at < group.bytes.length;) at += (await fh.write(group.bytes, at)).bytesWritten;
      await fh.datasync();
      send({ id: m.id, ok: true, hash: group.hash.toString('hex'), bytes: group.bytes.length });
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
  send({ id: 0, ok: true, hash: '', bytes: 0 });
} catch (e) {
  send({ id: 0, ok: false, message: message(e) });
}
