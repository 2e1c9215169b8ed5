/**
 * The audit writer's queue: events of one turn share a batch, batches are bounded, the queue is bounded
 * (callers wait for room, then are refused with AUDIT_UNAVAILABLE), close writes what is left, and a failing
 * store surfaces (failure, onError, AUDIT_UNFLUSHED on close) instead of losing events.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  AuditError,
  AuditErrorCode,
  AuditWriter,
  type AuditEventInput,
  type AuditSink,
} from '../../src/audit/index.js';
import { sampleEvent } from './helpers.js';

/** A sink that records its batches; `gate` holds every append until it is opened; `failures` fail first. */
class FakeSink implements AuditSink {
  readonly batches: { ids: string[]; skipWritten: boolean }[] = [];
  readonly written: string[] = [];
  failures = 0;
  private gateOpen = true;
  private waiting: (() => void)[] = [];

  close(): void {
    this.gateOpen = false;
  }

  open(): void {
    this.gateOpen = true;
    for (const w of this.waiting.splice(0)) w();
  }

  async append(events: readonly AuditEventInput[], skipWritten: boolean): Promise<void> {
    this.batches.push({ ids: events.map((e) => e.id), skipWritten });
    if (!this.gateOpen) await new Promise<void>((r) => this.waiting.push(r));
    if (this.failures > 0) {
      this.failures--;
      throw new Error('database is down');
    }
    for (const e of events) if (!(skipWritten && this.written.includes(e.id))) this.written.push(e.id);
  }
}

const isUnavailable = (e: unknown): boolean =>
  e instanceof AuditError && e.code === AuditErrorCode.Unavailable;

async function commitMany(w: AuditWriter, from: number, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + n; i++) {
    const e = sampleEvent(i);
    (await w.reserve()).commit(e);
    ids.push(e.id);
  }
  return ids;
}

