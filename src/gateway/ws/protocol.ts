/**
 * The `/ws` protocol's requests: one JSON object per text frame, `{"op": ..., "id": ...}` plus the op's
 * fields, checked here with compiled schemas (unknown fields refused, nothing coerced) before anything acts
 * on them. A `place` takes exactly the fields of REST's POST /api/v1/orders body, through the same schema;
 * an `amend` those of PATCH /api/v1/orders/{id} and the order id, a `mass_cancel` those of DELETE /api/v1/orders.
 * docs/websocket.md describes every message.
 */
import { Compile } from 'typebox/compile';
import { Type, type Static, type TSchema } from 'typebox';
import { ACCOUNT_ID_MAX } from '../auth/index.js';
import { readableIssues, type SchemaIssue } from '../http/plugins/validation-issues.js';
import { AmendBody, MassCancelQuery, PlaceBody } from '../http/schemas.js';
import { WS_LIMITS } from './limits.js';

/** The WebSocket gateway's own error codes, beside the REST ones it shares (VALIDATION_ERROR, ...). */
export const WsErrorCode = Object.freeze({
  /** A text frame that is not JSON, or JSON that is not an object. */
  BadJson: 'BAD_JSON',
  /** A binary frame: the protocol is JSON text only. */
  BinaryNotSupported: 'BINARY_NOT_SUPPORTED',
  /** An `op` the server does not know. */
  UnknownOp: 'UNKNOWN_OP',
  /** A channel name that does not parse, or names an unknown symbol or a depth out of range. */
  InvalidChannel: 'INVALID_CHANNEL',
  /** The connection already holds `subscriptionsMax` channels. */
  TooManySubscriptions: 'TOO_MANY_SUBSCRIPTIONS',
  /** Subscribe to a channel already held, or unsubscribe from one not held. */
  AlreadySubscribed: 'ALREADY_SUBSCRIBED',
  NotSubscribed: 'NOT_SUBSCRIBED',
  /** An `auth` on a connection that already has a principal (but a JWT's renewal for the same identity). */
  AlreadyAuthenticated: 'ALREADY_AUTHENTICATED',
});

const RequestId = Type.Union([
  Type.String({ minLength: 1, maxLength: WS_LIMITS.requestIdLengthMax }),
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
]);
const Strict = { additionalProperties: false } as const;
const ChannelName = Type.String({ minLength: 1, maxLength: 64 });

const PingMessage = Type.Object({ op: Type.Literal('ping'), id: Type.Optional(RequestId) }, Strict);
const AuthMessage = Type.Object(
  {
    op: Type.Literal('auth'),
    id: Type.Optional(RequestId),
    token: Type.String({ minLength: 1, maxLength: 4096 }),
  },
  Strict,
);
const SubscribeMessage = Type.Object(
  { op: Type.Literal('subscribe'), id: Type.Optional(RequestId), channel: ChannelName },
  Strict,
);
const UnsubscribeMessage = Type.Object(
  { op: Type.Literal('unsubscribe'), id: Type.Optional(RequestId), channel: ChannelName },
  Strict,
);
const OrderId = Type.Union([
  Type.String({ pattern: '^[1-9][0-9]{0,15}$' }),
  Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
]);
const PlaceMessage = Type.Object(
  { ...PlaceBody.properties, op: Type.Literal('place'), id: RequestId },
  Strict,
);
const CancelMessage = Type.Object(
  {
    op: Type.Literal('cancel'),
    id: RequestId,
    order_id: OrderId,
  },
  Strict,
);

const AmendMessage = Type.Object(
  { ...AmendBody.properties, op: Type.Literal('amend'), id: RequestId, order_id: OrderId },
  Strict,
);
/** The fields of REST's DELETE /api/v1/orders query, in their JSON types. */
const MassCancelMessage = Type.Object(
  {
    op: Type.Literal('mass_cancel'),
    id: RequestId,
    symbol: Type.Optional(MassCancelQuery.properties.symbol),
    side: Type.Optional(MassCancelQuery.properties.side),
    account_id: Type.Optional(Type.Integer({ minimum: 1, maximum: ACCOUNT_ID_MAX })),
  },
  Strict,
);

export type RequestId = Static<typeof RequestId>;
export type PingMessage = Static<typeof PingMessage>;
export type AuthMessage = Static<typeof AuthMessage>;
export type SubscribeMessage = Static<typeof SubscribeMessage>;
export type UnsubscribeMessage = Static<typeof UnsubscribeMessage>;
export type PlaceMessage = Static<typeof PlaceMessage>;
export type CancelMessage = Static<typeof CancelMessage>;
export type AmendMessage = Static<typeof AmendMessage>;
export type MassCancelMessage = Static<typeof MassCancelMessage>;
export type WsRequest =
  | PingMessage
  | AuthMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | PlaceMessage
  | CancelMessage
  | AmendMessage
  | MassCancelMessage;

