/**
 * A background loop at low priority, as the query tables' projector and the audit table's projection run:
 * one step at a time (the loop's and its owner's own, in the order asked), a pause after each step that the
 * owner sets from how long the step took (a bounded share of the thread), a pause doubling from a minimum
 * to a maximum while steps fail (the failure told once per run of failures), and a close that ends the
 * current pause at once. Its timers never keep the process alive: what is not done is done at the next start.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export interface PacedWork<R> {
  /**
   * One step, given the thread's event loop utilization since the previous step (how busy it was with other
   * work meanwhile). Its work goes through `PacedLoop.serial`, so that it never overlaps the owner's.
   */
  step(utilization: number): Promise<R>;
  /** The pause after a step that succeeded (ms), from its result and how long it took (ms). */
  pauseMs(result: R, tookMs: number): number;
  /** True when a failure ends the loop for good (told, then no retry). */
  isFatal?(e: unknown): boolean;
}

export interface PacedLoopOptions {
  /** The pause after a failure: the minimum, doubled after each failure that follows up to the maximum. */
  readonly retryDelayMsMin: number;
  readonly retryDelayMsMax: number;
  /** Told of a failure once per run of failures, and of a fatal one. */
  readonly onError?: (e: Error) => void;
}

export class PacedLoop {
  private queue: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private stopped = false;
  /** Ends the current pause (close). */
  private wake: (() => void) | null = null;

  constructor(private readonly options: PacedLoopOptions) {}

  /** Runs `work` after everything asked before it has settled. */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Starts the loop (once). */
  start<R>(work: PacedWork<R>): void {
    this.loop ??= this.run(work);
  }

  /** Stops the loop after its current step, and waits for every step asked. */
  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.queue.catch(() => undefined);
  }

  private async run<R>(work: PacedWork<R>): Promise<void> {
    const { retryDelayMsMin, retryDelayMsMax, onError } = this.options;
    let elu: EventLoopUtilization = performance.eventLoopUtilization();
    let delay = retryDelayMsMin;
    let failing = false;
    while (!this.stopped) {
      const utilization = performance.eventLoopUtilization(elu).utilization;
      const t0 = performance.now();
      let result: R;
      try {
        result = await work.step(utilization);
        failing = false;
        delay = retryDelayMsMin;
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        if (work.isFatal?.(e) === true) {
          onError?.(err);
          return;
        }
        if (!failing) onError?.(err);
        failing = true;
        await this.sleep(delay);
        delay = Math.min(delay * 2, retryDelayMsMax);
        continue;
      }
      const took = performance.now() - t0;
      elu = performance.eventLoopUtilization();
      await this.sleep(work.pauseMs(result, took));
    }
  }

  private sleep(ms: number): Promise<void> {
    // Closed during the step just ended: no pause. Its timer does not hold the process, so close, waiting on
    // this loop, could otherwise be left with nothing to run and never resolve.
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