describe('audit writer', () => {
  it('writes the events of one turn in one batch, and splits at batchEventsMax', async () => {
    const sink = new FakeSink();
    const w = new AuditWriter(sink, { batchEventsMax: 4 });
    const tickets = await Promise.all(Array.from({ length: 10 }, () => w.reserve()));
    tickets.forEach((t, i) => t.commit(sampleEvent(i + 1)));
    await w.flush();
    assert.deepEqual(
      sink.batches.map((b) => b.ids.length),
      [4, 4, 2],
    );
    assert.deepEqual(
      sink.written,
      Array.from({ length: 10 }, (_, i) => sampleEvent(i + 1).id),
      'in order',
    );
    assert.deepEqual(w.stats(), {
      queued: 0,
      reserved: 0,
      written: 10,
      batches: 3,
      failedBatches: 0,
      refused: 0,
      oldestQueuedUs: null,
    });
    await w.close();
  });

  it('is bounded: a full queue refuses at once with no admission wait, and counts reservations as used', async () => {
    const sink = new FakeSink();
    sink.close();
    const w = new AuditWriter(sink, { queueCapacity: 3, admitTimeoutMs: 0 });
    const t = await w.reserve(); // reserved but not committed: it holds room too
    await commitMany(w, 1, 2);
    await assert.rejects(w.reserve(), isUnavailable);
    assert.equal(w.stats().refused, 1);
    // What the projection-lag gauge reads: the queue, and the time of its oldest event.
    assert.equal(w.stats().queued, 2);
    assert.equal(w.stats().oldestQueuedUs, sampleEvent(1).timeUs);
    t.commit(sampleEvent(3));
    sink.open();
    await w.flush();
    assert.equal(sink.written.length, 3);
    await w.close();
  });

  it('makes a caller wait for room while the store is slow, then gives it the room a batch frees', async () => {
    const sink = new FakeSink();
    sink.close();
    const w = new AuditWriter(sink, { queueCapacity: 2, admitTimeoutMs: 60_000 });
    await commitMany(w, 1, 2);
    let admitted = false;
    const waiting = w.reserve().then((t) => {
      admitted = true;
      return t;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(admitted, false, 'no room while both events wait for the store');
    sink.open();
    (await waiting).commit(sampleEvent(3));
    await w.flush();
    assert.deepEqual(
      sink.written,
      [1, 2, 3].map((i) => sampleEvent(i).id),
    );
    await w.close();
  });

  it('refuses a caller whose wait for room runs out', async () => {
    const sink = new FakeSink();
    sink.close();
    const w = new AuditWriter(sink, { queueCapacity: 1, admitTimeoutMs: 5 });
    await commitMany(w, 1, 1);
    await assert.rejects(
      w.reserve(),
      (e: unknown) => isUnavailable(e) && /stayed full/.test((e as Error).message),
    );
    sink.open();
    await w.close();
    assert.equal(sink.written.length, 1);
  });

  it('after many waits ran out, gives freed room to the callers still waiting, in order', async () => {
    const sink = new FakeSink();
    sink.close();
    const w = new AuditWriter(sink, { queueCapacity: 2, admitTimeoutMs: 250 });
    await commitMany(w, 1, 2);
    // One after the other, more expired waits than twice the capacity: the waiting list is compacted.
    for (let i = 0; i < 7; i++) await assert.rejects(w.reserve(), isUnavailable);
    assert.equal(w.stats().refused, 7);
    const order: number[] = [];
    const first = w.reserve().then((t) => (order.push(1), t));
    const second = w.reserve().then((t) => (order.push(2), t));
    // The live waiters are bounded by the capacity too (the expired ones no longer count).
    await assert.rejects(
      w.reserve(),
      (e: unknown) => isUnavailable(e) && /is full/.test((e as Error).message),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [], 'no room while both events wait for the sink');
    sink.open();
    (await first).commit(sampleEvent(3));
    (await second).commit(sampleEvent(4));
    assert.deepEqual(order, [1, 2]);
    await w.close();
    assert.deepEqual(
      sink.written,
      [1, 2, 3, 4].map((i) => sampleEvent(i).id),
    );
    assert.equal(w.stats().refused, 8, 'the live waiters were not refused');
  });

  it('hands room to thousands of waiters in order, a batch at a time', async () => {
    const sink = new FakeSink();
    sink.close();
    const w = new AuditWriter(sink, { queueCapacity: 3000, batchEventsMax: 1200, admitTimeoutMs: 60_000 });
    await commitMany(w, 1, 3000);
    const order: number[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 3001; i <= 6000; i++) {
      waits.push(
        w.reserve().then((t) => {
          order.push(i);
          t.commit(sampleEvent(i));
        }),
      );
    }
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [], 'no room while the sink holds the queue');
    sink.open();
    await Promise.all(waits);
    await w.close();
    const all = Array.from({ length: 6000 }, (_, k) => k + 1);
    assert.deepEqual(order, all.slice(3000), 'woken oldest first');
    assert.deepEqual(
      sink.written,
      all.map((i) => sampleEvent(i).id),
    );
    assert.equal(w.stats().refused, 0);
  });

  it('writes everything on close, and refuses reservations once closing', async () => {
    const sink = new FakeSink();
    const w = new AuditWriter(sink);
    const ids = await commitMany(w, 1, 25);
    const closing = w.close();
    await assert.rejects(w.reserve(), isUnavailable);
    await closing;
    assert.deepEqual(sink.written, ids);
  });

  it('retries a failed batch without writing an event twice, and reports the failure meanwhile', async () => {
    const sink = new FakeSink();
    sink.failures = 2;
    const errors: Error[] = [];
    const w = new AuditWriter(sink, {}, (e) => errors.push(e));
    const ids = await commitMany(w, 1, 5);
    await w.flush();
    assert.deepEqual(sink.written, ids, 'every event once, in order');
    assert.equal(errors.length, 1, 'told once per failure, not per retry');
    assert.match(errors[0].message, /database is down/);
    assert.deepEqual(
      sink.batches.map((b) => b.skipWritten),
      [false, true, true],
      'retries leave out what an unclear failure may have written',
    );
    assert.equal(w.failure, null, 'cleared by the write that succeeded');
    assert.equal(w.stats().failedBatches, 2);
    await w.close();
  });

  it('says how many events it could not write when the store stays down through close', async () => {
    const sink = new FakeSink();
    sink.failures = Number.MAX_SAFE_INTEGER;
    const w = new AuditWriter(sink, { closeTimeoutMs: 200 });
    await commitMany(w, 1, 3);
    await assert.rejects(
      w.close(),
      (e: unknown) =>
        e instanceof AuditError &&
        e.code === AuditErrorCode.Unflushed &&
        /^3 audit events were not written .*database is down/.test(e.message),
    );
    assert.match(w.failure?.message ?? '', /database is down/);
    assert.equal(sink.written.length, 0);
  });

  it('refuses limits that cannot work', () => {
    const sink = new FakeSink();
    assert.throws(() => new AuditWriter(sink, { queueCapacity: 0 }), RangeError);
    assert.throws(() => new AuditWriter(sink, { batchEventsMax: 10_001 }), RangeError);
    assert.throws(() => new AuditWriter(sink, { admitTimeoutMs: -1 }), RangeError);
  });

  it('refuses a ticket committed twice', async () => {
    const w = new AuditWriter(new FakeSink());
    const t = await w.reserve();
    t.commit(sampleEvent(1));
    assert.throws(() => t.commit(sampleEvent(2)), /twice/);
    await w.close();
  });
});
