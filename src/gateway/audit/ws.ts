/**
 * Audit of the WebSocket gateway's `place`, `cancel`, `amend` and `mass_cancel`, the same events as REST's
 * (`order.place`, `order.cancel`, `order.amend`, `order.mass_cancel`) with `transport: "ws"` in the details and the message's id as the request id. Room is
 * reserved before the request is looked at (a full queue answers AUDIT_UNAVAILABLE), and the event is
 * committed once its answer is sent, whatever it was.
 */
import { randomUUID } from 'node:crypto';
import { AuditError, makeEvent, type AuditWriter, type Outcome, type Ticket } from '../../audit/index.js';
import type { Principal } from '../auth/index.js';
import { GatewayError } from '../http/plugins/index.js';
import { ApiError } from '../trading/errors.js';
import { auditUnavailableError } from './plugin.js';

/** The result of an error a request ended with: refused for a 4xx, failed for a 5xx or an unexpected error. */
export function outcomeOfError(e: unknown): Outcome {
  if (e instanceof ApiError) return { status: e.status >= 500 ? 'failed' : 'refused', code: e.code };
  if (e instanceof GatewayError) return { status: e.statusCode >= 500 ? 'failed' : 'refused', code: e.code };
  return { status: 'failed', code: 'INTERNAL_ERROR' };
}

export interface WsAuditStart {
  readonly action: 'order.place' | 'order.cancel' | 'order.amend' | 'order.mass_cancel';
  readonly requestId: string | number;
  readonly address: string;
  readonly target: { readonly kind: string; readonly id: string | null };
  readonly details: Readonly<Record<string, unknown>>;
}

/** One WebSocket request's event: `ok`, `error` as it ends, then `commit` (in a finally). */
export class WsAuditTicket {
  private outcome: Outcome = { status: 'failed', code: 'INTERNAL_ERROR' };
  private orderId: string | null = null;
  private done = false;

  private constructor(
    private readonly ticket: Ticket,
    private readonly start: WsAuditStart,
    private readonly timeUs: number,
  ) {}

  /**
   * Room for the event, or null without an audit writer; throws AUDIT_UNAVAILABLE (503) when full. A promise
   * only when the writer's queue has no room now (the caller awaits it then, and only then).
   */
  static take(
    writer: AuditWriter | null | undefined,
    start: WsAuditStart,
  ): WsAuditTicket | null | Promise<WsAuditTicket> {
    if (writer === null || writer === undefined) return null;
    const timeUs = Date.now() * 1000;
    const now = writer.tryReserve();
    return now !== null ? new WsAuditTicket(now, start, timeUs) : WsAuditTicket.wait(writer, start, timeUs);
  }

  private static async wait(
    writer: AuditWriter,
    start: WsAuditStart,
    timeUs: number,
  ): Promise<WsAuditTicket> {
    try {
      return new WsAuditTicket(await writer.reserve(), start, timeUs);
    } catch (e) {
      if (e instanceof AuditError) throw auditUnavailableError(e.message);
      throw e;
    }
  }

  ok(orderId: number | null): void {
    this.outcome = { status: 'ok', code: null };
    if (orderId !== null) this.orderId = String(orderId);
  }

  error(e: unknown, orderId: number | null = null): void {
    this.outcome = outcomeOfError(e);
    if (orderId !== null) this.orderId = String(orderId);
  }

  commit(principal: Principal | null): void {
    if (this.done) return;
    this.done = true;
    const details: Record<string, unknown> = { ...this.start.details, transport: 'ws' };
    if (this.orderId !== null) details.order_id = this.orderId;
    this.ticket.commit(
      makeEvent({
        id: randomUUID(),
        timeUs: this.timeUs,
        actor: { id: principal?.keyId ?? null, role: principal?.role ?? null, ip: this.start.address },
        action: this.start.action,
        target: this.start.target,
        result: this.outcome,
        requestId: String(this.start.requestId),
        details,
      }),
    );
  }
}
