/**
 * The messages between a PGlite store on a worker thread (pglite-thread.ts) and the thread that uses it
 * (pglite-worker.ts). Every request has an id the answer repeats; `tx` 0 is outside any transaction.
 */
import type { Row, SqlValue } from './port.js';

export type ToPgliteWorker =
  | {
      readonly op: 'query';
      readonly id: number;
      readonly tx: number;
      readonly sql: string;
      readonly params: readonly SqlValue[];
    }
  | { readonly op: 'exec'; readonly id: number; readonly tx: number; readonly sql: string }
  /** `COPY ... FROM STDIN` with `data` as its input (copied, not moved: the caller may reuse its buffer). */
  | {
      readonly op: 'copy';
      readonly id: number;
      readonly tx: number;
      readonly sql: string;
      readonly data: Uint8Array;
    }
  /** Opens a transaction; answered with its number once PGlite has begun it. */
  | { readonly op: 'begin'; readonly id: number }
  /** Commits (or rolls back) transaction `tx`; answered once PGlite has. */
  | { readonly op: 'end'; readonly id: number; readonly tx: number; readonly commit: boolean }
  /** LISTEN; answered with the listener's number, whose notifications then come as `notify`. */
  | { readonly op: 'listen'; readonly id: number; readonly channel: string }
  | { readonly op: 'unlisten'; readonly id: number; readonly listener: number }
  | { readonly op: 'close'; readonly id: number };

/** An error crossing the threads: its message, name and own fields (a database error's `code`, `detail`). */
export interface StoreErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, string | number | boolean | null>>;
}

export type FromPgliteWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'openFailed'; readonly error: StoreErrorInfo }
  | { readonly type: 'done'; readonly id: number; readonly rows: Row[] | null; readonly value: number | null }
  | { readonly type: 'failed'; readonly id: number; readonly error: StoreErrorInfo }
  | { readonly type: 'notify'; readonly listener: number; readonly payload: string };

export interface PgliteWorkerData {
  readonly dir: string | null;
  /** The worker thread's nice value (Linux; see PGLITE_WORKER_NICE), or null to leave it as the process's. */
  readonly nice: number | null;
}

/**
 * The PGlite worker's scheduling priority: nice 10 (a tenth of a nice-0 thread's weight under Linux's
 * scheduler). Its work (the market data writer's rows, the audit projection's) is background work that may
 * lag, and on two cores it otherwise took a core in bursts from the threads that answer orders (the main
 * thread, the engine's); it still gets every idle cycle, and a tenth of a busy core, so it keeps up unless
 * the machine is saturated for long.
 */
export const PGLITE_WORKER_NICE = 10;

export function storeErrorInfo(e: unknown): StoreErrorInfo {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), fields: {} };
  const fields: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(e) as [string, unknown][]) {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  return { name: e.name, message: e.message, fields };
}

/** The error again on this side, with the fields callers check (`code`, say) as its own properties. */
export function errorOf(info: StoreErrorInfo): Error {
  const e = new Error(info.message);
  Object.assign(e, info.fields);
  e.name = info.name;
  return e;
}
