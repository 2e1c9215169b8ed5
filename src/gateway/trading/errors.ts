/**
 * The gateway's errors: values with a stable code, an HTTP status and details, made in one place. Clients
 * see `{ "error": { "code", "message", "details" }, "timestamp" }`. The core's reject codes (book 1000s,
 * ledger 2000s, risk 3000s, core 5000s) map to these codes here, with the core's code and name in details.
 */
import { BookReject } from '../../book/index.js';
import { rejectCodeName, CoreReject } from '../../core/index.js';
import { rejectSentence } from './reject-sentences.js';

export const ErrorCode = {
  ValidationError: 'VALIDATION_ERROR',
  InvalidSymbol: 'INVALID_SYMBOL',
  OrderNotFound: 'ORDER_NOT_FOUND',
  OrderCannotBeCancelled: 'ORDER_CANNOT_BE_CANCELLED',
  OrderCannotBeAmended: 'ORDER_CANNOT_BE_AMENDED',
  InsufficientFunds: 'INSUFFICIENT_FUNDS',
  AccountNotFound: 'ACCOUNT_NOT_FOUND',
  AccountSuspended: 'ACCOUNT_SUSPENDED',
  AccountExists: 'ACCOUNT_EXISTS',
  TradingHalted: 'TRADING_HALTED',
  KillSwitchActive: 'KILL_SWITCH_ACTIVE',
  KillSwitchNotSet: 'KILL_SWITCH_NOT_SET',
  NotRiskOfficer: 'NOT_RISK_OFFICER',
  RiskLimitExceeded: 'RISK_LIMIT_EXCEEDED',
  PriceOutOfBand: 'PRICE_OUT_OF_BAND',
  NoReferencePrice: 'NO_REFERENCE_PRICE',
  PostOnlyWouldTake: 'POST_ONLY_WOULD_TAKE',
  DuplicateOrderId: 'DUPLICATE_ORDER_ID',
  ClientOrderIdConflict: 'CLIENT_ORDER_ID_CONFLICT',
  BookFull: 'BOOK_FULL',
  InstrumentExists: 'INSTRUMENT_EXISTS',
  InstrumentFieldFixed: 'INSTRUMENT_FIELD_FIXED',
  InvalidInstrument: 'INVALID_INSTRUMENT',
  UnknownAsset: 'UNKNOWN_ASSET',
  OrderRejected: 'ORDER_REJECTED',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  KeyNotFound: 'KEY_NOT_FOUND',
  LastAdminKey: 'LAST_ADMIN_KEY',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  RateLimited: 'RATE_LIMITED',
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
  InternalError: 'INTERNAL_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type ErrorDetails = Readonly<Record<string, unknown>>;

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    const limit = Error.stackTraceLimit;
    if (isRefusal(status)) Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/**
 * A status that answers a request the venue refused (4xx, or 503: come back later), not a bug: such an error
 * is made without a stack, which said nothing about the refusal and cost more than the rest of the error
 * (a refused cancel or a full audit queue makes one per request, thousands a second under load).
 */
export const isRefusal = (status: number): boolean => status < 500 || status === 503;

export const validationError = (message: string, details: ErrorDetails = {}): ApiError =>
  new ApiError(400, ErrorCode.ValidationError, message, details);

export const orderNotFound = (orderId: string | number): ApiError =>
  new ApiError(404, ErrorCode.OrderNotFound, `order ${orderId} not found`, { order_id: String(orderId) });

export const invalidSymbol = (symbol: string): ApiError =>
  new ApiError(400, ErrorCode.InvalidSymbol, `unknown symbol ${JSON.stringify(symbol)}`, { symbol });

/** The body of an error response. */
export function errorBody(
  e: ApiError,
  nowMs: number,
): {
  error: { code: string; message: string; details: ErrorDetails };
  timestamp: string;
} {
  return {
    error: { code: e.code, message: e.message, details: e.details },
    timestamp: new Date(nowMs).toISOString(),
  };
}

// The risk gate's and ledger's codes, by number: the gateway does not import those folders' tables.
const RISK: Readonly<Record<number, readonly [number, ErrorCode]>> = {
  3001: [404, ErrorCode.AccountNotFound], // UnknownAccount
  3002: [403, ErrorCode.AccountSuspended], // AccountSuspended
  3003: [400, ErrorCode.InvalidSymbol], // UnknownInstrument
  3004: [409, ErrorCode.TradingHalted], // InstrumentHalted
  3005: [422, ErrorCode.InsufficientFunds], // InsufficientFunds
  3006: [422, ErrorCode.RiskLimitExceeded], // OrderQuantityAboveLimit
  3007: [422, ErrorCode.RiskLimitExceeded], // OrderNotionalAboveLimit
  3008: [422, ErrorCode.RiskLimitExceeded], // OpenOrdersAboveLimit
  3009: [422, ErrorCode.RiskLimitExceeded], // PositionAboveLimit
  3010: [422, ErrorCode.RiskLimitExceeded], // PositionAboveEquityFraction
  3011: [422, ErrorCode.RiskLimitExceeded], // DailyLossLimitReached
  3012: [403, ErrorCode.KillSwitchActive], // AccountKillSwitch
  3013: [403, ErrorCode.KillSwitchActive], // VenueKillSwitch
  3014: [422, ErrorCode.PriceOutOfBand], // PriceOutsideBand
  3015: [422, ErrorCode.RiskLimitExceeded], // AmountOverflow
  3016: [422, ErrorCode.NoReferencePrice], // NoReferencePrice
};
const LEDGER: Readonly<Record<number, readonly [number, ErrorCode]>> = {
  2001: [400, ErrorCode.ValidationError], // InvalidAmount
  2002: [400, ErrorCode.ValidationError], // AmountAboveSafeRange
  2003: [422, ErrorCode.InsufficientFunds], // InsufficientAvailable
  2004: [400, ErrorCode.ValidationError], // UnknownAsset
  2005: [422, ErrorCode.RiskLimitExceeded], // CustodyOverflow
};

function bookError(code: number): [number, ErrorCode] {
  switch (code) {
    case BookReject.OrderNotFound:
      return [404, ErrorCode.OrderNotFound];
    case BookReject.NotOrderOwner:
      return [404, ErrorCode.OrderNotFound];
    case BookReject.PostOnlyWouldTake:
      return [422, ErrorCode.PostOnlyWouldTake];
    case BookReject.PriceOutsideBand:
      return [422, ErrorCode.PriceOutOfBand];
    case BookReject.DuplicateOrderId:
      return [409, ErrorCode.DuplicateOrderId];
    case BookReject.BookFull:
      return [503, ErrorCode.BookFull];
    default:
      return [400, ErrorCode.ValidationError];
  }
}

/** The name of any reject code of the core (for details and logs). */
export const rejectName = rejectCodeName;

/** The API error for a reject code of the core, with `details` added. */
export function rejectError(code: number, message: string, details: ErrorDetails = {}): ApiError {
  let mapped: readonly [number, ErrorCode];
  if (code >= 1000 && code < 2000) mapped = bookError(code);
  else if (code >= 2000 && code < 3000) mapped = LEDGER[code] ?? [422, ErrorCode.OrderRejected];
  else if (code >= 3000 && code < 4000) mapped = RISK[code] ?? [422, ErrorCode.OrderRejected];
  else if (code === CoreReject.AccountExists) mapped = [409, ErrorCode.AccountExists];
  else if (code === CoreReject.KillSwitchNotSet) mapped = [409, ErrorCode.KillSwitchNotSet];
  else if (code === CoreReject.NotRiskOfficer) mapped = [422, ErrorCode.NotRiskOfficer];
  else mapped = [400, ErrorCode.ValidationError];
  const sentence = rejectSentence(code);
  return new ApiError(mapped[0], mapped[1], sentence === null ? message : `${message}: ${sentence}`, {
    ...details,
    reject_code: code,
    reason: rejectName(code),
  });
}
