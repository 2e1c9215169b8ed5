/**
 * The bus port over NATS JetStream, for market data that crosses processes and survives restarts.
 *
 * - **Streams**: one per topic family (the topic's first word: ingestion, normalized, enriched, aggregated,
 *   served, deadletter, venue), named `{streamPrefix}{FAMILY}`, whose subjects are the family's topics
 *   (`{subjectPrefix}{family}.>`). They are created, or updated to these options, at start; a second process
 *   starting with the same options changes nothing.
 * - **Publish**: the envelope as JSON with the `Nats-Msg-Id` header set to its `event_id`, so a message
 *   republished within the duplicate window (a producer that restarted and replays) is stored once. `publish`
 *   is synchronous like the port's: it sends and counts the server's acknowledgement later; at most
 *   `publishPendingMax` publishes wait for one (beyond that it throws `BusBackpressureError`; `flushed()` waits).
 * - **Durable consumers** (`consume`): pull consumers with explicit acks. A message is acknowledged only after
 *   its handler's promise resolved; a handler that fails gets it again after a back-off (a negative ack with a
 *   delay), and after `deliveriesMax` deliveries it goes to the dead-letter topic. At most `ackPendingMax`
 *   messages are out unacknowledged (the server holds the rest) and `inFlightMax` handlers run at once.
 *   Delivery is at least once: a consumer that stops before acknowledging gets the message again, so handlers
 *   must be idempotent by `event_id`.
 * - **Subscribe**: the port's `subscribe` is a plain NATS subscription: live messages from now on, at most
 *   once, no acknowledgement (for a dashboard or a test; use `consume` for anything that must not miss one).
 *
 * The client reconnects on its own, forever, every `reconnectWaitMs`; pull consumers resume after a
 * reconnect. Counters (published, duplicates, delivered, redelivered, acked, reconnects, ...) are kept here
 * and per consumer.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  ErrorCode,
  Events,
  NatsError,
  RetentionPolicy,
  StorageType,
  connect,
  nanos,
  type ConsumerConfig,
  type ConnectionOptions,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type Msg,
  type NatsConnection,
  type StreamConfig,
  type Subscription,
} from 'nats';
import {
  checkTopic,
  type AsyncHandler,
  type DurableBus,
  type DurableConsumer,
  type DurableConsumerCounters,
  type DurableConsumerOptions,
  type Handler,
} from './bus.js';
import { envelope, type Envelope } from './envelope.js';
import {
  BusBackpressureError,
  DEFAULT_FAMILIES,
  TOPIC_FAMILIES,
  decodeEnvelope,
  type TopicFamily,
} from './topics.js';
import { JETSTREAM_DEFAULTS, JETSTREAM_LIMITS } from './limits.js';

export interface JetStreamBusOptions {
  /** NATS server URLs, comma-separated (`NATS_URL`). */
  readonly servers: string;
  readonly streamPrefix?: string;
  readonly subjectPrefix?: string;
  /** The families that get a stream; a topic of another family cannot be published. Default: DEFAULT_FAMILIES. */
  readonly families?: readonly TopicFamily[];
  readonly duplicateWindowMs?: number;
  readonly streamMaxAgeMs?: number;
  readonly streamMaxBytes?: number;
  readonly publishPendingMax?: number;
  readonly publishTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly reconnectWaitMs?: number;
  /** The connection's name, as the server's monitoring shows it. */
  readonly name?: string;
  /** Defaults of `consume`'s `ackWaitMs` and `ackPendingMax` (the configuration's `nats.*`). */
  readonly ackWaitMs?: number;
  readonly ackPendingMax?: number;
}

export interface JetStreamBusCounters {
  /** Publishes the server stored. */
  published: number;
  /** Publishes the server recognized as duplicates by `Nats-Msg-Id` (not stored again). */
  duplicates: number;
  publishFailed: number;
  /** Summed over this bus's durable consumers (those stopped included). */
  delivered: number;
  redelivered: number;
  acked: number;
  failed: number;
  deadLettered: number;
  malformed: number;
  /** Messages given to `subscribe` handlers, and handlers that threw. */
  subscriberDelivered: number;
  subscriberErrors: number;
  disconnects: number;
  reconnects: number;
}

type Resolved = Required<Omit<JetStreamBusOptions, 'name'>> & { readonly name: string };

