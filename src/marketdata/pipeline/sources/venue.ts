/**
 * The venue's own trades and best bid and offer as raw events, from the engine's durable batches (the same
 * batches the views and the WebSocket feeds consume). Event ids are the journal's: `venue:SEQ:RECORD`, the
 * command's sequence number and the record's index within the command, so that replaying the journal gives
 * the same ids. Trades are in ticks and lots, stamped with the batch's time (the sequencer's).
 */
import {
  EVENT_STRIDE,
  EventType,
  F_A,
  F_B,
  F_C,
  F_D,
  F_PRICE,
  F_QTY,
  F_SIDE,
  Side,
} from '../../../book/index.js';
import { F_INSTRUMENT } from '../../../core/index.js';
import type { RawEvent } from '../raw.js';

/** What the source needs of a durable batch (the engine's DurableBatch has this shape). */
export interface BatchRecords {
  readonly firstSeq: number;
  readonly timeUs: number;
  readonly events: Float64Array;
  readonly ends: Int32Array;
}

export const VENUE_SOURCE = 'venue';

export class VenueSource {
  /** `symbolOf` names an instrument id (undefined: an instrument this source does not publish). */
  constructor(private readonly symbolOf: (instrument: number) => string | undefined) {}

  /** The batch's trades and top-of-book changes as raw events, in journal order. */
  rawEvents(batch: BatchRecords, out: RawEvent[] = []): RawEvent[] {
    const d = batch.events;
    let from = 0;
    for (let k = 0; k < batch.ends.length; k++) {
      const seq = batch.firstSeq + k;
      for (let i = from; i < batch.ends[k]; i++) {
        const o = i * EVENT_STRIDE;
        const type = d[o];
        if (type !== EventType.TradeExecuted && type !== EventType.TopOfBookChanged) continue;
        const symbol = this.symbolOf(d[o + F_INSTRUMENT]);
        if (symbol === undefined) continue;
        const id = `venue:${seq}:${i - from}`;
        out.push(
          type === EventType.TradeExecuted
            ? trade(id, batch.timeUs, symbol, d, o)
            : bbo(id, batch.timeUs, symbol, d, o),
        );
      }
      from = batch.ends[k];
    }
    return out;
  }
}

// The two read the record's fields in place (as decodeEvent would) rather than through decodeEvent's object:
// that object's fields, shared with every other reader of decoded events, kept changing representation, and
// the optimized code of this path was thrown away and compiled again dozens of times a minute under load.

function trade(id: string, timeUs: number, symbol: string, d: Float64Array, o: number): RawEvent {
  return {
    id,
    source: VENUE_SOURCE,
    schema: 'venue.trade.v1',
    receivedUs: timeUs,
    payload: {
      instrument: symbol,
      timeUs,
      priceTicks: d[o + F_PRICE],
      qtyLots: d[o + F_QTY],
      side: d[o + F_SIDE] === Side.Buy ? 'buy' : 'sell',
      tradeId: d[o + F_A],
    },
  };
}

/** An empty side has quantity 0 in the record: no price to show. */
function bbo(id: string, timeUs: number, symbol: string, d: Float64Array, o: number): RawEvent {
  const bidQty = d[o + F_B];
  const askQty = d[o + F_D];
  return {
    id,
    source: VENUE_SOURCE,
    schema: 'venue.bbo.v1',
    receivedUs: timeUs,
    payload: {
      instrument: symbol,
      timeUs,
      bidTicks: bidQty === 0 ? null : d[o + F_A],
      bidLots: bidQty === 0 ? null : bidQty,
      askTicks: askQty === 0 ? null : d[o + F_C],
      askLots: askQty === 0 ? null : askQty,
    },
  };
}
