/**
 * Where a durable consumer writes what it consumed. At-least-once delivery hands a writer the same event
 * again after a failure or a restart, so a sink must store each `event_id` at most once however often it is
 * written (PostgreSQL: `ON CONFLICT (event_id) DO NOTHING`). The store's tick and bar tables implement this
 * port; `batchingHandler` turns one into a consumer's handler that writes in batches.
 */
import type { AsyncHandler } from './bus.js';
import type { Envelope } from './envelope.js';

export interface IdempotentSink {
  /** Stores the events not stored yet, resolving once they are durable; returns how many were new. */
  write(batch: readonly Envelope[]): Promise<number>;
}

export interface BatchingOptions {
  /** A batch is written as soon as it has this many events ... */
  readonly batchMax: number;
  /** ... or this long after its first one came. */
  readonly lingerMs: number;
}

/**
 * A handler that gathers the messages of concurrent calls into one `write` and resolves each call when its
 * batch is stored (or rejects them all, so that the consumer redelivers them). Give the consumer an
 * `inFlightMax` of at least `batchMax`, or batches never fill.
 */
export function batchingHandler(sink: IdempotentSink, o: BatchingOptions): AsyncHandler {
  if (!Number.isSafeInteger(o.batchMax) || o.batchMax < 1) throw new Error('sink: bad batchMax');
  if (!Number.isSafeInteger(o.lingerMs) || o.lingerMs < 0) throw new Error('sink: bad lingerMs');
  let batch: Envelope[] = [];
  let stored: Promise<number> | null = null;
  let release: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;

  const flush = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const go = release;
    batch = [];
    stored = null;
    release = null;
    go?.();
  };

  return (message) => {
    if (stored === null) {
      const gate = new Promise<void>((resolve) => (release = resolve));
      const mine = batch;
      stored = gate.then(() => sink.write(mine));
      timer = setTimeout(flush, o.lingerMs);
    }
    batch.push(message);
    const p = stored;
    if (batch.length >= o.batchMax) flush();
    return p.then(() => undefined);
  };
}
