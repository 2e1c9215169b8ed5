/**
 * The exchange core: the venue's single-threaded, deterministic state machine. One command in, records out,
 * all into one event buffer. It composes the pure modules in the order a venue applies them:
 *
 *   risk gate (account, instrument, limits, funds) → hold → book (matching) → settlement and releases
 *
 * The gate decides on numbers gathered here and changes nothing, so a rejected command leaves the state as it
 * was. The book writes its events into the shared buffer; the core then walks them: an accepted order takes
 * its hold, each trade settles from the two holds in one balanced entry, and cancels, expiries and reductions
 * release what their quantity held. The core reads no clock and draws no ids: time and ids come with commands.
 */
import * as book from '../book/index.js';
import {
  EventBuffer,
  OrderBook,
  newPlaceOrder,
  type AmendOrder as BookAmend,
  type PlaceOrder as BookPlace,
} from '../book/index.js';
import {
  growFloat64,
  growInt32,
  growUint8,
  type SnapshotReader,
  type SnapshotWriter,
} from '../collections/index.js';
import * as ledger from '../ledger/index.js';
import { Ledger, Positions, mulDivFloor, mulExact, type PositionView } from '../ledger/index.js';
import * as risk from '../risk/index.js';
import {
  NO_LIMITS,
  RISK_LIMIT_KEYS,
  RiskLimitTable,
  limitsProblem,
  needsEquity,
  type RiskLimits,
} from '../risk/index.js';
import * as coreCodes from './codes.js';
import {
  AccountStatus,
  AccountType,
  CommandCode,
  type AddAsset,
  type AmendOrder,
  type CancelOrder,
  type Command,
  type CreateAccount,
  type DefineInstrument,
  type Deposit,
  type KillSwitch,
  type MassCancel,
  type PlaceOrder,
  type ResetKillSwitch,
  type SetAccountStatus,
  type SetRiskLimits,
  type SetTradingStatus,
  type Withdraw,
} from './commands.js';
import * as coreEvents from './events.js';
import * as instruments from './instruments.js';
import { FIXED_FIELDS, INSTRUMENT_DEFAULTS, specProblem, type InstrumentSpec } from './instruments.js';
import { OrderColumns } from './order-columns.js';
import { coreStateHash } from './state-hash.js';

// Module-local copies of imported constants. V8 reads an imported binding through its module cell on every use
// (a hole check, and for an object a map check and a load), while it compiles a module-local constant, or a
// property of a frozen module-local object, to an immediate; the order path uses dozens of them per command.
const ANY_OWNER = book.ANY_OWNER;
const BookReject = Object.freeze({ ...book.BookReject });
const CommandKind = Object.freeze({ ...book.CommandKind });
const EVENT_STRIDE = book.EVENT_STRIDE;
const EventType = Object.freeze({ ...book.EventType });
const F_MAKER_SLOT = book.F_MAKER_SLOT;
const F_SLOT = book.F_SLOT;
const F_REJECTED_TYPE = book.F_REJECTED_TYPE;
const F_REJECTED_TIF = book.F_REJECTED_TIF;
const OrderType = Object.freeze({ ...book.OrderType });
const Side = Object.freeze({ ...book.Side });
const TimeInForce = Object.freeze({ ...book.TimeInForce });
const EntryKind = Object.freeze({ ...ledger.EntryKind });
const LedgerAccountKind = Object.freeze({ ...ledger.LedgerAccountKind });
const LedgerReject = Object.freeze({ ...ledger.LedgerReject });
const RiskReject = Object.freeze({ ...risk.RiskReject });
const RISK_LIMIT_FIELDS = risk.RISK_LIMIT_FIELDS;
const CoreReject = Object.freeze({ ...coreCodes.CoreReject });
const C_A = coreEvents.C_A;
const C_ACCOUNT = coreEvents.C_ACCOUNT;
const C_B = coreEvents.C_B;
const C_C = coreEvents.C_C;
const C_SEQ = coreEvents.C_SEQ;
const C_TIME = coreEvents.C_TIME;
const CoreEventType = Object.freeze({ ...coreEvents.CoreEventType });
const F_INSTRUMENT = coreEvents.F_INSTRUMENT;
const KillReason = Object.freeze({ ...coreEvents.KillReason });
const CMD_PLACE = CommandCode.placeOrder;
const CMD_CANCEL = CommandCode.cancelOrder;
const CMD_AMEND = CommandCode.amendOrder;
const MarkMethod = Object.freeze({ ...instruments.MarkMethod });
// The same for the imported functions the order path calls: through an import, each call loads the function
// from its module cell and checks it (a hole check and a comparison); through a module-local `const`, the
// compiler knows the function and inlines it with no check.
const checkOrderValues = risk.checkOrderValues;
const emergencyBreachedRow = risk.emergencyBreachedRow;
const exposureOf = risk.exposureOf;
const feeOf = ledger.feeOf;
const isPositiveAmount = ledger.isPositiveAmount;
const withinBand = risk.withinBand;
const ACCOUNT_ACTIVE = AccountStatus.Active;
/** CORE_LIMITS' bounds the order path checks, as module-local constants (CORE_LIMITS is read through its cell). */
const ACCOUNTS_MAX = 1 << 20;
const INSTRUMENTS_MAX = 1 << 16;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/**
 * Record offsets are below 2^30 (the event buffer holds at most 2^26 records of 16 numbers): masked with this,
 * an offset is one the compiler knows `offset + field` cannot overflow, so it drops the overflow check from
 * every field access (EventBuffer.reserve does the same for the book's writes).
 */
const AT_MASK = 0x3ffffff0;
// afterBook's switch names the event types it handles by their numbers; they must be these.
if (
  EventType.OrderAccepted !== 1 ||
  EventType.TradeExecuted !== 3 ||
  EventType.OrderCancelled !== 6 ||
  EventType.OrderReduced !== 7 ||
  EventType.OrderExpired !== 8 ||
  EventType.OrderAmended !== 10
)
  throw new Error('core: afterBook does not know these event type numbers');

export const CORE_LIMITS = Object.freeze({
  /** Account ids are 1 .. accountsMax. */
  accountsMax: ACCOUNTS_MAX,
  instrumentsMax: INSTRUMENTS_MAX,
  assetDecimalsMax: 18,
  assetCodeLengthMax: 12,
});

const DAY_US = 86_400_000_000;
const TIF_MIN = Math.min(...Object.values(TimeInForce));
const TIF_MAX = Math.max(...Object.values(TimeInForce));
const BPS = 10_000;
/** Where the emergency threshold as a fraction of equity sits in a limits row. */
const EMERGENCY_PPM = RISK_LIMIT_KEYS.indexOf('emergencyLossEquityPpm');
/** Up to this many positions, an account's are scanned rather than looked up in the index. */
const POSITION_SCAN_MAX = 8;

export interface CoreOptions {
  /** Order slots each new book allocates up front. */
  bookCapacityOrders?: number;
  /** Records the event buffer holds before it grows. */
  eventCapacity?: number;
}

interface Instrument {
  spec: InstrumentSpec;
  book: OrderBook;
  /** The core's columns for the book's live orders, by book slot. */
  orders: OrderColumns;
  halted: boolean;
  /** The quote asset's fee income ledger account (rebate expense is the next). */
  feeIncomeAccount: number;
}

export interface AssetInfo {
  asset: number;
  code: string;
  decimals: number;
}

export interface BalanceView {
  asset: number;
  available: number;
  held: number;
}

export interface PositionReport extends PositionView {
  /** The price the position is marked at (last trade or mid), 0 when the instrument has none. */
  markPrice: number;
  unrealizedPnl: number;
  /** Lots on open orders. */
  openBuyQty: number;
  openSellQty: number;
}

export interface AccountView {
  accountId: number;
  type: AccountType;
  status: AccountStatus;
  killSwitch: boolean;
  openOrders: number;
  limits: RiskLimits;
}

export class ExchangeCore {
  // `declare`: the constructor's assignment defines these fields. Compiled to ES2022 class fields, a plain
  // declaration would define them as undefined first, and V8 would then check their maps at every use.
  declare readonly events: EventBuffer;
  declare readonly ledger: Ledger;
  readonly positions = new Positions();
  private readonly options: CoreOptions;

  private readonly instruments: (Instrument | undefined)[] = [];
  private readonly instrumentIds: number[] = [];
  private readonly assets = new Map<number, AssetInfo>();

  // Accounts, by account id.
  private accountType = new Uint8Array(1024);
  private accountStatus = new Uint8Array(1024);
  private accountKill = new Uint8Array(1024);
  /**
   * 1 when the account exists, is active and its kill switch is off (derived from the three tables above,
   * set wherever they change): the order path reads this one byte where it read three and checked the id.
   * Only a 1 is trusted; a 0 sends the check to the three tables, which give the reason.
   */
  private accountTradable = new Uint8Array(1024);
  private accountOpenOrders = new Int32Array(1024);
  private readonly accountLimits: (RiskLimits | undefined)[] = [];
  /** The same limits as rows of numbers (zeros for an account without), which the order path reads. */
  private limitTable = new RiskLimitTable(1024);
  private readonly accountPositions: (number[] | undefined)[] = [];
  /**
   * The account's first position slot (-1: none) and whether it has more: most accounts trade one instrument,
   * and these two small typed tables answer the order path without touching the account's list.
   */
  private accountFirstPosition = new Int32Array(1024).fill(-1);
  private accountManyPositions = new Uint8Array(1024);
  /** Which costly inputs the account's limits read (RISK_READS bits), derived from its limits. */
  private accountRiskReads = new Uint8Array(1024);
  /** Equity per quote asset at the start of the day, for accounts whose limits are fractions of it. */
  private readonly accountDayEquity: (Map<number, number> | undefined)[] = [];
  private accountCount = 0;

  // Per position slot (Positions), what the core adds: open quantities, ledger accounts, day-start PnL.
  private posOpenBuy = new Float64Array(1024);
  private posOpenSell = new Float64Array(1024);
  private posBaseAccount = new Int32Array(1024);
  private posQuoteAccount = new Int32Array(1024);
  /** Net PnL (realized less fees plus unrealized) when the day began: the day's loss is measured from it. */
  private posDayStartPnl = new Float64Array(1024);
  private posQuoteAsset = new Int32Array(1024);
  /** Quote minor units per lot per tick of the position's instrument. */
  private posQuoteScale = new Float64Array(1024);
  /** The command that last queued the position for an emergency check (each is checked once a command). */
  private posQueuedAt = new Float64Array(1024);

  /** Each instrument's mark (last trade or mid, by its spec), refreshed after every command on its book. */
  private instrumentMark = new Float64Array(64);
  /** 1 when the account has an emergency threshold, so trades queue it for a check. */
  private accountEmergency = new Uint8Array(1024);
  /** Accounts flagged in `accountEmergency`. */
  private emergencyAccounts = 0;
  /**
   * `commandSeq` after the last `advanceTime`: the marks may have moved since when it is lower. Not part of the
   * state (nor of snapshots): it only says when the venue should next look at every account.
   */
  private sweptAtCommand = 0;

