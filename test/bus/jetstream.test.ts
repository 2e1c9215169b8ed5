/**
 * The JetStream bus against a real NATS server: streams per topic family created idempotently, a round trip
 * through a durable consumer, dedup by `Nats-Msg-Id`, redelivery after a handler failure and the dead letter
 * after the last one, back-pressure on publish, a live subscription, and a consumer restart mid-stream (a
 * graceful stop and a crash) writing into a real PostgreSQL table with no lost and no duplicated rows.
 */
import { strict as assert } from 'node:assert';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  BusBackpressureError,
  TOPIC_FAMILIES,
  InProcessBus,
  batchingHandler,
  openBus,
  type Envelope,
  type JetStreamBusOptions,
} from '../../src/bus/index.js';
import { JetStreamBus } from '../../src/bus/jetstream.js';
import { connect } from 'nats';
import {
  NATS_URL,
  PostgresTestSink,
  deleteStreams,
  tickMessage,
  uniqueNames,
  until,
  type Names,
} from './services.js';

const TOPIC = 'normalized.market.ticks.v1';
const prefixes: string[] = [];
const buses: JetStreamBus[] = [];

function names(): Names {
  const n = uniqueNames();
  prefixes.push(n.streamPrefix);
  return n;
}

/**
 * A TCP proxy to the NATS server on a free port: counts the connections made through it (`made`) and holds
 * both sockets of each (`sockets`) until either side closes; `listen` and `stop` take the port up and down.
 */
async function natsProxy(): Promise<{
  port: number;
  sockets: Set<Socket>;
  made: () => number;
  listen: () => Promise<void>;
  stop: () => Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let made = 0;
  const target = Number(new URL(NATS_URL).port || 4222);
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: target });
    made++;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    sockets,
    made: () => made,
    listen: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const sock of sockets) sock.destroy();
      await closed;
    },
  };
}

async function bus(n: Names, more: Partial<JetStreamBusOptions> = {}): Promise<JetStreamBus> {
  const b = await JetStreamBus.connect({ servers: NATS_URL, ...n, duplicateWindowMs: 60_000, ...more });
  buses.push(b);
  return b;
}

after(async () => {
  for (const b of buses) await b.close();
  let deleted = 0;
  for (const p of prefixes) deleted += await deleteStreams(p);
  assert.ok(deleted > 0);
  for (const p of prefixes) assert.equal(await deleteStreams(p), 0);
});

