/**
 * The bus by configuration: NATS JetStream when a NATS URL is set (`NATS_URL`), else the in-process bus. A
 * caller that needs durable consumers asks for `durable`, which is null in process (nothing survives the
 * process there, so there is nothing to resume).
 */
import { InProcessBus, type Bus, type DurableBus } from './bus.js';
import type { JetStreamBus, JetStreamBusOptions } from './jetstream.js';

export interface OpenedBus {
  readonly bus: Bus;
  readonly durable: DurableBus | null;
  readonly kind: 'jetstream' | 'in-process';
}

export interface BusSettings {
  readonly natsUrl: string | null;
  /** The configuration's `jetstream` section (stream prefix, duplicate window, ack wait and bound). */
  readonly jetstream?: Omit<JetStreamBusOptions, 'servers'>;
}

export async function openBus(s: BusSettings): Promise<OpenedBus> {
  if (s.natsUrl === null) return { bus: new InProcessBus(), durable: null, kind: 'in-process' };
  const bus = await connectJetStream({ ...s.jetstream, servers: s.natsUrl });
  return { bus, durable: bus, kind: 'jetstream' };
}

/** Connects a JetStream bus, loading the NATS adapter (and the nats client) on the first call. */
export async function connectJetStream(options: JetStreamBusOptions): Promise<JetStreamBus> {
  return (await import('./jetstream.js')).JetStreamBus.connect(options);
}