const STREAM_PREFIX = /^[A-Za-z0-9_-]*$/;
const SUBJECT_PREFIX = /^([a-z0-9_-]+\.)*$/;
const DURABLE_NAME = /^[A-Za-z0-9_-]+$/;
/** JetStream's error code for "stream name already in use with a different configuration". */
const STREAM_EXISTS_DIFFERENT = 10058;

function resolveOptions(o: JetStreamBusOptions): Resolved {
  const r: Resolved = {
    servers: o.servers,
    streamPrefix: o.streamPrefix ?? JETSTREAM_DEFAULTS.streamPrefix,
    subjectPrefix: o.subjectPrefix ?? JETSTREAM_DEFAULTS.subjectPrefix,
    families: o.families ?? DEFAULT_FAMILIES,
    duplicateWindowMs: o.duplicateWindowMs ?? JETSTREAM_DEFAULTS.duplicateWindowMs,
    streamMaxAgeMs: o.streamMaxAgeMs ?? JETSTREAM_DEFAULTS.streamMaxAgeMs,
    streamMaxBytes: o.streamMaxBytes ?? JETSTREAM_DEFAULTS.streamMaxBytes,
    publishPendingMax: o.publishPendingMax ?? JETSTREAM_DEFAULTS.publishPendingMax,
    publishTimeoutMs: o.publishTimeoutMs ?? JETSTREAM_DEFAULTS.publishTimeoutMs,
    connectTimeoutMs: o.connectTimeoutMs ?? JETSTREAM_DEFAULTS.connectTimeoutMs,
    reconnectWaitMs: o.reconnectWaitMs ?? JETSTREAM_DEFAULTS.reconnectWaitMs,
    name: o.name ?? 'rialto',
    ackWaitMs: o.ackWaitMs ?? JETSTREAM_DEFAULTS.ackWaitMs,
    ackPendingMax: o.ackPendingMax ?? JETSTREAM_DEFAULTS.ackPendingMax,
  };
  if (r.streamPrefix.length > JETSTREAM_LIMITS.streamPrefixLengthMax || !STREAM_PREFIX.test(r.streamPrefix))
    throw new Error(`bus: bad stream prefix ${JSON.stringify(r.streamPrefix)}`);
  if (!SUBJECT_PREFIX.test(r.subjectPrefix))
    throw new Error(
      `bus: bad subject prefix ${JSON.stringify(r.subjectPrefix)} (words each followed by a dot)`,
    );
  if (r.families.length === 0 || r.families.some((f) => !TOPIC_FAMILIES.includes(f)))
    throw new Error(`bus: families must be some of ${TOPIC_FAMILIES.join(', ')}`);
  positive('publishPendingMax', r.publishPendingMax, JETSTREAM_LIMITS.publishPendingMax);
  // The server refuses a duplicate window longer than the streams' maximum age.
  if (r.duplicateWindowMs > r.streamMaxAgeMs) throw new Error('bus: duplicate window longer than max age');
  for (const k of ['duplicateWindowMs', 'streamMaxAgeMs', 'streamMaxBytes', 'publishTimeoutMs'] as const)
    positive(k, r[k], Number.MAX_SAFE_INTEGER);
  return r;
}

function positive(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > max)
    throw new Error(`bus: ${name} must be a whole number from 1 to ${max}, got ${value}`);
}

const encode = (m: Envelope): Uint8Array => Buffer.from(JSON.stringify(m), 'utf8');
const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * The client's dial timeout, for its reconnects: longer than a TCP connect takes to fail by itself (about two
 * minutes on Linux), so that the dial ends on its own rather than by the timer (below).
 */
const CLIENT_DIAL_TIMEOUT_MS = 180_000;

/**
 * The client's connect, failed with TIMEOUT after `timeoutMs` as its own `timeout` would, but without its leak.
 * The client (nats 2.29, nats-io/nats.js#64) races its timer against the TCP dial and, when the timer wins
 * first, closes a transport that has no socket yet: the dial then completes and its socket stays open,
 * unreferenced, keeping the process alive until the server drops it as stale (about six minutes). That
 * happens whenever the event loop is busy for longer than the timeout while connecting (`rialto md run` on a
 * loaded machine, its PGlite statements running on the same thread: test/cli/md-run-live.test.ts did not end
 * within 60 s). Here a connect that ends after the deadline is closed as soon as it ends.
 */
function connectWithin(timeoutMs: number, options: ConnectionOptions): Promise<NatsConnection> {
  const connecting = connect(options);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(NatsError.errorForCode(ErrorCode.Timeout));
      connecting.then(
        (nc) => void nc.close().catch(() => undefined),
        () => undefined,
      );
    }, timeoutMs);
  });
  return Promise.race([connecting, late]).finally(() => clearTimeout(timer));
}