  private venueKill = false;
  private clockUs = 0;
  private day = -1;
  private commandSeq = 0;
  /**
   * The highest order id any place command carried (a positive safe integer, accepted or not): a gateway that
   * assigns order ids starts above it after a restart, so that no id of the journal is given out again. Like
   * the command count, a record of what arrived rather than venue state: in snapshots, not in the state hash
   * (a refused order changes no state).
   */
  private orderIdHigh = 0;

  // The order being placed, between the gate and the book's OrderAccepted.
  private pendingOrderId = 0;
  private pendingPerLot = 0;
  private pendingPosition = -1;
  private pendingHoldAccount = -1;
  private pendingMarket = 0;
  private pendingMakerFee = 0;
  private pendingTakerFee = 0;

  private readonly bookPlace: BookPlace = newPlaceOrder();
  private readonly bookAmend: BookAmend = {
    orderId: 0,
    owner: ANY_OWNER,
    price: 0,
    qty: 0,
    triggerPrice: 0,
    timeUs: 0,
  };
  /** Positions whose account's emergency threshold this command may have crossed. */
  private emergencyQueue = new Int32Array(64);
  private emergencyCount = 0;
  /** Microseconds at which the next UTC day starts. */
  private nextDayUs = -Infinity;

  constructor(options: CoreOptions = {}) {
    this.options = options;
    this.events = new EventBuffer(options.eventCapacity ?? 4096);
    this.ledger = new Ledger(this.events);
  }

  // ================================================================ commands

  /** Executes one command, appending its records to `events` (the caller reads and clears the buffer). */
  execute(cmd: Command): void {
    // `cmd` comes in every command's shape, so this load of `cmd.kind` is megamorphic (a stub-cache probe, about
    // a hundred instructions per command). A caller that knows the kind already (a decoder that dispatched on
    // its own tag, the workload replayer) calls placeOrder, cancelOrder or amendOrder and skips it.
    switch (cmd.kind) {
      case 'placeOrder':
        return this.placeOrder(cmd);
      case 'cancelOrder':
        return this.cancelOrder(cmd);
      case 'amendOrder':
        return this.amendOrder(cmd);
      default:
        this.commandSeq++;
        if (this.enter(cmd.timeUs, CommandCode[cmd.kind] ?? 0)) this.dispatch(cmd);
        if (this.emergencyCount !== 0) this.runEmergencyChecks();
    }
  }

  // The order commands read their time here rather than in `execute`: a load of `timeUs` there would be
  // megamorphic too (and box the number it reads, an allocation per command), where here it sees one shape.

  /** Executes a placeOrder command: the same as `execute(c)`, without the dispatch on its kind. */
  placeOrder(c: PlaceOrder): void {
    this.commandSeq++;
    if (this.enter(c.timeUs, CMD_PLACE)) this.place(c);
    if (this.emergencyCount !== 0) this.runEmergencyChecks();
  }

  /** Executes a cancelOrder command: the same as `execute(c)`, without the dispatch on its kind. */
  cancelOrder(c: CancelOrder): void {
    this.commandSeq++;
    if (this.enter(c.timeUs, CMD_CANCEL)) this.cancel(c);
    if (this.emergencyCount !== 0) this.runEmergencyChecks();
  }

  /** Executes an amendOrder command: the same as `execute(c)`, without the dispatch on its kind. */
  amendOrder(c: AmendOrder): void {
    this.commandSeq++;
    if (this.enter(c.timeUs, CMD_AMEND)) this.amend(c);
    if (this.emergencyCount !== 0) this.runEmergencyChecks();
  }

  /** Moves the clock to the command's time (and into a new day); false, the command refused, on bad time. */
  private enter(t: number, command: number): boolean {
    if (!(Number.isSafeInteger(t) && t >= 0)) {
      this.rejectCommand(command, CoreReject.InvalidTime, 0, 0);
      return false;
    }
    if (t > this.clockUs) this.clockUs = t;
    if (this.clockUs >= this.nextDayUs) this.startDay(Math.floor(this.clockUs / DAY_US));
    return true;
  }

  /** The commands other than the order path's three. */
  private dispatch(cmd: Command): void {
    switch (cmd.kind) {
      case 'massCancel':
        return this.massCancel(cmd);
      case 'advanceTime':
        return this.advanceTime();
      case 'deposit':
        return this.deposit(cmd);
      case 'withdraw':
        return this.withdraw(cmd);
      case 'createAccount':
        return this.createAccount(cmd);
      case 'setAccountStatus':
        return this.setAccountStatus(cmd);
      case 'addAsset':
        return this.addAsset(cmd);
      case 'defineInstrument':
        return this.defineInstrument(cmd);
      case 'setRiskLimits':
        return this.setRiskLimits(cmd);
      case 'setTradingStatus':
        return this.setTradingStatus(cmd);
      case 'killSwitch':
        return this.killSwitch(cmd);
      case 'resetKillSwitch':
        return this.resetKillSwitch(cmd);
      default:
        // Commands arrive from outside the type system (a journal, a decoder): refuse what is not one.
        this.rejectCommand(0, CoreReject.UnknownCommand, 0, 0);
    }
  }

  // ---------------------------------------------------------------- orders

  private place(c: PlaceOrder): void {
    if (c.orderId > this.orderIdHigh && Number.isSafeInteger(c.orderId)) this.orderIdHigh = c.orderId;
    const ins = this.instrumentOf(c.instrument);
    const code = this.venueKill
      ? RiskReject.VenueKillSwitch
      : this.tradingAccountProblem(c.accountId) || this.tradingInstrumentProblem(ins);
    if (code !== 0 || ins === undefined) {
      this.rejectPlace(c, code);
      return;
    }
    const p = this.bookPlace;
    p.orderId = c.orderId;
    p.owner = c.accountId;
    p.side = c.side;
    p.type = c.type;
    p.tif = c.tif;
    p.price = c.price;
    p.triggerPrice = c.triggerPrice;
    p.qty = c.qty;
    p.displayQty = c.displayQty;
    p.postOnly = c.postOnly;
    p.stp = c.stp;
    p.expireTimeUs = c.expireTimeUs;
    p.timeUs = this.clockUs;
    // Malformed numbers are the book's to reject, with its precise code; the gate only prices sound orders.
    if (wellFormed(c)) {
      const riskCode = this.gatePlace(c, ins);
      if (riskCode !== 0) {
        this.rejectPlace(c, riskCode);
        return;
      }
    } else {
      this.pendingOrderId = 0;
    }
    const from = this.events.count;
    ins.book.place(p);
    this.afterBook(ins, from);
    this.pendingOrderId = 0;
  }

  /**
   * Prices the order (protection price for market types), runs the risk checks and, when they pass, sets up
   * the pending hold. Returns 0 or a reject code.
   */
  private gatePlace(c: PlaceOrder, ins: Instrument): number {
    // The command's and the spec's fields are read once, into locals, and each of the position's inputs is
    // set in one branch: V8 checks an object's map again at its next use after a branch merges (measured in
    // the per-instruction count), so a field read where it is used cost a map check and a load each time.
    const spec = ins.spec;
    const type = c.type;
    const side = c.side;
    const account = c.accountId;
    const qty = c.qty;
    const quoteScale = spec.quoteScale;
    const takerFeePpm = spec.takerFeePpm;
    const quoteAsset = spec.quoteAsset;
    const buy = side === Side.Buy;
    const marketType =
      type === OrderType.Market || type === OrderType.StopMarket || type === OrderType.TakeProfit;
    let price = c.price;
    if (marketType && price === 0) {
      const base = type === OrderType.Market ? this.referenceOf(ins, buy) : c.triggerPrice;
      price = protectionPrice(base, buy, spec);
      if (price === 0 && buy) return RiskReject.NoReferencePrice;
      this.bookPlace.price = price;
    } else if (
      type === OrderType.Limit &&
      spec.priceBandBps !== 0 && // no band: no need to find its centre
      !withinBand(price, this.bandReferenceOf(ins), spec.priceBandBps)
    ) {
      return RiskReject.PriceOutsideBand;
    }
    // A rejected order must leave no trace, so the position and its ledger accounts open only once it passes.
    const found = this.findPosition(account, spec.instrument);
    const valuePerLot = mulWhole(price, quoteScale);
    const perLot = holdPerLot(buy, valuePerLot, takerFeePpm, spec);
    // An open position knows its ledger accounts (balances are debit-positive: a liability reads negative).
    let available = 0;
    let position = 0;
    let openSameSide = 0;
    if (found === -1) available = this.ledger.available(account, buy ? quoteAsset : spec.baseAsset);
    else if (buy) {
      available = -this.ledger.signedBalance(this.posQuoteAccount[found]);
      position = this.positions.qty[found];
      openSameSide = this.posOpenBuy[found];
    } else {
      available = -this.ledger.signedBalance(this.posBaseAccount[found]);
      position = this.positions.qty[found];
      openSameSide = this.posOpenSell[found];
    }
    const code = this.checkLimits(
      account,
      quoteAsset,
      buy,
      qty,
      mulWhole(qty, valuePerLot),
      mulWhole(qty, perLot),
      available,
      this.accountOpenOrders[account],
      position,
      openSameSide,
      price,
      quoteScale,
    );
    if (code !== 0) return code;
    const pos = found === -1 ? this.positionSlot(account, spec) : found;
    const holdAccount = buy ? this.posQuoteAccount[pos] : this.posBaseAccount[pos];
    this.pendingOrderId = c.orderId;
    this.pendingPerLot = perLot;
    this.pendingPosition = pos;
    this.pendingHoldAccount = holdAccount;
    this.pendingMarket = marketType ? 1 : 0;
    this.pendingMakerFee = spec.makerFeePpm;
    this.pendingTakerFee = takerFeePpm;
    return 0;
  }

  /**
   * The account's limits and funds against an order (checkOrderValues), with equity and the day's loss
   * computed only when its limits read them, and the day's loss only for an order that adds exposure (the
   * only kind it refuses).
   */
  private checkLimits(
    account: number,
    quote: number,
    buy: boolean,
    qty: number,
    notional: number,
    holdNeeded: number,
    available: number,
    openOrders: number,
    position: number,
    openSameSide: number,
    price: number,
    quoteScale: number,
  ): number {
    const reads = this.accountRiskReads[account];
    const equity = (reads & RISK_READS.equity) !== 0 ? this.equityOf(account, quote) : 0;
    const adds = exposureOf(buy, position, openSameSide, qty) > Math.abs(position);
    const dayLoss = (reads & RISK_READS.dayLoss) !== 0 && adds ? this.dayLossOf(account, quote) : 0;
    const dayStartEquity =
      (reads & RISK_READS.dayStartEquity) !== 0 ? this.dayStartEquityOf(account, quote) : 0;
    return checkOrderValues(
      this.limitTable.rows,
      account * RISK_LIMIT_FIELDS,
      buy,
      qty,
      notional,
      holdNeeded,
      available,
      openOrders,
      position,
      openSameSide,
      price,
      quoteScale,
      equity,
      dayLoss,
      dayStartEquity,
    );
  }

