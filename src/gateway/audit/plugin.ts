/**
 * The audit hooks of the HTTP server. At registration (`onRoute`) each route in ROUTE_AUDITS gets its action
 * in its config (`config.audit`) and two hooks of its own; other routes pay nothing. A route may also name its
 * action itself (`config: { audit: 'x.y' }`) with a table entry for its target.
 *
 * - onRequest: room for the event is reserved in the writer's queue before anything else runs, so that the
 *   action never happens unrecorded; a queue that stays full answers 503 AUDIT_UNAVAILABLE (Retry-After: 1).
 * - onSend: the event is committed with the answer's result (2xx ok, 4xx refused, 5xx failed, with the error
 *   envelope's code), the principal the request authenticated as (none when it did not), its address and id.
 *   It is committed when the answer is decided rather than when it is delivered (onResponse), so that a
 *   client that goes away does not take the record with it.
 * - If the response closes without an answer (never seen so far), the event is committed as failed with
 *   NO_ANSWER rather than lost.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import {
  AuditError,
  auditEventId,
  DetailShape,
  makeEvent,
  makeFixedEvent,
  type Actor,
  type AuditEventInput,
  type AuditWriter,
  type DetailScalar,
  type Outcome,
  type Target,
  type Ticket,
} from '../../audit/index.js';
import type { Principal } from '../auth/index.js';
import { GatewayError } from '../http/plugins/index.js';
import {
  ROUTE_AUDITS,
  STATE_CHANGING_METHODS,
  field,
  pickSource,
  type AuditedRequest,
  type DetailFields,
  type RouteAudit,
} from './actions.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The audit action of this route (filled in from ROUTE_AUDITS at registration). */
    audit?: string;
  }
  interface FastifyRequest {
    /** The audited request's event in the making (its ticket), from onRequest to its commit; else null. */
    auditPending: AuditPending | null;
  }
}

export interface AuditPluginOptions {
  readonly writer: AuditWriter;
  /** The clock for event times, microseconds (tests pass their own). */
  readonly nowUs?: () => number;
}

export const AUDIT_UNAVAILABLE = 'AUDIT_UNAVAILABLE';
/** The refusal of audited work while the audit queue is full or closing. */
export const auditUnavailableError = (why: string): GatewayError =>
  new GatewayError(
    AUDIT_UNAVAILABLE,
    503,
    `the audit trail cannot take more events now: ${why}`,
    {},
    {
      'Retry-After': '1',
    },
  );

