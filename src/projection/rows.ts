/**
 * The query tables' rows, from the records of the commands of one batch and the projector's own core (which
 * has just executed them): pure, no I/O. Every row holds absolute values, so writing a batch twice writes the
 * same rows. Orders, trades and ledger entries come from the records, as the gateway's views read them;
 * balances, ledger accounts, accounts, instruments and assets are read from the core once the batch has run,
 * for the keys the batch's records touched (the records name a ledger account by number only: the core's
 * chart says whose it is).
 *
 * The orders still live are kept here between batches (`live`), since a fill or a cancel is a change to a row
 * the mapper must know whole; ended orders are dropped once their last row is made. After a restart the live
 * orders are loaded from the table as the checkpoint left it.
 */
import {
  CommandKind,
  EVENT_STRIDE,
  EventBuffer,
  EventType,
  Side,
  knownOrderType,
  knownTimeInForce,
} from '../book/index.js';
import {
  LedgerRecordType,
  S_BUY_ORDER,
  S_REFUND,
  S_RELEASE,
  S_SELLER_NET,
  S_SELL_ORDER,
  decodeRecord,
  type ExchangeCore,
  type StreamEvent,
} from '../core/index.js';

export type OrderStatus = 'pending' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected' | 'expired';

export const LIVE_STATUSES: readonly OrderStatus[] = ['pending', 'partially_filled'];

export interface OrderRow {
  readonly orderId: number;
  readonly instrument: number;
  readonly accountId: number;
  readonly side: number;
  readonly orderType: number;
  readonly tif: number;
  priceTicks: number;
  readonly triggerPriceTicks: number;
  /** When a DAY or GTD order expires, microseconds; 0 for the other times in force. */
  readonly expireTimeUs: number;
  qtyLots: number;
  filledLots: number;
  remainingLots: number;
  notional: bigint;
  settledMinor: number;
  status: OrderStatus;
  readonly rejectCode: number;
  cancelReason: number;
  readonly createdSeq: number;
  readonly createdUs: number;
  updatedSeq: number;
  updatedUs: number;
}

export interface TradeRow {
  readonly instrument: number;
  readonly tradeId: number;
  readonly seq: number;
  readonly timeUs: number;
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly aggressorSide: number;
  readonly takerOrderId: number;
  readonly makerOrderId: number;
  readonly takerAccountId: number;
  readonly makerAccountId: number;
  buyerPaidMinor: number;
  sellerNetMinor: number;
}

export interface PostingRow {
  readonly line: number;
  readonly ledgerAccount: number;
  /** Signed minor units: a debit positive. */
  readonly amount: number;
}

export interface EntryRow {
  readonly entryId: number;
  readonly seq: number;
  readonly timeUs: number;
  readonly kind: number;
  readonly ref: number;
  readonly ref2: number;
  /** The trade a settlement settles (0 otherwise) and its instrument (-1 otherwise). */
  readonly tradeId: number;
  readonly instrument: number;
  readonly postings: readonly PostingRow[];
}

export interface BalanceRow {
  readonly accountId: number;
  readonly asset: number;
  readonly available: number;
  readonly held: number;
  readonly updatedSeq: number;
}

export interface LedgerAccountRow {
  readonly ledgerAccount: number;
  readonly kind: number;
  readonly asset: number;
  /** The customer account, 0 for the venue's own. */
  readonly accountId: number;
  /** Signed minor units, debits positive (the ledger's own sign). */
  readonly balance: number;
  readonly updatedSeq: number;
}

export interface AccountRow {
  readonly accountId: number;
  readonly type: number;
  readonly status: number;
  readonly killSwitch: boolean;
  readonly createdSeq: number;
  readonly updatedSeq: number;
}

export interface InstrumentRow {
  readonly instrument: number;
  readonly symbol: string;
  readonly baseAsset: number;
  readonly quoteAsset: number;
  readonly baseScale: number;
  readonly quoteScale: number;
  readonly tickSize: number;
  readonly lotSize: number;
  readonly qtyMin: number;
  readonly qtyMax: number;
  readonly priceBandBps: number;
  readonly referencePriceTicks: number;
  readonly marketProtectionBps: number;
  readonly makerFeePpm: number;
  readonly takerFeePpm: number;
  readonly markMethod: number;
  readonly halted: boolean;
  readonly updatedSeq: number;
}

export interface AssetRow {
  readonly asset: number;
  readonly code: string;
  readonly decimals: number;
  readonly updatedSeq: number;
}

/** What one batch writes: each row once, as the batch left it. */
export interface RowBatch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Accepted, changed and ended orders (upserted). */
  readonly orders: OrderRow[];
  /** Places refused with an id no order of the batch or the live set has (inserted when new only). */
  readonly rejected: OrderRow[];
  readonly trades: TradeRow[];
  readonly entries: EntryRow[];
  readonly balances: BalanceRow[];
  readonly ledgerAccounts: LedgerAccountRow[];
  readonly accounts: AccountRow[];
  readonly instruments: InstrumentRow[];
  readonly assets: AssetRow[];
}