  private cancel(c: CancelOrder): void {
    // The command's fields and the book read once, into locals, and the unknown instrument refused on its own
    // branch: each read where it was used, after a branch merged, cost a map check and a load (see gatePlace).
    const orderId = c.orderId;
    const ins = this.instrumentOf(c.instrument);
    if (ins === undefined) {
      this.rejectCancel(c, RiskReject.UnknownInstrument);
      return;
    }
    const book = ins.book;
    // Checked here rather than by the book, so that a refused cancel leaves even the book's sequence alone.
    const s = book.slotOf(orderId);
    const code = s === -1 ? BookReject.OrderNotFound : this.ownerProblem(ins.orders, s, c.accountId);
    if (code !== 0) {
      this.rejectCancel(c, code);
      return;
    }
    const from = this.events.count;
    book.cancelAt(s, orderId, this.clockUs);
    this.afterBook(ins, from);
  }

  /** A cancel command refused before the book (a call of its own: the refusal's code stays out of cancel). */
  private rejectCancel(c: CancelOrder, code: number): void {
    this.rejectOrder(c.instrument, c.orderId, c.accountId, 0, 0, 0, code, CommandKind.Cancel);
  }

  private amend(c: AmendOrder): void {
    const ins = this.instrumentOf(c.instrument);
    const s = ins === undefined ? -1 : ins.book.slotOf(c.orderId);
    let code =
      ins === undefined
        ? RiskReject.UnknownInstrument
        : s === -1
          ? BookReject.OrderNotFound
          : this.ownerProblem(ins.orders, s, c.accountId);
    if (code === 0) code = this.venueKill ? RiskReject.VenueKillSwitch : this.tradingInstrumentProblem(ins);
    if (code === 0 && ins !== undefined) code = this.tradingAccountProblem(ins.orders.account[s]);
    if (code === 0 && ins !== undefined) code = this.gateAmend(c, s, ins);
    if (code !== 0 || ins === undefined) {
      this.rejectOrder(c.instrument, c.orderId, c.accountId, 0, c.price, c.qty, code, CommandKind.Amend);
      return;
    }
    const from = this.events.count;
    ins.book.amend(this.bookAmend);
    this.afterBook(ins, from);
  }

  /** Risk checks for the amended order: band, size, and funds for any larger hold. Fills bookAmend. */
  private gateAmend(c: AmendOrder, s: number, ins: Instrument): number {
    const o = ins.orders;
    const spec = ins.spec;
    const a = this.bookAmend;
    a.orderId = c.orderId;
    a.owner = ANY_OWNER;
    a.price = c.price;
    a.qty = c.qty;
    a.triggerPrice = c.triggerPrice;
    a.timeUs = this.clockUs;
    // Malformed numbers go to the book, which rejects them with its own codes.
    if (!isNonNegativeInt(c.price) || !isNonNegativeInt(c.qty) || !isNonNegativeInt(c.triggerPrice)) return 0;
    const buy = o.buy[s] === 1;
    if (o.market[s] === 1 && c.triggerPrice !== 0 && c.price === 0) {
      a.price = protectionPrice(c.triggerPrice, buy, spec);
    }
    // Read by slot (the order is live: the caller found it), not through an OrderView made for the occasion.
    const price = a.price === 0 ? ins.book.priceAt(s) : a.price;
    if (c.price !== 0 && o.market[s] === 0 && ins.book.triggerAt(s) === 0) {
      if (!withinBand(price, this.bandReferenceOf(ins), spec.priceBandBps))
        return RiskReject.PriceOutsideBand;
    }
    const left = ins.book.leftAt(s);
    const newLeft = c.qty === 0 ? left : c.qty - ins.book.filledAt(s);
    if (newLeft <= 0) return 0; // the book rejects it (AmendQuantityNotAboveFilled)
    const valuePerLot = mulExact(price, spec.quoteScale);
    const perLot = holdPerLot(buy, valuePerLot, o.takerFeePpm[s], spec);
    const account = o.account[s];
    const pos = o.position[s];
    // The order counts as itself, not as one more open order or more open quantity.
    return this.checkLimits(
      account,
      spec.quoteAsset,
      buy,
      newLeft,
      mulExact(newLeft, valuePerLot),
      mulExact(newLeft, perLot) - left * o.perLot[s],
      -this.ledger.signedBalance(o.holdAccount[s]),
      this.accountOpenOrders[account] - 1,
      this.positions.qty[pos],
      (buy ? this.posOpenBuy[pos] : this.posOpenSell[pos]) - left,
      price,
      spec.quoteScale,
    );
  }

  private massCancel(c: MassCancel): void {
    let code = c.accountId === 0 ? 0 : this.accountProblem(c.accountId);
    if (code === 0 && c.instrument !== -1 && this.instrumentOf(c.instrument) === undefined) {
      code = RiskReject.UnknownInstrument;
    }
    if (code !== 0) {
      this.rejectOrder(c.instrument, 0, c.accountId, 0, 0, 0, code, CommandKind.MassCancel);
      return;
    }
    const owner = c.accountId === 0 ? ANY_OWNER : c.accountId;
    for (const id of this.instrumentIds) {
      if (c.instrument !== -1 && id !== c.instrument) continue;
      const ins = this.instruments[id] as Instrument;
      const from = this.events.count;
      ins.book.massCancel(owner, c.side, this.clockUs);
      this.afterBook(ins, from);
    }
  }

  private advanceTime(): void {
    this.sweptAtCommand = this.commandSeq;
    for (const id of this.instrumentIds) {
      const ins = this.instruments[id] as Instrument;
      const from = this.events.count;
      ins.book.advanceTime(this.clockUs);
      this.afterBook(ins, from);
    }
    // Marks move without the account trading; the clock is when the venue looks at every account.
    for (let account = 1; account < this.accountLimits.length; account++) {
      const l = this.accountLimits[account];
      if (l !== undefined && needsEmergencyCheck(l)) {
        for (const s of this.accountPositions[account] ?? []) this.queueEmergency(s);
      }
    }
  }

  // ---------------------------------------------------------------- after the book

  /** Walks the book's records from `from`: stamps the instrument, takes holds, settles, releases. */
  private afterBook(ins: Instrument, from: number): void {
    const buf = this.events;
    const end = buf.count;
    const instrument = ins.spec.instrument;
    // Settlement and holds append entries and may grow the buffer: `data` is read again after each of them.
    let d = buf.data;
    for (let i = from; i < end; i++) {
      const o = (i * EVENT_STRIDE) & AT_MASK;
      d[o + F_INSTRUMENT] = instrument;
      // The cases are the EventType numbers as literals (checked against EventType where the module loads):
      // over small-integer literals V8 dispatches with one jump table, where the named constants made a
      // comparison chain of floating-point tests that every record not handled here (levels, fills, the top
      // of book: two thirds of them) ran to its end.
      switch (d[o] | 0) {
        case 1: // OrderAccepted
          if (d[o + 3] === this.pendingOrderId) {
            this.openOrder(ins.orders, d[o + F_SLOT], d[o + 3], d[o + 4], d[o + 5], d[o + 7]);
            d = buf.data;
          }
          break;
        case 3: // TradeExecuted
          this.settle(ins, o);
          d = buf.data;
          break;
        case 6: // OrderCancelled
        case 8: // OrderExpired
          this.closeOrder(ins.orders, d[o + F_SLOT], d[o + 7]);
          d = buf.data;
          break;
        case 7: // OrderReduced
          this.reduceOrder(ins.orders, d[o + F_SLOT], d[o + 7]);
          d = buf.data;
          break;
        case 10: // OrderAmended
          this.amended(ins, d[o + F_SLOT], d[o + 6], d[o + 7], d[o + 9]);
          d = buf.data;
          break;
        default:
          break;
      }
    }
    this.instrumentMark[instrument] = this.markOf(ins);
  }

  private openOrder(
    o: OrderColumns,
    s: number,
    orderId: number,
    account: number,
    side: number,
    qty: number,
  ): void {
    o.open(s, orderId);
    const buy = side === Side.Buy;
    const pos = this.pendingPosition;
    o.account[s] = account;
    o.buy[s] = buy ? 1 : 0;
    o.market[s] = this.pendingMarket;
    o.perLot[s] = this.pendingPerLot;
    o.makerFeePpm[s] = this.pendingMakerFee;
    o.takerFeePpm[s] = this.pendingTakerFee;
    o.position[s] = pos;
    o.holdAccount[s] = this.pendingHoldAccount;
    this.accountOpenOrders[account]++;
    if (buy) this.posOpenBuy[pos] += qty;
    else this.posOpenSell[pos] += qty;
    this.ledger.moveHeld(
      EntryKind.Hold,
      orderId,
      this.pendingHoldAccount,
      qty * this.pendingPerLot,
      this.clockUs,
    );
  }

  /** One trade: base and quote between the customers, fees and rebates, from the two holds: one entry. */
  private settle(ins: Instrument, at: number): void {
    const o = at & AT_MASK;
    const d = this.events.data;
    const price = d[o + 6];
    const qty = d[o + 7];
    const takerBuys = d[o + 5] === Side.Buy;
    const tradeId = d[o + 8];
    const takerLeft = d[o + 11];
    const makerLeft = d[o + 12];
    const ot = ins.orders;
    const taker = d[o + F_SLOT];
    const maker = d[o + F_MAKER_SLOT];
    if (ot.live[taker] !== 1 || ot.live[maker] !== 1)
      throw broken('trade', tradeId, 'involves an order unknown to the core');
    const buyer = takerBuys ? taker : maker;
    const seller = takerBuys ? maker : taker;
    const spec = ins.spec;
    const value = price * qty * spec.quoteScale;
    const base = qty * spec.baseScale;
    const buyerFee = feeOf(value, takerBuys ? ot.takerFeePpm[taker] : ot.makerFeePpm[maker]);
    const sellerFee = feeOf(value, takerBuys ? ot.makerFeePpm[maker] : ot.takerFeePpm[taker]);
    const release = qty * ot.perLot[buyer];
    const refund = release - value - buyerFee;
    // Price, quantity and scale are whole numbers, so the value is a safe integer when it is at most 2^53 - 1.
    if (!(refund >= 0 && value <= MAX_SAFE)) throw broken('trade', tradeId, 'is not covered by its hold');
    const buyerPos = ot.position[buyer];
    const sellerPos = ot.position[seller];
    const income = (buyerFee > 0 ? buyerFee : 0) + (sellerFee > 0 ? sellerFee : 0);
    const rebates = (buyerFee < 0 ? -buyerFee : 0) + (sellerFee < 0 ? -sellerFee : 0);
    this.ledger.settle(
      ot.orderId[buyer],
      ot.orderId[seller],
      ot.holdAccount[buyer],
      release,
      refund,
      this.posQuoteAccount[sellerPos],
      value - sellerFee,
      ot.holdAccount[seller],
      base,
      this.posBaseAccount[buyerPos],
      ins.feeIncomeAccount,
      income,
      rebates,
      this.clockUs,
    );
    this.positions.applyFill(buyerPos, true, qty, value, buyerFee);
    this.positions.applyFill(sellerPos, false, qty, value, sellerFee);
    this.posOpenBuy[buyerPos] -= qty;
    this.posOpenSell[sellerPos] -= qty;
    if (takerLeft === 0) this.filled(ot, taker);
    if (makerLeft === 0) this.filled(ot, maker);
    if (this.accountEmergency[ot.account[buyer]] === 1) this.queueEmergency(buyerPos);
    if (this.accountEmergency[ot.account[seller]] === 1) this.queueEmergency(sellerPos);
  }

