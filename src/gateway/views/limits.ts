/** The read side's bounds in one place. */
export const VIEW_LIMITS = Object.freeze({
  /** Trades kept per instrument for GET /trades. */
  tradesKeptDefault: 1000,
  tradesKeptMax: 1_000_000,
  /** Ended orders (filled, cancelled, rejected, expired) kept for lookups by id and history. */
  endedOrdersKeptDefault: 1_000_000,
  /** Ledger entries kept for the account routes' entry history (each order makes about two). */
  entriesKeptDefault: 500_000,
});
