/**
 * The gateway's error envelope and the error routes throw. Every error a client sees has one shape,
 * `{ "error": { "code", "message", "details" }, "timestamp" }`, with a stable upper-case code it can switch
 * on; the message is for people and may change. The codes the plugins here produce are listed in
 * `HttpErrorCode`; routes add their own (ORDER_NOT_FOUND, INSUFFICIENT_FUNDS, ...) through `GatewayError`.
 */

/** Codes produced by the gateway's plumbing (schemas, parsing, routing, limits). Never reused once retired. */
export const HttpErrorCode = {
  ValidationError: 'VALIDATION_ERROR',
  BadJson: 'BAD_JSON',
  BadRequest: 'BAD_REQUEST',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  NotAcceptable: 'NOT_ACCEPTABLE',
  RequestTimeout: 'REQUEST_TIMEOUT',
  UriTooLong: 'URI_TOO_LONG',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  RateLimited: 'RATE_LIMITED',
  InternalError: 'INTERNAL_ERROR',
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** What a code looks like: capitals, digits and underscores, starting with a capital. */
export const ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

export type ErrorDetails = Readonly<Record<string, unknown>>;

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details: ErrorDetails };
  /** When the answer was made, ISO 8601 in UTC. */
  readonly timestamp: string;
}

/** The envelope, in one place, so that every producer (error handler, rate limits, routes) agrees. */
export function errorBody(
  code: string,
  message: string,
  details: ErrorDetails = {},
  nowMs = Date.now(),
): ErrorBody {
  return { error: { code, message, details }, timestamp: new Date(nowMs).toISOString() };
}

/**
 * An error a route throws on purpose: the client gets `statusCode` and the envelope with `code`, `message` and
 * `details` as given, so the message must be fit for a client (no internals). Anything else a route throws
 * is a bug and becomes INTERNAL_ERROR.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: string;
  readonly statusCode: number;
  readonly details: ErrorDetails;
  /** Response headers that belong to this error (`Retry-After`, `Allow`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: string,
    statusCode: number,
    message: string,
    details: ErrorDetails = {},
    headers: Readonly<Record<string, string>> = {},
  ) {
    // A refusal (4xx, or 503) is made without a stack: see isRefusal in trading/errors.ts.
    const limit = Error.stackTraceLimit;
    if (statusCode < 500 || statusCode === 503) Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    // A bad code or status is a bug in the caller, found at the first throw rather than by a client.
    if (!ERROR_CODE_PATTERN.test(code)) throw new RangeError(`bad error code ${JSON.stringify(code)}`);
    if (!(Number.isInteger(statusCode) && statusCode >= 400 && statusCode <= 599)) {
      throw new RangeError(`bad status ${statusCode} for ${code}: errors are 4xx or 5xx`);
    }
    this.code = code;
    this.statusCode = statusCode;
    this.details = details;
    this.headers = headers;
  }

  toBody(nowMs = Date.now()): ErrorBody {
    return errorBody(this.code, this.message, this.details, nowMs);
  }
}

/** The code and a generic message for a status, when nothing more specific is known. */
export function codeForStatus(statusCode: number): { code: HttpErrorCode; message: string } {
  switch (statusCode) {
    case 400:
      return { code: HttpErrorCode.BadRequest, message: 'bad request' };
    case 401:
      return { code: HttpErrorCode.Unauthorized, message: 'authentication required' };
    case 403:
      return { code: HttpErrorCode.Forbidden, message: 'not allowed' };
    case 404:
      return { code: HttpErrorCode.NotFound, message: 'not found' };
    case 405:
      return { code: HttpErrorCode.MethodNotAllowed, message: 'method not allowed' };
    case 406:
      return { code: HttpErrorCode.NotAcceptable, message: 'not acceptable' };
    case 408:
      return { code: HttpErrorCode.RequestTimeout, message: 'request timeout' };
    case 414:
      return { code: HttpErrorCode.UriTooLong, message: 'the URL or one of its parameters is too long' };
    case 413:
      return { code: HttpErrorCode.PayloadTooLarge, message: 'request body too large' };
    case 415:
      return { code: HttpErrorCode.UnsupportedMediaType, message: 'unsupported media type' };
    case 429:
      return { code: HttpErrorCode.RateLimited, message: 'too many requests' };
    case 503:
      return { code: HttpErrorCode.ServiceUnavailable, message: 'service unavailable' };
    default:
      return statusCode >= 400 && statusCode < 500
        ? { code: HttpErrorCode.BadRequest, message: 'bad request' }
        : { code: HttpErrorCode.InternalError, message: 'internal error' };
  }
}