  /** An order filled whole: it no longer counts as open. */
  private filled(ot: OrderColumns, s: number): void {
    this.accountOpenOrders[ot.account[s]]--;
    ot.close(s);
  }

  private closeOrder(ot: OrderColumns, s: number, left: number): void {
    if (ot.live[s] !== 1) throw broken('slot', s, 'closed by the book is unknown to the core');
    this.releaseHold(ot, s, left);
    this.accountOpenOrders[ot.account[s]]--;
    ot.close(s);
  }

  private reduceOrder(ot: OrderColumns, s: number, cut: number): void {
    if (ot.live[s] !== 1) throw broken('slot', s, 'reduced by the book is unknown to the core');
    this.releaseHold(ot, s, cut);
  }

  /** Returns what `qty` lots of the order held to the customer's available balance. */
  private releaseHold(ot: OrderColumns, s: number, qty: number): void {
    const pos = ot.position[s];
    if (ot.buy[s] === 1) this.posOpenBuy[pos] -= qty;
    else this.posOpenSell[pos] -= qty;
    if (qty > 0)
      this.ledger.moveHeld(
        EntryKind.Release,
        ot.orderId[s],
        ot.holdAccount[s],
        qty * ot.perLot[s],
        this.clockUs,
      );
  }

  /** An amend went through: the hold follows the new price and remaining quantity. */
  private amended(ins: Instrument, s: number, price: number, left: number, oldLeft: number): void {
    const ot = ins.orders;
    if (ot.live[s] !== 1) throw broken('slot', s, 'amended by the book is unknown to the core');
    const spec = ins.spec;
    const orderId = ot.orderId[s];
    const buy = ot.buy[s] === 1;
    const valuePerLot = price * spec.quoteScale;
    const perLot = holdPerLot(buy, valuePerLot, ot.takerFeePpm[s], spec);
    const delta = left * perLot - oldLeft * ot.perLot[s];
    const pos = ot.position[s];
    if (buy) this.posOpenBuy[pos] += left - oldLeft;
    else this.posOpenSell[pos] += left - oldLeft;
    ot.perLot[s] = perLot;
    if (delta === 0) return;
    const kind = delta > 0 ? EntryKind.Hold : EntryKind.Release;
    this.ledger.moveHeld(kind, orderId, ot.holdAccount[s], Math.abs(delta), this.clockUs);
  }

  // ---------------------------------------------------------------- money

  private deposit(c: Deposit): void {
    const code =
      this.accountProblem(c.accountId) ||
      this.assetProblem(c.asset) ||
      amountProblem(c.amount) ||
      this.custodyProblem(c);
    if (code !== 0) {
      this.rejectCommand(CommandCode.deposit, code, c.accountId, c.ref);
      return;
    }
    this.postExternal(EntryKind.Deposit, c.accountId, c.asset, c.amount, c.ref);
  }

  private withdraw(c: Withdraw): void {
    let code =
      this.accountProblem(c.accountId) ||
      this.activeProblem(c.accountId) ||
      this.assetProblem(c.asset) ||
      amountProblem(c.amount);
    if (code === 0 && this.ledger.available(c.accountId, c.asset) < c.amount)
      code = LedgerReject.InsufficientAvailable;
    if (code !== 0) {
      this.rejectCommand(CommandCode.withdraw, code, c.accountId, c.ref);
      return;
    }
    this.postExternal(EntryKind.Withdrawal, c.accountId, c.asset, c.amount, c.ref);
  }

  /**
   * A deposit or withdrawal: one entry moving the money between custody and the customer's available
   * balance through clearing, where payments in and out are matched to customers.
   */
  private postExternal(
    kind: ledger.EntryKind,
    account: number,
    asset: number,
    amount: number,
    ref: number,
  ): void {
    const l = this.ledger;
    const custody = l.venueAccount(LedgerAccountKind.Custody, asset);
    const clearing = l.venueAccount(LedgerAccountKind.Clearing, asset);
    const customer = l.customerAccount(account, asset);
    const inbound = kind === EntryKind.Deposit;
    l.begin(kind, account, ref, this.clockUs);
    l.debit(inbound ? custody : customer, amount);
    l.credit(clearing, amount);
    l.debit(clearing, amount);
    l.credit(inbound ? customer : custody, amount);
    l.commit();
  }

  private custodyProblem(c: Deposit): number {
    const custody = this.ledger.venueAccount(LedgerAccountKind.Custody, c.asset);
    return Number.isSafeInteger(this.ledger.signedBalance(custody) + c.amount)
      ? 0
      : LedgerReject.CustodyOverflow;
  }

  // ---------------------------------------------------------------- reference data

  private addAsset(c: AddAsset): void {
    let code = 0;
    if (!(Number.isInteger(c.asset) && c.asset >= 0 && c.asset < 1024)) code = CoreReject.InvalidAssetId;
    else if (this.assets.has(c.asset)) code = CoreReject.AssetExists;
    else if (!validAssetCode(c.code) || !Number.isInteger(c.decimals) || c.decimals < 0)
      code = CoreReject.InvalidAssetCode;
    else if (c.decimals > CORE_LIMITS.assetDecimalsMax) code = CoreReject.InvalidAssetCode;
    else if ([...this.assets.values()].some((a) => a.code === c.code)) code = CoreReject.AssetExists;
    if (code !== 0) {
      this.rejectCommand(CommandCode.addAsset, code, 0, Number.isFinite(c.asset) ? c.asset : 0);
      return;
    }
    this.assets.set(c.asset, { asset: c.asset, code: c.code, decimals: c.decimals });
    this.ledger.addAsset(c.asset);
    const o = this.coreRecord(CoreEventType.AssetAdded, 0);
    this.events.data[o + C_A] = c.asset;
    this.events.data[o + C_B] = c.decimals;
  }

  private defineInstrument(c: DefineInstrument): void {
    const id = c.spec.instrument;
    const existing = this.instrumentOf(id);
    const spec: InstrumentSpec = existing
      ? { ...existing.spec, ...c.spec }
      : { ...INSTRUMENT_DEFAULTS, symbol: '', baseAsset: -1, quoteAsset: -1, ...c.spec };
    let code = specProblem(spec) === '' ? 0 : CoreReject.InvalidInstrumentSpec;
    if (code === 0 && (!this.assets.has(spec.baseAsset) || !this.assets.has(spec.quoteAsset))) {
      code = LedgerReject.UnknownAsset;
    }
    if (code === 0 && existing && FIXED_FIELDS.some((k) => existing.spec[k] !== spec[k])) {
      code = CoreReject.InstrumentFieldFixed;
    }
    if (
      code === 0 &&
      !existing &&
      this.instrumentIds.some((i) => this.instruments[i]?.spec.symbol === spec.symbol)
    ) {
      code = CoreReject.InvalidInstrumentSpec;
    }
    if (code !== 0) {
      this.rejectCommand(CommandCode.defineInstrument, code, 0, Number.isInteger(id) ? id : -1);
      return;
    }
    // The risk gate applies the price band with its own code, so the book's band stays off.
    const rules = {
      tickSize: spec.tickSize,
      lotSize: spec.lotSize,
      qtyMin: spec.qtyMin,
      qtyMax: spec.qtyMax,
      priceBandBps: 0,
    };
    if (existing) {
      existing.spec = spec;
      existing.book.setRules(rules);
    } else {
      const book = new OrderBook(this.events, { rules, capacityOrders: this.options.bookCapacityOrders });
      const feeIncomeAccount = this.ledger.venueAccount(LedgerAccountKind.FeeIncome, spec.quoteAsset);
      const orders = new OrderColumns(this.options.bookCapacityOrders);
      this.instruments[id] = { spec, book, orders, halted: false, feeIncomeAccount };
      this.instrumentIds.push(id);
      if (id >= this.instrumentMark.length) {
        this.instrumentMark = growFloat64(
          this.instrumentMark,
          Math.max(id + 1, this.instrumentMark.length * 2),
        );
      }
    }
    // The spec may have changed how the instrument is marked.
    this.instrumentMark[id] = this.markOf(this.instruments[id] as Instrument);
    const o = this.coreRecord(CoreEventType.InstrumentDefined, 0);
    this.events.data[o + C_A] = existing ? 0 : 1;
    this.events.data[o + F_INSTRUMENT] = id;
  }

  private setTradingStatus(c: SetTradingStatus): void {
    const ins = this.instrumentOf(c.instrument);
    if (ins === undefined) {
      this.rejectCommand(CommandCode.setTradingStatus, RiskReject.UnknownInstrument, 0, c.instrument);
      return;
    }
    ins.halted = c.halted === true;
    const o = this.coreRecord(CoreEventType.TradingStatusChanged, 0);
    this.events.data[o + C_A] = ins.halted ? 1 : 0;
    this.events.data[o + F_INSTRUMENT] = c.instrument;
  }

  // ---------------------------------------------------------------- accounts and risk

  private createAccount(c: CreateAccount): void {
    let code = 0;
    if (!isAccountId(c.accountId)) code = CoreReject.InvalidAccountId;
    else if (this.accountExists(c.accountId)) code = CoreReject.AccountExists;
    else if (!Object.values(AccountType).includes(c.accountType)) code = CoreReject.InvalidAccountType;
    if (code !== 0) {
      this.rejectCommand(CommandCode.createAccount, code, isAccountId(c.accountId) ? c.accountId : 0, 0);
      return;
    }
    this.ensureAccountCapacity(c.accountId);
    this.accountType[c.accountId] = c.accountType;
    this.accountStatus[c.accountId] = AccountStatus.Active;
    this.refreshTradable(c.accountId);
    this.accountCount++;
    const o = this.coreRecord(CoreEventType.AccountCreated, c.accountId);
    this.events.data[o + C_A] = c.accountType;
  }

  private setAccountStatus(c: SetAccountStatus): void {
    let code = this.accountProblem(c.accountId);
    if (code === 0 && c.status !== AccountStatus.Active && c.status !== AccountStatus.Suspended) {
      code = CoreReject.InvalidAccountStatus;
    }
    if (code !== 0) {
      this.rejectCommand(CommandCode.setAccountStatus, code, c.accountId, 0);
      return;
    }
    this.accountStatus[c.accountId] = c.status;
    this.refreshTradable(c.accountId);
    const o = this.coreRecord(CoreEventType.AccountStatusChanged, c.accountId);
    this.events.data[o + C_A] = c.status;
  }

  private setRiskLimits(c: SetRiskLimits): void {
    let code = this.accountProblem(c.accountId);
    if (code === 0 && (typeof c.limits !== 'object' || c.limits === null || limitsProblem(c.limits) !== '')) {
      code = CoreReject.InvalidRiskLimits;
    }
    if (code !== 0) {
      this.rejectCommand(CommandCode.setRiskLimits, code, c.accountId, 0);
      return;
    }
    const limits: RiskLimits = { ...(this.accountLimits[c.accountId] ?? NO_LIMITS), ...c.limits };
    this.accountLimits[c.accountId] = limits;
    this.limitTable.set(c.accountId, limits);
    const emergency = needsEmergencyCheck(limits) ? 1 : 0;
    this.emergencyAccounts += emergency - this.accountEmergency[c.accountId];
    this.accountEmergency[c.accountId] = emergency;
    this.accountRiskReads[c.accountId] = riskReadsOf(limits);
    // Limits set during a day measure that day from now: equity now stands in for equity at its start.
    if (needsEquity(limits) && this.accountDayEquity[c.accountId] === undefined)
      this.snapshotDayEquity(c.accountId);
    this.coreRecord(CoreEventType.RiskLimitsSet, c.accountId);
  }

