/**
 * Market data history from the store: candles (the pipeline's bars) and ticks (trades and best bid and offer
 * changes, with their quality flags) of one instrument over a time range. Prices and sizes are decimal strings
 * in the instrument's units; times ISO 8601 UTC, exact to the µs. Public unless the configuration says market
 * data needs a key (`marketData.public`), like the other market data routes. With the pipeline off there is no
 * history: 503 SERVICE_UNAVAILABLE.
 */
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  flagNames,
  formatTime,
  parseIsoTime,
  type StoredTick,
  type VenueFeed,
} from '../../marketdata/index.js';
import type { InstrumentConfig } from '../../ops/index.js';
import { ApiError, ErrorCode, validationError } from '../trading/errors.js';
import { averagePrice, lotsToQty, ticksToPrice } from '../trading/units.js';
import { ERRORS, SymbolParams } from './schemas.js';
import { authenticate, type ServerDeps } from './server.js';

/** The history routes' bounds. */
export const HISTORY_LIMITS = Object.freeze({
  /** Candles one request returns at most, and without `from`, how many periods back it starts. */
  candlesMax: 5_000,
  candlesDefault: 500,
  /** Ticks one request returns at most, and the default. */
  ticksMax: 10_000,
  ticksDefault: 1_000,
  /** The widest range one request may ask for: ticks one day, non-time bars 31 days (time bars: candlesMax periods). */
  ticksRangeUsMax: 86_400_000_000,
  barsRangeUsMax: 31 * 86_400_000_000,
  /** Without `from`, ticks start this far before `to`. */
  ticksWindowUsDefault: 3_600_000_000,
});

/** The shape of a stored or recent bar that the routes and the `candles:` channel show. */
export interface CandleView {
  readonly startUs: number;
  readonly endUs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly notional: bigint;
  readonly trades: number;
  readonly revision: number;
}

export interface CandleJson {
  start: string;
  end: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  vwap: string | null;
  trades: number;
  revision: number;
}

export function candleJson(c: CandleView, inst: InstrumentConfig): CandleJson {
  return {
    start: formatTime(c.startUs, 0),
    end: formatTime(c.endUs, 0),
    open: ticksToPrice(c.open, inst),
    high: ticksToPrice(c.high, inst),
    low: ticksToPrice(c.low, inst),
    close: ticksToPrice(c.close, inst),
    volume: lotsToQty(c.volume, inst),
    vwap: averagePrice(c.notional, c.volume, inst),
    trades: c.trades,
    revision: c.revision,
  };
}

const price = (v: number | null, inst: InstrumentConfig): string | null =>
  v === null ? null : ticksToPrice(v, inst);
const qty = (v: number | null, inst: InstrumentConfig): string | null =>
  v === null ? null : lotsToQty(v, inst);

function tickJson(t: StoredTick, inst: InstrumentConfig) {
  return {
    time: formatTime(t.timeUs, t.timeNs),
    kind: t.kind,
    price: price(t.price, inst),
    size: qty(t.size, inst),
    side: t.side,
    bid_price: price(t.bidPrice, inst),
    bid_size: qty(t.bidSize, inst),
    ask_price: price(t.askPrice, inst),
    ask_size: qty(t.askSize, inst),
    trade_id: t.tradeId === null ? null : String(t.tradeId),
    flags: [...flagNames(t.flags)],
    event_id: t.eventId,
  };
}

const Time = Type.String({ minLength: 1, maxLength: 40 });
const Digits = (max: number) => Type.String({ pattern: `^[0-9]{1,${max}}$` });
const Interval = Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z0-9-]+$' });
const Strict = { additionalProperties: false } as const;
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const CandlesQuery = Type.Object(
  {
    interval: Interval,
    from: Type.Optional(Time),
    to: Type.Optional(Time),
    limit: Type.Optional(Digits(5)),
    forming: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  },
  Strict,
);
const TicksQuery = Type.Object(
  { from: Type.Optional(Time), to: Type.Optional(Time), limit: Type.Optional(Digits(5)) },
  Strict,
);

