/**
 * `rialto demo`: a short scripted session on one in-memory order book, printed as the events it produced,
 * then the depth and the state hash. The script is fixed and the book reads no clock, so the output is the
 * same on every run.
 */
import {
  EventBuffer,
  OrderBook,
  OrderType,
  SelfTradePrevention,
  Side,
  TimeInForce,
  decodeEvents,
  type BookEvent,
  type PlaceOrder,
} from '../book/index.js';
import { EventFormatter, type Instrument } from './format.js';

export const DEMO_INSTRUMENT: Readonly<Instrument> = Object.freeze({
  symbol: 'BTC-USDT',
  priceDecimals: 2,
  qtyDecimals: 3,
});

const ALICE = 1;
const BOB = 2;
const OWNERS: ReadonlyMap<number, string> = new Map([
  [ALICE, 'alice'],
  [BOB, 'bob'],
]);
/** Levels shown per side in the depth table. */
const DEPTH_LEVELS = 10;
/** The session's clock: 2024-01-01T00:00:00Z in microseconds, one millisecond per step. */
const START_US = 1_704_067_200_000_000;
const STEP_US = 1_000;

interface Step {
  /** What the step does, in words. */
  say: string;
  run(book: OrderBook, timeUs: number): void;
}

function order(
  fields: Partial<PlaceOrder> & Pick<PlaceOrder, 'orderId' | 'owner' | 'side' | 'qty'>,
): PlaceOrder {
  return {
    type: OrderType.Limit,
    tif: TimeInForce.GTC,
    price: 0,
    triggerPrice: 0,
    displayQty: 0,
    postOnly: false,
    stp: SelfTradePrevention.None,
    expireTimeUs: 0,
    timeUs: 0,
    ...fields,
  };
}

function place(say: string, fields: Parameters<typeof order>[0]): Step {
  return { say, run: (book, timeUs) => void book.place(order({ ...fields, timeUs })) };
}

// Prices in cents (ticks of 0.01 USDT), quantities in lots of 0.001 BTC.
const SCRIPT: readonly Step[] = [
  place('alice bids 0.500 BTC at 64990.00', {
    orderId: 1,
    owner: ALICE,
    side: Side.Buy,
    price: 6_499_000,
    qty: 500,
  }),
  place('alice bids 1.000 BTC at 64980.00', {
    orderId: 2,
    owner: ALICE,
    side: Side.Buy,
    price: 6_498_000,
    qty: 1000,
  }),
  place('bob offers 0.400 BTC at 65010.00', {
    orderId: 3,
    owner: BOB,
    side: Side.Sell,
    price: 6_501_000,
    qty: 400,
  }),
  place('bob offers 0.800 BTC at 65020.00', {
    orderId: 4,
    owner: BOB,
    side: Side.Sell,
    price: 6_502_000,
    qty: 800,
  }),
  place('bob offers an iceberg: 2.000 BTC at 65030.00, showing 0.500 at a time', {
    orderId: 5,
    owner: BOB,
    side: Side.Sell,
    price: 6_503_000,
    qty: 2000,
    displayQty: 500,
  }),
  place('alice places a stop: buy 0.300 BTC at market once a trade prints at 65020.00 or above', {
    orderId: 6,
    owner: ALICE,
    side: Side.Buy,
    type: OrderType.StopMarket,
    triggerPrice: 6_502_000,
    qty: 300,
  }),
  place('alice buys 1.500 BTC up to 65030.00: crosses the asks, and the last trade fires her stop', {
    orderId: 7,
    owner: ALICE,
    side: Side.Buy,
    price: 6_503_000,
    qty: 1500,
  }),
  { say: "bob tries to cancel alice's bid #2", run: (book, timeUs) => void book.cancel(2, BOB, timeUs) },
  { say: 'alice cancels her bid #2', run: (book, timeUs) => void book.cancel(2, ALICE, timeUs) },
];

/** What the session must show; the demo fails rather than print a session that does not show it. */
const MUST_SHOW: readonly BookEvent['type'][] = [
  'TradeExecuted',
  'OrderTriggered',
  'OrderCancelled',
  'OrderRejected',
];

/** Runs the session and returns its text, one line per entry. */
export function runDemo(): string[] {
  const events = new EventBuffer();
  const book = new OrderBook(events);
  const fmt = new EventFormatter(DEMO_INSTRUMENT, OWNERS);
  const seen = new Set<BookEvent['type']>();
  const out = [
    `Rialto demo: one ${DEMO_INSTRUMENT.symbol} order book in memory, two owners (alice, bob).`,
    'Each command is followed by the events the book emitted: sequence, type, details.',
  ];
  SCRIPT.forEach((step, i) => {
    events.clear();
    step.run(book, START_US + i * STEP_US);
    out.push('', `> ${step.say}`);
    for (const e of decodeEvents(events)) {
      seen.add(e.type);
      out.push(fmt.line(e));
    }
  });
  const missing = MUST_SHOW.filter((t) => !seen.has(t));
  if (missing.length > 0) throw new Error(`demo session produced no ${missing.join(', ')} event`);

  out.push('', `Depth (L2) of ${DEMO_INSTRUMENT.symbol}, best prices first:`);
  out.push(...fmt.depthTable(book.depth(Side.Buy, DEPTH_LEVELS), book.depth(Side.Sell, DEPTH_LEVELS)));
  out.push(
    '',
    `Live orders: ${book.orderCount}, last trade: ${fmt.px(book.lastTradePrice)}, sequence: ${book.sequence}`,
    `State hash: ${book.stateHash()}`,
  );
  return out;
}
