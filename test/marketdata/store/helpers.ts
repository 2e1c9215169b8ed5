/** Tick and bar messages as the pipeline publishes them, for the store's and the writer's tests. */
import { envelope, type Envelope } from '../../../src/bus/index.js';
import type { BarPayload, NormalizedTick } from '../../../src/marketdata/index.js';

export const T0_US = 1_704_186_000_000_000; // 2024-01-02T09:00:00Z

export function tickMessage(id: string, fields: Partial<NormalizedTick> = {}): Envelope<NormalizedTick> {
  const payload: NormalizedTick = {
    instrument: 'BTC-USDT',
    source: 'venue',
    kind: 'trade',
    time_us: T0_US,
    time_ns: 0,
    price: 6_000_000,
    size: 25,
    side: 'buy',
    bid_price: null,
    bid_size: null,
    ask_price: null,
    ask_size: null,
    trade_id: 1,
    flags: ['valid'],
    ...fields,
  };
  return envelope({
    event_type: 'TickEnriched',
    event_id: id,
    timestamp: '',
    source: payload.source,
    version: 1,
    correlation_id: id,
    causation_id: null,
    payload,
  });
}

export function barMessage(fields: Partial<BarPayload> & { id?: string } = {}): Envelope<BarPayload> {
  const { id, ...rest } = fields;
  const payload: BarPayload = {
    instrument: 'BTC-USDT',
    interval: '1m',
    start: '',
    end: '',
    start_us: T0_US,
    end_us: T0_US + 60_000_000,
    open: 100,
    high: 110,
    low: 90,
    close: 105,
    volume: 30,
    notional: '3000',
    count: 3,
    revision: 0,
    ...rest,
  };
  const eventId = id ?? `${payload.instrument}:${payload.interval}:${payload.start_us}:r${payload.revision}`;
  return envelope({
    event_type: payload.revision === 0 ? 'BarClosed' : 'BarCorrected',
    event_id: eventId,
    timestamp: '',
    source: 'pipeline',
    version: 1,
    correlation_id: eventId,
    causation_id: null,
    payload,
  });
}