export class JetStreamBus implements DurableBus {
  private readonly counts: JetStreamBusCounters = {
    published: 0,
    duplicates: 0,
    publishFailed: 0,
    delivered: 0,
    redelivered: 0,
    acked: 0,
    failed: 0,
    deadLettered: 0,
    malformed: 0,
    subscriberDelivered: 0,
    subscriberErrors: 0,
    disconnects: 0,
    reconnects: 0,
  };
  private readonly subscriptions = new Map<string, Set<Subscription>>();
  private readonly consumers = new Set<JetStreamConsumer>();
  private readonly families: ReadonlySet<string>;
  private pending = 0;
  /** False from a lost connection until the client reconnects, and once closed. */
  private up = true;
  /**
   * Resolved by close() and abort() to end watchStatus: the client does not end its status iterator when the
   * connection closes, so a loop waiting on it alone would wait for ever.
   */
  private readonly statusWatchEnded: Promise<'ended'>;
  private endStatusWatch: () => void = () => undefined;
  private publishError: Error | null = null;
  private idle: (() => void)[] = [];
  private closing: Promise<void> | null = null;

  private constructor(
    readonly options: Resolved,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {
    this.families = new Set(options.families);
    this.statusWatchEnded = new Promise((resolve) => (this.endStatusWatch = () => resolve('ended')));
    // Nothing awaits this loop (close() must not wait on the client's iterator); it ends with endStatusWatch.
    void this.watchStatus();
  }

  /** Connects, creates or updates the streams, and returns the bus. */
  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    const o = resolveOptions(options);
    const nc = await connectWithin(o.connectTimeoutMs, {
      servers: o.servers.split(',').map((s) => s.trim()),
      name: o.name,
      // The client's own timer only for its reconnects: one that fires while the TCP dial is still pending
      // leaves that socket open for good (see connectWithin); the first connect has ours.
      timeout: Math.max(o.connectTimeoutMs, CLIENT_DIAL_TIMEOUT_MS),
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: o.reconnectWaitMs,
      pingInterval: JETSTREAM_DEFAULTS.pingIntervalMs,
      maxPingOut: 3,
      // Otherwise the client makes two Errors (stack traces) per publish, for the context of a timeout's
      // error: about a quarter of a publish's CPU time. Our errors name the topic and the reason already.
      noAsyncTraces: true,
    });
    try {
      const jsm = await nc.jetstreamManager({ timeout: o.publishTimeoutMs });
      const bus = new JetStreamBus(o, nc, nc.jetstream({ timeout: o.publishTimeoutMs }), jsm);
      await bus.ensureStreams();
      return bus;
    } catch (e) {
      await nc.close();
      throw e;
    }
  }

  /** The stream that holds a family's topics. */
  streamName(family: TopicFamily): string {
    return `${this.options.streamPrefix}${family.toUpperCase()}`;
  }

  counters(): JetStreamBusCounters {
    const c = { ...this.counts };
    for (const consumer of this.consumers) {
      const k = consumer.counters();
      c.delivered += k.delivered;
      c.redelivered += k.redelivered;
      c.acked += k.acked;
      c.failed += k.failed;
      c.deadLettered += k.deadLettered;
      c.malformed += k.malformed;
    }
    return c;
  }

  /**
   * Whether the connection is up now. The bus object outlives a lost connection (the client reconnects on its
   * own), so its existence says nothing about this.
   */
  get connected(): boolean {
    return this.up && this.closing === null && !this.nc.isClosed();
  }

  /** The connection is closed for good (after close() or abort(): no more reconnect attempts). */
  get closed(): boolean {
    return this.nc.isClosed();
  }

  /** Publishes sent and not yet acknowledged by the server. */
  get publishesPending(): number {
    return this.pending;
  }

  publish(topic: string, message: Envelope): void {
    if (this.closing !== null) throw new Error('bus: closed');
    this.subjectOf(topic);
    if (this.pending >= this.options.publishPendingMax) throw new BusBackpressureError(this.pending);
    // Failures are counted and kept for flushed(), which is where a synchronous publisher learns of them.
    this.publishAsync(topic, message).catch((e: unknown) => {
      this.publishError ??= e instanceof Error ? e : new Error(describe(e));
    });
  }

