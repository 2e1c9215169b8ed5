/** Transports: the bus port and its in-process adapter (NATS JetStream later), and the message envelope. */
export { InProcessBus, checkTopic, type Bus, type Handler, type InProcessBusStats } from './bus.js';
export { envelope, type Envelope } from './envelope.js';
