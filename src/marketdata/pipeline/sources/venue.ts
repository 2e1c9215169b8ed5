/**
 * The venue's own trades and best bid and offer as raw events, from the engine's durable batches (the same
 * batches the views and the WebSocket feeds consume). Event ids are the journal's: `venue:SEQ:RECORD`, the
 * command's sequence number and the record's index within the command, so that replaying the journal gives
 * the same ids. Trades are in ticks and lots, stamped with the batch's time (the sequencer's).
 */
import { EVENT_STRIDE, EventBuffer, EventType, decodeEvent } from '../../../book/index.js';
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
  private readonly reader = new EventBuffer(1);

  /** `symbolOf` names an instrument id (undefined: an instrument this source does not publish). */
  constructor(private readonly symbolOf: (instrument: number) => string | undefined) {}

  /** The batch's trades and top-of-book changes as raw events, in journal order. */
  rawEvents(batch: BatchRecords, out: RawEvent[] = []): RawEvent[] {
    const d = batch.events;
    this.reader.data = d;
    let from = 0;
    for (let k = 0; k < batch.ends.length; k++) {
      const seq = batch.firstSeq + k;
      for (let i = from; i < batch.ends[k]; i++) {
        const type = d[i * EVENT_STRIDE];
        if (type !== EventType.TradeExecuted && type !== EventType.TopOfBookChanged) continue;
        const symbol = this.symbolOf(d[i * EVENT_STRIDE + F_INSTRUMENT]);
        if (symbol === undefined) continue;
        out.push(this.raw(seq, i - from, batch.timeUs, symbol, i));
      }
      from = batch.ends[k];
    }
    return out;
  }

  private raw(seq: number, record: number, timeUs: number, symbol: string, i: number): RawEvent {
    const e = decodeEvent(this.reader, i);
    const id = `venue:${seq}:${record}`;
    if (e.type === 'TradeExecuted') {
      return {
        id,
        source: VENUE_SOURCE,
        schema: 'venue.trade.v1',
        receivedUs: timeUs,
        payload: {
          instrument: symbol,
          timeUs,
          priceTicks: e.price,
          qtyLots: e.qty,
          side: e.aggressorSide === 0 ? 'buy' : 'sell',
          tradeId: e.tradeId,
        },
      };
    }
    if (e.type !== 'TopOfBookChanged') throw new Error(`venue source: record ${i} is ${e.type}`);
    // An empty side has quantity 0 in the record: no price to show.
    return {
      id,
      source: VENUE_SOURCE,
      schema: 'venue.bbo.v1',
      receivedUs: timeUs,
      payload: {
        instrument: symbol,
        timeUs,
        bidTicks: e.bidQty === 0 ? null : e.bidPrice,
        bidLots: e.bidQty === 0 ? null : e.bidQty,
        askTicks: e.askQty === 0 ? null : e.askPrice,
        askLots: e.askQty === 0 ? null : e.askQty,
      },
    };
  }
}