  private killSwitch(c: KillSwitch): void {
    if (c.accountId === 0) {
      this.venueKill = true;
      const cancelled = this.cancelAll(ANY_OWNER);
      this.killRecord(0, KillReason.Manual, cancelled);
      return;
    }
    const code = this.accountProblem(c.accountId);
    if (code !== 0) {
      this.rejectCommand(CommandCode.killSwitch, code, c.accountId, 0);
      return;
    }
    this.killAccount(c.accountId, KillReason.Manual);
  }

  private killAccount(account: number, reason: coreEvents.KillReason): void {
    this.accountKill[account] = 1;
    this.refreshTradable(account);
    const cancelled = this.cancelAll(account);
    this.killRecord(account, reason, cancelled);
  }

  private killRecord(account: number, reason: coreEvents.KillReason, cancelled: number): void {
    const o = this.coreRecord(CoreEventType.KillSwitchSet, account);
    this.events.data[o + C_A] = reason;
    this.events.data[o + C_B] = cancelled;
  }

  /** Cancels every order of `owner` (or everyone's) in every book; returns how many. */
  private cancelAll(owner: number): number {
    let cancelled = 0;
    for (const id of this.instrumentIds) {
      const ins = this.instruments[id] as Instrument;
      const from = this.events.count;
      cancelled += ins.book.massCancel(owner, -1, this.clockUs);
      this.afterBook(ins, from);
    }
    return cancelled;
  }

  private resetKillSwitch(c: ResetKillSwitch): void {
    const officer = c.officerId;
    let code = 0;
    if (!this.accountExists(officer) || this.accountType[officer] !== AccountType.RiskOfficer)
      code = CoreReject.NotRiskOfficer;
    else if (this.accountStatus[officer] !== AccountStatus.Active) code = CoreReject.NotRiskOfficer;
    else if (c.accountId !== 0) code = this.accountProblem(c.accountId);
    if (code === 0) {
      const set = c.accountId === 0 ? this.venueKill : this.accountKill[c.accountId] === 1;
      if (!set) code = CoreReject.KillSwitchNotSet;
    }
    if (code !== 0) {
      this.rejectCommand(CommandCode.resetKillSwitch, code, c.accountId, officer);
      return;
    }
    if (c.accountId === 0) this.venueKill = false;
    else {
      this.accountKill[c.accountId] = 0;
      this.refreshTradable(c.accountId);
    }
    const o = this.coreRecord(CoreEventType.KillSwitchReset, c.accountId);
    this.events.data[o + C_A] = officer;
  }

  private queueEmergency(pos: number): void {
    if (this.posQueuedAt[pos] === this.commandSeq) return;
    this.posQueuedAt[pos] = this.commandSeq;
    if (this.emergencyCount === this.emergencyQueue.length) {
      this.emergencyQueue = growInt32(this.emergencyQueue, this.emergencyCount * 2);
    }
    this.emergencyQueue[this.emergencyCount++] = pos;
  }

  /** Past its emergency threshold, an account's orders are all cancelled and its kill switch set. */
  private runEmergencyChecks(): void {
    const q = this.emergencyQueue;
    for (let i = 0; i < this.emergencyCount; i++) {
      const account = this.positions.account[q[i]];
      const quote = this.posQuoteAsset[q[i]];
      if (this.accountKill[account] === 1) continue;
      const rows = this.limitTable.rows;
      const row = account * RISK_LIMIT_FIELDS;
      const loss = this.dayLossOf(account, quote);
      const start = rows[row + EMERGENCY_PPM] > 0 ? this.dayStartEquityOf(account, quote) : 0;
      if (!emergencyBreachedRow(loss, start, rows, row)) continue;
      const o = this.coreRecord(CoreEventType.EmergencyStop, account);
      this.events.data[o + C_A] = quote;
      this.events.data[o + C_B] = loss;
      this.killAccount(account, KillReason.Emergency);
    }
    this.emergencyCount = 0;
  }

  // ---------------------------------------------------------------- PnL, marks, equity

  /** A new UTC day: every position's PnL so far becomes the day's starting point. */
  private startDay(day: number): void {
    this.day = day;
    this.nextDayUs = (day + 1) * DAY_US;
    const p = this.positions;
    for (let s = 0; s < p.size; s++) this.posDayStartPnl[s] = this.netPnlOf(s);
    for (let account = 1; account < this.accountLimits.length; account++) {
      const l = this.accountLimits[account];
      if (l !== undefined && needsEquity(l)) this.snapshotDayEquity(account);
    }
  }

  private snapshotDayEquity(account: number): void {
    const m = new Map<number, number>();
    for (const asset of this.ledger.assetIds()) m.set(asset, this.equityOf(account, asset));
    this.accountDayEquity[account] = m;
  }

  private dayStartEquityOf(account: number, quote: number): number {
    return this.accountDayEquity[account]?.get(quote) ?? 0;
  }

  /** The loss since the day began over the account's positions quoted in `quote` (negative for a gain). */
  private dayLossOf(account: number, quote: number): number {
    const first = this.accountFirstPosition[account];
    if (first === -1) return 0;
    if (this.accountManyPositions[account] === 0)
      return this.posQuoteAsset[first] === quote ? this.posDayStartPnl[first] - this.netPnlOf(first) : 0;
    const slots = this.accountPositions[account] as number[];
    let loss = 0;
    for (let k = 0; k < slots.length; k++) {
      const s = slots[k];
      if (this.posQuoteAsset[s] === quote) loss += this.posDayStartPnl[s] - this.netPnlOf(s);
    }
    return loss;
  }

  /** Realized PnL less fees plus unrealized PnL at the instrument's mark. */
  private netPnlOf(s: number): number {
    const p = this.positions;
    return p.realized[s] - p.fees[s] + this.unrealizedOf(s);
  }

  /** The position marked at its instrument's mark less its cost; 0 when flat, unmarked or beyond 2^53. */
  private unrealizedOf(s: number): number {
    const p = this.positions;
    const qty = p.qty[s];
    const mark = this.instrumentMark[p.instrument[s]];
    if (qty === 0 || mark === 0) return 0;
    const value = Math.abs(qty) * mark * this.posQuoteScale[s];
    if (!(value <= Number.MAX_SAFE_INTEGER)) return 0;
    return (qty > 0 ? value : -value) - p.cost[s];
  }

  /** The account's equity in `quote`: its balance of it plus every other asset it holds priced in it. */
  private equityOf(account: number, quote: number): number {
    const l = this.ledger;
    let equity = l.available(account, quote) + l.held(account, quote);
    const counted = new Set<number>();
    for (const id of this.instrumentIds) {
      const ins = this.instruments[id] as Instrument;
      const spec = ins.spec;
      if (spec.quoteAsset !== quote || counted.has(spec.baseAsset)) continue;
      const mark = this.markOf(ins);
      const baseBalance = l.available(account, spec.baseAsset) + l.held(account, spec.baseAsset);
      if (mark === 0 || baseBalance === 0) continue;
      counted.add(spec.baseAsset);
      const perBase = mulExact(mark, spec.quoteScale);
      if (!Number.isNaN(perBase)) equity += mulDivFloor(baseBalance, perBase, spec.baseScale);
    }
    return equity;
  }

  /** The instrument's mark: last trade (or mid, by its spec), falling back on the other, then on 0. */
  private markOf(ins: Instrument): number {
    const last = ins.book.lastTradePrice;
    if (ins.spec.markMethod === MarkMethod.LastTrade && last !== 0) return last;
    const bid = ins.book.bestBid();
    const ask = ins.book.bestAsk();
    const mid = bid > 0 && ask > 0 ? Math.floor((bid + ask) / 2) : 0;
    return mid !== 0 ? mid : last;
  }

  /** The price a market order's protection is measured from: last trade, else the reference, else the touch. */
  private referenceOf(ins: Instrument, buy: boolean): number {
    const last = ins.book.lastTradePrice;
    if (last > 0) return last;
    if (ins.spec.referencePrice > 0) return ins.spec.referencePrice;
    const touch = buy ? ins.book.bestAsk() : ins.book.bestBid();
    return touch > 0 ? touch : 0;
  }

  /** The fat-finger band's centre: last trade, else the instrument's reference price (0: no band yet). */
  private bandReferenceOf(ins: Instrument): number {
    const last = ins.book.lastTradePrice;
    return last > 0 ? last : ins.spec.referencePrice;
  }

  // ---------------------------------------------------------------- lookups and checks

  /**
   * The position slot of (account, instrument), or -1. Accounts trade few instruments, so a short scan of the
   * account's own positions beats hashing; an account with many goes to the index.
   */
  private findPosition(account: number, instrument: number): number {
    const first = this.accountFirstPosition[account];
    if (first === -1) return -1;
    if (this.accountManyPositions[account] === 0)
      return this.positions.instrument[first] === instrument ? first : -1;
    const slots = this.accountPositions[account] as number[];
    if (slots.length > POSITION_SCAN_MAX) return this.positions.find(account, instrument);
    const ins = this.positions.instrument;
    for (let k = 0; k < slots.length; k++) if (ins[slots[k]] === instrument) return slots[k];
    return -1;
  }

  /** The position slot of (account, instrument), opened with its ledger accounts on first use. */
  private positionSlot(account: number, spec: InstrumentSpec): number {
    const p = this.positions;
    const found = p.find(account, spec.instrument);
    if (found !== -1) return found;
    const s = p.slot(account, spec.instrument);
    if (s >= this.posOpenBuy.length) this.growPositionColumns();
    this.posBaseAccount[s] = this.ledger.customerAccount(account, spec.baseAsset);
    this.posQuoteAccount[s] = this.ledger.customerAccount(account, spec.quoteAsset);
    this.posDayStartPnl[s] = 0;
    this.posQuoteAsset[s] = spec.quoteAsset;
    this.posQuoteScale[s] = spec.quoteScale;
    this.posQueuedAt[s] = 0;
    let list = this.accountPositions[account];
    if (list === undefined) {
      list = [];
      this.accountPositions[account] = list;
    }
    list.push(s);
    this.indexAccountPositions(account, list);
    return s;
  }

  private indexAccountPositions(account: number, list: readonly number[]): void {
    this.accountFirstPosition[account] = list.length === 0 ? -1 : list[0];
    this.accountManyPositions[account] = list.length > 1 ? 1 : 0;
  }

  private growPositionColumns(): void {
    const n = this.posOpenBuy.length * 2;
    this.posOpenBuy = growFloat64(this.posOpenBuy, n);
    this.posOpenSell = growFloat64(this.posOpenSell, n);
    this.posBaseAccount = growInt32(this.posBaseAccount, n);
    this.posQuoteAccount = growInt32(this.posQuoteAccount, n);
    this.posDayStartPnl = growFloat64(this.posDayStartPnl, n);
    this.posQuoteAsset = growInt32(this.posQuoteAsset, n);
    this.posQuoteScale = growFloat64(this.posQuoteScale, n);
    this.posQueuedAt = growFloat64(this.posQueuedAt, n);
  }

