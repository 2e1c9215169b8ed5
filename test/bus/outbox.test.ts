/**
 * The outbox between the venue and JetStream, against a fake transport whose answers the test gives: messages
 * go out in order within the in-flight bound, the progress follows only commands whose every message (and
 * every earlier one) is stored, a failure is retried from the oldest message not stored, a full queue drops
 * (counted) and freezes the progress, the replay's commands already published are ignored, and nothing waits
 * for a transport that is not there.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Outbox, type OutboxPublisher } from '../../src/bus/index.js';
import { guardedPublisher } from '../../src/marketdata/index.js';
import { DependencyGuard, NATS_FAILURES } from '../../src/ops/index.js';
import { tickMessage, until } from './services.js';

interface Call {
  readonly topic: string;
  readonly id: string;
  resolve(duplicate?: boolean): void;
  reject(e: Error): void;
}

/** A transport that records each publish and answers only when the test says. */
class FakeTransport implements OutboxPublisher {
  readonly calls: Call[] = [];
  publishAsync(topic: string, message: { event_id: string }): Promise<{ duplicate: boolean }> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        topic,
        id: message.event_id,
        resolve: (duplicate = false) => resolve({ duplicate }),
        reject,
      });
    });
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('outbox', () => {
  it('publishes in order within the in-flight bound; the progress follows stored commands only', async () => {
    const box = new Outbox(10, { inFlightMax: 2, retryMs: [1] });
    const t = new FakeTransport();
    // Command 11 has two messages, 12 one, 13 none.
    box.offer('a.b.v1', tickMessage(0));
    box.offer('a.b.v1', tickMessage(1));
    box.mark(11);
    box.offer('a.b.v1', tickMessage(2));
    box.mark(12);
    box.mark(13);
    assert.equal(box.stats().queued, 3);
    assert.equal(t.calls.length, 0, 'nothing goes out without a transport');
    box.setPublisher(t);
    assert.deepEqual(
      t.calls.map((c) => c.id),
      ['test:0', 'test:1'],
    );
    t.calls[1].resolve();
    await tick();
    assert.equal(box.progressSeq, 10, 'message 0 is not stored yet');
    assert.equal(t.calls.length, 3, 'a slot freed: message 2 goes out');
    t.calls[0].resolve();
    await tick();
    assert.equal(box.progressSeq, 11);
    t.calls[2].resolve(true);
    await tick();
    assert.equal(box.progressSeq, 13, 'a command without messages follows the one before');
    assert.deepEqual(
      { ...box.stats(), oldestQueuedUs: null },
      {
        queued: 0,
        inFlight: 0,
        published: 2,
        duplicates: 1,
        failures: 0,
        dropped: 0,
        progressSeq: 13,
        markedSeq: 13,
        oldestQueuedUs: null,
        queuedPeak: 3,
      },
    );
    assert.equal(await box.flushed(10), true);
  });

  it('retries after a failure from the oldest message not stored, and keeps the order', async () => {
    const box = new Outbox(0, { inFlightMax: 3, retryMs: [200] });
    const t = new FakeTransport();
    box.setPublisher(t);
    for (let i = 0; i < 4; i++) {
      box.offer('a.b.v1', tickMessage(i));
      box.mark(i + 1);
    }
    assert.equal(t.calls.length, 3);
    t.calls[1].reject(new Error('timeout'));
    await tick();
    assert.equal(box.lastError, 'timeout');
    t.calls[0].resolve();
    t.calls[2].resolve();
    await tick();
    assert.equal(box.progressSeq, 1);
    assert.equal(t.calls.length, 3, 'nothing new goes out before the back-off');
    await until('the retry', () => t.calls.length > 3);
    // Again from message 1 (2 was stored): 1, then 3.
    assert.deepEqual(
      t.calls.slice(3).map((c) => c.id),
      ['test:1', 'test:3'],
    );
    t.calls[3].resolve();
    t.calls[4].resolve();
    await tick();
    assert.equal(box.progressSeq, 4);
    assert.equal(box.stats().failures, 1);
    assert.equal(box.lastError, null);
    assert.equal(box.health(), 'ok');
  });

  it('drops past its bound, counted, and the progress stops before the first lost message', async () => {
    const box = new Outbox(0, { entriesMax: 2, inFlightMax: 1, retryMs: [1] });
    assert.equal(box.offer('a.b.v1', tickMessage(0)), true);
    box.mark(1);
    assert.equal(box.offer('a.b.v1', tickMessage(1)), true);
    box.mark(2);
    assert.equal(box.offer('a.b.v1', tickMessage(2)), false);
    box.mark(3);
    assert.equal(box.stats().dropped, 1);
    assert.match(box.health(), /1 messages dropped/);
    const t = new FakeTransport();
    box.setPublisher(t);
    t.calls[0].resolve();
    await tick();
    t.calls[1].resolve();
    await tick();
    assert.equal(box.stats().queued, 0);
    assert.equal(box.progressSeq, 2, 'command 3 lost a message: the next start publishes it');
    box.offer('a.b.v1', tickMessage(3));
    box.mark(4);
    t.calls[2].resolve();
    await tick();
    assert.equal(box.progressSeq, 2);
  });

  it('ignores offers and marks while not accepting (the replay of commands already published)', () => {
    const box = new Outbox(5);
    box.accepting = false;
    assert.equal(box.offer('a.b.v1', tickMessage(0)), false);
    box.mark(3);
    assert.deepEqual([box.stats().queued, box.stats().dropped, box.progressSeq], [0, 0, 5]);
    box.accepting = true;
    box.mark(4);
    assert.equal(box.stats().markedSeq, 5, 'a mark at or below the progress changes nothing');
  });

  it('flushed() gives up after its timeout while the transport is away; close stops the retries', async () => {
    const box = new Outbox(0, { retryMs: [1] });
    box.offer('a.b.v1', tickMessage(0));
    box.mark(1);
    assert.equal(await box.flushed(20), false);
    const t = new FakeTransport();
    box.setPublisher(t);
    t.calls[0].reject(new Error('down'));
    box.close();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(t.calls.length, 1, 'no retry after close');
    assert.equal(box.offer('a.b.v1', tickMessage(1)), false);
  });

  it('refuses bad limits', () => {
    assert.throws(() => new Outbox(0, { entriesMax: 0 }), /bad limits/);
    assert.throws(() => new Outbox(0, { retryMs: [] }), /bad retryMs/);
  });
});

