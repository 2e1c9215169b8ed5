/**
 * Drives an OrderBook with a shared workload, one operation at a time, reusing one command object of each kind
 * so that the replay itself allocates nothing. Used by the benchmark and by the tests.
 */
import {
  ANY_OWNER,
  EventBuffer,
  OrderBook,
  OrderType,
  SelfTradePrevention,
  TimeInForce,
  type AmendOrder,
  type PlaceOrder,
  type Side,
} from '../src/book/index.js';
import { OpType, type FinalBook, type Workload } from './workload.js';

export interface Replayer {
  book: OrderBook;
  events: EventBuffer;
  /** Applies operation `i` and returns its result as FORMAT.md defines it. */
  step(i: number): number;
}

export function makeReplayer(w: Workload, options: { capacityOrders?: number } = {}): Replayer {
  const events = new EventBuffer(4096);
  const book = new OrderBook(events, { capacityOrders: options.capacityOrders ?? 16384 });
  const place: PlaceOrder = {
    orderId: 0,
    owner: 1,
    side: 0,
    type: OrderType.Limit,
    tif: TimeInForce.GTC,
    price: 0,
    triggerPrice: 0,
    qty: 0,
    displayQty: 0,
    postOnly: false,
    stp: SelfTradePrevention.None,
    expireTimeUs: 0,
    timeUs: 0,
  };
  const amend: AmendOrder = { orderId: 0, owner: ANY_OWNER, price: 0, qty: 0, triggerPrice: 0, timeUs: 0 };
  const { type, side, id, price, qty } = w;

  function placeOp(i: number, orderType: OrderType, tif: TimeInForce, px: number): number {
    place.orderId = id[i];
    place.side = side[i] as Side;
    place.type = orderType;
    place.tif = tif;
    place.price = px;
    place.qty = qty[i];
    return book.place(place);
  }

  function step(i: number): number {
    events.clear();
    switch (type[i]) {
      case OpType.Limit:
        return placeOp(i, OrderType.Limit, TimeInForce.GTC, price[i]);
      case OpType.Market:
        return placeOp(i, OrderType.Market, TimeInForce.IOC, 0);
      case OpType.Cancel:
        return book.cancel(id[i], ANY_OWNER, 0);
      case OpType.Move:
        amend.orderId = id[i];
        amend.price = price[i];
        return book.amend(amend);
      case OpType.LimitIoc:
        return placeOp(i, OrderType.Limit, TimeInForce.IOC, price[i]);
      default:
        throw new Error(`operation ${i}: unknown type ${type[i]}`);
    }
  }
  return { book, events, step };
}

/** The book summarised as the workload's meta.json `book.final` is. */
export function finalBookOf(book: OrderBook): FinalBook {
  const bids = book.depth(0, Infinity);
  const asks = book.depth(1, Infinity);
  return {
    resting: book.orderCount,
    bidLevels: bids.length,
    askLevels: asks.length,
    bidQty: bids.reduce((a, l) => a + l.qty, 0),
    askQty: asks.reduce((a, l) => a + l.qty, 0),
    bestBid: bids.length ? bids[0].price : null,
    bestAsk: asks.length ? asks[0].price : null,
  };
}

export function sameFinalBook(a: FinalBook, b: FinalBook): boolean {
  const keys: (keyof FinalBook)[] = ['resting', 'bidLevels', 'askLevels', 'bidQty', 'askQty', 'bestBid', 'bestAsk'];
  return keys.every((k) => a[k] === b[k]);
}
