/** Live feed connectors: the back-off schedule, and a supervisor that reconnects on a fake clock. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  FeedSupervisor,
  backoffDelayMs,
  type Connector,
  type FeedConnection,
  type RawEvent,
} from '../../../src/marketdata/index.js';
import { FakeScheduler } from './fake-scheduler.js';

const NO_JITTER = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0, attemptsMax: Infinity };

describe('back-off', () => {
  it('doubles from the initial wait up to the ceiling; jitter takes at most its fraction off', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 30].map((a) => backoffDelayMs(a, NO_JITTER)),
      [100, 200, 400, 800, 1_000, 1_000, 1_000],
    );
    const jittered = { ...NO_JITTER, jitter: 0.5 };
    assert.equal(
      backoffDelayMs(1, jittered, () => 0),
      200,
    );
    assert.equal(
      backoffDelayMs(1, jittered, () => 0.999999),
      100,
    );
  });
});

/** A feed that fails `failures` connects, then connects and delivers `events`, then drops the connection. */
class FlakyFeed implements Connector {
  readonly name = 'flaky';
  attempts = 0;
  private ends: ((reason: string) => void)[] = [];
  constructor(
    private failures: number,
    private readonly events: RawEvent[],
  ) {}
  connect(onEvent: (raw: RawEvent) => void): Promise<FeedConnection> {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('connection refused'));
    }
    for (const e of this.events) onEvent(e);
    let end: (reason: string) => void = () => undefined;
    const closed = new Promise<string>((r) => (end = r));
    this.ends.push(end);
    return Promise.resolve({ closed, close: () => end('closed by us') });
  }
  drop(): void {
    this.ends.shift()?.('dropped by the feed');
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('feed supervisor', () => {
  it('retries with growing waits until it connects, reconnects after a drop, and stops', async () => {
    const s = new FakeScheduler(0);
    const events: RawEvent[] = [
      { id: 'f:1', source: 'feed:flaky', schema: 'trade.v1', receivedUs: 0, payload: {} },
    ];
    const feed = new FlakyFeed(3, events);
    const got: RawEvent[] = [];
    const sup = new FeedSupervisor(feed, (r) => got.push(r), s, NO_JITTER);
    void sup.start();
    for (let i = 0; i < 20 && sup.stats.state !== 'connected'; i++) await tick();
    assert.equal(sup.stats.state, 'connected');
    assert.deepEqual(
      s.waits.map(([from, to]) => (to - from) / 1000),
      [100, 200, 400],
    );
    assert.equal(sup.stats.failures, 3);
    assert.equal(sup.stats.lastError, 'connection refused');
    feed.drop();
    for (let i = 0; i < 20 && sup.stats.connects < 2; i++) await tick();
    assert.equal(sup.stats.connects, 2);
    assert.equal(sup.stats.disconnects, 1);
    assert.deepEqual(
      s.waits.map(([from, to]) => (to - from) / 1000),
      [100, 200, 400, 100],
      'after a connection that worked, the waits start over',
    );
    assert.equal(got.length, 2);
    await sup.stop();
    assert.equal(sup.stats.state, 'stopped');
    assert.equal(feed.attempts, 5);
  });

  it('closes a connection that opens after a stop asked for while it was connecting', async () => {
    let open: (c: FeedConnection) => void = () => undefined;
    let closes = 0;
    let end: (reason: string) => void = () => undefined;
    const slow: Connector = {
      name: 'slow',
      connect: () => new Promise((resolve) => (open = resolve)),
    };
    const sup = new FeedSupervisor(slow, () => undefined, new FakeScheduler(0), NO_JITTER);
    void sup.start();
    await tick();
    const stopped = sup.stop();
    open({
      closed: new Promise<string>((r) => (end = r)),
      close: () => {
        closes++;
        end('closed by us');
      },
    });
    await stopped;
    assert.equal(closes, 1);
    assert.equal(sup.stats.state, 'stopped');
  });

  it('gives up after its attempts and says so', async () => {
    const s = new FakeScheduler(0);
    const feed = new FlakyFeed(10, []);
    const sup = new FeedSupervisor(feed, () => undefined, s, { ...NO_JITTER, attemptsMax: 3 });
    await sup.start();
    assert.equal(sup.stats.state, 'gave-up');
    assert.equal(feed.attempts, 3);
    assert.equal(s.waits.length, 2);
  });
});