  private instrumentOf(id: number): Instrument | undefined {
    return Number.isInteger(id) && id >= 0 && id < INSTRUMENTS_MAX ? this.instruments[id] : undefined;
  }

  private accountExists(id: number): boolean {
    return isAccountId(id) && id < this.accountType.length && this.accountType[id] !== 0;
  }

  private accountProblem(id: number): number {
    return this.accountExists(id) ? 0 : RiskReject.UnknownAccount;
  }

  private activeProblem(id: number): number {
    return this.accountStatus[id] === ACCOUNT_ACTIVE ? 0 : RiskReject.AccountSuspended;
  }

  /** Unknown, suspended or killed accounts may not add orders. */
  private tradingAccountProblem(id: number): number {
    // A number that is not an index of the table (not an integer, out of range) reads undefined: not tradable.
    // (A numeric string would read an element: commands come from outside the type system, so the type too.)
    if (typeof id === 'number' && this.accountTradable[id] === 1) return 0;
    if (!this.accountExists(id)) return RiskReject.UnknownAccount;
    if (this.accountStatus[id] !== ACCOUNT_ACTIVE) return RiskReject.AccountSuspended;
    return this.accountKill[id] === 1 ? RiskReject.AccountKillSwitch : 0;
  }

  /** Derives the account's byte of accountTradable from its type, status and kill switch. */
  private refreshTradable(id: number): void {
    this.accountTradable[id] =
      this.accountType[id] !== 0 && this.accountStatus[id] === ACCOUNT_ACTIVE && this.accountKill[id] === 0
        ? 1
        : 0;
  }

  private tradingInstrumentProblem(ins: Instrument | undefined): number {
    if (ins === undefined) return RiskReject.UnknownInstrument;
    return ins.halted ? RiskReject.InstrumentHalted : 0;
  }

  private ownerProblem(o: OrderColumns, s: number, accountId: number): number {
    return accountId === 0 || o.account[s] === accountId ? 0 : BookReject.NotOrderOwner;
  }

  private assetProblem(asset: number): number {
    return this.assets.has(asset) ? 0 : LedgerReject.UnknownAsset;
  }

  private ensureAccountCapacity(id: number): void {
    if (id < this.accountType.length) return;
    let n = this.accountType.length;
    while (n <= id) n *= 2;
    this.accountType = growUint8(this.accountType, n);
    this.accountStatus = growUint8(this.accountStatus, n);
    this.accountKill = growUint8(this.accountKill, n);
    this.accountTradable = growUint8(this.accountTradable, n);
    this.accountOpenOrders = growInt32(this.accountOpenOrders, n);
    this.accountEmergency = growUint8(this.accountEmergency, n);
    const first = this.accountFirstPosition.length;
    this.accountFirstPosition = growInt32(this.accountFirstPosition, n);
    this.accountFirstPosition.fill(-1, first);
    this.accountManyPositions = growUint8(this.accountManyPositions, n);
    this.accountRiskReads = growUint8(this.accountRiskReads, n);
    this.limitTable.rowOf(n - 1);
  }

  // ---------------------------------------------------------------- records

  /** A core record with the common fields set; returns its offset. */
  private coreRecord(type: coreEvents.CoreEventType, account: number): number {
    const o = this.events.reserve();
    const d = this.events.data;
    d.fill(0, o, o + EVENT_STRIDE);
    d[o] = type;
    d[o + C_SEQ] = this.commandSeq;
    d[o + C_TIME] = this.clockUs;
    d[o + C_ACCOUNT] = account;
    return o;
  }

  private rejectCommand(command: number, code: number, account: number, ref: number): void {
    const o = this.coreRecord(CoreEventType.CommandRejected, Number.isFinite(account) ? account : 0);
    const d = this.events.data;
    d[o + C_A] = command;
    d[o + C_B] = code;
    d[o + C_C] = Number.isFinite(ref) ? ref : 0;
  }

  /** A place refused before the book: its record also carries the type and time in force asked for. */
  private rejectPlace(c: PlaceOrder, code: number): void {
    this.rejectOrder(c.instrument, c.orderId, c.accountId, c.side, c.price, c.qty, code, CommandKind.Place);
    const d = this.events.data;
    const o = (this.events.count - 1) * EVENT_STRIDE;
    d[o + F_REJECTED_TYPE] = finiteOr0(c.type);
    d[o + F_REJECTED_TIF] = finiteOr0(c.tif);
  }

  /** An order command refused before the book: the book's OrderRejected layout, sequence 0, the core's code. */
  private rejectOrder(
    instrument: number,
    orderId: number,
    account: number,
    side: number,
    price: number,
    qty: number,
    code: number,
    command: book.CommandKind,
  ): void {
    const o = this.events.reserve();
    const d = this.events.data;
    d.fill(0, o, o + EVENT_STRIDE);
    d[o] = EventType.OrderRejected;
    d[o + 2] = this.clockUs;
    d[o + 3] = finiteOr0(orderId);
    d[o + 4] = finiteOr0(account);
    d[o + 5] = finiteOr0(side);
    d[o + 6] = finiteOr0(price);
    d[o + 7] = finiteOr0(qty);
    d[o + 8] = code;
    d[o + 9] = command;
    d[o + F_SLOT] = -1;
    d[o + F_INSTRUMENT] = Number.isInteger(instrument) ? instrument : -1;
  }

  // ================================================================ queries

  get timeUs(): number {
    return this.clockUs;
  }
  get commandCount(): number {
    return this.commandSeq;
  }
  /** The highest order id any place command carried so far (0 before the first). */
  get highestOrderId(): number {
    return this.orderIdHigh;
  }
  /**
   * When the venue should next advance time (an `advanceTime` command) so that DAY and GTD orders expire when
   * they are due rather than when their book next takes a command: the earliest expiry of any book, 0 for none.
   */
  get nextExpiryUs(): number {
    let next = 0;
    for (const id of this.instrumentIds) {
      const t = (this.instruments[id] as Instrument).book.nextExpiryUs;
      if (t !== 0 && (next === 0 || t < next)) next = t;
    }
    return next;
  }
  /**
   * Whether the venue should advance time soon for its emergency checks: some account has an emergency
   * threshold, and commands ran since the last `advanceTime` (a trade or a quote may have moved the marks its
   * positions are valued at, without the account trading).
   */
  get riskSweepDue(): boolean {
    return this.emergencyAccounts > 0 && this.commandSeq > this.sweptAtCommand;
  }
  get openOrderCount(): number {
    let n = 0;
    for (const id of this.instrumentIds) n += (this.instruments[id] as Instrument).orders.size;
    return n;
  }
  get venueKillSwitch(): boolean {
    return this.venueKill;
  }
  /** Accounts whose kill switch is set (a scan of one byte per account: for reports, not the order path). */
  get accountKillSwitchCount(): number {
    let n = 0;
    for (let id = 0; id < this.accountKill.length; id++) n += this.accountKill[id] === 1 ? 1 : 0;
    return n;
  }

  asset(asset: number): AssetInfo | undefined {
    return this.assets.get(asset);
  }

  assetList(): AssetInfo[] {
    return [...this.assets.values()];
  }

  instrumentSpec(id: number): Readonly<InstrumentSpec> | undefined {
    return this.instrumentOf(id)?.spec;
  }

  instrumentList(): Readonly<InstrumentSpec>[] {
    return this.instrumentIds.map((id) => (this.instruments[id] as Instrument).spec);
  }

  isHalted(id: number): boolean {
    return this.instrumentOf(id)?.halted === true;
  }

  /** The instrument's book, for queries (depth, orders); commands go through `execute`. */
  book(id: number): OrderBook | undefined {
    return this.instrumentOf(id)?.book;
  }

  account(id: number): AccountView | undefined {
    if (!this.accountExists(id)) return undefined;
    return {
      accountId: id,
      type: this.accountType[id] as AccountType,
      status: this.accountStatus[id] as AccountStatus,
      killSwitch: this.accountKill[id] === 1,
      openOrders: this.accountOpenOrders[id],
      limits: { ...(this.accountLimits[id] ?? NO_LIMITS) },
    };
  }

  get accountTotal(): number {
    return this.accountCount;
  }

  /** Up to `limit` account ids above `afterId`, ascending (a page of the accounts for reports). */
  accountIds(afterId: number, limit: number): number[] {
    const out: number[] = [];
    const from = Math.max(1, Math.floor(afterId) + 1);
    for (let id = from; id < this.accountType.length && out.length < limit; id++) {
      if (this.accountType[id] !== 0) out.push(id);
    }
    return out;
  }

  /** Available and held per asset, for every asset the account has used. */
  balances(accountId: number): BalanceView[] {
    const out: BalanceView[] = [];
    for (const asset of this.ledger.assetIds()) {
      if (this.ledger.findCustomerAccount(accountId, asset) === -1) continue;
      out.push({
        asset,
        available: this.ledger.available(accountId, asset),
        held: this.ledger.held(accountId, asset),
      });
    }
    return out;
  }

  positionsOf(accountId: number): PositionReport[] {
    return (this.accountPositions[accountId] ?? []).map((s) => {
      const ins = this.instruments[this.positions.instrument[s]] as Instrument;
      return {
        ...this.positions.view(s),
        markPrice: this.instrumentMark[ins.spec.instrument],
        unrealizedPnl: this.unrealizedOf(s),
        openBuyQty: this.posOpenBuy[s],
        openSellQty: this.posOpenSell[s],
      };
    });
  }

  /** Every live order's hold, summed per (account, asset): what the held accounts must equal. */
  holdsByAccountAsset(): Map<string, number> {
    const sums = new Map<string, number>();
    for (const id of this.instrumentIds) {
      const ins = this.instruments[id] as Instrument;
      const o = ins.orders;
      o.forEach((s) => {
        const key = `${o.account[s]}:${this.ledger.info(o.holdAccount[s]).asset}`;
        sums.set(key, (sums.get(key) ?? 0) + ins.book.leftAt(s) * o.perLot[s]);
      });
    }
    return sums;
  }

  /** SHA-256 over the whole state: equal for two cores that executed the same commands. */
  stateHash(): string {
    return coreStateHash({
      clockUs: this.clockUs,
      day: this.day,
      venueKill: this.venueKill,
      accounts: this.accountSnapshot(),
      instruments: this.instrumentIds.map((id) => {
        const ins = this.instruments[id] as Instrument;
        return { spec: ins.spec, halted: ins.halted, bookHash: ins.book.stateHash() };
      }),
      ledger: this.ledger,
      positions: this.positions,
      orders: this.orderSnapshot(),
    });
  }

  private accountSnapshot(): number[] {
    const out: number[] = [];
    for (let id = 1; id < this.accountType.length; id++) {
      if (this.accountType[id] === 0) continue;
      const l = this.accountLimits[id] ?? NO_LIMITS;
      out.push(
        id,
        this.accountType[id],
        this.accountStatus[id],
        this.accountKill[id],
        this.accountOpenOrders[id],
      );
      out.push(...Object.values(l));
    }
    return out;
  }

  // ================================================================ snapshot

