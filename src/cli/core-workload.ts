/**
 * A shared order-book workload (../shared/bench/orderbook/FORMAT.md) replayed through the whole exchange core:
 * 1,000 funded accounts take turns as owners, fees are on (a maker rebate and a taker fee), and every account
 * has risk limits, so each operation passes the risk gate, takes or changes a hold, matches and settles.
 * The funds and limits are large enough that nothing is refused, so the book ends as the bare book does.
 */
import { EVENT_STRIDE, EventType, OrderType, SelfTradePrevention, Side, TimeInForce } from '../book/index.js';
import {
  AccountType,
  ExchangeCore,
  type AmendOrder,
  type CancelOrder,
  type Command,
  type PlaceOrder,
} from '../core/index.js';
import { OpType, type Workload } from './workload.js';

export const CORE_WORKLOAD = Object.freeze({
  accounts: 1000,
  instrument: 1,
  quoteAsset: 0,
  baseAsset: 1,
  makerFeePpm: -50,
  takerFeePpm: 200,
  quoteDeposit: 1e12,
  baseDeposit: 1e12,
  startTimeUs: 1_767_225_600_000_000, // 2026-01-01T00:00:00Z
});

export interface CoreReplayer {
  core: ExchangeCore;
  /** Executes operation i; the core's event buffer holds its records until the next step. */
  step(i: number): void;
}

/** The commands that set the venue up: assets, the instrument, funded accounts with limits. */
export function setupCommands(w: Workload): Command[] {
  const c = CORE_WORKLOAD;
  const t = c.startTimeUs;
  const firstLimit = w.type.findIndex((ty) => ty === OpType.Limit || ty === OpType.LimitIoc);
  const reference = firstLimit === -1 ? w.initialMid : w.price[firstLimit];
  const cmds: Command[] = [
    { kind: 'addAsset', timeUs: t, asset: c.quoteAsset, code: 'USD', decimals: 2 },
    { kind: 'addAsset', timeUs: t, asset: c.baseAsset, code: 'BTC', decimals: 8 },
    {
      kind: 'defineInstrument',
      timeUs: t,
      spec: {
        instrument: c.instrument,
        symbol: 'BTC-USD',
        baseAsset: c.baseAsset,
        quoteAsset: c.quoteAsset,
        makerFeePpm: c.makerFeePpm,
        takerFeePpm: c.takerFeePpm,
        referencePrice: reference > 0 ? reference : 1,
        // Wide enough never to stop a market order early, so results match the bare book's.
        marketProtectionBps: 10_000,
      },
    },
  ];
  for (let a = 1; a <= c.accounts; a++) {
    cmds.push({ kind: 'createAccount', timeUs: t, accountId: a, accountType: AccountType.Customer });
    cmds.push({
      kind: 'deposit',
      timeUs: t,
      accountId: a,
      asset: c.quoteAsset,
      amount: c.quoteDeposit,
      ref: 2 * a,
    });
    cmds.push({
      kind: 'deposit',
      timeUs: t,
      accountId: a,
      asset: c.baseAsset,
      amount: c.baseDeposit,
      ref: 2 * a + 1,
    });
    cmds.push({
      kind: 'setRiskLimits',
      timeUs: t,
      accountId: a,
      limits: {
        orderQtyMax: 1_000_000_000,
        orderNotionalMax: 1e15,
        openOrdersMax: 1_000_000,
        positionQtyMax: 1e12,
        dailyLossMax: 1e14,
        emergencyLossMax: 5e14,
      },
    });
  }
  return cmds;
}

/** Owner of each operation: places take turns over the accounts; cancels and moves go to the order's owner. */
export function ownersOf(w: Workload): Int32Array {
  const owners = new Int32Array(w.count);
  const ownerById = new Map<number, number>();
  let turn = 0;
  for (let i = 0; i < w.count; i++) {
    const type = w.type[i];
    if (type === OpType.Cancel || type === OpType.Move) {
      owners[i] = ownerById.get(w.id[i]) ?? 1;
    } else {
      const owner = 1 + (turn++ % CORE_WORKLOAD.accounts);
      owners[i] = owner;
      ownerById.set(w.id[i], owner);
    }
  }
  return owners;
}

/**
 * A replayer of `w` over a new core set up by setupCommands, or over `core`, a core already set up (restored
 * from a snapshot, say), which then goes on from wherever it is.
 */
