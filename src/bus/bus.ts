/**
 * The bus port: topics of envelopes, published and subscribed. The in-process bus here delivers synchronously,
 * in subscription order, before `publish` returns; a NATS JetStream adapter implements the same port later
 * (a stream per topic family, durable consumers, at-least-once delivery, so handlers must be idempotent by
 * `event_id`). `hasSubscribers` lets a publisher skip building envelopes nobody reads: the hot path of the
 * market data pipeline materializes a message only for a topic someone listens to.
 */
import type { Envelope } from './envelope.js';

export type Handler = (message: Envelope) => void;

export interface Bus {
  publish(topic: string, message: Envelope): void;
  /** Calls `handler` with every message published on `topic` from now on; returns a function that stops it. */
  subscribe(topic: string, handler: Handler): () => void;
  hasSubscribers(topic: string): boolean;
  close(): Promise<void>;
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