const CandleSchema = Type.Object({
  start: Type.String(),
  end: Type.String(),
  open: Type.String(),
  high: Type.String(),
  low: Type.String(),
  close: Type.String(),
  volume: Type.String(),
  vwap: Nullable(Type.String()),
  trades: Type.Integer(),
  revision: Type.Integer(),
  /** The bar of a period not over yet (asked for with `forming=true`): it changes until it closes. */
  forming: Type.Boolean(),
});

const TickSchema = Type.Object({
  time: Type.String(),
  kind: Type.String(),
  price: Nullable(Type.String()),
  size: Nullable(Type.String()),
  side: Nullable(Type.String()),
  bid_price: Nullable(Type.String()),
  bid_size: Nullable(Type.String()),
  ask_price: Nullable(Type.String()),
  ask_size: Nullable(Type.String()),
  trade_id: Nullable(Type.String()),
  flags: Type.Array(Type.String()),
  event_id: Type.String(),
});

/** An ISO time parameter as µs, or 400 VALIDATION_ERROR naming it. */
function timeParam(text: string | undefined, field: string, fallbackUs: number): number {
  if (text === undefined) return fallbackUs;
  const t = parseIsoTime(text);
  if (t === null || t.timeUs < 0) {
    throw validationError(`${field} must be an ISO 8601 time with a zone, such as 2024-01-02T09:30:00Z`, {
      field,
    });
  }
  // Rounded up to the µs: a range starting within a µs does not include the ticks before it.
  return t.timeNs > 0 ? t.timeUs + 1 : t.timeUs;
}

function limitParam(text: string | undefined, max: number, fallback: number): number {
  const limit = text === undefined ? fallback : Number(text);
  if (limit < 1 || limit > max) throw validationError(`limit must be 1 to ${max}`, { field: 'limit' });
  return limit;
}

function range(fromUs: number, toUs: number, maxUs: number, what: string): void {
  if (toUs <= fromUs) throw validationError('from must be before to', { field: 'from' });
  if (toUs - fromUs > maxUs) {
    throw validationError(`the range is too wide: at most ${what}`, { field: 'from', maxRangeUs: maxUs });
  }
}

const PERIOD_US = /^([1-9][0-9]*)([smhd])$/;
const UNIT_US: Readonly<Record<string, number>> = { s: 1e6, m: 6e7, h: 3.6e9, d: 8.64e10 };

/** A time bar interval's period in µs (`1m` is 60,000,000), or null for tick, volume and dollar bars. */
export function periodUsOf(interval: string): number | null {
  const m = PERIOD_US.exec(interval);
  return m === null ? null : Number(m[1]) * UNIT_US[m[2]];
}