export function makeCoreReplayer(
  w: Workload,
  owners: Int32Array = ownersOf(w),
  core: ExchangeCore = setUpCore(w),
): CoreReplayer {
  core.events.clear();
  const t0 = CORE_WORKLOAD.startTimeUs + 1;
  const instrument = CORE_WORKLOAD.instrument;
  const place: PlaceOrder = {
    kind: 'placeOrder',
    timeUs: 0,
    accountId: 0,
    instrument,
    orderId: 0,
    side: Side.Buy,
    type: OrderType.Limit,
    tif: TimeInForce.GTC,
    price: 0,
    triggerPrice: 0,
    qty: 0,
    displayQty: 0,
    postOnly: false,
    stp: SelfTradePrevention.None,
    expireTimeUs: 0,
  };
  const cancel: CancelOrder = { kind: 'cancelOrder', timeUs: 0, accountId: 0, instrument, orderId: 0 };
  const amend: AmendOrder = {
    kind: 'amendOrder',
    timeUs: 0,
    accountId: 0,
    instrument,
    orderId: 0,
    price: 0,
    qty: 0,
    triggerPrice: 0,
  };
  // One record of six int32 per operation (the file's five and the owner): the replay reads one stream.
  const ops = new Int32Array(w.count * 6);
  for (let i = 0; i < w.count; i++) {
    ops[6 * i] = w.type[i];
    ops[6 * i + 1] = w.side[i];
    ops[6 * i + 2] = w.id[i];
    ops[6 * i + 3] = w.price[i];
    ops[6 * i + 4] = w.qty[i];
    ops[6 * i + 5] = owners[i];
  }

  function placeOp(i: number, o: number, orderType: OrderType, tif: TimeInForce, px: number): void {
    place.timeUs = t0 + i;
    place.accountId = ops[o + 5];
    place.orderId = ops[o + 2];
    place.side = ops[o + 1] as Side;
    place.type = orderType;
    place.tif = tif;
    place.price = px;
    place.qty = ops[o + 4];
    // The kind is known here: the typed entry points skip execute's megamorphic dispatch on `kind`.
    core.placeOrder(place);
  }

  function step(i: number): void {
    core.events.clear();
    const o = 6 * i;
    switch (ops[o]) {
      case OpType.Limit:
        return placeOp(i, o, OrderType.Limit, TimeInForce.GTC, ops[o + 3]);
      case OpType.Market:
        return placeOp(i, o, OrderType.Market, TimeInForce.IOC, 0);
      case OpType.LimitIoc:
        return placeOp(i, o, OrderType.Limit, TimeInForce.IOC, ops[o + 3]);
      case OpType.Cancel:
        cancel.timeUs = t0 + i;
        cancel.accountId = ops[o + 5];
        cancel.orderId = ops[o + 2];
        return core.cancelOrder(cancel);
      case OpType.Move:
        amend.timeUs = t0 + i;
        amend.accountId = ops[o + 5];
        amend.orderId = ops[o + 2];
        amend.price = ops[o + 3];
        return core.amendOrder(amend);
      default:
        throw new Error(`operation ${i}: unknown type ${ops[o]}`);
    }
  }
  return { core, step };
}

function setUpCore(w: Workload): ExchangeCore {
  const core = new ExchangeCore({ bookCapacityOrders: 1 << 16 });
  for (const cmd of setupCommands(w)) {
    core.events.clear();
    core.execute(cmd);
  }
  return core;
}

/** Operation i of the workload as a fresh command (for the journal and the engine; `timeUs` 0, the sequencer's to set). */
export function coreCommandAt(w: Workload, owners: Int32Array, i: number): Command {
  const accountId = owners[i];
  const instrument = CORE_WORKLOAD.instrument;
  const orderId = w.id[i];
  const type = w.type[i];
  if (type === OpType.Cancel) return { kind: 'cancelOrder', timeUs: 0, accountId, instrument, orderId };
  if (type === OpType.Move) {
    return {
      kind: 'amendOrder',
      timeUs: 0,
      accountId,
      instrument,
      orderId,
      price: w.price[i],
      qty: 0,
      triggerPrice: 0,
    };
  }
  const market = type === OpType.Market;
  return {
    kind: 'placeOrder',
    timeUs: 0,
    accountId,
    instrument,
    orderId,
    side: w.side[i] as Side,
    type: market ? OrderType.Market : OrderType.Limit,
    tif: type === OpType.Limit ? TimeInForce.GTC : TimeInForce.IOC,
    price: market ? 0 : w.price[i],
    triggerPrice: 0,
    qty: w.qty[i],
    displayQty: 0,
    postOnly: false,
    stp: SelfTradePrevention.None,
    expireTimeUs: 0,
  };
}

/**
 * What the bare replayer's step returns for operation i (filled on entry, quantity cancelled, quantity left
 * after a move), read from the core's records of that step and its book: for checking against expected.bin.
 */
export function coreStepResult(r: CoreReplayer, w: Workload, i: number): number {
  const d = r.core.events.data;
  const n = r.core.events.count;
  const id = w.id[i];
  const type = w.type[i];
  if (type === OpType.Move) return r.core.book(CORE_WORKLOAD.instrument)?.order(id)?.qtyLeft ?? 0;
  const wanted = type === OpType.Cancel ? EventType.OrderCancelled : EventType.TradeExecuted;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const o = k * EVENT_STRIDE;
    if (d[o] === wanted && d[o + 3] === id) sum += d[o + 7];
  }
  return sum;
}
