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