export function rowCount(b: RowBatch): number {
  let n = b.orders.length + b.rejected.length + b.trades.length + b.entries.length + b.balances.length;
  n += b.ledgerAccounts.length + b.accounts.length + b.instruments.length + b.assets.length;
  for (const e of b.entries) n += e.postings.length;
  return n;
}

const SETTLEMENT = 5;

export class RowMapper {
  /** Orders not ended, by id. */
  readonly live = new Map<number, OrderRow>();
  private readonly reader = new EventBuffer(1);
  private firstSeq = 0;
  private lastSeq = 0;
  private readonly orders = new Map<number, OrderRow>();
  private readonly rejected = new Map<number, OrderRow>();
  private trades: TradeRow[] = [];
  private entries: EntryRow[] = [];
  /** Touched keys, with the command that last touched them. */
  private readonly ledgerAccounts = new Map<number, number>();
  private readonly accounts = new Map<number, number>();
  private readonly accountsCreated = new Map<number, number>();
  private readonly instruments = new Map<number, number>();
  private readonly assets = new Map<number, number>();
  /** The trades of the command being mapped, and how many settlement records have reached them. */
  private readonly unsettled: TradeRow[] = [];
  private settledCount = 0;
  private entryTrades = 0;

  constructor(private readonly core: ExchangeCore) {}

  /** The last command mapped (0: none yet, the next may be any). */
  private seen = 0;

  /** Continues after command `seq` (the checkpoint), with the orders live then (from the table). */
  restore(seq: number, rows: Iterable<OrderRow>): void {
    this.seen = seq;
    for (const r of rows) this.live.set(r.orderId, r);
  }

  /** Maps the records `0 .. count - 1` of `data`: those of command `seq`, which the core has just executed. */
  command(seq: number, timeUs: number, data: Float64Array, count: number): void {
    if (this.seen !== 0 && seq !== this.seen + 1)
      throw new Error(`projection: command ${seq} after ${this.seen}`);
    if (this.firstSeq === 0) this.firstSeq = seq;
    this.lastSeq = seq;
    this.seen = seq;
    this.reader.data = data;
    for (let i = 0; i < count; i++) {
      const type = data[i * EVENT_STRIDE];
      // Levels and tops of book, a few per order, have no table: not decoded at all.
      if (type === EventType.LevelChanged || type === EventType.TopOfBookChanged) continue;
      if (type === LedgerRecordType.SettlementPosted) this.settled(data, i * EVENT_STRIDE);
      const e = decodeRecord(this.reader, i);
      if (e !== undefined) this.apply(seq, timeUs, e);
    }
    if (this.settledCount !== this.unsettled.length || this.entryTrades !== this.unsettled.length) {
      throw new Error(`projection: command ${seq} has ${this.unsettled.length} trades, not all settled`);
    }
    this.unsettled.length = 0;
    this.settledCount = 0;
    this.entryTrades = 0;
  }

  /** True when no command has been mapped since the last `finish`. */
  get empty(): boolean {
    return this.firstSeq === 0;
  }

