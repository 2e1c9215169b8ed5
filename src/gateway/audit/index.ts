/** The gateway's audit: which routes produce which events, and the hooks that record them. */
export { ROUTE_AUDITS, STATE_CHANGING_METHODS, type RouteAudit } from './actions.js';
export {
  AUDIT_UNAVAILABLE,
  auditPlugin,
  auditEvent,
  auditUnavailableError,
  compileAudit,
  genericAuditEvent,
  outcomeOf,
  type AuditPluginOptions,
  type AuditSubject,
  type CompiledAudit,
} from './plugin.js';
export { WsAuditTicket, outcomeOfError, type WsAuditStart } from './ws.js';
