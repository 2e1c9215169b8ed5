/**
 * Audit of the WebSocket gateway's `place`, `cancel`, `amend` and `mass_cancel`, the same events as REST's
 * (`order.place`, `order.cancel`, `order.amend`, `order.mass_cancel`) with `transport: "ws"` in the details and the message's id as the request id. Room is
 * reserved before the request is looked at (a full queue answers AUDIT_UNAVAILABLE), and the event is
 * committed once its answer is sent, whatever it was.
 */
import {
  auditEventId,
  AuditError,
  DetailShape,
  type Actor,
  makeFixedEvent,
  type AuditWriter,
  type DetailScalar,
  type Outcome,
  type Ticket,
} from '../../audit/index.js';
import { GatewayError } from '../http/plugins/index.js';
import { ApiError } from '../trading/errors.js';
import { auditUnavailableError } from './plugin.js';

/** The result of an error a request ended with: refused for a 4xx, failed for a 5xx or an unexpected error. */
export function outcomeOfError(e: unknown): Outcome {
  if (e instanceof ApiError) return { status: e.status >= 500 ? 'failed' : 'refused', code: e.code };
  if (e instanceof GatewayError) return { status: e.statusCode >= 500 ? 'failed' : 'refused', code: e.code };
  return { status: 'failed', code: 'INTERNAL_ERROR' };
}

export type WsAuditAction = 'order.place' | 'order.cancel' | 'order.amend' | 'order.mass_cancel';

/**
 * The keys of each action's details: the request's fields kept (as REST's events have them), then `transport`
 * and `order_id`, which the ticket adds. Fixed shapes, so that the event's canonical JSON is written directly
 * (`makeFixedEvent`); an absent field (undefined) is left out, as before.
 */
export const WS_AUDIT_DETAILS: Readonly<Record<WsAuditAction, DetailShape>> = {
  'order.place': new DetailShape([
    'symbol',
    'side',
    'order_type',
    'quantity',
    'price',
    'client_order_id',
    'transport',
    'order_id',
  ]),
  'order.cancel': new DetailShape(['transport', 'order_id']),
  'order.amend': new DetailShape(['price', 'quantity', 'transport', 'order_id']),
  'order.mass_cancel': new DetailShape(['symbol', 'side', 'transport', 'order_id']),
};

export interface WsAuditStart {
  readonly action: WsAuditAction;
  readonly requestId: string | number;
  readonly target: { readonly kind: string; readonly id: string | null };
  /**
   * The request's fields kept in the event, in the order of `WS_AUDIT_DETAILS[action]`'s keys, then two
   * places (undefined) for the last two, `transport` and `order_id`: the ticket takes the array over and
   * sets those at its commit (in place: the array is made at its final length, not grown per request).
   */
  readonly details: DetailScalar[];
}

const OK: Outcome = Object.freeze({ status: 'ok', code: null });
const INTERNAL_ERROR: Outcome = Object.freeze({ status: 'failed', code: 'INTERNAL_ERROR' });

/** One WebSocket request's event: `ok`, `error` as it ends, then `commit` (in a finally). */
export class WsAuditTicket {
  private outcome: Outcome = INTERNAL_ERROR;
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
    this.outcome = OK;
    if (orderId !== null) this.orderId = String(orderId);
  }

  error(e: unknown, orderId: number | null = null): void {
    this.outcome = outcomeOfError(e);
    if (orderId !== null) this.orderId = String(orderId);
  }

  /** Records the event, by `actor` (the connection's: see makeFixedEvent). */
  commit(actor: Actor): void {
    if (this.done) return;
    this.done = true;
    const start = this.start;
    const values = start.details;
    const n = values.length;
    if (n !== WS_AUDIT_DETAILS[start.action].keys.length) {
      throw new Error(`${start.action}: ${n} details for ${WS_AUDIT_DETAILS[start.action].keys.length} keys`);
    }
    values[n - 2] = 'ws';
    values[n - 1] = this.orderId ?? undefined;
    this.ticket.commit(
      makeFixedEvent({
        id: auditEventId(),
        timeUs: this.timeUs,
        actor,
        action: start.action,
        target: start.target,
        result: this.outcome,
        requestId: String(start.requestId),
        shape: WS_AUDIT_DETAILS[start.action],
        values,
      }),
    );
  }
}