  /** Publishes and resolves once the server stored it (`duplicate`: it had it already, by `event_id`). */
  async publishAsync(topic: string, message: Envelope): Promise<{ duplicate: boolean; seq: number }> {
    if (this.closing !== null) throw new Error('bus: closed');
    const subject = this.subjectOf(topic);
    this.pending++;
    try {
      const ack = await this.js.publish(subject, encode(message), {
        msgID: message.event_id,
        timeout: this.options.publishTimeoutMs,
      });
      if (ack.duplicate) this.counts.duplicates++;
      else this.counts.published++;
      return { duplicate: ack.duplicate, seq: ack.seq };
    } catch (e) {
      this.counts.publishFailed++;
      throw e;
    } finally {
      this.pending--;
      if (this.pending === 0) this.wakeIdle();
    }
  }

  /** Resolves once every publish so far is acknowledged; rejects with the first failure since the last call. */
  async flushed(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    const e = this.publishError;
    this.publishError = null;
    if (e !== null) throw e;
  }

  subscribe(topic: string, handler: Handler): () => void {
    checkTopic(topic);
    const sub = this.nc.subscribe(this.options.subjectPrefix + topic, {
      callback: (err: NatsError | null, msg: Msg) => {
        if (err !== null) return;
        const m = decodeEnvelope(msg.data);
        if (typeof m === 'string') {
          this.counts.malformed++;
          return;
        }
        this.counts.subscriberDelivered++;
        try {
          handler(m);
        } catch {
          // A live subscriber's exception cannot reach the publisher (another process, maybe): counted.
          this.counts.subscriberErrors++;
        }
      },
    });
    const set = this.subscriptions.get(topic) ?? new Set<Subscription>();
    set.add(sub);
    this.subscriptions.set(topic, set);
    return () => {
      sub.unsubscribe();
      set.delete(sub);
      if (set.size === 0) this.subscriptions.delete(topic);
    };
  }

  /** A topic of a family with a stream always has readers: durable consumers, now or later. */
  hasSubscribers(topic: string): boolean {
    return this.families.has(familyOf(topic)) || this.subscriptions.has(topic);
  }

  async consume(
    topic: string,
    handler: AsyncHandler,
    options: DurableConsumerOptions,
  ): Promise<DurableConsumer> {
    if (this.closing !== null) throw new Error('bus: closed');
    const subject = this.subjectOf(topic);
    const o = consumerOptions({
      ...options,
      ackWaitMs: options.ackWaitMs ?? this.options.ackWaitMs,
      ackPendingMax: options.ackPendingMax ?? this.options.ackPendingMax,
    });
    if (o.deadLetterTopic !== null) this.subjectOf(o.deadLetterTopic);
    const stream = this.streamName(familyOf(topic));
    const config: Partial<ConsumerConfig> = {
      durable_name: o.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      max_ack_pending: o.ackPendingMax,
      ack_wait: nanos(o.ackWaitMs),
      // One more than ours, so that our last attempt (which dead-letters on failure) is always delivered.
      max_deliver: o.deliveriesMax + 1,
    };
    try {
      await this.jsm.consumers.add(stream, config);
    } catch {
      // It exists with other settings: take ours (the server refuses a change it cannot make, and says so).
      await this.jsm.consumers.update(stream, o.durable, config);
    }
    const c = await this.js.consumers.get(stream, o.durable);
    const consumer = new JetStreamConsumer(o, handler, (dlTopic, m) => this.publishAsync(dlTopic, m));
    const messages = await c.consume({
      max_messages: o.ackPendingMax,
      callback: (m) => consumer.receive(m),
    });
    consumer.start(messages);
    this.consumers.add(consumer);
    return consumer;
  }

  /** Stops every consumer (draining), waits for the publishes, and closes the connection. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  /**
   * Closes the connection at once, as a crash would: nothing is drained, and messages received but not yet
   * acknowledged are redelivered after the ack wait (to this durable consumer's next incarnation).
   */
  async abort(): Promise<void> {
    for (const c of this.consumers) c.abandon();
    this.stopWatchingStatus();
    this.closing ??= this.nc.close();
    await this.closing;
  }

  private stopWatchingStatus(): void {
    this.up = false;
    this.endStatusWatch();
  }

