/**
 * Human-readable text for book events and depth, for the command line. The book works in integer ticks and
 * lots; an Instrument says how many decimals each has, and the text shows decimal strings made from the
 * integers without going through a float.
 */
import {
  CancelReason,
  CommandKind,
  OrderType,
  Side,
  TimeInForce,
  bookRejectName,
  type BookEvent,
  type LevelView,
} from '../book/index.js';

export interface Instrument {
  symbol: string;
  /** Decimals of the price: a price of 1 tick is 10^-priceDecimals of the quote currency. */
  priceDecimals: number;
  /** Decimals of the quantity: a quantity of 1 lot is 10^-qtyDecimals of the base currency. */
  qtyDecimals: number;
}

/** `units` (an integer) as a decimal string with `decimals` places: 6500000, 2 gives "65000.00". */
export function formatUnits(units: number, decimals: number): string {
  if (!Number.isSafeInteger(units)) throw new Error(`not an integer number of units: ${units}`);
  const digits = Math.abs(units)
    .toString()
    .padStart(decimals + 1, '0');
  const sign = units < 0 ? '-' : '';
  if (decimals === 0) return sign + digits;
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

function nameOf(table: Readonly<Record<string, number>>, value: number): string {
  for (const [name, v] of Object.entries(table)) if (v === value) return name;
  return `Unknown(${value})`;
}

const sideName = (side: number): string =>
  side === Side.Buy ? 'BUY' : side === Side.Sell ? 'SELL' : `?${side}`;

/** Formats events of one instrument; `owners` names accounts where it knows them. */
export class EventFormatter {
  constructor(
    private readonly instrument: Instrument,
    private readonly owners: ReadonlyMap<number, string> = new Map(),
  ) {}

  px(price: number): string {
    return formatUnits(price, this.instrument.priceDecimals);
  }

  qty(qty: number): string {
    return formatUnits(qty, this.instrument.qtyDecimals);
  }

  owner(owner: number): string {
    return this.owners.get(owner) ?? `owner ${owner}`;
  }

  /** One line for one event: its sequence number, its type, then what happened. */
  line(e: BookEvent): string {
    return `${String(e.seq).padStart(4)}  ${e.type.padEnd(20)} ${this.details(e)}`;
  }

  private order(e: { orderId: number; owner: number; side: number }): string {
    return `#${e.orderId} ${this.owner(e.owner)} ${sideName(e.side)}`;
  }

  private details(e: BookEvent): string {
    switch (e.type) {
      case 'OrderAccepted': {
        const kind = `${nameOf(OrderType, e.orderType)} ${nameOf(TimeInForce, e.tif)}`;
        const at = e.price === 0 ? 'at market' : `@ ${this.px(e.price)}`;
        const trigger = e.triggerPrice === 0 ? '' : `, trigger ${this.px(e.triggerPrice)}`;
        const iceberg = e.displayQty === 0 ? '' : `, showing ${this.qty(e.displayQty)}`;
        return `${this.order(e)} ${kind} ${this.qty(e.qty)} ${at}${trigger}${iceberg}`;
      }
      case 'OrderRejected': {
        // Only a place carries a side; other commands name an order (or none, for a mass cancel) and an owner.
        const target =
          e.command === CommandKind.Place ? this.order(e) : `#${e.orderId} ${this.owner(e.owner)}`;
        return `${nameOf(CommandKind, e.command)} ${target}: ${bookRejectName(e.code)} (${e.code})`;
      }
      case 'TradeExecuted':
        return (
          `trade ${e.tradeId}: ${this.qty(e.qty)} @ ${this.px(e.price)}, ` +
          `taker #${e.takerOrderId} ${this.owner(e.takerOwner)} ${sideName(e.aggressorSide)}, ` +
          `maker #${e.makerOrderId} ${this.owner(e.makerOwner)}`
        );
      case 'OrderPartiallyFilled':
      case 'OrderFilled':
        return (
          `${this.order(e)} ${e.maker ? 'maker' : 'taker'} ${this.qty(e.qty)} @ ${this.px(e.price)}, ` +
          `filled ${this.qty(e.qtyFilled)}, left ${this.qty(e.qtyLeft)}`
        );
      case 'OrderCancelled':
        return `${this.order(e)} ${this.qty(e.qty)} @ ${this.px(e.price)} (${nameOf(CancelReason, e.reason)})`;
      case 'OrderReduced':
        return `${this.order(e)} by ${this.qty(e.qty)}, left ${this.qty(e.qtyLeft)} (${nameOf(CancelReason, e.reason)})`;
      case 'OrderExpired':
        return `${this.order(e)} ${this.qty(e.qty)} @ ${this.px(e.price)}`;
      case 'OrderTriggered':
        return `${this.order(e)} trigger ${this.px(e.triggerPrice)} reached by last trade ${this.px(e.lastTradePrice)}`;
      case 'OrderAmended':
        return (
          `${this.order(e)} ${this.qty(e.oldQtyLeft)} @ ${this.px(e.oldPrice)} -> ` +
          `${this.qty(e.qty)} @ ${this.px(e.price)}${e.priorityKept ? ', priority kept' : ''}`
        );
      case 'LevelChanged':
        return e.orders === 0
          ? `${sideName(e.side)} ${this.px(e.price)} gone`
          : `${sideName(e.side)} ${this.px(e.price)}: ${this.qty(e.qty)} in ${e.orders} order(s)`;
      case 'TopOfBookChanged':
        return `bid ${this.quote(e.bidQty, e.bidPrice)} | ask ${this.quote(e.askQty, e.askPrice)}`;
    }
  }

  private quote(qty: number, price: number): string {
    return price === 0 ? '-' : `${this.qty(qty)} @ ${this.px(price)}`;
  }

  /** An L2 table: bids on the left, asks on the right, best prices on the first row. */
  depthTable(bids: readonly LevelView[], asks: readonly LevelView[]): string[] {
    const w = { orders: 6, qty: 12, price: 12 };
    const blank = ' '.repeat(w.orders + w.qty + w.price + 2);
    const half = (l: LevelView | undefined, bid: boolean): string => {
      if (!l) return blank;
      const cells = [
        String(l.orders).padStart(w.orders),
        this.qty(l.qty).padStart(w.qty),
        this.px(l.price).padStart(w.price),
      ];
      return (bid ? cells : cells.reverse()).join(' ');
    };
    const lines = [
      `${'orders'.padStart(w.orders)} ${'bid qty'.padStart(w.qty)} ${'bid'.padStart(w.price)} | ` +
        `${'ask'.padStart(w.price)} ${'ask qty'.padStart(w.qty)} ${'orders'.padStart(w.orders)}`,
    ];
    for (let i = 0; i < Math.max(bids.length, asks.length, 1); i++) {
      lines.push(`${half(bids[i], true)} | ${half(asks[i], false)}`.trimEnd());
    }
    return lines;
  }
}
