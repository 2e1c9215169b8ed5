/**
 * Instruments at runtime: an administrator adds one, or changes one, in the API's decimal terms. The request
 * goes through the same resolution as the configuration file's instruments (ops/config/instruments.ts: every
 * size a whole multiple of its unit, fees in parts per million, a maker rebate no larger than the taker fee),
 * then becomes the core's `defineInstrument` command with the complete spec, journaled like any command, and
 * is answered once durable. The instrument table (table.ts) takes the new spec from the command's durable
 * event, so the symbol is tradable over REST and WebSocket before the answer leaves.
 *
 * Changes run one at a time: a change is computed from the instrument as it stands, and two changes computed
 * from the same state would undo each other's fields.
 */
import { CoreReject, decodeRecord, type Command } from '../../core/index.js';
import { EventBuffer } from '../../book/index.js';
import { EngineError, type EnginePort } from '../../engine/index.js';
import {
  formatDecimal,
  resolveInstrument,
  type ConfigProblem,
  type InstrumentConfig,
  type InstrumentEntry,
  type InstrumentSpecConfig,
} from '../../ops/index.js';
import { ApiError, ErrorCode, invalidSymbol, rejectError } from '../trading/errors.js';
import { lotsToQty, ticksToPrice } from '../trading/units.js';
import type { InstrumentTable } from './table.js';

export const MARK_METHOD_NAMES = ['last_trade', 'mid'] as const;
export type MarkMethodName = (typeof MARK_METHOD_NAMES)[number];

/** What may change of an instrument (PATCH): any of these, the others keep their values. */
export interface InstrumentChange {
  readonly tick_size?: string;
  readonly lot_size?: string;
  readonly min_quantity?: string;
  readonly max_quantity?: string;
  readonly reference_price?: string;
  readonly price_band_bps?: number;
  readonly market_protection_bps?: number;
  readonly maker_fee?: string;
  readonly taker_fee?: string;
  readonly mark_method?: MarkMethodName;
  /** Fixed once the instrument exists: accepted only when equal to the present value. */
  readonly base?: string;
  readonly quote?: string;
  readonly price_unit?: string;
  readonly quantity_unit?: string;
}

/** A new instrument (POST): the fields of a change, plus its symbol, assets and optional id. */
export interface NewInstrument extends InstrumentChange {
  readonly id?: number;
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  readonly tick_size: string;
  readonly lot_size: string;
  readonly max_quantity: string;
}

/** The configuration's field names (problem paths and messages) as the API names them. */
const API_NAMES: Readonly<Record<string, string>> = {
  tickSize: 'tick_size',
  lotSize: 'lot_size',
  priceUnit: 'price_unit',
  qtyUnit: 'quantity_unit',
  minQty: 'min_quantity',
  maxQty: 'max_quantity',
  referencePrice: 'reference_price',
  priceBandBps: 'price_band_bps',
  marketProtectionBps: 'market_protection_bps',
  makerFee: 'maker_fee',
  takerFee: 'taker_fee',
  markMethod: 'mark_method',
};
const CONFIG_NAME = new RegExp(`\\b(${Object.keys(API_NAMES).join('|')})\\b`, 'g');
const apiWords = (text: string): string => text.replace(CONFIG_NAME, (w) => API_NAMES[w] ?? w);

const PPM_SCALE = 6;
/** A rate in parts per million as the API writes it: "0.0005" for 500. */
export const feeRateText = (ppm: number): string => formatDecimal({ units: BigInt(ppm), scale: PPM_SCALE });

const FIXED: readonly ['base' | 'quote' | 'price_unit' | 'quantity_unit', (i: InstrumentConfig) => string][] =
  [
    ['base', (i) => i.baseCode],
    ['quote', (i) => i.quoteCode],
    ['price_unit', (i) => i.priceUnit],
    ['quantity_unit', (i) => i.qtyUnit],
  ];

export const instrumentExists = (what: string, details: Record<string, unknown>): ApiError =>
  new ApiError(409, ErrorCode.InstrumentExists, `an instrument with ${what} exists`, details);

