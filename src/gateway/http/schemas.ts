/**
 * Request and response schemas (JSON Schema through TypeBox): fastify validates requests against them with
 * unknown fields refused, serializes responses through them (so only listed fields leave), and the OpenAPI
 * document at /docs is made from them.
 */
import { Type, type Static } from 'typebox';
import {
  ACCOUNT_ID_MAX,
  KEY_ACCOUNTS_MAX,
  KEY_ID_PATTERN,
  KEY_LABEL_LENGTH_MAX,
  ROLES,
} from '../auth/index.js';
import { CLIENT_ORDER_ID_PATTERN } from '../trading/client-orders.js';
import { ORDER_TYPES, STP_MODES, TIME_IN_FORCE } from '../trading/trading.js';

/** A decimal string as the API takes it; the exact rules (decimals, tick, lot) are checked after. */
const DecimalText = Type.String({ minLength: 1, maxLength: 40, pattern: '^[0-9]+(\\.[0-9]+)?$' });
const Symbol = Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Z0-9][A-Z0-9._/-]*$' });
const AccountId = Type.Integer({ minimum: 1, maximum: ACCOUNT_ID_MAX });
const Strict = { additionalProperties: false } as const;

export const PlaceBody = Type.Object(
  {
    symbol: Symbol,
    side: Type.Union([Type.Literal('buy'), Type.Literal('sell')]),
    order_type: Type.Union(ORDER_TYPES.map((t) => Type.Literal(t))),
    quantity: DecimalText,
    price: Type.Optional(DecimalText),
    trigger_price: Type.Optional(DecimalText),
    time_in_force: Type.Optional(Type.Union(TIME_IN_FORCE.map((t) => Type.Literal(t)))),
    client_order_id: Type.Optional(Type.String({ pattern: CLIENT_ORDER_ID_PATTERN })),
    account_id: Type.Optional(AccountId),
    post_only: Type.Optional(Type.Boolean()),
    display_quantity: Type.Optional(DecimalText),
    expire_time: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    self_trade_prevention: Type.Optional(Type.Union(STP_MODES.map((t) => Type.Literal(t)))),
  },
  Strict,
);
export type PlaceBody = Static<typeof PlaceBody>;

export const AmendBody = Type.Object(
  { price: Type.Optional(DecimalText), quantity: Type.Optional(DecimalText) },
  Strict,
);
export type AmendBody = Static<typeof AmendBody>;

/** Ids in paths: digits, no leading zero, below 2^53. */
export const OrderIdParams = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,15}$' }) }, Strict);
export const SymbolParams = Type.Object({ symbol: Type.String({ minLength: 1, maxLength: 32 }) }, Strict);
export const AccountParams = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,6}$' }) }, Strict);

const Digits = (max: number) => Type.String({ pattern: `^[0-9]{1,${max}}$` });
export const DepthQuery = Type.Object({ depth: Type.Optional(Digits(3)) }, Strict);
export const TradesQuery = Type.Object(
  { limit: Type.Optional(Digits(4)), since: Type.Optional(Digits(16)) },
  Strict,
);
export const OrdersQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all')])),
    account_id: Type.Optional(Digits(7)),
    limit: Type.Optional(Digits(4)),
  },
  Strict,
);
export const FillsQuery = Type.Object(
  {
    account_id: Type.Optional(Digits(7)),
    symbol: Type.Optional(Symbol),
    order_id: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
    limit: Type.Optional(Digits(4)),
  },
  Strict,
);
export const FillResponse = Type.Object({
  trade_id: Type.String(),
  order_id: Type.String(),
  account_id: Type.Integer(),
  symbol: Type.String(),
  side: Type.String(),
  price: Type.String(),
  quantity: Type.String(),
  liquidity: Type.String(),
  fee: Type.String(),
  fee_asset: Type.String(),
  timestamp: Type.String(),
});
export const MassCancelQuery = Type.Object(
  {
    symbol: Type.Optional(Symbol),
    side: Type.Optional(Type.Union([Type.Literal('buy'), Type.Literal('sell')])),
    account_id: Type.Optional(Digits(7)),
  },
  Strict,
);

export const CreateAccountBody = Type.Object(
  { account_id: AccountId, market_maker: Type.Optional(Type.Boolean()) },
  Strict,
);
export const CreateKeyBody = Type.Object(
  {
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    account_ids: Type.Optional(Type.Array(AccountId, { maxItems: KEY_ACCOUNTS_MAX })),
    label: Type.Optional(Type.String({ maxLength: KEY_LABEL_LENGTH_MAX })),
  },
  Strict,
);
/** A key's id, as `rialto keys list` shows it (the part of the key between "rk_" and the dot). */
export const KeyParams = Type.Object({ id: Type.String({ pattern: KEY_ID_PATTERN.source }) }, Strict);

export const TransferBody = Type.Object(
  {
    asset: Type.String({ minLength: 1, maxLength: 12, pattern: '^[A-Z0-9]+$' }),
    amount: DecimalText,
    reference: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  },
  Strict,
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const OrderResponse = Type.Object({
  order_id: Type.String(),
  client_order_id: Nullable(Type.String()),
  account_id: Type.Integer(),
  symbol: Type.String(),
  side: Type.String(),
  order_type: Nullable(Type.String()),
  time_in_force: Nullable(Type.String()),
  expire_time: Nullable(Type.String()),
  price: Nullable(Type.String()),
  trigger_price: Nullable(Type.String()),
  quantity: Type.String(),
  filled_quantity: Type.String(),
  remaining_quantity: Type.String(),
  average_price: Nullable(Type.String()),
  fee: Type.String(),
  fee_asset: Type.String(),
  status: Type.String(),
  reject_reason: Nullable(Type.String()),
  cancel_reason: Nullable(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown()),
  }),
  timestamp: Type.String(),
});

/** The error answers every route may give, for the OpenAPI document and the serializer. */
export const ERRORS = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
  503: ErrorResponse,
} as const;
