/**
 * The core's event stream: one buffer of fixed 16-number records that the books, the ledger and the core all
 * write into, in the order things happened. Record types: the book's events 1-12 (with the instrument id
 * added in field 15), the ledger's entries 40-41, the core's own 32-39 and 48-63. In the core's records
 * field 1 is the command sequence (the number of commands the core has executed), so every record can be
 * traced to the command that caused it.
 */
import { EVENT_STRIDE, EventType, decodeEvent, type BookEvent, type EventBuffer } from '../book/index.js';
import { LedgerRecordType, decodeEntry, type LedgerEntry } from '../ledger/index.js';

export const CoreEventType = {
  AssetAdded: 32,
  AccountCreated: 33,
  AccountStatusChanged: 34,
  InstrumentDefined: 35,
  TradingStatusChanged: 36,
  RiskLimitsSet: 37,
  KillSwitchSet: 38,
  KillSwitchReset: 39,
  CommandRejected: 48,
  EmergencyStop: 49,
} as const;
export type CoreEventType = (typeof CoreEventType)[keyof typeof CoreEventType];

/** Field of every book record (and of order rejects by the risk gate) that holds the instrument id. */
export const F_INSTRUMENT = 15;
// Core record fields.
export const C_SEQ = 1;
export const C_TIME = 2;
export const C_ACCOUNT = 3;
export const C_A = 4;
export const C_B = 5;
export const C_C = 6;

export const KillReason = { Manual: 1, Emergency: 2 } as const;
export type KillReason = (typeof KillReason)[keyof typeof KillReason];

export type CoreEvent =
  | { type: 'AssetAdded'; seq: number; timeUs: number; asset: number; decimals: number }
  | { type: 'AccountCreated'; seq: number; timeUs: number; accountId: number; accountType: number }
  | { type: 'AccountStatusChanged'; seq: number; timeUs: number; accountId: number; status: number }
  | { type: 'InstrumentDefined'; seq: number; timeUs: number; instrument: number; created: boolean }
  | { type: 'TradingStatusChanged'; seq: number; timeUs: number; instrument: number; halted: boolean }
  | { type: 'RiskLimitsSet'; seq: number; timeUs: number; accountId: number }
  | {
      type: 'KillSwitchSet';
      seq: number;
      timeUs: number;
      accountId: number;
      reason: KillReason;
      ordersCancelled: number;
    }
  | { type: 'KillSwitchReset'; seq: number; timeUs: number; accountId: number; officerId: number }
  | {
      type: 'CommandRejected';
      seq: number;
      timeUs: number;
      accountId: number;
      command: number;
      code: number;
      ref: number;
    }
  | {
      type: 'EmergencyStop';
      seq: number;
      timeUs: number;
      accountId: number;
      quoteAsset: number;
      dayLoss: number;
    };

/** Any record of the stream, decoded. */
export type StreamEvent =
  (BookEvent & { instrument: number }) | ({ type: 'EntryPosted' } & LedgerEntry) | CoreEvent;

/** Decodes records `from` .. `to` - 1 of the buffer (entry continuation records fold into their entry). */
export function decodeStream(buf: EventBuffer, from = 0, to = buf.count): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (let i = from; i < to; i++) {
    const e = decodeRecord(buf, i);
    if (e !== undefined) out.push(e);
  }
  return out;
}

/** Decodes record `i`; undefined for an entry's continuation record. */
export function decodeRecord(buf: EventBuffer, i: number): StreamEvent | undefined {
  const data = buf.data;
  const o = i * EVENT_STRIDE;
  const type = data[o];
  if (type >= EventType.OrderAccepted && type <= EventType.TopOfBookChanged) {
    return { ...decodeEvent(buf, i), instrument: data[o + F_INSTRUMENT] };
  }
  if (
    type === LedgerRecordType.EntryPosted ||
    type === LedgerRecordType.HoldPosted ||
    type === LedgerRecordType.SettlementPosted
  ) {
    return { type: 'EntryPosted', ...decodeEntry(data, i) };
  }
  if (type === LedgerRecordType.EntryLines) return undefined;
  const seq = data[o + C_SEQ];
  const timeUs = data[o + C_TIME];
  const account = data[o + C_ACCOUNT];
  switch (type) {
    case CoreEventType.AssetAdded:
      return { type: 'AssetAdded', seq, timeUs, asset: data[o + C_A], decimals: data[o + C_B] };
    case CoreEventType.AccountCreated:
      return { type: 'AccountCreated', seq, timeUs, accountId: account, accountType: data[o + C_A] };
    case CoreEventType.AccountStatusChanged:
      return { type: 'AccountStatusChanged', seq, timeUs, accountId: account, status: data[o + C_A] };
    case CoreEventType.InstrumentDefined:
      return {
        type: 'InstrumentDefined',
        seq,
        timeUs,
        instrument: data[o + F_INSTRUMENT],
        created: data[o + C_A] === 1,
      };
    case CoreEventType.TradingStatusChanged:
      return {
        type: 'TradingStatusChanged',
        seq,
        timeUs,
        instrument: data[o + F_INSTRUMENT],
        halted: data[o + C_A] === 1,
      };
    case CoreEventType.RiskLimitsSet:
      return { type: 'RiskLimitsSet', seq, timeUs, accountId: account };
    case CoreEventType.KillSwitchSet:
      return {
        type: 'KillSwitchSet',
        seq,
        timeUs,
        accountId: account,
        reason: data[o + C_A] as KillReason,
        ordersCancelled: data[o + C_B],
      };
    case CoreEventType.KillSwitchReset:
      return { type: 'KillSwitchReset', seq, timeUs, accountId: account, officerId: data[o + C_A] };
    case CoreEventType.CommandRejected:
      return {
        type: 'CommandRejected',
        seq,
        timeUs,
        accountId: account,
        command: data[o + C_A],
        code: data[o + C_B],
        ref: data[o + C_C],
      };
    case CoreEventType.EmergencyStop:
      return {
        type: 'EmergencyStop',
        seq,
        timeUs,
        accountId: account,
        quoteAsset: data[o + C_A],
        dayLoss: data[o + C_B],
      };
    default:
      throw new Error(`record ${i}: unknown type ${type}`);
  }
}
