/**
 * Live feeds: the connector interface a feed adapter implements, and the supervisor that keeps one connected,
 * reconnecting with exponential back-off (bounded: a ceiling per wait, and optionally a number of attempts
 * after which it gives up and says so). Waits go through the injectable scheduler.
 */
import type { RawEvent } from '../raw.js';
import type { Scheduler } from './scheduler.js';

/** An open connection: `closed` resolves with the reason once it ends (by the feed or by `close`). */
export interface FeedConnection {
  readonly closed: Promise<string>;
  close(): void;
}

export interface Connector {
  readonly name: string;
  /** Connects and delivers each event to `onEvent` until the connection ends; rejects when it cannot connect. */
  connect(onEvent: (raw: RawEvent) => void): Promise<FeedConnection>;
}

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  /** Of each wait, this fraction is random (0: none; 0.5: between half and the whole). */
  readonly jitter: number;
  /** Failed attempts in a row before the supervisor gives up (Infinity: never). */
  readonly attemptsMax: number;
}

export const BACKOFF_DEFAULTS: BackoffOptions = {
  initialMs: 100,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.2,
  attemptsMax: Infinity,
};

/** The wait before attempt `attempt` (0 for the first retry): initial × factor^attempt, capped, less jitter. */
export function backoffDelayMs(
  attempt: number,
  o: BackoffOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(o.maxMs, o.initialMs * o.factor ** attempt);
  return Math.round(base * (1 - o.jitter * random()));
}

export interface SupervisorStats {
  connects: number;
  failures: number;
  disconnects: number;
  lastError: string | null;
  state: 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped' | 'gave-up';
}

export class FeedSupervisor {
  readonly stats: SupervisorStats = {
    connects: 0,
    failures: 0,
    disconnects: 0,
    lastError: null,
    state: 'idle',
  };
  private stopped = false;
  private connection: FeedConnection | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly connector: Connector,
    private readonly sink: (raw: RawEvent) => void,
    private readonly scheduler: Scheduler,
    private readonly backoff: BackoffOptions = BACKOFF_DEFAULTS,
    private readonly random: () => number = Math.random,
  ) {}

  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  /** Stops reconnecting and closes the connection; resolves once the loop ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.connection?.close();
    await this.running;
    this.stats.state = 'stopped';
  }

  private async run(): Promise<void> {
    let failed = 0;
    while (!this.stopped) {
      this.stats.state = 'connecting';
      try {
        this.connection = await this.connector.connect(this.sink);
        // A stop that came while connecting found no connection to close: close this one.
        if (this.stopped) this.connection.close();
        this.stats.connects++;
        this.stats.state = 'connected';
        failed = 0;
        this.stats.lastError = await this.connection.closed;
        this.connection = null;
        this.stats.disconnects++;
      } catch (e) {
        this.stats.failures++;
        this.stats.lastError = e instanceof Error ? e.message : String(e);
        failed++;
        if (failed >= this.backoff.attemptsMax) {
          this.stats.state = 'gave-up';
          return;
        }
      }
      if (this.stopped) break;
      this.stats.state = 'waiting';
      const waitMs = backoffDelayMs(Math.max(0, failed - 1), this.backoff, this.random);
      await this.scheduler.sleepUntil(this.scheduler.nowUs() + waitMs * 1000);
    }
  }
}
