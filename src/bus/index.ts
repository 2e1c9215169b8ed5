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
  JetStreamBus,
  TOPIC_FAMILIES,
  decodeEnvelope,
  type JetStreamBusCounters,
  type JetStreamBusOptions,
  type TopicFamily,
} from './jetstream.js';
export { JETSTREAM_DEFAULTS, JETSTREAM_LIMITS } from './limits.js';
export { batchingHandler, type BatchingOptions, type IdempotentSink } from './sink.js';
export { openBus, type BusSettings, type OpenedBus } from './open.js';
export {
  OUTBOX_DEFAULTS,
  Outbox,
  type OutboxLimits,
  type OutboxPublisher,
  type OutboxStats,
} from './outbox.js';