interface Checker {
  Check(value: unknown): boolean;
  Errors(value: unknown): readonly SchemaIssue[];
}
const compile = (schema: TSchema): Checker => Compile(schema);

/** Each request's schema by its `op` (for tests that walk them, and for the checkers below). */
export const WS_REQUEST_SCHEMAS: Readonly<Record<WsRequest['op'], TSchema>> = {
  ping: PingMessage,
  auth: AuthMessage,
  subscribe: SubscribeMessage,
  unsubscribe: UnsubscribeMessage,
  place: PlaceMessage,
  cancel: CancelMessage,
  amend: AmendMessage,
  mass_cancel: MassCancelMessage,
};

const CHECKERS = Object.fromEntries(
  Object.entries(WS_REQUEST_SCHEMAS).map(([op, schema]) => [op, compile(schema)]),
) as Readonly<Record<WsRequest['op'], Checker>>;
const checkRequestId = compile(RequestId);

export const WS_OPS: readonly WsRequest['op'][] = Object.keys(CHECKERS) as WsRequest['op'][];

/** A request that did not pass: the error code, a sentence, details, and the request's id when it had one. */
export interface Refusal {
  readonly ok: false;
  readonly id: RequestId | null;
  readonly code: string;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export type Parsed = { readonly ok: true; readonly request: WsRequest } | Refusal;

const refuse = (
  id: RequestId | null,
  code: string,
  message: string,
  details: Readonly<Record<string, unknown>> = {},
): Refusal => ({ ok: false, id, code, message, details });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and checks one text message (already within `messageBytesMax`). */
export function parseRequest(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse(null, WsErrorCode.BadJson, 'the message is not JSON');
  }
  if (!isObject(value)) return refuse(null, WsErrorCode.BadJson, 'the message must be a JSON object');
  const id = checkRequestId.Check(value.id) ? (value.id as RequestId) : null;
  const op = value.op;
  if (typeof op !== 'string' || !Object.hasOwn(CHECKERS, op)) {
    return refuse(id, WsErrorCode.UnknownOp, `op must be one of ${WS_OPS.join(', ')}`, {
      ops: WS_OPS,
    });
  }
  const checker = CHECKERS[op as WsRequest['op']];
  if (!checker.Check(value)) {
    const issues = readableIssues(checker.Errors(value))
      .slice(0, 5)
      // The compiled schemas say "schema is false" of a property that `additionalProperties: false` refuses.
      .map((e) => ({
        path: e.instancePath,
        message: e.message === 'schema is false' ? 'is not a field of this request' : e.message,
      }));
    const first = issues[0];
    const where = first === undefined || first.path === '' ? '' : ` at ${first.path}`;
    return refuse(id, 'VALIDATION_ERROR', `invalid ${op}${where}: ${first?.message ?? 'bad message'}`, {
      issues,
    });
  }
  return { ok: true, request: value as unknown as WsRequest };
}

/** A parsed channel name: `book:SYMBOL:DEPTH`, `trades:SYMBOL`, `bbo:SYMBOL`, `candles:SYMBOL:INTERVAL`, `orders`, `fills`. */
export type ChannelSpec =
  | { readonly kind: 'book'; readonly symbol: string; readonly depth: number }
  | { readonly kind: 'trades'; readonly symbol: string }
  | { readonly kind: 'bbo'; readonly symbol: string }
  | { readonly kind: 'candles'; readonly symbol: string; readonly interval: string }
  | { readonly kind: 'orders' }
  | { readonly kind: 'fills' };

const BOOK = /^book:([A-Z0-9][A-Z0-9._/-]{0,31}):([1-9][0-9]{0,2})$/;
const MARKET = /^(trades|bbo):([A-Z0-9][A-Z0-9._/-]{0,31})$/;
const CANDLES = /^candles:([A-Z0-9][A-Z0-9._/-]{0,31}):([a-z0-9][a-z0-9-]{0,23})$/;

/** The channel a name means, or null; the symbol is not looked up here. */
export function parseChannel(name: string): ChannelSpec | null {
  if (name === 'orders') return { kind: 'orders' };
  if (name === 'fills') return { kind: 'fills' };
  const book = BOOK.exec(name);
  if (book !== null) {
    const depth = Number(book[2]);
    if (depth > WS_LIMITS.bookDepthMax) return null;
    return { kind: 'book', symbol: book[1], depth };
  }
  const candles = CANDLES.exec(name);
  if (candles !== null) return { kind: 'candles', symbol: candles[1], interval: candles[2] };
  const market = MARKET.exec(name);
  if (market !== null) {
    return market[1] === 'trades'
      ? { kind: 'trades', symbol: market[2] }
      : { kind: 'bbo', symbol: market[2] };
  }
  return null;
}
