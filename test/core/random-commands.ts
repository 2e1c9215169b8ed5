/**
 * A seeded generator of random exchange-core commands for the invariant and snapshot tests: many accounts,
 * three instruments over three assets, every order type and time in force, icebergs, post-only, self-trade
 * prevention, fees and rebates, deposits and withdrawals (good and bad), halts, kill switches, risk limits,
 * time jumps across UTC days, and a share of malformed input.
 */
import { OrderType, SelfTradePrevention, Side, TimeInForce } from '../../src/book/index.js';
import { AccountType, type Command } from '../../src/core/index.js';
import { Rng } from '../book/helpers.js';

export const ACCOUNTS = 40;
/** The risk officer's account, which resets kill switches. */
export const OFFICER = ACCOUNTS + 1;
export const ASSETS = [0, 1, 2];
export const INSTRUMENTS = [
  {
    instrument: 1,
    symbol: 'BTC-USD',
    baseAsset: 1,
    quoteAsset: 0,
    baseScale: 100,
    quoteScale: 1,
    mid: 10_000,
  },
  { instrument: 2, symbol: 'ETH-USD', baseAsset: 2, quoteAsset: 0, baseScale: 10, quoteScale: 1, mid: 2_000 },
  { instrument: 3, symbol: 'ETH-BTC', baseAsset: 2, quoteAsset: 1, baseScale: 10, quoteScale: 2, mid: 500 },
];
const ORDER_TYPES = [
  OrderType.Limit,
  OrderType.Limit,
  OrderType.Limit,
  OrderType.Market,
  OrderType.StopMarket,
  OrderType.StopLimit,
  OrderType.TakeProfit,
  OrderType.TakeProfitLimit,
];
const TIFS = [
  TimeInForce.GTC,
  TimeInForce.GTC,
  TimeInForce.IOC,
  TimeInForce.FOK,
  TimeInForce.DAY,
  TimeInForce.GTD,
];
const T0 = 1_767_225_600_000_000;

/**
 * The commands of a random venue: `setup()` once, then `next()` for each command. The stream depends on the
 * seed alone (the generator reads no core), so it can drive several cores alike.
 */
export class RandomCommands {
  private readonly rng: Rng;
  private timeUs = T0;
  private nextOrderId = 1;
  /** Recent order ids and their instruments, for cancels and amends (some long gone: those are refused). */
  private readonly live: number[] = [];
  private readonly liveInstrument: number[] = [];

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  setup(): Command[] {
    const t = this.timeUs;
    const cmds: Command[] = ASSETS.map((asset) => ({
      kind: 'addAsset',
      timeUs: t,
      asset,
      code: `A${asset}`,
      decimals: 2,
    }));
    for (const ins of INSTRUMENTS) {
      const { mid, ...spec } = ins;
      cmds.push({
        kind: 'defineInstrument',
        timeUs: t,
        spec: { ...spec, makerFeePpm: -100 * (ins.instrument % 2), takerFeePpm: 700, referencePrice: mid },
      });
    }
    for (let a = 1; a <= ACCOUNTS; a++) {
      cmds.push({ kind: 'createAccount', timeUs: t, accountId: a, accountType: AccountType.Customer });
      for (const asset of ASSETS) {
        cmds.push({
          kind: 'deposit',
          timeUs: t,
          accountId: a,
          asset,
          amount: 1 + this.rng.int(50_000_000),
          ref: a,
        });
      }
    }
    cmds.push({ kind: 'createAccount', timeUs: t, accountId: OFFICER, accountType: AccountType.RiskOfficer });
    return cmds;
  }

  next(): Command {
    const r = this.rng;
    if (r.chance(0.02)) this.timeUs += r.chance(0.1) ? 43_200_000_000 : r.int(5_000_000);
    else this.timeUs += 1;
    const timeUs = this.timeUs;
    const accountId = 1 + r.int(ACCOUNTS);
    const roll = r.int(1000);
    if (roll < 560) return this.place(accountId, timeUs);
    if (roll < 700) {
      const k = this.liveOrder();
      return {
        kind: 'cancelOrder',
        timeUs,
        accountId: r.chance(0.9) ? accountId : 0,
        instrument: this.liveInstrument[k] ?? 1,
        orderId: this.live[k] ?? 1,
      };
    }
    if (roll < 780) {
      const k = this.liveOrder();
      const instrument = this.liveInstrument[k] ?? 1;
      const orderId = this.live[k] ?? 1;
      const price = r.chance(0.5) ? 0 : this.price(INSTRUMENTS[r.int(3)].mid);
      const qty = r.chance(0.5) ? 0 : 1 + r.int(40);
      return { kind: 'amendOrder', timeUs, accountId: 0, instrument, orderId, price, qty, triggerPrice: 0 };
    }
    if (roll < 830)
      return { kind: 'deposit', timeUs, accountId, asset: r.int(3), amount: this.amount(), ref: roll };
    if (roll < 880)
      return { kind: 'withdraw', timeUs, accountId, asset: r.int(3), amount: this.amount(), ref: roll };
    if (roll < 910) return { kind: 'advanceTime', timeUs };
    if (roll < 920)
      return {
        kind: 'massCancel',
        timeUs,
        accountId,
        instrument: r.chance(0.5) ? -1 : 1 + r.int(3),
        side: r.int(3) - 1,
      };
    if (roll < 935) return { kind: 'setRiskLimits', timeUs, accountId, limits: this.limits() };
    if (roll < 950)
      return { kind: 'setTradingStatus', timeUs, instrument: 1 + r.int(3), halted: r.chance(0.4) };
    if (roll < 958) return { kind: 'killSwitch', timeUs, accountId: r.chance(0.05) ? 0 : accountId };
    if (roll < 975)
      return {
        kind: 'resetKillSwitch',
        timeUs,
        officerId: r.chance(0.9) ? OFFICER : accountId,
        accountId: r.chance(0.2) ? 0 : accountId,
      };
    return this.badInput(accountId, timeUs);
  }

