/** A small venue for core tests: two assets, one instrument, funded accounts, and decoded events per command. */
import { OrderType, SelfTradePrevention, Side, TimeInForce } from '../../src/book/index.js';
import {
  AccountType,
  ExchangeCore,
  decodeStream,
  type Command,
  type InstrumentSpec,
  type PlaceOrder,
  type StreamEvent,
} from '../../src/core/index.js';

export const USD = 0;
export const BTC = 1;
export const INSTRUMENT = 1;
export const T0 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
export const DAY_US = 86_400_000_000;

type Omit2<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type CommandInput = Command extends infer C
  ? C extends Command
    ? Omit2<C, 'timeUs'> & { timeUs?: number }
    : never
  : never;

export class Venue {
  readonly core = new ExchangeCore();
  timeUs = T0;

  /** Executes a command at the venue's time (or its own), returning its records decoded. */
  exec(cmd: CommandInput): StreamEvent[] {
    this.core.events.clear();
    const withTime = { timeUs: this.timeUs, ...cmd };
    this.core.execute(withTime);
    return decodeStream(this.core.events);
  }

  setup(spec: Partial<InstrumentSpec> = {}): this {
    this.exec({ kind: 'addAsset', asset: USD, code: 'USD', decimals: 2 });
    this.exec({ kind: 'addAsset', asset: BTC, code: 'BTC', decimals: 8 });
    const events = this.exec({
      kind: 'defineInstrument',
      spec: { instrument: INSTRUMENT, symbol: 'BTC-USD', baseAsset: BTC, quoteAsset: USD, ...spec },
    });
    if (events[0]?.type !== 'InstrumentDefined') throw new Error(`setup failed: ${JSON.stringify(events)}`);
    return this;
  }

  account(id: number, usd = 0, btc = 0, type: AccountType = AccountType.Customer): this {
    this.exec({ kind: 'createAccount', accountId: id, accountType: type });
    if (usd > 0) this.exec({ kind: 'deposit', accountId: id, asset: USD, amount: usd, ref: id * 10 });
    if (btc > 0) this.exec({ kind: 'deposit', accountId: id, asset: BTC, amount: btc, ref: id * 10 + 1 });
    return this;
  }

  place(
    accountId: number,
    orderId: number,
    side: Side,
    price: number,
    qty: number,
    more: Partial<PlaceOrder> = {},
  ): StreamEvent[] {
    return this.exec({
      kind: 'placeOrder',
      accountId,
      instrument: INSTRUMENT,
      orderId,
      side,
      type: OrderType.Limit,
      tif: TimeInForce.GTC,
      price,
      triggerPrice: 0,
      qty,
      displayQty: 0,
      postOnly: false,
      stp: SelfTradePrevention.None,
      expireTimeUs: 0,
      ...more,
    });
  }

  available(accountId: number, asset: number): number {
    return this.core.ledger.available(accountId, asset);
  }

  held(accountId: number, asset: number): number {
    return this.core.ledger.held(accountId, asset);
  }
}

export function types(events: readonly StreamEvent[]): string[] {
  return events.map((e) => e.type);
}

/** The reject code of the first OrderRejected or CommandRejected record, or 0. */
export function rejectCode(events: readonly StreamEvent[]): number {
  for (const e of events) {
    if (e.type === 'OrderRejected') return e.code;
    if (e.type === 'CommandRejected') return e.code;
  }
  return 0;
}

export { OrderType, SelfTradePrevention, Side, TimeInForce };
