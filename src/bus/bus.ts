/**
 * The bus port: topics of envelopes, published and subscribed. The in-process bus here delivers synchronously,
 * in subscription order, before `publish` returns. `hasSubscribers` lets a publisher skip building envelopes
 * nobody reads: the hot path of the market data pipeline materializes a message only for a topic someone
 * listens to.
 *
 * `DurableBus` adds what a transport between processes offers (NATS JetStream, `jetstream.ts`): a durable
 * consumer whose handler is asynchronous and whose message is acknowledged only once the handler's promise
 * resolves, delivered at least once (so handlers must be idempotent by `event_id`). It is a separate
 * interface so that the in-process bus and its callers stay synchronous: a promise per message would cost the
 * in-process pipeline more than all its stages together.
 */
import type { Envelope } from './envelope.js';

export type Handler = (message: Envelope) => void;
/** A durable consumer's handler: the message is acknowledged when the promise resolves, redelivered if not. */
export type AsyncHandler = (message: Envelope) => Promise<void>;

export interface Bus {
  publish(topic: string, message: Envelope): void;
  /** Calls `handler` with every message published on `topic` from now on; returns a function that stops it. */
  subscribe(topic: string, handler: Handler): () => void;
  hasSubscribers(topic: string): boolean;
  close(): Promise<void>;
}

export interface DurableConsumerOptions {
  /** The consumer's durable name: a restart with the same name resumes after the last acknowledged message. */
  readonly durable: string;
  /** Handlers running at once; 1 (the default) handles messages in the order of the stream. */
  readonly inFlightMax?: number;
  /** Messages given to this consumer and not yet acknowledged, at most. */
  readonly ackPendingMax?: number;
  /** How long the transport waits for the handler before it redelivers the message. */
  readonly ackWaitMs?: number;
  /** Delays before redelivering a message whose handler failed, by failure (the last repeats). */
  readonly backoffMs?: readonly number[];
  /** Deliveries of one message before it is dead-lettered instead of handled again. */
  readonly deliveriesMax?: number;
  /** Where a message given up on goes (null: nowhere, only counted). */
  readonly deadLetterTopic?: string | null;
}

export interface DurableConsumerCounters {
  /** Messages handed to the handler, redeliveries included. */
  delivered: number;
  /** Of those, redeliveries (a failure, an ack that never came, a restart). */
  redelivered: number;
  acked: number;
  /** Handler failures, each followed by a delayed redelivery or a dead letter. */
  failed: number;
  deadLettered: number;
  /** Messages that were not an envelope (dead-lettered at once). */
  malformed: number;
}

export interface DurableConsumer {
  readonly name: string;
  counters(): DurableConsumerCounters;
  /**
   * Stops taking messages, lets the handlers of those already received finish and acknowledges them. What
   * the transport had sent and this consumer had not yet received is redelivered after the ack wait.
   */
  stop(): Promise<void>;
}

export interface DurableBus extends Bus {
  /** A durable consumer of `topic` (created or updated to `options`), running until stopped or closed. */
  consume(topic: string, handler: AsyncHandler, options: DurableConsumerOptions): Promise<DurableConsumer>;
}

export interface InProcessBusStats {
  published: number;
  delivered: number;
}

/** Topic names: dot-separated lowercase words, digits, `_` and `-` (`aggregated.market.bars.1m.v1`). */
const TOPIC = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

export function checkTopic(topic: string): void {
  if (!TOPIC.test(topic) || topic.length > 200)
    throw new Error(`bus: bad topic name ${JSON.stringify(topic)}`);
}

/**
 * Synchronous, in this process. A handler that throws is a bug in that handler: the exception reaches the
 * publisher (nothing is swallowed), after the handlers before it in the list already ran.
 */
export class InProcessBus implements Bus {
  private readonly handlers = new Map<string, Handler[]>();
  private closed = false;
  readonly stats: InProcessBusStats = { published: 0, delivered: 0 };

  publish(topic: string, message: Envelope): void {
    if (this.closed) throw new Error('bus: closed');
    this.stats.published++;
    const list = this.handlers.get(topic);
    if (list === undefined) return;
    for (const h of list) {
      h(message);
      this.stats.delivered++;
    }
  }

  subscribe(topic: string, handler: Handler): () => void {
    checkTopic(topic);
    // A new array on each change, so that a handler that unsubscribes during delivery does not skip another.
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
    return () => {
      const rest = (this.handlers.get(topic) ?? []).filter((h) => h !== handler);
      if (rest.length === 0) this.handlers.delete(topic);
      else this.handlers.set(topic, rest);
    };
  }

  hasSubscribers(topic: string): boolean {
    return this.handlers.has(topic);
  }

  close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    return Promise.resolve();
  }
}
