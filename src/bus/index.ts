/** Transports: the bus port, its in-process and NATS JetStream adapters, and the message envelope. */
export {
  InProcessBus,
  checkTopic,
  type AsyncHandler,
  type Bus,
  type DurableBus,
  type DurableConsumer,
  type DurableConsumerCounters,
  type DurableConsumerOptions,
  type Handler,
  type InProcessBusStats,
} from './bus.js';
export { envelope, type Envelope } from './envelope.js';
export {
  BusBackpressureError,
  DEFAULT_FAMILIES,
  TOPIC_FAMILIES,
  decodeEnvelope,
  type TopicFamily,
} from './topics.js';
// The NATS adapter is loaded when a bus connects (connectJetStream): importing the bus does not load nats.
export type { JetStreamBus, JetStreamBusCounters, JetStreamBusOptions } from './jetstream.js';
export { JETSTREAM_DEFAULTS, JETSTREAM_LIMITS } from './limits.js';
export { batchingHandler, type BatchingOptions, type IdempotentSink } from './sink.js';
export { connectJetStream, openBus, type BusSettings, type OpenedBus } from './open.js';
export {
  OUTBOX_DEFAULTS,
  Outbox,
  type OutboxLimits,
  type OutboxPublisher,
  type OutboxStats,
} from './outbox.js';