describe('JetStream bus', () => {
  it('creates a stream per topic family, idempotently, and round-trips envelopes in order', async () => {
    const n = names();
    const a = await bus(n);
    await bus(n); // a second start with the same options changes nothing
    const families = TOPIC_FAMILIES.map((f) => a.streamName(f));
    assert.equal(families[0], `${n.streamPrefix}INGESTION`);
    for (let i = 0; i < 50; i++) a.publish(TOPIC, tickMessage(i));
    await a.flushed();
    assert.equal(a.counters().published, 50);

    const seen: Envelope[] = [];
    const consumer = await a.consume(TOPIC, (m) => Promise.resolve(void seen.push(m)), {
      durable: 'roundtrip',
    });
    await until('50 messages', () => seen.length === 50);
    assert.deepEqual(
      seen.map((m) => m.event_id),
      Array.from({ length: 50 }, (_, i) => `test:${i}`),
    );
    assert.deepEqual(seen[7], tickMessage(7));
    assert.ok(Object.isFrozen(seen[7]));
    await until('acks', () => consumer.counters().acked === 50);
    assert.equal(consumer.counters().redelivered, 0);
    assert.throws(() => a.publish('other.topic.v1', tickMessage(0)), /no stream for topic/);
    assert.equal(a.hasSubscribers(TOPIC), true);
    assert.equal(a.hasSubscribers('other.topic.v1'), false);
    assert.equal(a.hasSubscribers('ingestion'), false);
    assert.throws(() => a.publish('ingestion', tickMessage(0)), /no stream for topic/);
  });

  it('stores a republished event_id once (Nats-Msg-Id within the duplicate window)', async () => {
    const a = await bus(names());
    const first = await a.publishAsync(TOPIC, tickMessage(1));
    const again = await a.publishAsync(TOPIC, tickMessage(1));
    const other = await a.publishAsync(TOPIC, tickMessage(2));
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
    assert.equal(other.seq, first.seq + 1);
    const c = a.counters();
    assert.equal(c.published, 2);
    assert.equal(c.duplicates, 1);
    const seen: string[] = [];
    await a.consume(TOPIC, (m) => Promise.resolve(void seen.push(m.event_id)), { durable: 'dedup' });
    await until('2 messages', () => seen.length === 2);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen, ['test:1', 'test:2']);
  });

  it('redelivers a message whose handler failed, after a back-off, and dead-letters it after the last try', async () => {
    const a = await bus(names());
    for (let i = 0; i < 5; i++) a.publish(TOPIC, tickMessage(i));
    await a.flushed();
    const attempts = new Map<string, number[]>();
    const consumer = await a.consume(
      TOPIC,
      (m) => {
        const times = attempts.get(m.event_id) ?? [];
        times.push(Date.now());
        attempts.set(m.event_id, times);
        if (m.event_id === 'test:2' && times.length < 3) return Promise.reject(new Error('db down'));
        if (m.event_id === 'test:4') return Promise.reject(new Error('always broken'));
        return Promise.resolve();
      },
      { durable: 'retry', backoffMs: [150, 300], deliveriesMax: 3, inFlightMax: 2 },
    );
    const letters: Envelope[] = [];
    await a.consume('deadletter.bus.v1', (m) => Promise.resolve(void letters.push(m)), { durable: 'dl' });
    await until('the dead letter', () => letters.length === 1);
    await until('acks', () => consumer.counters().acked === 4);
    const t2 = attempts.get('test:2') ?? [];
    assert.equal(t2.length, 3);
    assert.ok(t2[1] - t2[0] >= 140, `first back-off ${t2[1] - t2[0]} ms`);
    assert.ok(t2[2] - t2[1] >= 290, `second back-off ${t2[2] - t2[1]} ms`);
    assert.equal(attempts.get('test:4')?.length, 3);
    assert.equal(attempts.get('test:0')?.length, 1);
    const c = consumer.counters();
    assert.equal(c.failed, 5);
    assert.equal(c.redelivered, 4);
    assert.equal(c.delivered, 9);
    assert.equal(c.deadLettered, 1);
    const letter = letters[0].payload as { reason: string; deliveries: number; message: Envelope };
    assert.equal(letters[0].causation_id, 'test:4');
    assert.equal(letter.deliveries, 3);
    assert.match(letter.reason, /failed 3 times, last: always broken/);
    assert.deepEqual(letter.message, tickMessage(4));
    // Terminated: nothing more comes after the dead letter.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(attempts.get('test:4')?.length, 3);
  });

  it('refuses a publish beyond publishPendingMax until the server caught up', async () => {
    const a = await bus(names(), { publishPendingMax: 2 });
    a.publish(TOPIC, tickMessage(0));
    a.publish(TOPIC, tickMessage(1));
    assert.throws(() => a.publish(TOPIC, tickMessage(2)), BusBackpressureError);
    await a.flushed();
    a.publish(TOPIC, tickMessage(2));
    await a.flushed();
    assert.equal(a.counters().published, 3);
  });

  it('gives live subscribers the messages published from now on', async () => {
    const a = await bus(names());
    const live: string[] = [];
    const stop = a.subscribe(TOPIC, (m) => live.push(m.event_id));
    a.publish(TOPIC, tickMessage(1));
    await a.flushed();
    await until('the live message', () => live.length === 1);
    stop();
    a.publish(TOPIC, tickMessage(2));
    await a.flushed();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(live, ['test:1']);
  });

  it('is chosen by the NATS URL, with the configured consumer defaults', async () => {
    const local = await openBus({ natsUrl: null });
    assert.equal(local.kind, 'in-process');
    assert.ok(local.bus instanceof InProcessBus);
    assert.equal(local.durable, null);
    const n = names();
    const opened = await openBus({
      natsUrl: NATS_URL,
      jetstream: { ...n, ackWaitMs: 4_321, ackPendingMax: 77 },
    });
    assert.equal(opened.kind, 'jetstream');
    const b = opened.bus as JetStreamBus;
    buses.push(b);
    await opened.durable?.consume(TOPIC, () => Promise.resolve(), { durable: 'configured' });
    const nc = await connect({ servers: NATS_URL });
    try {
      const info = await (
        await nc.jetstreamManager()
      ).consumers.info(b.streamName('normalized'), 'configured');
      assert.equal(info.config.ack_wait, 4_321_000_000);
      assert.equal(info.config.max_ack_pending, 77);
      assert.equal(info.config.filter_subject, `${n.subjectPrefix}${TOPIC}`);
    } finally {
      await nc.close();
    }
  });

  it('reconnects after the connection is cut, and the durable consumer carries on', async () => {
    // A TCP proxy in front of the server, whose connections the test cuts.
    const proxy = await natsProxy();
    try {
      const n = names();
      const producer = await bus(n);
      const consumerBus = await bus(n, {
        servers: `nats://127.0.0.1:${proxy.port}`,
        reconnectWaitMs: 100,
      });
      const seen = new Set<string>();
      await consumerBus.consume(TOPIC, (m) => Promise.resolve(void seen.add(m.event_id)), {
        durable: 'reconnecting',
        ackWaitMs: 1_000,
      });
      let sent = 0;
      const publishSlice = async (): Promise<void> => {
        for (let k = 0; k < 100; k++) producer.publish(TOPIC, tickMessage(sent++));
        await producer.flushed();
      };
      for (let k = 0; k < 3; k++) await publishSlice();
      await until('300 messages', () => seen.size === 300);
      for (const s of proxy.sockets) s.destroy();
      for (let k = 0; k < 7; k++) await publishSlice();
      await until('all 1000 messages after the reconnect', () => seen.size === 1_000, 30_000);
      const c = consumerBus.counters();
      assert.ok(c.disconnects >= 1, `disconnects ${c.disconnects}`);
      assert.ok(c.reconnects >= 1, `reconnects ${c.reconnects}`);
      await consumerBus.close();
    } finally {
      await proxy.stop();
    }
  });

  it('leaves no connection open after a connect that timed out while the event loop was busy', async () => {
    const proxy = await natsProxy();
    try {
      // The thread busy past the timeout while the dial is pending (PGlite's statements in `md run`): on the
      // turn after the dial starts, before its socket's connect is handled.
      setTimeout(() => {
        const busyUntil = Date.now() + 300;
        while (Date.now() < busyUntil);
      }, 0);
      const connecting = JetStreamBus.connect({
        servers: `nats://127.0.0.1:${proxy.port}`,
        ...names(),
        connectTimeoutMs: 50,
        families: ['normalized'],
        streamMaxBytes: 1024 ** 2,
      });
      await assert.rejects(connecting, (e: Error & { code?: string }) => e.code === 'TIMEOUT');
      // The dial goes on after the timeout and connects; then it must be closed, not left open.
      await until('the connection made after the timeout', () => proxy.made() > 0);
      await until('that connection closed', () => proxy.sockets.size === 0, 10_000);
    } finally {
      await proxy.stop();
    }
  });

  it('says it is not connected while the server is away, connected after the reconnect; closes while away', async () => {
    // A proxy that stops listening (the server away: reconnects are refused) and listens again on its port.
    const proxy = await natsProxy();
    try {
      const b = await bus(names(), {
        servers: `nats://127.0.0.1:${proxy.port}`,
        reconnectWaitMs: 100,
        // One small stream: the server's storage is shared with other test runs.
        families: ['normalized'],
        streamMaxBytes: 1024 ** 2,
      });
      assert.equal(b.connected, true);
      await proxy.stop();
      await until('not connected while the server is away', () => !b.connected);
      assert.ok(b.counters().disconnects >= 1);
      await proxy.listen();
      await until('connected again', () => b.connected, 30_000);
      assert.ok(b.counters().reconnects >= 1);
      // Away again, and closed meanwhile: the connection is closed for good, not left reconnecting (which
      // would keep the process alive).
      await proxy.stop();
      await until('not connected while the server is away again', () => !b.connected);
      await b.close();
      assert.equal(b.connected, false);
      assert.equal(b.closed, true);
    } finally {
      await proxy.stop();
    }
  });

  for (const how of ['stopped', 'crashed'] as const) {
    it(`a consumer ${how} mid-stream and started again: no lost and no duplicated rows in PostgreSQL`, async () => {
      const n = names();
      const total = 3_000;
      const producer = await bus(n, { name: 'producer' });
      const sink = await new PostgresTestSink().open();
      try {
        const options = { durable: 'sink', inFlightMax: 64, ackPendingMax: 256, ackWaitMs: 1_000 };
        const write = batchingHandler(sink, { batchMax: 64, lingerMs: 5 });
        let first: JetStreamBus | null = null;
        let crashed = false;
        const handler = async (m: Envelope): Promise<void> => {
          await write(m);
          // A crash between the write and the ack: the rows are stored, the ack never leaves.
          if (how === 'crashed' && !crashed && sink.inserted >= 500 && first !== null) {
            crashed = true;
            await first.abort();
          }
        };
        // The producer keeps publishing, in slices, while the consumer stops and starts; past half of the
        // messages it waits for the second consumer, so that the restart falls mid-stream however fast the
        // consumer runs here (it raced the producer before, and sometimes lost).
        let published = 0;
        let restarted = (): void => undefined;
        const restart = new Promise<void>((resolve) => (restarted = resolve));
        const producing = (async () => {
          while (published < total) {
            if (published === total / 2) await restart;
            for (let k = 0; k < 100; k++) producer.publish(TOPIC, tickMessage(published++));
            await producer.flushed();
            await new Promise((r) => setTimeout(r, 5));
          }
        })();

        first = await bus(n, { name: 'consumer-1' });
        const c1 = await first.consume(TOPIC, handler, options);
        if (how === 'stopped') {
          await until('some acks', () => c1.counters().acked >= 500);
          await c1.stop();
        } else {
          await until('the crash', () => crashed);
        }
        const ackedBefore = c1.counters().acked;
        assert.ok(published < total, 'the producer is still publishing during the restart');

        const second = await bus(n, { name: 'consumer-2' });
        const c2 = await second.consume(TOPIC, handler, options);
        restarted();
        await producing;
        if (how === 'crashed') {
          // What the first one wrote without acking comes again once its ack wait (1 s) is over, which may be
          // after every other row is stored: waited for, not raced.
          await until(
            'the redelivery, written again',
            () => c2.counters().redelivered > 0 && sink.written > total,
            30_000,
          );
        }
        await until(`${total} rows`, async () => (await sink.rows()).count === total, 30_000);
        const rows = await sink.rows();
        assert.equal(rows.count, total);
        assert.equal(rows.distinct, total);
        assert.deepEqual(
          rows.seqs,
          Array.from({ length: total }, (_, i) => i),
        );
        assert.equal(sink.inserted, total);
        const c = c2.counters();
        // The second consumer resumed after the first one's acks rather than from the start.
        assert.ok(c.delivered < total, `second consumer got ${c.delivered}`);
        assert.ok(c.delivered >= total - ackedBefore);
        if (how === 'crashed') {
          // What the first one wrote without acking came again and was stored once.
          assert.ok(c.redelivered > 0, 'the unacknowledged messages were redelivered');
          assert.ok(sink.written > total, `written ${sink.written}: some events were written twice`);
        }
        await until('the second consumer acked the rest', () => ackedBefore + c2.counters().acked >= total);
      } finally {
        await sink.close();
      }
    });
  }
});
