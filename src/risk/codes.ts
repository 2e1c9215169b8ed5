/**
 * Reject codes of the pre-trade risk gate (3000-3999; see book/codes.ts for the ranges). Stable: a code is
 * never reused once retired.
 */
export const RiskReject = {
  UnknownAccount: 3001,
  AccountSuspended: 3002,
  UnknownInstrument: 3003,
  InstrumentHalted: 3004,
  InsufficientFunds: 3005,
  OrderQuantityAboveLimit: 3006,
  OrderNotionalAboveLimit: 3007,
  OpenOrdersAboveLimit: 3008,
  PositionAboveLimit: 3009,
  PositionAboveEquityFraction: 3010,
  DailyLossLimitReached: 3011,
  AccountKillSwitch: 3012,
  VenueKillSwitch: 3013,
  PriceOutsideBand: 3014,
  AmountOverflow: 3015,
  NoReferencePrice: 3016,
} as const;
export type RiskReject = (typeof RiskReject)[keyof typeof RiskReject];

const names = new Map<number, string>(Object.entries(RiskReject).map(([name, code]) => [code, name]));

export function riskRejectName(code: number): string {
  return names.get(code) ?? `Unknown(${code})`;
}
