/** A scheduler whose clock moves only when someone waits on it: tests pace sources without sleeping. */
import type { Scheduler } from '../../../src/marketdata/index.js';

export class FakeScheduler implements Scheduler {
  /** Every wait asked for, as (from, until) in µs. */
  readonly waits: [number, number][] = [];
  constructor(public us: number) {}
  nowUs(): number {
    return this.us;
  }
  sleepUntil(timeUs: number): Promise<void> {
    this.waits.push([this.us, timeUs]);
    if (timeUs > this.us) this.us = timeUs;
    return Promise.resolve();
  }
}