  private async shutDown(): Promise<void> {
    this.stopWatchingStatus();
    await Promise.all([...this.consumers].map((c) => c.stop()));
    for (const set of this.subscriptions.values()) for (const sub of set) sub.unsubscribe();
    this.subscriptions.clear();
    if (this.pending > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    // Drain sends what is buffered (the last acks included) before closing; bounded, because a connection
    // that is down (reconnecting) would never drain: it is then closed, and the unsent acks are redelivered.
    // A drain can also resolve without closing (the client swallows a failed flush while disconnected), so
    // the connection is closed here whenever it is still open: else it would reconnect for ever and keep the
    // process alive.
    if (this.nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.options.publishTimeoutMs);
    });
    // A drain cut short by the close below rejects; that outcome is already handled.
    const drained = this.nc.drain().then(
      () => 'drained' as const,
      () => 'drained' as const,
    );
    try {
      await Promise.race([drained, late]);
      if (!this.nc.isClosed()) await this.nc.close();
    } finally {
      clearTimeout(timer);
    }
  }

  private wakeIdle(): void {
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }

  private subjectOf(topic: string): string {
    checkTopic(topic);
    const family = familyOf(topic);
    if (!this.families.has(family))
      throw new Error(`bus: no stream for topic ${topic} (families: ${[...this.families].join(', ')})`);
    return this.options.subjectPrefix + topic;
  }

  private async ensureStreams(): Promise<void> {
    const o = this.options;
    for (const family of o.families) {
      const config: Partial<StreamConfig> & { name: string } = {
        name: this.streamName(family),
        subjects: [`${o.subjectPrefix}${family}.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(o.streamMaxAgeMs),
        max_bytes: o.streamMaxBytes,
        duplicate_window: nanos(o.duplicateWindowMs),
        num_replicas: 1,
      };
      try {
        await this.jsm.streams.add(config);
      } catch (e) {
        if (!(e instanceof NatsError) || e.api_error?.err_code !== STREAM_EXISTS_DIFFERENT) throw e;
        await this.jsm.streams.update(config.name, config);
      }
    }
  }

  private async watchStatus(): Promise<void> {
    const events = this.nc.status()[Symbol.asyncIterator]();
    for (;;) {
      const next = await Promise.race([events.next(), this.statusWatchEnded]);
      if (next === 'ended' || next.done === true) return;
      const s = next.value;
      if (s.type === Events.Disconnect) {
        this.counts.disconnects++;
        this.up = false;
      } else if (s.type === Events.Reconnect) {
        this.counts.reconnects++;
        this.up = true;
      }
    }
  }
}

/**
 * A topic's first word: its family, when it is one of TOPIC_FAMILIES (callers check). A one-word topic has
 * none: a stream's subjects (`family.>`) do not cover it.
 */
function familyOf(topic: string): TopicFamily {
  const dot = topic.indexOf('.');
  return (dot < 0 ? '' : topic.slice(0, dot)) as TopicFamily;
}

type ResolvedConsumerOptions = Required<DurableConsumerOptions>;

/**
 * Sends an ack, nak or term; false when the connection is closed (an abort): the server then redelivers the
 * message after the ack wait, which at-least-once delivery allows.
 */
function settle(send: () => void): boolean {
  try {
    send();
    return true;
  } catch {
    return false;
  }
}

function consumerOptions(o: DurableConsumerOptions): ResolvedConsumerOptions {
  const L = JETSTREAM_LIMITS;
  if (o.durable.length > L.durableNameLengthMax || !DURABLE_NAME.test(o.durable))
    throw new Error(`bus: bad durable name ${JSON.stringify(o.durable)}`);
  const r: ResolvedConsumerOptions = {
    durable: o.durable,
    inFlightMax: o.inFlightMax ?? JETSTREAM_DEFAULTS.inFlightMax,
    ackPendingMax: o.ackPendingMax ?? JETSTREAM_DEFAULTS.ackPendingMax,
    ackWaitMs: o.ackWaitMs ?? JETSTREAM_DEFAULTS.ackWaitMs,
    backoffMs: o.backoffMs ?? JETSTREAM_DEFAULTS.backoffMs,
    deliveriesMax: o.deliveriesMax ?? JETSTREAM_DEFAULTS.deliveriesMax,
    deadLetterTopic: o.deadLetterTopic === undefined ? JETSTREAM_DEFAULTS.deadLetterTopic : o.deadLetterTopic,
  };
  positive('inFlightMax', r.inFlightMax, L.inFlightMax);
  positive('ackPendingMax', r.ackPendingMax, L.ackPendingMax);
  positive('ackWaitMs', r.ackWaitMs, Number.MAX_SAFE_INTEGER);
  positive('deliveriesMax', r.deliveriesMax, L.deliveriesMax);
  if (r.inFlightMax > r.ackPendingMax) throw new Error('bus: inFlightMax above ackPendingMax');
  if (r.backoffMs.length === 0 || r.backoffMs.length > L.backoffSteps)
    throw new Error(`bus: backoffMs needs 1 to ${L.backoffSteps} delays`);
  for (const d of r.backoffMs)
    if (!Number.isSafeInteger(d) || d < 0) throw new Error('bus: bad back-off delay');
  return r;
}

/**
 * One durable consumer's local side: messages the client received wait in a queue (bounded by the server's
 * `max_ack_pending`, which never sends more unacknowledged ones) until one of `inFlightMax` handler slots is
 * free. An ack is sent only after the handler's promise resolved.
 */
class JetStreamConsumer implements DurableConsumer {
  private readonly c: DurableConsumerCounters = {
    delivered: 0,
    redelivered: 0,
    acked: 0,
    failed: 0,
    deadLettered: 0,
    malformed: 0,
  };
  private readonly queue: JsMsg[] = [];
  private head = 0;
  private running = 0;
  private messages: ConsumerMessages | null = null;
  private stopping: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  constructor(
    private readonly o: ResolvedConsumerOptions,
    private readonly handler: AsyncHandler,
    private readonly publishDeadLetter: (topic: string, m: Envelope) => Promise<unknown>,
  ) {}

  get name(): string {
    return this.o.durable;
  }

  counters(): DurableConsumerCounters {
    return { ...this.c };
  }

  start(messages: ConsumerMessages): void {
    this.messages = messages;
  }

  receive(m: JsMsg): void {
    this.c.delivered++;
    if (m.info.deliveryCount > 1) this.c.redelivered++;
    this.queue.push(m);
    this.pump();
  }

  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  /** Drops the messages waiting for a handler (an abort): the server redelivers them after the ack wait. */
  abandon(): void {
    // Stopping also clears the pull's timers (its request expiry, the heartbeat monitor).
    void this.messages?.close();
    this.queue.length = 0;
    this.head = 0;
    this.stopping ??= Promise.resolve();
  }

  private async drain(): Promise<void> {
    await this.messages?.close();
    if (this.running > 0 || this.head < this.queue.length)
      await new Promise<void>((resolve) => (this.drained = resolve));
  }

  private pump(): void {
    while (this.running < this.o.inFlightMax && this.head < this.queue.length) {
      const m = this.queue[this.head++];
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      this.running++;
      void this.handle(m).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.head === this.queue.length && this.drained !== null) this.drained();
      });
    }
  }

  private async handle(m: JsMsg): Promise<void> {
    const message = decodeEnvelope(m.data);
    if (typeof message === 'string') {
      this.c.malformed++;
      await this.giveUp(m, null, `not an envelope: ${message}`);
      return;
    }
    try {
      await this.handler(message);
    } catch (e) {
      this.c.failed++;
      const deliveries = m.info.deliveryCount;
      if (deliveries >= this.o.deliveriesMax) {
        await this.giveUp(m, message, `failed ${deliveries} times, last: ${describe(e)}`);
        return;
      }
      const b = this.o.backoffMs;
      settle(() => m.nak(b[Math.min(deliveries, b.length) - 1]));
      return;
    }
    if (settle(() => m.ack())) this.c.acked++;
  }

  /** Dead-letters a message (when it has a topic for that) and terminates it: it is never redelivered. */
  private async giveUp(m: JsMsg, message: Envelope | null, reason: string): Promise<void> {
    const topic = this.o.deadLetterTopic;
    if (topic !== null) {
      const id = message?.event_id ?? `${m.info.stream}:${m.info.streamSequence}`;
      try {
        await this.publishDeadLetter(
          topic,
          envelope({
            event_type: 'MessageDeadLettered',
            event_id: `${id}/dl/${this.o.durable}`,
            timestamp: new Date().toISOString(),
            source: `consumer:${this.o.durable}`,
            version: 1,
            correlation_id: message?.correlation_id ?? id,
            causation_id: message?.event_id ?? null,
            payload: {
              subject: m.subject,
              consumer: this.o.durable,
              reason,
              deliveries: m.info.deliveryCount,
              message: message ?? Buffer.from(m.data).toString('base64'),
            },
          }),
        );
      } catch {
        // The dead letter could not be stored: leave the message unacknowledged, so it comes back.
        this.c.failed++;
        settle(() => m.nak(this.o.backoffMs[this.o.backoffMs.length - 1]));
        return;
      }
    }
    if (settle(() => m.term(reason.slice(0, 200)))) this.c.deadLettered++;
  }
}
