/**
 * Each reject code of the core in a few plain words, for the `message` of an API error (clients switch on the
 * error's `code`; `details.reason` keeps the code's stable name). Keyed by number, over every range: the
 * book's (1000s), the ledger's (2000s), the risk gate's (3000s) and the core's own (5000s). A test holds this
 * table to the codes the core has, so a new code comes with its sentence.
 */
const SENTENCES: Readonly<Record<number, string>> = {
  // The book.
  1001: 'the order id is not valid',
  1002: 'the account is not valid',
  1003: 'the side is not valid',
  1004: 'the order type is not valid',
  1005: 'the time in force is not valid for this order type',
  1006: 'the quantity is not valid',
  1007: "the quantity is not a multiple of the instrument's lot size",
  1008: "the quantity is below the instrument's minimum",
  1009: "the quantity is above the instrument's maximum",
  1010: 'the price is not valid for this order type',
  1011: "the price is not a multiple of the instrument's tick size",
  1012: 'the price is outside the price band',
  1013: 'the trigger price is not valid for this order type',
  1014: 'the display quantity is not valid',
  1015: 'post-only is not valid for this order type or time in force',
  1016: 'the self-trade prevention mode is not valid',
  1017: 'the expiry time is not valid (a GTD order needs one in the future, other orders none)',
  1018: 'the time is not valid',
  1019: 'an order with this id exists already',
  1020: 'the order is not open',
  1021: 'the order belongs to another account',
  1022: 'a post-only order would have taken liquidity',
  1023: 'the amend changes nothing',
  1024: 'the new quantity is not above the quantity already filled',
  1025: 'the book is full',
  1026: 'the side filter is not valid',
  1027: 'the reference price is not valid',
  // The ledger.
  2001: 'the amount is not a positive whole number of minor units',
  2002: 'the amount is beyond the safe range',
  2003: 'the available balance does not cover it',
  2004: 'the asset is not known',
  2005: "the venue's custody of the asset would pass the safe range",
  // The risk gate.
  3001: 'the account does not exist',
  3002: 'the account is suspended',
  3003: 'the instrument is not known',
  3004: 'trading in the instrument is halted',
  3005: "the account's available balance does not cover the order's hold",
  3006: "the quantity is above the account's order quantity limit",
  3007: "the notional is above the account's order notional limit",
  3008: "the account's open orders are at their limit",
  3009: "the position would pass the account's position limit",
  3010: "the position would pass the account's limit as a fraction of its equity",
  3011: 'the account has reached its daily loss limit: only orders that reduce exposure are taken',
  3012: "the account's kill switch is set",
  3013: "the venue's kill switch is set",
  3014: 'the price is outside the price band around the reference price',
  3015: 'an amount of the order would pass the safe range',
  3016: 'there is no reference price to protect a market order with',
  // The core's own.
  5001: 'the time is not valid',
  5002: 'the account id is not valid',
  5003: 'the account exists already',
  5004: 'the account type is not valid',
  5005: 'the account status is not valid',
  5006: 'the asset id is not valid',
  5007: 'the asset exists already',
  5008: 'the asset code is not valid',
  5009: 'the instrument specification is not valid',
  5010: 'that field of an instrument cannot change',
  5011: 'the risk limits are not valid',
  5012: "the account is not an active risk officer's",
  5013: 'the kill switch is not set',
  5014: 'the instrument filter is not valid',
  5015: 'the command is not known',
};

/** The sentence of a reject code, or null for a code the table does not have. */
export function rejectSentence(code: number): string | null {
  return SENTENCES[code] ?? null;
}

/** The codes the table has (for its test). */
export const SENTENCE_CODES: readonly number[] = Object.keys(SENTENCES).map(Number);
