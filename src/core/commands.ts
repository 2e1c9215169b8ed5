/**
 * The commands the core executes. Each carries the time it was sequenced at (`timeUs`, microseconds since the
 * epoch) and every id it needs: the core reads no clock and draws no ids of its own, so the same commands
 * always give the same events. A command is a plain object, serializable as it is into the journal.
 */
import type { OrderType, SelfTradePrevention, Side, TimeInForce } from '../book/index.js';
import type { RiskLimits } from '../risk/index.js';
import type { InstrumentSpec } from './instruments.js';

export const AccountType = { Customer: 1, MarketMaker: 2, RiskOfficer: 3 } as const;
export type AccountType = (typeof AccountType)[keyof typeof AccountType];

export const AccountStatus = { Active: 1, Suspended: 2 } as const;
export type AccountStatus = (typeof AccountStatus)[keyof typeof AccountStatus];

interface Timed {
  timeUs: number;
}

export interface AddAsset extends Timed {
  kind: 'addAsset';
  /** 0 .. 1023 */
  asset: number;
  /** A short code such as USD or BTC. */
  code: string;
  /** Decimal places of one minor unit: 2 for cents, 8 for satoshis. */
  decimals: number;
}

export interface CreateAccount extends Timed {
  kind: 'createAccount';
  /** 1 .. 2^20 (accounts are dense, assigned by the sequencer). */
  accountId: number;
  accountType: AccountType;
}

export interface SetAccountStatus extends Timed {
  kind: 'setAccountStatus';
  accountId: number;
  status: AccountStatus;
}

export interface Deposit extends Timed {
  kind: 'deposit';
  accountId: number;
  asset: number;
  /** Minor units. */
  amount: number;
  /** The payment's own reference (a bank or chain transaction id number). */
  ref: number;
}

export interface Withdraw extends Timed {
  kind: 'withdraw';
  accountId: number;
  asset: number;
  amount: number;
  ref: number;
}

/** Adds an instrument, or changes the fields given of an existing one. */
export interface DefineInstrument extends Timed {
  kind: 'defineInstrument';
  spec: Partial<InstrumentSpec> & { instrument: number };
}

export interface PlaceOrder extends Timed {
  kind: 'placeOrder';
  accountId: number;
  instrument: number;
  orderId: number;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  /** Limit price in ticks; for market types 0 (the core applies the instrument's protection) or a protection price. */
  price: number;
  triggerPrice: number;
  qty: number;
  displayQty: number;
  postOnly: boolean;
  stp: SelfTradePrevention;
  expireTimeUs: number;
  /**
   * The client's own id for the order, when it gave one: carried into the journal with the order (so that the
   * mapping (account, client order id) → order id is as durable as the order and rebuilt from the journal), and
   * ignored by the core: the same events and state with or without it. Absent, not undefined, when none.
   */
  clientOrderId?: string;
}

export interface CancelOrder extends Timed {
  kind: 'cancelOrder';
  /** The owner asking; an operator may pass 0 to cancel any order. */
  accountId: number;
  /** The order's instrument: order ids are unique within an instrument (as FIX names the symbol too). */
  instrument: number;
  orderId: number;
}

export interface AmendOrder extends Timed {
  kind: 'amendOrder';
  accountId: number;
  instrument: number;
  orderId: number;
  /** New limit price, or 0 to keep it. */
  price: number;
  /** New total quantity (filled included, as in FIX), or 0 to keep it. */
  qty: number;
  triggerPrice: number;
}

export interface MassCancel extends Timed {
  kind: 'massCancel';
  /** The account whose orders go, or 0 for every account (an operator). */
  accountId: number;
  /** One instrument, or -1 for all. */
  instrument: number;
  /** One side, or -1 for both. */
  side: number;
}

/** Moves the venue's clock; DAY and GTD orders that are due expire, and the emergency checks run. */
export interface AdvanceTime extends Timed {
  kind: 'advanceTime';
}

export interface SetRiskLimits extends Timed {
  kind: 'setRiskLimits';
  accountId: number;
  /** The limits to change; the others keep their values. */
  limits: Partial<RiskLimits>;
}

export interface SetTradingStatus extends Timed {
  kind: 'setTradingStatus';
  instrument: number;
  halted: boolean;
}

/** Sets the kill switch of one account (cancelling its orders) or, with accountId 0, of the whole venue. */
export interface KillSwitch extends Timed {
  kind: 'killSwitch';
  accountId: number;
}

/** Clears a kill switch; only a risk officer's account may. */
export interface ResetKillSwitch extends Timed {
  kind: 'resetKillSwitch';
  officerId: number;
  /** The account, or 0 for the venue. */
  accountId: number;
}

export type Command =
  | AddAsset
  | CreateAccount
  | SetAccountStatus
  | Deposit
  | Withdraw
  | DefineInstrument
  | PlaceOrder
  | CancelOrder
  | AmendOrder
  | MassCancel
  | AdvanceTime
  | SetRiskLimits
  | SetTradingStatus
  | KillSwitch
  | ResetKillSwitch;

export type CommandName = Command['kind'];

/** Numbers for command names, as events record which command a reject answers. */
export const CommandCode: Readonly<Record<CommandName, number>> = Object.freeze({
  addAsset: 1,
  createAccount: 2,
  setAccountStatus: 3,
  deposit: 4,
  withdraw: 5,
  defineInstrument: 6,
  placeOrder: 7,
  cancelOrder: 8,
  amendOrder: 9,
  massCancel: 10,
  advanceTime: 11,
  setRiskLimits: 12,
  setTradingStatus: 13,
  killSwitch: 14,
  resetKillSwitch: 15,
});