  /**
   * Writes the core's whole state, between commands: scalars, assets, the ledger, positions, account tables,
   * the core's position columns, and each instrument with its book and order columns, each part written by
   * its owner as it is in memory. A core restored from it (readSnapshot) executes the following commands
   * exactly as this one would: the same records byte for byte, the same state hash. Records waiting in
   * `events` are not state and are not written.
   */
  writeSnapshot(w: SnapshotWriter): void {
    if (this.emergencyCount !== 0 || this.pendingOrderId !== 0)
      throw new Error('core: snapshot inside a command');
    w.tag('CORE');
    w.f64(this.clockUs);
    w.f64(this.day);
    w.f64(this.nextDayUs);
    w.f64(this.commandSeq);
    w.bool(this.venueKill);
    w.f64(this.orderIdHigh);
    this.events.writeSnapshot(w);
    w.u32(this.assets.size);
    for (const a of this.assets.values()) {
      w.i32(a.asset);
      w.string(a.code);
      w.u8(a.decimals);
    }
    this.ledger.writeSnapshot(w);
    this.positions.writeSnapshot(w);
    this.writeAccounts(w);
    this.writePositionColumns(w);
    this.writeInstruments(w);
  }

  /**
   * Loads a state written by writeSnapshot into this core, which must be fresh (no command executed), and
   * checks that the parts agree with each other. Throws a SnapshotError on anything malformed; the core is
   * then unusable.
   */
  readSnapshot(r: SnapshotReader): void {
    if (this.commandSeq !== 0 || this.assets.size !== 0 || this.instrumentIds.length !== 0)
      throw new Error('core: readSnapshot needs a fresh core');
    r.tag('CORE');
    this.clockUs = r.safeInt('clock', 0);
    this.day = r.safeInt('day', -1);
    this.nextDayUs = r.f64();
    this.commandSeq = r.safeInt('command sequence', 0);
    this.venueKill = r.bool();
    this.orderIdHigh = r.safeInt('highest order id', 0);
    this.events.readSnapshot(r);
    const assets = r.count('assets', 1024);
    for (let i = 0; i < assets; i++) {
      const asset = r.int('asset', 0, 1023);
      const code = r.string(CORE_LIMITS.assetCodeLengthMax);
      const decimals = r.u8();
      if (this.assets.has(asset) || !validAssetCode(code) || decimals > CORE_LIMITS.assetDecimalsMax)
        r.fail(`asset ${asset}`);
      this.assets.set(asset, { asset, code, decimals });
    }
    this.ledger.readSnapshot(r);
    const ledgerAssets = this.ledger.assetIds();
    if (ledgerAssets.length !== assets || ledgerAssets.some((a) => !this.assets.has(a)))
      r.fail('the ledger and the core list different assets');
    this.positions.readSnapshot(r);
    this.readAccounts(r);
    this.readPositionColumns(r);
    this.readInstruments(r);
    const problem = this.ledger.audit() || this.openOrdersProblem();
    if (problem !== '') r.fail(problem);
  }

  private writeAccounts(w: SnapshotWriter): void {
    const used = Math.max(
      usedLength(this.accountType),
      usedLength(this.accountStatus),
      usedLength(this.accountKill),
      usedLength(this.accountEmergency),
      usedLength(this.accountOpenOrders),
    );
    w.tag('ACCT');
    w.u32(this.accountType.length);
    w.u32(this.accountCount);
    w.u8s(this.accountType, used);
    w.u8s(this.accountStatus, used);
    w.u8s(this.accountKill, used);
    w.u8s(this.accountEmergency, used);
    w.i32s(this.accountOpenOrders, used);
    const limited = definedIndices(this.accountLimits);
    w.u32(limited.length);
    for (const id of limited) {
      const l = this.accountLimits[id] as RiskLimits;
      if (Object.keys(l).join() !== RISK_LIMIT_KEYS.join()) throw new Error(`core: account ${id}'s limits`);
      w.i32(id);
      for (const k of RISK_LIMIT_KEYS) w.f64(l[k]);
    }
    const trading = definedIndices(this.accountPositions);
    w.u32(trading.length);
    for (const id of trading) {
      w.i32(id);
      w.i32s(Int32Array.from(this.accountPositions[id] as number[]));
    }
    const measured = definedIndices(this.accountDayEquity);
    w.u32(measured.length);
    for (const id of measured) {
      const m = this.accountDayEquity[id] as Map<number, number>;
      w.i32(id);
      w.u32(m.size);
      for (const [asset, equity] of m) {
        w.i32(asset);
        w.f64(equity);
      }
    }
  }

  private readAccounts(r: SnapshotReader): void {
    r.tag('ACCT');
    const capacity = r.count('account capacity', 2 * CORE_LIMITS.accountsMax);
    if (capacity < 1) r.fail('account tables of no capacity');
    this.accountCount = r.count('accounts', CORE_LIMITS.accountsMax);
    this.accountType = new Uint8Array(capacity);
    this.accountStatus = new Uint8Array(capacity);
    this.accountKill = new Uint8Array(capacity);
    this.accountTradable = new Uint8Array(capacity);
    this.accountEmergency = new Uint8Array(capacity);
    this.accountOpenOrders = new Int32Array(capacity);
    this.accountFirstPosition = new Int32Array(capacity).fill(-1);
    this.accountManyPositions = new Uint8Array(capacity);
    this.accountRiskReads = new Uint8Array(capacity);
    this.limitTable = new RiskLimitTable(capacity);
    const used = r.u8sInto(this.accountType, 'account types');
    r.u8sExact(this.accountStatus, used, 'account statuses');
    r.u8sExact(this.accountKill, used, 'account kill switches');
    r.u8sExact(this.accountEmergency, used, 'account emergency flags');
    r.i32sExact(this.accountOpenOrders, used, 'account open orders');
    const problem = this.accountTablesProblem(used);
    if (problem !== '') r.fail(problem);
    for (let id = 1; id < used; id++) this.refreshTradable(id);
    this.readLimits(r);
    this.readAccountPositions(r);
    this.readDayEquity(r);
  }

  private readLimits(r: SnapshotReader): void {
    const limited = r.count('accounts with limits', this.accountCount);
    for (let i = 0; i < limited; i++) {
      const id = this.readAccountId(r);
      const read: Record<string, number> = {};
      for (const k of RISK_LIMIT_KEYS) read[k] = r.safeInt(k, 0);
      const l: RiskLimits = { ...NO_LIMITS, ...read };
      const emergency = needsEmergencyCheck(l) ? 1 : 0;
      if (limitsProblem(read) !== '' || this.accountEmergency[id] !== emergency || this.accountLimits[id])
        r.fail(`limits of account ${id}`);
      this.accountLimits[id] = l;
      this.limitTable.set(id, l);
      this.accountRiskReads[id] = riskReadsOf(l);
    }
    let flagged = 0;
    for (let id = 0; id < this.accountEmergency.length; id++) flagged += this.accountEmergency[id];
    const withThreshold = this.accountLimits.filter((l) => l !== undefined && needsEmergencyCheck(l)).length;
    if (flagged !== withThreshold)
      r.fail(`${flagged} accounts flagged for emergency checks, ${withThreshold} have a threshold`);
    this.emergencyAccounts = flagged;
  }

  /** Each account's positions in the order it opened them: together, every position once. */
  private readAccountPositions(r: SnapshotReader): void {
    const p = this.positions;
    const trading = r.count('accounts with positions', this.accountCount);
    const slots = new Int32Array(p.size);
    const seen = new Uint8Array(p.size);
    let listed = 0;
    for (let i = 0; i < trading; i++) {
      const id = this.readAccountId(r);
      const n = r.i32sInto(slots, `positions of account ${id}`);
      const list = Array.from(slots.subarray(0, n));
      for (const s of list) {
        if (!(s >= 0 && s < p.size) || p.account[s] !== id || seen[s] === 1)
          r.fail(`position ${s} of account ${id}`);
        seen[s] = 1;
      }
      if (this.accountPositions[id] !== undefined) r.fail(`positions of account ${id} twice`);
      this.accountPositions[id] = list;
      this.indexAccountPositions(id, list);
      listed += n;
    }
    if (listed !== p.size) r.fail(`${listed} positions listed by account, ${p.size} held`);
  }

  private readDayEquity(r: SnapshotReader): void {
    const measured = r.count('accounts with day equity', this.accountCount);
    for (let i = 0; i < measured; i++) {
      const id = this.readAccountId(r);
      const m = new Map<number, number>();
      const n = r.count('day equity assets', 1024);
      for (let k = 0; k < n; k++) m.set(r.int('asset', 0, 1023), r.f64());
      if (m.size !== n || this.accountDayEquity[id] !== undefined) r.fail(`day equity of account ${id}`);
      this.accountDayEquity[id] = m;
    }
  }

  /** An account id, of an account that exists. */
  private readAccountId(r: SnapshotReader): number {
    const id = r.int('account', 1, CORE_LIMITS.accountsMax);
    if (!this.accountExists(id)) r.fail(`account ${id} does not exist`);
    return id;
  }

  /** The account tables' values are in range, and the accounts as many as counted. */
  private accountTablesProblem(used: number): string {
    let accounts = 0;
    for (let id = 0; id < used; id++) {
      const type = this.accountType[id];
      if (type === 0) {
        const rest = this.accountStatus[id] | this.accountKill[id] | this.accountEmergency[id];
        if (rest !== 0 || this.accountOpenOrders[id] !== 0)
          return `account ${id} does not exist but has state`;
        continue;
      }
      accounts++;
      const known =
        id >= 1 &&
        Object.values(AccountType).includes(type as AccountType) &&
        (this.accountStatus[id] === AccountStatus.Active ||
          this.accountStatus[id] === AccountStatus.Suspended);
      if (
        !known ||
        this.accountKill[id] > 1 ||
        this.accountEmergency[id] > 1 ||
        this.accountOpenOrders[id] < 0
      )
        return `account ${id}`;
    }
    return accounts === this.accountCount ? '' : `${accounts} accounts, ${this.accountCount} counted`;
  }

  private writePositionColumns(w: SnapshotWriter): void {
    const n = this.positions.size;
    w.tag('PCOL');
    w.u32(this.posOpenBuy.length);
    w.f64s(this.posOpenBuy, n);
    w.f64s(this.posOpenSell, n);
    w.i32s(this.posBaseAccount, n);
    w.i32s(this.posQuoteAccount, n);
    w.f64s(this.posDayStartPnl, n);
    w.i32s(this.posQuoteAsset, n);
    w.f64s(this.posQuoteScale, n);
    w.f64s(this.posQueuedAt, n);
  }