export class InstrumentAdmin {
  /** The change running now: the next waits for it. */
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly engine: EnginePort,
    private readonly table: InstrumentTable,
  ) {}

  /** Adds an instrument; answers it as it now stands. */
  create(body: NewInstrument): Promise<InstrumentConfig> {
    return this.oneAtATime(async () => {
      const t = this.table;
      if (t.instrumentBySymbol(body.symbol) !== undefined) {
        throw instrumentExists(`the symbol ${body.symbol}`, { symbol: body.symbol });
      }
      const id = body.id ?? t.nextInstrumentId();
      if (t.instrumentById(id) !== undefined) throw instrumentExists(`the id ${id}`, { id });
      this.checkAssets(body.base, body.quote);
      const spec = this.resolve({ ...(entryOf(body) as InstrumentEntry), id, symbol: body.symbol });
      return this.define(spec);
    });
  }

  /** Changes the given fields of an instrument; answers it as it now stands. */
  change(symbol: string, change: InstrumentChange): Promise<InstrumentConfig> {
    return this.oneAtATime(async () => {
      const now = this.table.instrumentBySymbol(symbol);
      if (now === undefined) throw invalidSymbol(symbol);
      if (Object.values(change).every((v) => v === undefined)) {
        throw new ApiError(400, ErrorCode.ValidationError, 'give at least one field to change');
      }
      for (const [field, current] of FIXED) {
        const given = change[field];
        if (given !== undefined && given !== current(now)) {
          throw new ApiError(
            409,
            ErrorCode.InstrumentFieldFixed,
            `${field} of ${symbol} is fixed once it exists (open orders' holds and positions depend on it): ` +
              `it is ${current(now)}`,
            { field, value: current(now) },
          );
        }
      }
      const spec = this.resolve({ ...entryOfInstrument(now), ...entryOf(change) });
      return this.define(spec);
    });
  }

  private checkAssets(base: string, quote: string): void {
    for (const [field, code] of [
      ['base', base],
      ['quote', quote],
    ] as const) {
      if (this.table.assetByCode(code) === undefined) {
        const known = this.table.assets().map((a) => a.code);
        throw new ApiError(400, ErrorCode.UnknownAsset, `unknown asset ${JSON.stringify(code)}`, {
          field,
          asset: code,
          assets: known,
        });
      }
    }
  }

  /** The entry in the core's integers, or INVALID_INSTRUMENT naming every problem by its API field. */
  private resolve(entry: InstrumentEntry): InstrumentSpecConfig {
    const problems: ConfigProblem[] = [];
    const assets = this.table.assets();
    const inst = resolveInstrument(entry, 'instrument', new Map(assets.map((a) => [a.code, a])), problems);
    if (inst === null || problems.length > 0) {
      const listed = problems.map((p) => ({
        field: apiWords(p.path.replace(/^instrument\.?/, '')),
        message: apiWords(p.message),
      }));
      const first = listed[0] ?? { field: '', message: 'the instrument is not valid' };
      throw new ApiError(
        400,
        ErrorCode.InvalidInstrument,
        `${first.field === '' ? '' : `${first.field}: `}${first.message}`,
        { field: first.field, problems: listed },
      );
    }
    return inst.spec;
  }

  /** Submits the complete spec and waits until it is durable and in the table. */
  private async define(spec: InstrumentSpecConfig): Promise<InstrumentConfig> {
    const cmd: Command = { kind: 'defineInstrument', timeUs: 0, spec: { ...spec } };
    this.table.expectInstrument(spec);
    let events: Float64Array;
    try {
      events = (await this.engine.submit([cmd])).events(0);
    } catch (e) {
      if (e instanceof EngineError) {
        throw new ApiError(503, ErrorCode.ServiceUnavailable, 'the engine cannot take commands now', {
          engine: e.code,
        });
      }
      throw e;
    } finally {
      this.table.settled('instrument', spec.instrument);
    }
    const code = rejectCodeOf(events);
    if (code !== 0) throw defineRefusal(code, spec.symbol);
    const now = this.table.instrumentById(spec.instrument);
    if (now === undefined) throw new Error(`instrument ${spec.symbol} is durable but not in the table`);
    return now;
  }

  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const next = this.running.then(work, work);
    this.running = next.catch(() => undefined);
    return next;
  }
}

/** The code of the command's CommandRejected record, or 0. */
function rejectCodeOf(events: Float64Array): number {
  const buf = new EventBuffer(1);
  buf.data = events;
  buf.count = events.length / 16;
  for (let i = 0; i < buf.count; i++) {
    const e = decodeRecord(buf, i);
    if (e?.type === 'CommandRejected') return e.code;
  }
  return 0;
}

function defineRefusal(code: number, symbol: string): ApiError {
  const details = { symbol };
  if (code === CoreReject.InstrumentFieldFixed) {
    return new ApiError(
      409,
      ErrorCode.InstrumentFieldFixed,
      `a fixed field of ${symbol} would change`,
      details,
    );
  }
  if (code === 2004)
    return new ApiError(400, ErrorCode.UnknownAsset, `${symbol} names an unknown asset`, details);
  if (code === CoreReject.InvalidInstrumentSpec) {
    return new ApiError(400, ErrorCode.InvalidInstrument, `the core refuses ${symbol}'s spec`, details);
  }
  return rejectError(code, `${symbol} was not defined`, details);
}

/** The API's fields as the configuration's entry (those given only). */
function entryOf(b: InstrumentChange & { symbol?: string }): Partial<InstrumentEntry> {
  const out: Record<string, unknown> = {};
  const put = (k: keyof InstrumentEntry, v: unknown): void => {
    if (v !== undefined) out[k] = v;
  };
  put('base', b.base);
  put('quote', b.quote);
  put('tickSize', b.tick_size);
  put('lotSize', b.lot_size);
  put('priceUnit', b.price_unit);
  put('qtyUnit', b.quantity_unit);
  put('minQty', b.min_quantity);
  put('maxQty', b.max_quantity);
  put('referencePrice', b.reference_price);
  put('priceBandBps', b.price_band_bps);
  put('marketProtectionBps', b.market_protection_bps);
  put('makerFee', b.maker_fee);
  put('takerFee', b.taker_fee);
  put('markMethod', b.mark_method);
  return out;
}

/** An instrument as it stands, as the configuration's entry (its units explicit, so that they stay). */
export function entryOfInstrument(i: InstrumentConfig): InstrumentEntry {
  const s = i.spec;
  return {
    id: s.instrument,
    symbol: s.symbol,
    base: i.baseCode,
    quote: i.quoteCode,
    tickSize: i.tickSize,
    lotSize: i.lotSize,
    priceUnit: i.priceUnit,
    qtyUnit: i.qtyUnit,
    minQty: lotsToQty(s.qtyMin, i),
    maxQty: lotsToQty(s.qtyMax, i),
    referencePrice: s.referencePrice === 0 ? undefined : ticksToPrice(s.referencePrice, i),
    priceBandBps: s.priceBandBps,
    marketProtectionBps: s.marketProtectionBps,
    makerFee: feeRateText(s.makerFeePpm),
    takerFee: feeRateText(s.takerFeePpm),
    markMethod: s.markMethod === 2 ? 'mid' : 'last_trade',
  };
}