  /** The batch's rows, with the absolute values the core holds now; starts the next batch. */
  finish(): RowBatch {
    const core = this.core;
    const ledger = core.ledger;
    const balances = new Map<string, BalanceRow>();
    const ledgerAccounts: LedgerAccountRow[] = [];
    for (const [a, seq] of this.ledgerAccounts) {
      const info = ledger.info(a);
      ledgerAccounts.push({
        ledgerAccount: a,
        kind: info.kind,
        asset: info.asset,
        accountId: info.customer,
        balance: zero(ledger.signedBalance(a)),
        updatedSeq: seq,
      });
      if (info.customer === 0) continue;
      const key = `${info.customer}/${info.asset}`;
      const prior = balances.get(key);
      balances.set(key, {
        accountId: info.customer,
        asset: info.asset,
        available: ledger.available(info.customer, info.asset),
        held: ledger.held(info.customer, info.asset),
        updatedSeq: Math.max(seq, prior?.updatedSeq ?? 0),
      });
    }
    const accounts: AccountRow[] = [];
    for (const [id, seq] of this.accounts) {
      const a = core.account(id);
      if (a === undefined) continue;
      accounts.push({
        accountId: id,
        type: a.type,
        status: a.status,
        killSwitch: a.killSwitch,
        // An account first seen in this batch was created in it; otherwise the table keeps its creation.
        createdSeq: this.accountsCreated.get(id) ?? 0,
        updatedSeq: seq,
      });
    }
    const instruments: InstrumentRow[] = [];
    for (const [id, seq] of this.instruments) {
      const s = core.instrumentSpec(id);
      if (s === undefined) continue;
      instruments.push({
        instrument: id,
        symbol: s.symbol,
        baseAsset: s.baseAsset,
        quoteAsset: s.quoteAsset,
        baseScale: s.baseScale,
        quoteScale: s.quoteScale,
        tickSize: s.tickSize,
        lotSize: s.lotSize,
        qtyMin: s.qtyMin,
        qtyMax: s.qtyMax,
        priceBandBps: s.priceBandBps,
        referencePriceTicks: s.referencePrice,
        marketProtectionBps: s.marketProtectionBps,
        makerFeePpm: s.makerFeePpm,
        takerFeePpm: s.takerFeePpm,
        markMethod: s.markMethod,
        halted: core.isHalted(id),
        updatedSeq: seq,
      });
    }
    const assets: AssetRow[] = [];
    for (const [id, seq] of this.assets) {
      const a = core.asset(id);
      if (a !== undefined) assets.push({ asset: id, code: a.code, decimals: a.decimals, updatedSeq: seq });
    }
    const orders = [...this.orders.values()].map((o) => ({ ...o }));
    for (const o of this.orders.values()) if (!LIVE_STATUSES.includes(o.status)) this.live.delete(o.orderId);
    const batch: RowBatch = {
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      orders,
      rejected: [...this.rejected.values()],
      trades: this.trades,
      entries: this.entries,
      balances: [...balances.values()],
      ledgerAccounts,
      accounts,
      instruments,
      assets,
    };
    this.firstSeq = 0;
    this.lastSeq = 0;
    this.orders.clear();
    this.rejected.clear();
    this.trades = [];
    this.entries = [];
    this.ledgerAccounts.clear();
    this.accounts.clear();
    this.accountsCreated.clear();
    this.instruments.clear();
    this.assets.clear();
    return batch;
  }