  private readPositionColumns(r: SnapshotReader): void {
    const n = this.positions.size;
    r.tag('PCOL');
    const capacity = r.count('position column capacity', 1 << 24);
    if (capacity < Math.max(1, n)) r.fail(`position columns of ${capacity} for ${n} positions`);
    this.posOpenBuy = new Float64Array(capacity);
    this.posOpenSell = new Float64Array(capacity);
    this.posBaseAccount = new Int32Array(capacity);
    this.posQuoteAccount = new Int32Array(capacity);
    this.posDayStartPnl = new Float64Array(capacity);
    this.posQuoteAsset = new Int32Array(capacity);
    this.posQuoteScale = new Float64Array(capacity);
    this.posQueuedAt = new Float64Array(capacity);
    r.f64sExact(this.posOpenBuy, n, 'open buy quantities');
    r.f64sExact(this.posOpenSell, n, 'open sell quantities');
    r.i32sExact(this.posBaseAccount, n, 'position base accounts');
    r.i32sExact(this.posQuoteAccount, n, 'position quote accounts');
    r.f64sExact(this.posDayStartPnl, n, 'day-start PnL');
    r.i32sExact(this.posQuoteAsset, n, 'position quote assets');
    r.f64sExact(this.posQuoteScale, n, 'position quote scales');
    r.f64sExact(this.posQueuedAt, n, 'position queue marks');
    for (let s = 0; s < n; s++) {
      const account = this.positions.account[s];
      const baseAccount = this.posBaseAccount[s];
      const base =
        baseAccount >= 0 && baseAccount < this.ledger.size
          ? this.ledger.findCustomerAccount(account, this.ledger.info(baseAccount).asset)
          : -1;
      const quote = this.ledger.findCustomerAccount(account, this.posQuoteAsset[s]);
      if (base !== baseAccount || quote !== this.posQuoteAccount[s]) r.fail(`position ${s}: ledger accounts`);
    }
  }

  private writeInstruments(w: SnapshotWriter): void {
    w.tag('INST');
    w.u32(this.instrumentMark.length);
    w.f64s(this.instrumentMark);
    w.u32(this.instrumentIds.length);
    for (const id of this.instrumentIds) {
      const ins = this.instruments[id] as Instrument;
      w.i32(id);
      w.string(JSON.stringify(ins.spec));
      w.bool(ins.halted);
      w.i32(ins.feeIncomeAccount);
      ins.book.writeSnapshot(w);
      ins.orders.writeSnapshot(w, ins.book);
    }
  }

  private readInstruments(r: SnapshotReader): void {
    r.tag('INST');
    const marks = r.count('instrument marks', CORE_LIMITS.instrumentsMax);
    this.instrumentMark = new Float64Array(Math.max(1, marks));
    r.f64sExact(this.instrumentMark, marks, 'instrument marks');
    const n = r.count('instruments', CORE_LIMITS.instrumentsMax);
    for (let i = 0; i < n; i++) {
      const id = r.int('instrument', 0, marks - 1);
      if (this.instruments[id] !== undefined) r.fail(`instrument ${id} twice`);
      const spec = this.readSpec(r, id);
      const halted = r.bool();
      const feeIncomeAccount = r.i32();
      if (feeIncomeAccount !== this.ledger.venueAccount(LedgerAccountKind.FeeIncome, spec.quoteAsset))
        r.fail(`instrument ${id}: fee income account`);
      const book = new OrderBook(this.events, { capacityOrders: 16 });
      book.readSnapshot(r);
      const orders = new OrderColumns(16);
      orders.readSnapshot(r, book);
      const ins: Instrument = { spec, book, orders, halted, feeIncomeAccount };
      const problem = this.restoredInstrumentProblem(ins);
      if (problem !== '') r.fail(`instrument ${id}: ${problem}`);
      this.instruments[id] = ins;
      this.instrumentIds.push(id);
    }
  }

  /** An instrument's spec, stored as its JSON (which the state hash reads, key order included). */
  private readSpec(r: SnapshotReader, id: number): InstrumentSpec {
    const text = r.string(1 << 16);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      r.fail(`instrument ${id}: spec is not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null) r.fail(`instrument ${id}: spec is not an object`);
    const spec = parsed as InstrumentSpec;
    const problem = specProblem(spec);
    if (problem !== '' || spec.instrument !== id) r.fail(`instrument ${id}: spec: ${problem || 'id'}`);
    if (!this.assets.has(spec.baseAsset) || !this.assets.has(spec.quoteAsset))
      r.fail(`instrument ${id}: unknown asset`);
    if (this.instrumentIds.some((i) => this.instruments[i]?.spec.symbol === spec.symbol))
      r.fail(`instrument ${id}: symbol ${spec.symbol} twice`);
    return spec;
  }

  /** The book follows the spec's rules, and the core's order columns name exactly the book's live orders. */
  private restoredInstrumentProblem(ins: Instrument): string {
    const rules = ins.book.instrumentRules;
    const spec = ins.spec;
    if (
      rules.tickSize !== spec.tickSize ||
      rules.lotSize !== spec.lotSize ||
      rules.qtyMin !== spec.qtyMin ||
      rules.qtyMax !== spec.qtyMax ||
      rules.priceBandBps !== 0
    )
      return 'book rules differ from the spec';
    const o = ins.orders;
    if (o.size !== ins.book.orderCount)
      return `${o.size} orders in the core, ${ins.book.orderCount} in the book`;
    let problem = '';
    o.forEach((s) => {
      const known =
        ins.book.slotOf(o.orderId[s]) === s &&
        this.accountExists(o.account[s]) &&
        o.position[s] >= 0 &&
        o.position[s] < this.positions.size &&
        o.holdAccount[s] === (o.buy[s] === 1 ? this.posQuoteAccount : this.posBaseAccount)[o.position[s]];
      if (!known && problem === '') problem = `order ${o.orderId[s]} in slot ${s}`;
    });
    return problem;
  }

  /** Each account's count of open orders equals its live orders over all books. */
  private openOrdersProblem(): string {
    const counts = new Int32Array(this.accountOpenOrders.length);
    for (const id of this.instrumentIds) {
      const o = (this.instruments[id] as Instrument).orders;
      o.forEach((s) => counts[o.account[s]]++);
    }
    for (let id = 0; id < counts.length; id++) {
      if (counts[id] !== this.accountOpenOrders[id])
        return `account ${id}: ${this.accountOpenOrders[id]} open orders counted, ${counts[id]} live`;
    }
    return '';
  }

  /** Live orders in (instrument, order id) order: nothing here depends on which slots they took. */
  private orderSnapshot(): number[] {
    const out: number[] = [];
    for (const id of [...this.instrumentIds].sort((a, b) => a - b)) {
      const ins = this.instruments[id] as Instrument;
      const o = ins.orders;
      const slots: number[] = [];
      o.forEach((s) => slots.push(s));
      slots.sort((a, b) => o.orderId[a] - o.orderId[b]);
      for (const s of slots) {
        const left = ins.book.leftAt(s);
        const filled = ins.book.filledAt(s);
        out.push(o.orderId[s], o.account[s], id, o.buy[s], o.market[s], o.perLot[s], left, filled);
        out.push(o.makerFeePpm[s], o.takerFeePpm[s]);
      }
    }
    return out;
  }
}

// ------------------------------------------------------------------ helpers

// The order path's helpers are `const` functions rather than function declarations: a declaration is a mutable
// binding, so the compiler loads it from the module context and checks it at every call it inlines.

const isNonNegativeInt = (x: unknown): x is number =>
  typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Numbers the gate can price: the book rejects anything else with its own code. */
const wellFormed = (c: PlaceOrder): boolean =>
  isPositiveAmount(c.qty) &&
  isNonNegativeInt(c.price) &&
  isNonNegativeInt(c.triggerPrice) &&
  (c.side === Side.Buy || c.side === Side.Sell) &&
  c.type >= OrderType.Limit &&
  c.type <= OrderType.TakeProfitLimit &&
  c.tif >= TIF_MIN &&
  c.tif <= TIF_MAX;

const isAccountId = (id: unknown): id is number =>
  typeof id === 'number' && Number.isInteger(id) && id >= 1 && id <= ACCOUNTS_MAX;

function amountProblem(amount: unknown): number {
  if (typeof amount !== 'number' || !Number.isInteger(amount) || amount <= 0)
    return LedgerReject.InvalidAmount;
  return Number.isSafeInteger(amount) ? 0 : LedgerReject.AmountAboveSafeRange;
}

function validAssetCode(code: unknown): boolean {
  return typeof code === 'string' && /^[A-Z0-9]{1,12}$/.test(code);
}

/** Bits of what an account's limits make the gate compute: equity, the day's loss, equity at day start. */
const RISK_READS = Object.freeze({ equity: 1, dayLoss: 2, dayStartEquity: 4 });

function riskReadsOf(l: RiskLimits): number {
  return (
    (needsEquity(l) ? RISK_READS.equity : 0) |
    (l.dailyLossMax > 0 || l.dailyLossEquityPpm > 0 ? RISK_READS.dayLoss : 0) |
    (l.dailyLossEquityPpm > 0 ? RISK_READS.dayStartEquity : 0)
  );
}

/** Whether the account has an emergency loss threshold (so its trades queue it for a check). */
function needsEmergencyCheck(l: RiskLimits): boolean {
  return l.emergencyLossMax > 0 || l.emergencyLossEquityPpm > 0;
}

/** One past the last non-zero element of `a`. */
function usedLength(a: Uint8Array | Int32Array): number {
  let n = a.length;
  while (n > 0 && a[n - 1] === 0) n--;
  return n;
}

/** The indices at which a sparse table holds a value, ascending. */
function definedIndices<T>(table: readonly (T | undefined)[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < table.length; i++) if (table[i] !== undefined) out.push(i);
  return out;
}

/**
 * mulExact for operands known to be non-negative whole numbers (validated prices, quantities and scales, or
 * products of them, NaN included): a product of whole numbers is whole, so it is a safe integer exactly when it
 * is at most 2^53 - 1, and NaN fails the comparison. One comparison where Number.isSafeInteger takes a dozen
 * instructions (a rounding and two comparisons) on the order path's three products per order.
 */
const mulWhole = (a: number, b: number): number => {
  const p = a * b;
  return p <= MAX_SAFE ? p : NaN;
};

function finiteOr0(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

/**
 * What an order holds per open lot: for a buy, the value of a lot at its price plus the largest fee it can
 * pay (its taker rate, rounded up per lot, so any fill's fee is covered); for a sell, the lot's base.
 */
const holdPerLot = (buy: boolean, valuePerLot: number, takerFeePpm: number, spec: InstrumentSpec): number =>
  buy ? valuePerLot + feeOf(valuePerLot, takerFeePpm) : spec.baseScale;

/**
 * The worst price a market order may trade at: `bps` beyond the reference, on the tick grid, toward the
 * reference (a buy's cap rounds down, a sell's floor up). 0 when there is no reference.
 */
export function protectionPrice(reference: number, buy: boolean, spec: InstrumentSpec): number {
  if (reference <= 0) return 0;
  const tick = spec.tickSize;
  if (buy) {
    const cap = mulDivFloor(reference, BPS + spec.marketProtectionBps, BPS);
    return Math.max(tick, cap - (cap % tick));
  }
  const raw = reference * (BPS - spec.marketProtectionBps);
  const floor = Math.ceil(raw / BPS);
  const up = floor % tick === 0 ? floor : floor + tick - (floor % tick);
  return Math.max(tick, up);
}

/**
 * The error for a broken invariant of the order path, built out of line: with a template literal holding a
 * number in a hot method, the optimizing compiler converted the number (NumberToString, a new heap string) on
 * every call, thrown or not. Measured with callgrind on the benchmark workload: 3% of the core's instructions
 * per operation, and the garbage collections of those strings.
 */
function broken(what: string, id: number, problem: string): Error {
  return new Error(`${what} ${id} ${problem}`);
}