  private place(accountId: number, timeUs: number): Command {
    const r = this.rng;
    const ins = INSTRUMENTS[r.int(INSTRUMENTS.length)];
    const type = ORDER_TYPES[r.int(ORDER_TYPES.length)];
    const tif = type === OrderType.Market ? TimeInForce.IOC : TIFS[r.int(TIFS.length)];
    const orderId = this.nextOrderId++;
    this.live.push(orderId);
    this.liveInstrument.push(ins.instrument);
    if (this.live.length > 4000) {
      this.live.splice(0, 1000);
      this.liveInstrument.splice(0, 1000);
    }
    const qty = 1 + r.int(r.chance(0.1) ? 400 : 40);
    const marketType =
      type === OrderType.Market || type === OrderType.StopMarket || type === OrderType.TakeProfit;
    return {
      kind: 'placeOrder',
      timeUs,
      accountId,
      instrument: ins.instrument,
      orderId,
      side: r.int(2) as Side,
      type,
      tif,
      price: marketType ? (r.chance(0.2) ? this.price(ins.mid) : 0) : this.price(ins.mid),
      triggerPrice: type >= OrderType.StopMarket ? this.price(ins.mid) : 0,
      qty,
      displayQty: type === OrderType.Limit && r.chance(0.05) ? 1 + r.int(qty) : 0,
      postOnly: type === OrderType.Limit && tif === TimeInForce.GTC && r.chance(0.05),
      stp: r.chance(0.3) ? ((1 + r.int(4)) as SelfTradePrevention) : SelfTradePrevention.None,
      expireTimeUs: tif === TimeInForce.GTD || tif === TimeInForce.DAY ? timeUs + 1 + r.int(20_000_000) : 0,
    };
  }

  private price(mid: number): number {
    return Math.max(1, mid - 60 + this.rng.int(121));
  }

  private amount(): number {
    return this.rng.chance(0.9) ? 1 + this.rng.int(5_000_000) : 1 + this.rng.int(500_000_000);
  }

  private limits(): Record<string, number> {
    const r = this.rng;
    const pick = (x: number): number => (r.chance(0.5) ? 0 : x);
    return {
      orderQtyMax: pick(100 + r.int(300)),
      orderNotionalMax: pick(1_000_000 + r.int(5_000_000)),
      openOrdersMax: pick(5 + r.int(30)),
      positionQtyMax: pick(200 + r.int(2000)),
      positionEquityPpm: pick(100_000 + r.int(5_000_000)),
      dailyLossMax: pick(10_000 + r.int(1_000_000)),
      dailyLossEquityPpm: pick(10_000 + r.int(200_000)),
      emergencyLossMax: pick(50_000 + r.int(2_000_000)),
      emergencyLossEquityPpm: pick(50_000 + r.int(300_000)),
    };
  }

  private badInput(accountId: number, timeUs: number): Command {
    const r = this.rng;
    const amounts = [0, -1, 0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY];
    switch (r.int(6)) {
      case 0:
        return { kind: 'deposit', timeUs, accountId, asset: r.int(3), amount: r.pick(amounts), ref: 0 };
      case 1:
        return { kind: 'withdraw', timeUs, accountId: 999, asset: 0, amount: 5, ref: 0 };
      case 2:
        return {
          kind: 'cancelOrder',
          timeUs,
          accountId,
          instrument: INSTRUMENTS[r.int(INSTRUMENTS.length)].instrument,
          orderId: 10_000_000 + r.int(5),
        };
      case 3:
        return {
          ...(this.place(accountId, timeUs) as Extract<Command, { kind: 'placeOrder' }>),
          qty: r.pick(amounts),
        };
      case 4:
        return {
          ...(this.place(accountId, timeUs) as Extract<Command, { kind: 'placeOrder' }>),
          accountId: 777,
        };
      default:
        return { kind: 'setRiskLimits', timeUs, accountId, limits: { orderQtyMax: -5 } };
    }
  }

  /** An index into `live` (past the end, and so id 1 in instrument 1, while it is empty). */
  private liveOrder(): number {
    return this.live.length === 0 ? 0 : this.rng.int(this.live.length);
  }
}
