/**
 * PGlite on a worker thread of its own (started by pglite-thread.ts): owns the database and runs the
 * statements the other thread sends, so that their SQL (WebAssembly, tens of microseconds a row) does not
 * run on the venue's event loop.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { INT8_OID } from './int8.js';
import { copyFromBlob } from './pglite-copy.js';
import { openPglite } from './pglite-template.js';
import {
  storeErrorInfo,
  type FromPgliteWorker,
  type PgliteWorkerData,
  type ToPgliteWorker,
} from './pglite-protocol.js';
import type { Row, SqlValue } from './port.js';

if (parentPort === null) throw new Error('store/pglite-worker.js runs as a worker thread');
const port = parentPort;

const send = (m: FromPgliteWorker): void => port.postMessage(m);
const done = (id: number, rows: Row[] | null, value: number | null = null): void =>
  send({ type: 'done', id, rows, value });
const failed = (id: number, e: unknown): void => send({ type: 'failed', id, error: storeErrorInfo(e) });

/**
 * Lowers this thread's scheduling priority to `nice`, this thread only: Linux schedules threads, and names
 * this one's id in /proc/thread-self. Elsewhere (no such link) the priority is left as it is: there a
 * process id would change the whole process's. Raising a nice value needs no privilege; a failure to is
 * harmless (the thread runs as before).
 */
function lowerPriority(nice: number): void {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return;
  }
  if (!Number.isSafeInteger(tid) || tid <= 0) return;
  try {
    // Only ever lower (a process started at a lower priority stays there).
    if (getPriority(tid) < nice) setPriority(tid, nice);
  } catch {
    // Left as it is.
  }
}

/** Thrown inside PGlite's transaction to roll it back when the other thread's work failed. */
const ROLLBACK = new Error("rolled back: the transaction's work failed");

interface OpenTransaction {
  readonly tx: Transaction;
  /** Ends the transaction's callback: commit or roll back. */
  end(commit: boolean): void;
  /** The `end` request to answer once PGlite has committed or rolled back. */
  endId: number;
}

async function main(): Promise<void> {
  const { dir, nice } = workerData as PgliteWorkerData;
  if (nice !== null) lowerPriority(nice);
  let db: PGlite;
  try {
    // As the in-process adapter: each commit is flushed to the files before it is answered, and a new
    // database starts from the build's template when there is one.
    db = await openPglite(PGlite, dir, {
      relaxedDurability: false,
      parsers: { [INT8_OID]: (text: string) => BigInt(text) },
    });
  } catch (e) {
    send({ type: 'openFailed', error: storeErrorInfo(e) });
    return;
  }
  const txs = new Map<number, OpenTransaction>();
  const listeners = new Map<number, () => Promise<void>>();
  let nextTx = 1;
  let nextListener = 1;

  const runner = (tx: number): Pick<Transaction, 'query' | 'exec'> | null =>
    tx === 0 ? db : (txs.get(tx)?.tx ?? null);

  const begin = (id: number): void => {
    const txId = nextTx++;
    db.transaction(async (tx) => {
      const commit = await new Promise<boolean>((end) => {
        txs.set(txId, { tx, end, endId: 0 });
        done(id, null, txId);
      });
      if (!commit) throw ROLLBACK;
    }).then(
      () => {
        const t = txs.get(txId);
        txs.delete(txId);
        if (t !== undefined) done(t.endId, null);
      },
      (e: unknown) => {
        const t = txs.get(txId);
        txs.delete(txId);
        // Not begun at all: the `begin` itself failed.
        if (t === undefined) failed(id, e);
        else if (e === ROLLBACK) done(t.endId, null);
        else failed(t.endId, e);
      },
    );
  };

  port.on('message', (m: ToPgliteWorker) => {
    switch (m.op) {
      case 'query':
      case 'exec':
      case 'copy': {
        const r = runner(m.tx);
        if (r === null) {
          failed(m.id, new Error(`transaction ${m.tx} is not open`));
          return;
        }
        if (m.op === 'copy') {
          copyFromBlob(r, m.sql, m.data).then(
            (n) => done(m.id, null, n),
            (e: unknown) => failed(m.id, e),
          );
        } else if (m.op === 'query') {
          r.query<Row>(m.sql, m.params as SqlValue[]).then(
            (res) => done(m.id, res.rows),
            (e: unknown) => failed(m.id, e),
          );
        } else {
          r.exec(m.sql).then(
            () => done(m.id, null),
            (e: unknown) => failed(m.id, e),
          );
        }
        return;
      }
      case 'begin':
        begin(m.id);
        return;
      case 'end': {
        const t = txs.get(m.tx);
        if (t === undefined) {
          failed(m.id, new Error(`transaction ${m.tx} is not open`));
          return;
        }
        t.endId = m.id;
        t.end(m.commit);
        return;
      }
      case 'listen': {
        const listener = nextListener++;
        db.listen(m.channel, (payload) => send({ type: 'notify', listener, payload })).then(
          (unlisten) => {
            listeners.set(listener, unlisten);
            done(m.id, null, listener);
          },
          (e: unknown) => failed(m.id, e),
        );
        return;
      }
      case 'unlisten': {
        const unlisten = listeners.get(m.listener);
        listeners.delete(m.listener);
        (unlisten === undefined ? Promise.resolve() : unlisten()).then(
          () => done(m.id, null),
          (e: unknown) => failed(m.id, e),
        );
        return;
      }
      case 'close':
        db.close().then(
          () => done(m.id, null),
          (e: unknown) => failed(m.id, e),
        );
        return;
    }
  });
  send({ type: 'ready' });
}

void main();
