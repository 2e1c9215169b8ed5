/**
 * The venue source reads trades and best bid and offer from the book's records in place. Property: for any batch
 * of records (trades, top-of-book changes with empty sides, records of other types, instruments not published),
 * its raw events are the ones built from decodeEvent's reading of the same records.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EVENT_STRIDE, EventBuffer, EventType, decodeEvent } from '../../../src/book/index.js';
import { F_INSTRUMENT } from '../../../src/core/index.js';
import { VenueSource, type RawEvent } from '../../../src/marketdata/index.js';

const SYMBOLS: Record<number, string> = { 1: 'BTC-USDT', 2: 'ETH-USDT' };
const symbolOf = (instrument: number): string | undefined => SYMBOLS[instrument];

/** The source's output as decodeEvent reads the records. */
function expected(events: Float64Array, ends: Int32Array, firstSeq: number, timeUs: number): RawEvent[] {
  const reader = new EventBuffer(1);
  reader.data = events;
  const out: RawEvent[] = [];
  let from = 0;
  for (let k = 0; k < ends.length; k++) {
    for (let i = from; i < ends[k]; i++) {
      const symbol = symbolOf(events[i * EVENT_STRIDE + F_INSTRUMENT]);
      const e = decodeEvent(reader, i);
      if (symbol === undefined) continue;
      const base = { id: `venue:${firstSeq + k}:${i - from}`, source: 'venue', receivedUs: timeUs };
      if (e.type === 'TradeExecuted') {
        out.push({
          ...base,
          schema: 'venue.trade.v1',
          payload: {
            instrument: symbol,
            timeUs,
            priceTicks: e.price,
            qtyLots: e.qty,
            side: e.aggressorSide === 0 ? 'buy' : 'sell',
            tradeId: e.tradeId,
          },
        });
      } else if (e.type === 'TopOfBookChanged') {
        out.push({
          ...base,
          schema: 'venue.bbo.v1',
          payload: {
            instrument: symbol,
            timeUs,
            bidTicks: e.bidQty === 0 ? null : e.bidPrice,
            bidLots: e.bidQty === 0 ? null : e.bidQty,
            askTicks: e.askQty === 0 ? null : e.askPrice,
            askLots: e.askQty === 0 ? null : e.askQty,
          },
        });
      }
    }
    from = ends[k];
  }
  return out;
}

const record = fc.record({
  type: fc.constantFrom(
    EventType.TradeExecuted,
    EventType.TopOfBookChanged,
    EventType.OrderAccepted,
    EventType.OrderCancelled,
  ),
  instrument: fc.constantFrom(1, 2, 3),
  side: fc.constantFrom(0, 1),
  fields: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 40 })), {
    minLength: 8,
    maxLength: 8,
  }),
});

describe('venue source: records read in place', () => {
  it('gives the raw events decodeEvent reads from the same records', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(record, { maxLength: 6 }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (commands, firstSeq) => {
          const n = commands.reduce((a, c) => a + c.length, 0);
          const events = new Float64Array(Math.max(1, n) * EVENT_STRIDE);
          const ends = new Int32Array(commands.length);
          let i = 0;
          commands.forEach((records, k) => {
            for (const r of records) {
              const o = i * EVENT_STRIDE;
              events[o] = r.type;
              events[o + 5] = r.side;
              for (let f = 0; f < 8; f++) events[o + 6 + f] = r.fields[f] ?? 0;
              events[o + F_INSTRUMENT] = r.instrument;
              i++;
            }
            ends[k] = i;
          });
          const timeUs = 1_796_000_000_000_000 + firstSeq;
          const batch = { firstSeq, timeUs, events, ends };
          assert.deepStrictEqual(
            new VenueSource(symbolOf).rawEvents(batch),
            expected(events, ends, firstSeq, timeUs),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
