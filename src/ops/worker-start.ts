/**
 * The start of a worker thread: its first message (its "ready", or why it could not start), or the error or
 * exit that came instead, in which case the worker is terminated before this rejects.
 */
import type { Worker } from 'node:worker_threads';

/** The first message `worker` sends; `what` names the worker in the error of an exit before any message. */
export function firstMessageOf<M>(worker: Worker, what: string): Promise<M> {
  // Listeners for the start only, removed one by one: Worker keeps internal listeners of its own.
  let onMessage: (m: M) => void = () => undefined;
  let onError: (e: Error) => void = () => undefined;
  let onExit: (code: number) => void = () => undefined;
  const detach = (): void => {
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
  };
  return new Promise<M>((resolve, reject) => {
    onMessage = resolve;
    onError = reject;
    onExit = (code) => reject(new Error(`${what} exited (${code}) while starting`));
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  }).then(
    (m) => {
      detach();
      return m;
    },
    async (e: unknown) => {
      detach();
      await worker.terminate();
      throw e;
    },
  );
}
