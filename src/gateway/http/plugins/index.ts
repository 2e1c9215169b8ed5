/**
 * The HTTP server's cross-cutting plugins, each standalone: security headers, request ids, the error
 * envelope (with `GatewayError` for routes) and the logger's options. Register them, awaited, before any
 * route: `errorEnvelope` learns the routes as they are added.
 */
export {
  ERROR_CODE_PATTERN,
  GatewayError,
  HttpErrorCode,
  codeForStatus,
  errorBody,
  type ErrorBody,
  type ErrorDetails,
} from './errors.js';
export {
  ECHO_LENGTH_MAX,
  STRICT_AJV_OPTIONS,
  VALIDATION_ISSUES_MAX,
  classifyError,
  errorEnvelope,
  frameworkErrorsHandler,
  routePattern,
  sendError,
} from './error-envelope.js';
export {
  SECURITY_HEADERS_DEFAULTS,
  allSecurityHeaders,
  fixedSecurityHeaders,
  securityHeaders,
  type SecurityHeadersOptions,
} from './security-headers.js';
export {
  REQUEST_ID_HEADER,
  REQUEST_ID_PATTERN,
  requestId,
  requestIdOf,
  requestIdOptions,
} from './request-id.js';
export {
  ACCESS_LOG,
  AccessLogController,
  REDACTED,
  REDACT_PATHS,
  SECRET_FIELDS,
  SECRET_HEADERS,
  SECRET_QUERY_PARAMS,
  LazyChildLogger,
  lazyChildLogger,
  loggerOptions,
  redactUrl,
  type GatewayLoggerOptions,
  type LoggerOptionsExtra,
} from './logging.js';
