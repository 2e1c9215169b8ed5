/**
 * Time for sources that pace themselves (file replay, reconnect back-off): a clock and a way to wait until a
 * time, injectable so that tests run without sleeping (a fake scheduler advances its clock when asked to wait).
 */
export interface Scheduler {
  /** Now, in µs since the epoch. */
  nowUs(): number;
  /** Resolves once `nowUs()` has reached `timeUs`. */
  sleepUntil(timeUs: number): Promise<void>;
}

export const wallScheduler: Scheduler = {
  nowUs: () => Date.now() * 1000,
  sleepUntil(timeUs) {
    const ms = Math.max(0, Math.ceil((timeUs - Date.now() * 1000) / 1000));
    return new Promise((resolve) => setTimeout(resolve, ms));
  },
};
