/**
 * What the gateway audits: each REST route that changes state or reads an account's data, with its action
 * name, how to find its target and which details to keep. One table, so that the routes stay as they are and
 * the whole list reads in one place; the plugin refuses to start a server with a state-changing route under
 * /api/v1 that the table lacks.
 */
import type { Target } from '../../audit/index.js';

/** What the audit hooks see of a request (fastify's, loosely typed: the hooks run before validation too). */
export interface AuditedRequest {
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
}

export interface RouteAudit {
  readonly action: string;
  readonly target: (r: AuditedRequest) => Target;
  /** Details from the request (and, for a placement, the answer's order id). */
  readonly details?: (r: AuditedRequest) => Readonly<Record<string, unknown>>;
  /**
   * When `details` is a pick of listed fields (`picked`): which ones, from where. The plugin then writes the
   * event of a request whose picked values are all scalars directly (`makeFixedEvent`), the same event.
   */
  readonly fields?: DetailFields;
  /**
   * Where the answer names the target when the request cannot (a key created: its id is drawn by the
   * venue): the first group of this pattern in a 2xx answer's body, when `target` gives no id.
   */
  readonly targetIdInAnswer?: RegExp;
}

/** The fields `details` picks: from the body or the query, those present only. */
export interface DetailFields {
  readonly from: 'body' | 'query';
  readonly names: readonly string[];
  /** The query instead of the body when there is no body (a placement sent as query parameters). */
  readonly queryWithoutBody: boolean;
}

export const field = (v: unknown, name: string): unknown =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[name] : undefined;

/** An id as text when it is a short plain one (ids come from clients: anything odd is left out). */
function idText(v: unknown): string | null {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(v)) return v;
  return null;
}

const byParam =
  (kind: string, name = 'id') =>
  (r: AuditedRequest): Target => ({ kind, id: idText(field(r.params, name)) });
const accountInBody = (r: AuditedRequest): Target => ({
  kind: 'account',
  id: idText(field(r.body, 'account_id')),
});
const accountInQuery = (r: AuditedRequest): Target => ({
  kind: 'account',
  id: idText(field(r.query, 'account_id')),
});
/** A kill switch of one account, or of the venue when the body names none. */
const switchTarget = (r: AuditedRequest): Target => {
  const id = idText(field(r.body, 'account_id'));
  return id === null ? { kind: 'venue', id: null } : { kind: 'account', id };
};
const venue = (): Target => ({ kind: 'venue', id: null });

/** Where `fields` picks from in request `r`: the body or the query. */
export function pickSource(fields: DetailFields, r: AuditedRequest): unknown {
  if (fields.from === 'query') return r.query;
  return fields.queryWithoutBody && (r.body === undefined || r.body === null) ? r.query : r.body;
}

/**
 * The listed fields of an object (the body or query), those present only: `details` and, for the plugin's
 * direct path, the `fields` it picks (one definition, so that the two cannot differ).
 */
const pick = (
  from: 'body' | 'query',
  names: readonly string[],
  queryWithoutBody = false,
): Required<Pick<RouteAudit, 'details' | 'fields'>> => {
  const fields: DetailFields = Object.freeze({ from, names: Object.freeze([...names]), queryWithoutBody });
  return {
    fields,
    details: (r: AuditedRequest): Record<string, unknown> => {
      const src = pickSource(fields, r);
      const out: Record<string, unknown> = {};
      for (const n of fields.names) {
        const v = field(src, n);
        if (v !== undefined) out[n] = v;
      }
      return out;
    },
  };
};

const PLACE_FIELDS = [
  'symbol',
  'side',
  'order_type',
  'quantity',
  'price',
  'trigger_price',
  'time_in_force',
  'client_order_id',
  'post_only',
  'display_quantity',
  'expire_time',
  'self_trade_prevention',
];

