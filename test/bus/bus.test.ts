/** The in-process bus: delivery in subscription order, unsubscribe, topic names, closing. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { InProcessBus, envelope, type Envelope } from '../../src/bus/index.js';

const message = (id: string): Envelope =>
  envelope({
    event_type: 'Test',
    event_id: id,
    timestamp: '2024-01-02T09:00:00Z',
    source: 'test',
    version: 1,
    correlation_id: id,
    causation_id: null,
    payload: { id },
  });

describe('in-process bus', () => {
  it('delivers each message to every subscriber of its topic, in order, and only to them', () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    bus.subscribe('a.b.v1', (m) => seen.push(`1:${m.event_id}`));
    const stop = bus.subscribe('a.b.v1', (m) => seen.push(`2:${m.event_id}`));
    bus.subscribe('other.v1', (m) => seen.push(`other:${m.event_id}`));
    bus.publish('a.b.v1', message('x'));
    stop();
    bus.publish('a.b.v1', message('y'));
    assert.deepEqual(seen, ['1:x', '2:x', '1:y']);
    assert.equal(bus.stats.published, 2);
    assert.equal(bus.stats.delivered, 3);
  });

  it('says whether a topic has subscribers, so that publishers can skip building messages', () => {
    const bus = new InProcessBus();
    assert.equal(bus.hasSubscribers('t.v1'), false);
    const stop = bus.subscribe('t.v1', () => undefined);
    assert.equal(bus.hasSubscribers('t.v1'), true);
    stop();
    assert.equal(bus.hasSubscribers('t.v1'), false);
  });

  it('refuses bad topic names and publishing after close; envelopes are frozen', async () => {
    const bus = new InProcessBus();
    assert.throws(() => bus.subscribe('Bad Topic', () => undefined), /bad topic/);
    assert.throws(() => bus.subscribe('a..b', () => undefined), /bad topic/);
    const m = message('z');
    assert.ok(Object.isFrozen(m));
    await bus.close();
    assert.throws(() => bus.publish('a.v1', m), /closed/);
  });

  it('passes a throwing handler’s exception to the publisher', () => {
    const bus = new InProcessBus();
    bus.subscribe('t.v1', () => {
      throw new Error('handler bug');
    });
    assert.throws(() => bus.publish('t.v1', message('q')), /handler bug/);
  });
});
