/**
 * The engine's worker thread: hosts the core and the journal (EngineHost) and answers the main thread's
 * messages (protocol.ts). Started by Engine.start with the configuration as workerData.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { blockingNodeFs } from '../journal/index.js';
import { EngineHost, RefusedBatch } from './host.js';
import { errorInfo, type EngineConfig, type FromWorker, type ToWorker } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('engine/worker.js runs as a worker thread');

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

async function main(): Promise<void> {
  let host: EngineHost;
  try {
    // This thread only runs the core and its journal: it may block in the journal's writes and fsyncs.
    const opened = await EngineHost.open(workerData as EngineConfig, undefined, {
      journalFs: blockingNodeFs,
    });
    host = opened.host;
    send({
      type: 'ready',
      recovery: opened.recovery,
      nextExpiryUs: host.nextExpiryUs,
      riskSweepDue: host.riskSweepDue,
    });
  } catch (e) {
    send({ type: 'startFailed', error: errorInfo(e) });
    return;
  }
  let failureReported = false;
  const reportFailure = (e: unknown): void => {
    if (failureReported) return;
    failureReported = true;
    send({ type: 'failed', error: errorInfo(e) });
  };

  port?.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'submit': {
        try {
          const out = host.submitRecords(m.records, m.count);
          out.durable.then(
            () => {
              // The batch's own buffers: handed over, not copied.
              const events = out.events;
              send(
                {
                  type: 'done',
                  batch: m.batch,
                  firstSeq: out.firstSeq,
                  timeUs: out.timeUs,
                  events,
                  ends: out.ends,
                  nextExpiryUs: out.nextExpiryUs,
                  riskSweepDue: out.riskSweepDue,
                },
                [events.buffer as ArrayBuffer, out.ends.buffer as ArrayBuffer],
              );
            },
            (e: unknown) => {
              send({ type: 'refused', batch: m.batch, error: errorInfo(e) });
              reportFailure(e);
            },
          );
        } catch (e) {
          if (e instanceof RefusedBatch) {
            e.reason.catch((why: unknown) =>
              send({ type: 'refused', batch: m.batch, error: errorInfo(why) }),
            );
          } else {
            send({ type: 'refused', batch: m.batch, error: errorInfo(e) });
          }
          if (host.failed !== null) reportFailure(host.failed);
        }
        return;
      }
      case 'query': {
        try {
          const value =
            m.query === 'stateHash'
              ? host.stateHash()
              : m.query === 'highestOrderId'
                ? host.highestOrderId()
                : m.query === 'checkpoint'
                  ? { seq: host.lastSeq, stateHash: host.stateHash() }
                  : host.stats();
          send({ type: 'answer', id: m.id, value });
        } catch (e) {
          send({ type: 'answer', id: m.id, error: errorInfo(e) });
        }
        return;
      }
      case 'report': {
        // Read now (after every batch executed so far), answered once those batches are durable.
        let value: unknown;
        try {
          value = host.report(m.report);
        } catch (e) {
          send({ type: 'answer', id: m.id, error: errorInfo(e) });
          return;
        }
        host.whenDurable().then(
          () => send({ type: 'answer', id: m.id, value }),
          (e: unknown) => send({ type: 'answer', id: m.id, error: errorInfo(e) }),
        );
        return;
      }
      case 'snapshot': {
        host.snapshot().then(
          (seq) => send({ type: 'answer', id: m.id, value: seq }),
          (e: unknown) => send({ type: 'answer', id: m.id, error: errorInfo(e) }),
        );
        return;
      }
      case 'close': {
        host.close().then(
          () => {
            send({ type: 'answer', id: m.id, value: host.lastSeq });
            port?.close();
          },
          (e: unknown) => {
            send({ type: 'answer', id: m.id, error: errorInfo(e) });
            port?.close();
          },
        );
        return;
      }
    }
  });
}

void main();
