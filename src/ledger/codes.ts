/** Reject codes of money movements (2000-2999; see book/codes.ts for the ranges). Stable once published. */
export const LedgerReject = {
  InvalidAmount: 2001,
  AmountAboveSafeRange: 2002,
  InsufficientAvailable: 2003,
  UnknownAsset: 2004,
  CustodyOverflow: 2005,
} as const;
export type LedgerReject = (typeof LedgerReject)[keyof typeof LedgerReject];

const names = new Map<number, string>(Object.entries(LedgerReject).map(([name, code]) => [code, name]));

export function ledgerRejectName(code: number): string {
  return names.get(code) ?? `Unknown(${code})`;
}
