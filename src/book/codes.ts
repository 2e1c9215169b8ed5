/**
 * Reject codes of the order book. Each subsystem owns a range (book 1000-1999, ledger 2000-2999, risk
 * 3000-3999, gateway 4000-4999, core 5000-5999); a code is never reused once retired, so logs and clients stay meaningful.
 */
export const BookReject = {
  InvalidOrderId: 1001,
  InvalidOwner: 1002,
  InvalidSide: 1003,
  InvalidOrderType: 1004,
  InvalidTimeInForce: 1005,
  InvalidQuantity: 1006,
  QuantityNotLotMultiple: 1007,
  QuantityBelowMinimum: 1008,
  QuantityAboveMaximum: 1009,
  InvalidPrice: 1010,
  PriceNotTickMultiple: 1011,
  PriceOutsideBand: 1012,
  InvalidTriggerPrice: 1013,
  InvalidDisplayQuantity: 1014,
  InvalidPostOnly: 1015,
  InvalidSelfTradePrevention: 1016,
  InvalidExpireTime: 1017,
  InvalidTime: 1018,
  DuplicateOrderId: 1019,
  OrderNotFound: 1020,
  NotOrderOwner: 1021,
  PostOnlyWouldTake: 1022,
  AmendNoChange: 1023,
  AmendQuantityNotAboveFilled: 1024,
  BookFull: 1025,
  InvalidSideFilter: 1026,
  InvalidReferencePrice: 1027,
} as const;
export type BookReject = (typeof BookReject)[keyof typeof BookReject];

const names = new Map<number, string>(Object.entries(BookReject).map(([name, code]) => [code, name]));

/** The stable name of a reject code, for logs and API errors. */
export function bookRejectName(code: number): string {
  return names.get(code) ?? `Unknown(${code})`;
}

/** The command a reject answers. */
export const CommandKind = { Place: 1, Cancel: 2, Amend: 3, MassCancel: 4, SetReferencePrice: 5 } as const;
export type CommandKind = (typeof CommandKind)[keyof typeof CommandKind];
