import { bookRejectName } from '../book/index.js';
import { ledgerRejectName } from '../ledger/index.js';
import { riskRejectName } from '../risk/index.js';

/** Reject codes of the core's own commands (5000-5999; see book/codes.ts for the ranges). Stable once published. */
export const CoreReject = {
  InvalidTime: 5001,
  InvalidAccountId: 5002,
  AccountExists: 5003,
  InvalidAccountType: 5004,
  InvalidAccountStatus: 5005,
  InvalidAssetId: 5006,
  AssetExists: 5007,
  InvalidAssetCode: 5008,
  InvalidInstrumentSpec: 5009,
  InstrumentFieldFixed: 5010,
  InvalidRiskLimits: 5011,
  NotRiskOfficer: 5012,
  KillSwitchNotSet: 5013,
  InvalidInstrumentFilter: 5014,
  UnknownCommand: 5015,
} as const;
export type CoreReject = (typeof CoreReject)[keyof typeof CoreReject];

const names = new Map<number, string>(Object.entries(CoreReject).map(([name, code]) => [code, name]));

export function coreRejectName(code: number): string {
  return names.get(code) ?? `Unknown(${code})`;
}

/**
 * The name of any reject code an OrderRejected or CommandRejected record of the core carries: the book's
 * (1000s), the ledger's (2000s), the risk gate's (3000s) or the core's own (5000s).
 */
export function rejectCodeName(code: number): string {
  if (code >= 1000 && code < 2000) return bookRejectName(code);
  if (code >= 2000 && code < 3000) return ledgerRejectName(code);
  if (code >= 3000 && code < 4000) return riskRejectName(code);
  return coreRejectName(code);
}