export const historyRoutes =
  (deps: ServerDeps): FastifyPluginCallbackTypebox =>
  (app, _opts, done) => {
    const { trading } = deps;
    const nowUs = (): number => deps.nowUs?.() ?? Date.now() * 1000;
    const guard = deps.config.marketData.public
      ? undefined
      : authenticate(deps, ['viewer', 'trader', 'risk', 'admin']);
    const feed = (): VenueFeed => {
      const md = deps.marketData ?? null;
      if (md === null || md.mdStore === null) {
        throw new ApiError(
          503,
          ErrorCode.ServiceUnavailable,
          'market data history is off (marketData.pipeline.enabled is false)',
        );
      }
      return md;
    };

    app.get(
      '/api/v1/candles/:symbol',
      {
        schema: {
          summary:
            `Candles (OHLCV bars with VWAP) of one interval starting in [from, to), oldest first; at most ` +
            `${HISTORY_LIMITS.candlesMax} (limit), default the last ${HISTORY_LIMITS.candlesDefault} periods; ` +
            '`forming=true` adds the bar of the period not over yet, marked `forming`',
          params: SymbolParams,
          querystring: CandlesQuery,
          response: {
            200: Type.Object({
              symbol: Type.String(),
              interval: Type.String(),
              candles: Type.Array(CandleSchema),
            }),
            ...ERRORS,
          },
        },
        onRequest: guard,
      },
      async (req) => {
        const inst = trading.instrumentBySymbol(req.params.symbol);
        const md = feed();
        const interval = req.query.interval;
        if (!md.intervals.includes(interval)) {
          throw validationError(`interval must be one of ${md.intervals.join(', ')}`, {
            field: 'interval',
            intervals: md.intervals,
          });
        }
        const limit = limitParam(req.query.limit, HISTORY_LIMITS.candlesMax, HISTORY_LIMITS.candlesMax);
        const periodUs = periodUsOf(interval);
        const toUs = timeParam(req.query.to, 'to', nowUs());
        const backUs =
          periodUs === null ? HISTORY_LIMITS.barsRangeUsMax : periodUs * HISTORY_LIMITS.candlesDefault;
        const fromUs = timeParam(req.query.from, 'from', Math.max(0, toUs - backUs));
        if (periodUs === null) range(fromUs, toUs, HISTORY_LIMITS.barsRangeUsMax, '31 days');
        else {
          range(fromUs, toUs, periodUs * HISTORY_LIMITS.candlesMax, `${HISTORY_LIMITS.candlesMax} periods`);
        }
        const bars = await (md.mdStore as NonNullable<VenueFeed['mdStore']>).bars(
          inst.spec.symbol,
          interval,
          fromUs,
          toUs,
          limit,
        );
        const candles = bars.map((b) => ({ ...candleJson(b, inst), forming: false }));
        // The bar still forming comes last, when asked for, when its start is in the range and the page has
        // room: the closed bars before it are the same with or without it.
        const open = req.query.forming === 'true' ? md.formingBar(inst.spec.symbol, interval) : null;
        if (open !== null && open.startUs >= fromUs && open.startUs < toUs && candles.length < limit) {
          const last = bars[bars.length - 1];
          if (last === undefined || last.startUs < open.startUs)
            candles.push({ ...candleJson(open, inst), forming: true });
        }
        return { symbol: inst.spec.symbol, interval, candles };
      },
    );

    app.get(
      '/api/v1/ticks/:symbol',
      {
        schema: {
          summary:
            `Ticks (trades and best bid and offer changes, with quality flags) in [from, to), oldest first; ` +
            `at most one day and ${HISTORY_LIMITS.ticksMax} ticks (limit, default ${HISTORY_LIMITS.ticksDefault}); ` +
            '`more` says whether the range has more',
          params: SymbolParams,
          querystring: TicksQuery,
          response: {
            200: Type.Object({ symbol: Type.String(), ticks: Type.Array(TickSchema), more: Type.Boolean() }),
            ...ERRORS,
          },
        },
        onRequest: guard,
      },
      async (req) => {
        const inst = trading.instrumentBySymbol(req.params.symbol);
        const md = feed();
        const limit = limitParam(req.query.limit, HISTORY_LIMITS.ticksMax, HISTORY_LIMITS.ticksDefault);
        const toUs = timeParam(req.query.to, 'to', nowUs());
        const fromUs = timeParam(
          req.query.from,
          'from',
          Math.max(0, toUs - HISTORY_LIMITS.ticksWindowUsDefault),
        );
        range(fromUs, toUs, HISTORY_LIMITS.ticksRangeUsMax, 'one day');
        const store = md.mdStore as NonNullable<VenueFeed['mdStore']>;
        const ticks = await store.ticks(inst.spec.symbol, fromUs, toUs, limit + 1);
        const more = ticks.length > limit;
        return {
          symbol: inst.spec.symbol,
          ticks: ticks.slice(0, limit).map((t) => tickJson(t, inst)),
          more,
        };
      },
    );
    done();
  };