/** Keyed by `METHOD /route/pattern`, as fastify names the route. */
export const ROUTE_AUDITS: Readonly<Record<string, RouteAudit>> = Object.freeze({
  'POST /api/v1/orders': {
    action: 'order.place',
    target: accountInBody,
    // A placement may come as query parameters: the body is then made from them before validation.
    ...pick('body', PLACE_FIELDS, true),
  },
  'DELETE /api/v1/orders/:id': { action: 'order.cancel', target: byParam('order') },
  'PATCH /api/v1/orders/:id': {
    action: 'order.amend',
    target: byParam('order'),
    ...pick('body', ['price', 'quantity']),
  },
  'DELETE /api/v1/orders': {
    action: 'order.mass_cancel',
    target: accountInQuery,
    ...pick('query', ['symbol', 'side']),
  },
  'POST /api/v1/admin/accounts': {
    action: 'account.create',
    target: accountInBody,
    ...pick('body', ['market_maker']),
  },
  'POST /api/v1/admin/accounts/:id/deposits': {
    action: 'account.deposit',
    target: byParam('account'),
    ...pick('body', ['asset', 'amount', 'reference']),
  },
  'POST /api/v1/admin/accounts/:id/withdrawals': {
    action: 'account.withdraw',
    target: byParam('account'),
    ...pick('body', ['asset', 'amount', 'reference']),
  },
  'POST /api/v1/admin/accounts/:id/suspend': { action: 'account.suspend', target: byParam('account') },
  'POST /api/v1/admin/accounts/:id/reactivate': { action: 'account.reactivate', target: byParam('account') },
  'PATCH /api/v1/admin/accounts/:id/risk-limits': {
    action: 'risk_limits.change',
    target: byParam('account'),
    details: (r) => (typeof r.body === 'object' && r.body !== null ? { limits: r.body } : {}),
  },
  'POST /api/v1/admin/instruments/:symbol/halt': {
    action: 'instrument.halt',
    target: byParam('instrument', 'symbol'),
  },
  'POST /api/v1/admin/instruments/:symbol/resume': {
    action: 'instrument.resume',
    target: byParam('instrument', 'symbol'),
  },
  'POST /api/v1/instruments': {
    action: 'instrument.create',
    target: (r) => ({ kind: 'instrument', id: idText(field(r.body, 'symbol')) }),
    details: (r) => (typeof r.body === 'object' && r.body !== null ? { instrument: r.body } : {}),
  },
  'PATCH /api/v1/instruments/:symbol': {
    action: 'instrument.change',
    target: byParam('instrument', 'symbol'),
    details: (r) => (typeof r.body === 'object' && r.body !== null ? { change: r.body } : {}),
  },
  'POST /api/v1/admin/kill-switch': { action: 'kill_switch.set', target: switchTarget },
  'POST /api/v1/admin/kill-switch/reset': {
    action: 'kill_switch.reset',
    target: switchTarget,
    ...pick('body', ['officer_account_id']),
  },
  'POST /api/v1/admin/risk-officers': { action: 'risk_officer.create', target: accountInBody },
  'POST /api/v1/admin/keys': {
    action: 'key.create',
    target: () => ({ kind: 'key', id: null }),
    targetIdInAnswer: /^\{"id":"([A-Za-z0-9_-]{16})"/,
    ...pick('body', ['role', 'account_ids', 'label']),
  },
  'DELETE /api/v1/admin/keys/:id': { action: 'key.revoke', target: byParam('key') },
  'GET /api/v1/admin/keys': { action: 'keys.list', target: venue },
  'GET /api/v1/admin/keys/:id': { action: 'key.read', target: byParam('key') },
  // Reads of account data.
  'GET /api/v1/accounts': {
    action: 'accounts.list',
    target: venue,
    ...pick('query', ['after_id', 'limit']),
  },
  'GET /api/v1/accounts/:id': { action: 'account.read', target: byParam('account') },
  'GET /api/v1/accounts/:id/balances': { action: 'balances.read', target: byParam('account') },
  'GET /api/v1/accounts/:id/positions': { action: 'positions.read', target: byParam('account') },
  'GET /api/v1/accounts/:id/entries': {
    action: 'entries.read',
    target: byParam('account'),
    ...pick('query', ['asset', 'before', 'limit']),
  },
  'GET /api/v1/admin/accounts/:id/risk-limits': { action: 'risk_limits.read', target: byParam('account') },
  'GET /api/v1/admin/statements/trial-balance': { action: 'statements.read', target: venue },
  'GET /api/v1/admin/statements/balance-sheet': { action: 'statements.read', target: venue },
  'GET /api/v1/admin/statements/income-statement': { action: 'statements.read', target: venue },
});

/** Methods that change state: a route under /api/v1 with one of them must be in the table. */
export const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