/** The error envelope's code (`{"error":{"code":"X",...`), read without parsing the whole answer. */
const CODE_IN_ENVELOPE = /^\{"error":\{"code":"([A-Z][A-Z0-9_]{0,63})"/;
const ORDER_ID_IN_ANSWER = /"order_id":"([0-9]{1,20})"/;
const ORDER_PLACE = 'order.place';

/** A placement's order id, read from its answer (undefined for other actions, or an answer without one). */
function placedOrderId(entry: RouteAudit, payload: unknown): string | undefined {
  if (entry.action !== ORDER_PLACE || typeof payload !== 'string') return undefined;
  return ORDER_ID_IN_ANSWER.exec(payload)?.[1];
}

/** The request's target, its id read from a 2xx answer where the route says the answer names it. */
function targetOf(entry: RouteAudit, req: AuditedRequest, outcome: Outcome, payload: unknown): Target {
  const target = entry.target(req);
  const pattern = entry.targetIdInAnswer;
  if (pattern === undefined || target.id !== null || outcome.status !== 'ok' || typeof payload !== 'string')
    return target;
  return { kind: target.kind, id: pattern.exec(payload)?.[1] ?? null };
}

/** The result of an answer: its status class and, for an error, the envelope's code. */
export function outcomeOf(statusCode: number, payload: unknown): Outcome {
  if (statusCode < 400) return { status: 'ok', code: null };
  const m = typeof payload === 'string' ? CODE_IN_ENVELOPE.exec(payload) : null;
  const code = m?.[1] ?? `HTTP_${statusCode}`;
  return { status: statusCode >= 500 ? 'failed' : 'refused', code };
}

/** What an audited request's event is made of (fastify's request has it all). */
export interface AuditSubject extends AuditedRequest {
  /** Null when the request did not authenticate; undefined on a server without authentication. */
  readonly principal: Principal | null | undefined;
  /**
   * The client's address; undefined when it was never read and the socket is gone (a response closed
   * without an answer): the event then says null (it threw before, out of the close listener).
   */
  readonly ip: string | undefined;
  readonly id: string;
  readonly method: string;
}

/**
 * A route's audit as the plugin uses it: the table's entry and, when its details are a pick of fields (or
 * none), the fixed shape of its events' details: the picked fields, `order_id` for a placement, `method`.
 */
export interface CompiledAudit {
  readonly entry: RouteAudit;
  readonly fixed: { readonly fields: DetailFields; readonly shape: DetailShape } | null;
}

const NO_FIELDS: DetailFields = Object.freeze({ from: 'body', names: [], queryWithoutBody: false });

export function compileAudit(entry: RouteAudit): CompiledAudit {
  const fields = entry.fields ?? (entry.details === undefined ? NO_FIELDS : null);
  if (fields === null) return { entry, fixed: null };
  const extra = entry.action === ORDER_PLACE ? ['order_id', 'method'] : ['method'];
  return { entry, fixed: { fields, shape: new DetailShape([...fields.names, ...extra]) } };
}

/**
 * The actor of a principal's requests from one address: one object while they come from it (a keep-alive
 * connection's requests), so that makeFixedEvent cleans it and writes its part of the canonical JSON once.
 */
const actors = new WeakMap<Principal, Actor>();

function actorOf(principal: Principal, ip: string | null): Actor {
  let actor = actors.get(principal);
  if (actor === undefined || actor.ip !== ip) {
    actor = Object.freeze({ id: principal.keyId, role: principal.role, ip });
    actors.set(principal, actor);
  }
  return actor;
}

/** The details' values in `shape`'s order for a request whose picked values are all scalars, else null. */
function fixedValues(req: AuditSubject, fields: DetailFields): DetailScalar[] | null {
  const src = pickSource(fields, req);
  const names = fields.names;
  const values: DetailScalar[] = [];
  for (let i = 0; i < names.length; i++) {
    const v = field(src, names[i]);
    if (
      v === undefined ||
      v === null ||
      typeof v === 'string' ||
      typeof v === 'number' ||
      typeof v === 'boolean'
    )
      values.push(v);
    else return null;
  }
  return values;
}

/**
 * The event of an audited request: written directly (makeFixedEvent) when the route's details have a fixed
 * shape, the request authenticated and its picked values are scalars; else the generic way (`genericAuditEvent`).
 * The two give the same event and the same canonical JSON (a test holds them to each other).
 */
export function auditEvent(
  req: AuditSubject,
  audit: CompiledAudit,
  outcome: Outcome,
  payload: unknown,
  id: string,
  timeUs: number,
): AuditEventInput {
  const { entry, fixed } = audit;
  const principal = req.principal;
  if (fixed !== null && principal !== null && principal !== undefined) {
    const values = fixedValues(req, fixed.fields);
    if (values !== null) {
      if (entry.action === ORDER_PLACE) values.push(placedOrderId(entry, payload));
      values.push(req.method);
      return makeFixedEvent({
        id,
        timeUs,
        actor: actorOf(principal, req.ip ?? null),
        action: entry.action,
        target: targetOf(entry, req, outcome, payload),
        result: outcome,
        requestId: req.id,
        shape: fixed.shape,
        values,
      });
    }
  }
  return genericAuditEvent(req, entry, outcome, payload, id, timeUs);
}

/** The event of an audited request, its details picked into an object and made fit by makeEvent. */
export function genericAuditEvent(
  req: AuditSubject,
  entry: RouteAudit,
  outcome: Outcome,
  payload: unknown,
  id: string,
  timeUs: number,
): AuditEventInput {
  const principal = req.principal;
  const details: Record<string, unknown> = { ...entry.details?.(req) };
  const orderId = placedOrderId(entry, payload);
  if (orderId !== undefined) details.order_id = orderId;
  details.method = req.method;
  return makeEvent({
    id,
    timeUs,
    actor: { id: principal?.keyId ?? null, role: principal?.role ?? null, ip: req.ip ?? null },
    action: entry.action,
    target: targetOf(entry, req, outcome, payload),
    result: outcome,
    requestId: req.id,
    details,
  });
}

/** An audited request's reserved room in the writer's queue, from onRequest until its event is committed. */
export interface AuditPending {
  readonly ticket: Ticket;
  readonly timeUs: number;
  committed: boolean;
}

const NO_ANSWER: Outcome = Object.freeze({ status: 'failed', code: 'NO_ANSWER' });

/** Commits `req`'s event, once, with the answer's outcome. */
function commit(req: FastifyRequest, audit: CompiledAudit, outcome: Outcome, payload: unknown): void {
  const p = req.auditPending;
  if (p === null || p.committed) return;
  p.committed = true;
  p.ticket.commit(auditEvent(req, audit, outcome, payload, auditEventId(), p.timeUs));
}

/**
 * A request's pending event, with the listener of its response's `close` (one function per request, rather
 * than `once`'s wrapper around a closure): a response closed without an answer commits it as NO_ANSWER.
 */
class PendingEvent implements AuditPending {
  committed = false;

  constructor(
    readonly ticket: Ticket,
    readonly timeUs: number,
    private readonly req: FastifyRequest,
    private readonly audit: CompiledAudit,
  ) {}

  readonly onClose = (): void => {
    if (!this.committed) commit(this.req, this.audit, NO_ANSWER, null);
  };
}

const plugin: FastifyPluginCallback<AuditPluginOptions> = (app, opts, done) => {
  const { writer } = opts;
  const nowUs = opts.nowUs ?? (() => Date.now() * 1000);
  // On the request itself (a decoration, null until reserved) rather than in a WeakMap: an entry of a
  // WeakMap per request cost a hash look-up twice and the garbage collector an ephemeron.
  app.decorateRequest('auditPending', null);

  /** The request's room taken: its pending event, and its response's `close` listened to (it comes once). */
  const admit = (
    req: FastifyRequest,
    reply: FastifyReply,
    audit: CompiledAudit,
    ticket: Ticket,
    timeUs: number,
  ) => {
    const p = new PendingEvent(ticket, timeUs, req, audit);
    req.auditPending = p;
    reply.raw.on('close', p.onClose);
  };

  const hooksFor = (entry: CompiledAudit) => ({
    // A callback hook, so that the usual case (room in the queue now) costs no promise.
    onRequest: (req: FastifyRequest, reply: FastifyReply, done: (e?: Error) => void): void => {
      const timeUs = nowUs();
      const now = writer.tryReserve();
      if (now !== null) {
        admit(req, reply, entry, now, timeUs);
        done();
        return;
      }
      const later = (ticket: Ticket): void => {
        admit(req, reply, entry, ticket, timeUs);
        done();
      };
      writer.reserve().then(later, (e: unknown) => {
        if (e instanceof AuditError) done(auditUnavailableError(e.message));
        else done(e instanceof Error ? e : new Error(String(e)));
      });
    },
    onSend: (req: FastifyRequest, reply: FastifyReply, payload: unknown, next: () => void): void => {
      commit(req, entry, outcomeOf(reply.statusCode, payload), payload);
      next();
    },
  });

  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      const key = `${method} ${route.url}`;
      const entry = ROUTE_AUDITS[key];
      if (entry === undefined) {
        if (STATE_CHANGING_METHODS.has(method) && route.url.startsWith('/api/')) {
          throw new Error(
            `the route ${key} changes state but has no audit action (gateway/audit/actions.ts)`,
          );
        }
        continue;
      }
      if (methods.length !== 1) throw new Error(`audited route ${key} must have one method`);
      const own = route.config?.audit;
      if (own !== undefined && own !== entry.action) {
        throw new Error(`route ${key} names audit action ${own}, the table ${entry.action}`);
      }
      route.config = { ...route.config, audit: entry.action };
      const hooks = hooksFor(compileAudit(entry));
      route.onRequest = [hooks.onRequest, ...asArray(route.onRequest)];
      route.onSend = [hooks.onSend, ...asArray(route.onSend)];
    }
  });
  done();
};

function asArray<T>(v: T | readonly T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? [...(v as T[])] : [v as T];
}

export const auditPlugin = fp(plugin, { fastify: '5.x', name: 'rialto-audit' });