describe('outbox behind the NATS circuit breaker', () => {
  it('opens after consecutive failures, then fails at once without calling NATS, and publishes all once it closes', async () => {
    let up = false;
    let calls = 0;
    const nats: OutboxPublisher = {
      publishAsync: () => {
        calls++;
        return up ? Promise.resolve({ duplicate: false }) : Promise.reject(new Error('TIMEOUT'));
      },
    };
    const guard = new DependencyGuard('nats', NATS_FAILURES, {
      retries: 0,
      consecutiveFailures: 3,
      halfOpenAfterMs: 60,
    });
    const box = new Outbox(0, { inFlightMax: 1, retryMs: [1] });
    for (let i = 0; i < 5; i++) {
      box.offer('a.b.v1', tickMessage(i));
      box.mark(i + 1);
    }
    box.setPublisher(guardedPublisher(nats, guard));
    await until('the circuit to open', () => guard.stats().state === 'open');
    assert.equal(calls, 3, 'three failures reached NATS, then the circuit opened');
    await until('refusals while open', () => guard.stats().rejected >= 3);
    assert.equal(calls, 3, 'refused without a call while open');
    assert.equal(box.progressSeq, 0, 'nothing lost, nothing stored');
    up = true;
    await until('every message stored', () => box.progressSeq === 5, 5_000);
    assert.equal(guard.stats().state, 'closed');
    assert.equal(box.stats().published, 5);
    box.close();
  });
});
