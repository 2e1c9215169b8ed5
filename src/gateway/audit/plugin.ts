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
import { randomUUID } from 'node:crypto';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { AuditError, makeEvent, type AuditWriter, type Outcome, type Ticket } from '../../audit/index.js';
import { GatewayError } from '../http/plugins/index.js';
import { ROUTE_AUDITS, STATE_CHANGING_METHODS, type RouteAudit } from './actions.js';

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

/** The result of an answer: its status class and, for an error, the envelope's code. */
export function outcomeOf(statusCode: number, payload: unknown): Outcome {
  if (statusCode < 400) return { status: 'ok', code: null };
  const m = typeof payload === 'string' ? CODE_IN_ENVELOPE.exec(payload) : null;
  const code = m?.[1] ?? `HTTP_${statusCode}`;
  return { status: statusCode >= 500 ? 'failed' : 'refused', code };
}

/** An audited request's reserved room in the writer's queue, from onRequest until its event is committed. */
export interface AuditPending {
  readonly ticket: Ticket;
  readonly timeUs: number;
  committed: boolean;
}

const plugin: FastifyPluginCallback<AuditPluginOptions> = (app, opts, done) => {
  const { writer } = opts;
  const nowUs = opts.nowUs ?? (() => Date.now() * 1000);
  // On the request itself (a decoration, null until reserved) rather than in a WeakMap: an entry of a
  // WeakMap per request cost a hash look-up twice and the garbage collector an ephemeron.
  app.decorateRequest('auditPending', null);

  const commit = (req: FastifyRequest, entry: RouteAudit, outcome: Outcome, payload: unknown): void => {
    const p = req.auditPending;
    if (p === null || p.committed) return;
    p.committed = true;
    const principal = req.principal;
    const details: Record<string, unknown> = { ...entry.details?.(req) };
    if (entry.action === 'order.place' && typeof payload === 'string') {
      const m = ORDER_ID_IN_ANSWER.exec(payload);
      if (m !== null) details.order_id = m[1];
    }
    details.method = req.method;
    p.ticket.commit(
      makeEvent({
        id: randomUUID(),
        timeUs: p.timeUs,
        actor: { id: principal?.keyId ?? null, role: principal?.role ?? null, ip: req.ip },
        action: entry.action,
        target: entry.target(req),
        result: outcome,
        requestId: req.id,
        details,
      }),
    );
  };

  const hooksFor = (entry: RouteAudit) => ({
    // A callback hook, so that the usual case (room in the queue now) costs no promise.
    onRequest: (req: FastifyRequest, reply: FastifyReply, done: (e?: Error) => void): void => {
      const timeUs = nowUs();
      const admit = (ticket: Ticket): void => {
        req.auditPending = { ticket, timeUs, committed: false };
        reply.raw.once('close', () => commit(req, entry, { status: 'failed', code: 'NO_ANSWER' }, null));
        done();
      };
      const now = writer.tryReserve();
      if (now !== null) {
        admit(now);
        return;
      }
      writer.reserve().then(admit, (e: unknown) => {
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
      const hooks = hooksFor(entry);
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