  private apply(seq: number, timeUs: number, e: StreamEvent): void {
    switch (e.type) {
      case 'OrderAccepted': {
        if (this.live.has(e.orderId)) throw new Error(`projection: order ${e.orderId} accepted twice`);
        const o: OrderRow = {
          orderId: e.orderId,
          instrument: e.instrument,
          accountId: e.owner,
          side: e.side,
          orderType: e.orderType,
          tif: e.tif,
          priceTicks: e.price,
          triggerPriceTicks: e.triggerPrice,
          expireTimeUs: e.expireTimeUs,
          qtyLots: e.qty,
          filledLots: 0,
          remainingLots: e.qty,
          notional: 0n,
          settledMinor: 0,
          status: 'pending',
          rejectCode: 0,
          cancelReason: 0,
          createdSeq: seq,
          createdUs: timeUs,
          updatedSeq: seq,
          updatedUs: timeUs,
        };
        this.live.set(o.orderId, o);
        this.orders.set(o.orderId, o);
        return;
      }
      case 'OrderRejected': {
        // A refused place is a rejected order (as the gateway shows it); a refused cancel or amend changes nothing.
        if (e.command !== CommandKind.Place) return;
        if (!Number.isSafeInteger(e.orderId) || e.orderId <= 0) return;
        if (this.live.has(e.orderId) || this.orders.has(e.orderId) || this.rejected.has(e.orderId)) return;
        // A refused command may carry any numbers: those that are no valid value are shown as 0 (its reject
        // code says what was wrong), and a side other than buy as sell, as the API shows it.
        this.rejected.set(e.orderId, {
          orderId: e.orderId,
          instrument: whole(e.instrument),
          accountId: whole(e.owner),
          side: e.side === Side.Buy ? Side.Buy : Side.Sell,
          orderType: knownOrderType(e.orderType),
          tif: knownTimeInForce(e.tif),
          priceTicks: whole(e.price),
          triggerPriceTicks: 0,
          expireTimeUs: 0,
          qtyLots: whole(e.qty),
          filledLots: 0,
          remainingLots: 0,
          notional: 0n,
          settledMinor: 0,
          status: 'rejected',
          rejectCode: e.code,
          cancelReason: 0,
          createdSeq: seq,
          createdUs: timeUs,
          updatedSeq: seq,
          updatedUs: timeUs,
        });
        return;
      }
      case 'TradeExecuted': {
        const t: TradeRow = {
          instrument: e.instrument,
          tradeId: e.tradeId,
          seq,
          timeUs,
          priceTicks: e.price,
          qtyLots: e.qty,
          aggressorSide: e.aggressorSide,
          takerOrderId: e.takerOrderId,
          makerOrderId: e.makerOrderId,
          takerAccountId: e.takerOwner,
          makerAccountId: e.makerOwner,
          buyerPaidMinor: 0,
          sellerNetMinor: 0,
        };
        this.unsettled.push(t);
        this.trades.push(t);
        return;
      }
      case 'OrderPartiallyFilled':
      case 'OrderFilled':
      case 'OrderCancelled':
      case 'OrderReduced':
      case 'OrderExpired':
      case 'OrderTriggered':
      case 'OrderAmended': {
        const o = this.live.get(e.orderId);
        if (o === undefined)
          throw new Error(`projection: ${e.type} at seq ${seq} for unknown order ${e.orderId}`);
        if (!LIVE_STATUSES.includes(o.status)) {
          throw new Error(`projection: ${e.type} at seq ${seq} for order ${e.orderId}, which is ${o.status}`);
        }
        o.updatedSeq = seq;
        o.updatedUs = timeUs;
        this.orders.set(o.orderId, o);
        switch (e.type) {
          case 'OrderPartiallyFilled':
          case 'OrderFilled':
            o.filledLots = e.qtyFilled;
            o.remainingLots = e.qtyLeft;
            o.notional += BigInt(e.price) * BigInt(e.qty);
            if (e.type === 'OrderFilled') {
              o.status = 'filled';
              o.remainingLots = 0;
            } else o.status = 'partially_filled';
            return;
          case 'OrderCancelled':
            o.cancelReason = e.reason;
            o.status = 'cancelled';
            o.remainingLots = 0;
            return;
          case 'OrderExpired':
            o.status = 'expired';
            o.remainingLots = 0;
            return;
          case 'OrderReduced':
            o.remainingLots = e.qtyLeft;
            o.qtyLots = o.filledLots + o.remainingLots;
            return;
          case 'OrderAmended':
            o.priceTicks = e.price;
            o.remainingLots = e.qty;
            o.qtyLots = o.filledLots + o.remainingLots;
            return;
          case 'OrderTriggered':
            return;
        }
        return;
      }
      case 'EntryPosted': {
        let tradeId = 0;
        let instrument = -1;
        if (e.kind === SETTLEMENT) {
          const t = this.unsettled[this.entryTrades++];
          const buy = t === undefined ? -1 : t.aggressorSide === Side.Buy ? t.takerOrderId : t.makerOrderId;
          const sell = t === undefined ? -1 : t.aggressorSide === Side.Buy ? t.makerOrderId : t.takerOrderId;
          if (t === undefined || buy !== e.ref || sell !== e.ref2) {
            throw new Error(`projection: settlement ${e.entryId} does not follow its trade`);
          }
          tradeId = t.tradeId;
          instrument = t.instrument;
        }
        this.entries.push({
          entryId: e.entryId,
          seq,
          timeUs: e.timeUs,
          kind: e.kind,
          ref: e.ref,
          ref2: e.ref2,
          tradeId,
          instrument,
          postings: e.lines.map((l, line) => ({ line, ledgerAccount: l.account, amount: l.amount })),
        });
        for (const l of e.lines) this.ledgerAccounts.set(l.account, seq);
        return;
      }
      case 'AssetAdded':
        this.assets.set(e.asset, seq);
        return;
      case 'AccountCreated':
        if (!this.accountsCreated.has(e.accountId)) this.accountsCreated.set(e.accountId, seq);
        this.accounts.set(e.accountId, seq);
        return;
      case 'AccountStatusChanged':
      case 'KillSwitchSet':
      case 'KillSwitchReset':
      case 'EmergencyStop':
        // Account 0 in a kill switch record is the venue's own switch, not an account.
        if (e.accountId > 0) this.accounts.set(e.accountId, seq);
        return;
      case 'InstrumentDefined':
      case 'TradingStatusChanged':
        this.instruments.set(e.instrument, seq);
        return;
      default:
        // Levels, tops of book, risk limits and command rejects have no table.
        return;
    }
  }

  /** A settlement record at offset `o`: the amounts of the next unsettled trade of the command, and its orders'. */
  private settled(data: Float64Array, o: number): void {
    const t = this.unsettled[this.settledCount++];
    if (t === undefined) throw new Error('projection: a settlement without a trade');
    t.buyerPaidMinor = data[o + S_RELEASE] - data[o + S_REFUND];
    t.sellerNetMinor = data[o + S_SELLER_NET];
    const buy = this.live.get(data[o + S_BUY_ORDER]);
    const sell = this.live.get(data[o + S_SELL_ORDER]);
    if (buy !== undefined) buy.settledMinor += t.buyerPaidMinor;
    if (sell !== undefined) sell.settledMinor += t.sellerNetMinor;
  }
}

/** A whole number of 0 or more, else 0. */
const whole = (n: number): number => (Number.isSafeInteger(n) && n > 0 ? n : 0);

/** No -0 in a row. */
const zero = (n: number): number => (n === 0 ? 0 : n);
