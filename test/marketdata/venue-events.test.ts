/**
 * The venue's events as envelopes, from a real core's records: every book event of a command in order, with
 * ids from the journal's sequence number, the envelope's fields, sides and enumerations by name, a subject
 * per instrument; records of instruments the venue does not name and of other kinds are left out; the replay
 * offers only the commands after the saved progress, and live batches are taken off the listener's turn.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Side, TimeInForce, decodeEvent } from '../../src/book/index.js';
import { Outbox, type Envelope, type OutboxPublisher } from '../../src/bus/index.js';
import { VenueEvents, symbolToken, venueEventPayload, venueEventsTopic } from '../../src/marketdata/index.js';
import { INSTRUMENT, T0, Venue } from '../core/helpers.js';

/** A transport that stores everything at once. */
class Stored implements OutboxPublisher {
  readonly messages: { topic: string; m: Envelope }[] = [];
  publishAsync(topic: string, m: Envelope): Promise<{ duplicate: boolean }> {
    this.messages.push({ topic, m });
    return Promise.resolve({ duplicate: false });
  }
}

/** A core with a resting sell and a buy that crosses it: each command's records, as the engine sends them. */
function commands(): { seq: number; events: Float64Array; count: number }[] {
  const v = new Venue().setup().account(1, 10_000_000, 0).account(2, 0, 1_000);
  const out: { seq: number; events: Float64Array; count: number }[] = [];
  v.place(2, 1, Side.Sell, 100, 10);
  out.push({ seq: 20, events: v.core.events.data.slice(), count: v.core.events.count });
  v.place(1, 2, Side.Buy, 101, 4);
  out.push({ seq: 21, events: v.core.events.data.slice(), count: v.core.events.count });
  return out;
}

describe('venue events', () => {
  it('makes an envelope per book event, ids from the journal, names for sides and enumerations', async () => {
    const box = new Outbox(0);
    const t = new Stored();
    box.setPublisher(t);
    const ev = new VenueEvents(box, (id) => (id === INSTRUMENT ? 'BTC-USD' : undefined));
    for (const c of commands()) ev.replayCommand(c.seq, T0, c.events, c.count);
    assert.equal(await box.flushed(1000), true);
    assert.equal(box.progressSeq, 21);
    const types = t.messages.map((x) => x.m.event_type);
    assert.deepEqual(types.slice(0, 1), ['OrderAccepted']);
    assert.ok(types.includes('TradeExecuted'));
    assert.ok(types.includes('OrderPartiallyFilled'));
    assert.ok(types.includes('OrderFilled'));
    assert.ok(types.includes('TopOfBookChanged'));
    for (const { topic, m } of t.messages) {
      assert.equal(topic, 'venue.events.v1.btc-usd');
      assert.match(m.event_id, /^venue-event:2[01]:\d+$/);
      assert.equal(m.timestamp, '2026-01-01T00:00:00Z');
      assert.equal(m.source, 'rialto.venue');
      assert.equal(m.version, 1);
      assert.equal(m.correlation_id, `venue-command:${m.event_id.split(':')[1]}`);
      assert.ok(Object.isFrozen(m));
    }
    const ids = t.messages.map((x) => x.m.event_id);
    assert.equal(new Set(ids).size, ids.length);
    const accepted = t.messages[0].m.payload as Record<string, unknown>;
    assert.deepEqual(
      [accepted.symbol, accepted.journalSeq, accepted.side, accepted.orderType, accepted.tif, accepted.stp],
      ['BTC-USD', 20, 'sell', 'Limit', 'GTC', 'None'],
    );
    const trade = t.messages.find((x) => x.m.event_type === 'TradeExecuted')?.m.payload as Record<
      string,
      unknown
    >;
    assert.deepEqual(
      [trade.price, trade.qty, trade.aggressorSide, trade.takerOrderId, trade.makerOrderId],
      [100, 4, 'buy', 2, 1],
    );
  });

  it("names a refused place's type and time in force, and gives a refused cancel none", () => {
    const v = new Venue().setup().account(1, 100, 0);
    v.place(1, 5, Side.Buy, 100, 10, { tif: TimeInForce.IOC });
    const refusedPlace = decodeEvent(v.core.events, 0);
    assert.equal(refusedPlace.type, 'OrderRejected');
    const place = venueEventPayload(refusedPlace, 'BTC-USD', INSTRUMENT, 30);
    assert.deepEqual([place.code, place.orderType, place.tif], ['InsufficientFunds', 'Limit', 'IOC']);
    v.exec({ kind: 'cancelOrder', accountId: 1, instrument: INSTRUMENT, orderId: 404 });
    const refusedCancel = decodeEvent(v.core.events, 0);
    assert.equal(refusedCancel.type, 'OrderRejected');
    const cancel = venueEventPayload(refusedCancel, 'BTC-USD', INSTRUMENT, 31);
    assert.equal(cancel.code, 'OrderNotFound');
    assert.ok(!('orderType' in cancel) && !('tif' in cancel));
  });

  it('offers in the replay only the commands after the saved progress, and live batches on a later turn', async () => {
    const [first, second] = commands();
    const box = new Outbox(20);
    const t = new Stored();
    box.setPublisher(t);
    const ev = new VenueEvents(box, () => 'BTC-USD');
    ev.replayCommand(first.seq, T0, first.events, first.count);
    assert.equal(box.stats().queued + t.messages.length, 0, 'command 20 was published by an earlier run');
    ev.goLive();
    // A batch of one command: the listener only copies it.
    ev.applyBatch({ firstSeq: 21, timeUs: T0, events: second.events, ends: Int32Array.of(second.count) });
    second.events.fill(0); // the engine reuses its buffer
    assert.equal(t.messages.length, 0);
    await new Promise((r) => setImmediate(r));
    assert.equal(await box.flushed(1000), true);
    assert.ok(t.messages.length > 3);
    assert.ok(t.messages.every((x) => x.m.event_id.startsWith('venue-event:21:')));
    assert.ok(t.messages.some((x) => x.m.event_type === 'TradeExecuted'));
    assert.equal(box.progressSeq, 21);
  });

  it('leaves out instruments the venue does not name', async () => {
    const box = new Outbox(0);
    const t = new Stored();
    box.setPublisher(t);
    const ev = new VenueEvents(box, () => undefined);
    for (const c of commands()) ev.replayCommand(c.seq, T0, c.events, c.count);
    assert.equal(await box.flushed(1000), true);
    assert.equal(t.messages.length, 0);
    assert.equal(box.progressSeq, 21);
  });

  it('names subjects per symbol, one token each, never two symbols alike', () => {
    assert.equal(symbolToken('BTC-USDT'), 'btc-usdt');
    assert.equal(symbolToken('BTC/USD'), 'btc--usd');
    assert.equal(symbolToken('ES.Z24'), 'es__z24');
    assert.notEqual(symbolToken('A_B'), symbolToken('A.B'));
    assert.equal(venueEventsTopic('BTC/USD'), 'venue.events.v1.btc--usd');
  });
});
