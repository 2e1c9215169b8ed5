/**
 * The gateway's instrument table: every asset and instrument the core holds, with the decimal units the API
 * shows them in. It starts from the core's own reference data after the journal's replay (so instruments
 * added at runtime survive a restart, and the configuration only seeds a fresh venue), and follows the core's
 * durable events from then on: an `AssetAdded` or `InstrumentDefined` record makes the asset or the
 * instrument's new spec current. The core's records carry ids only, so the spec comes from the command that
 * the gateway itself submitted (`expect...` before the submit): the data directory's lock makes this process
 * the only submitter. The table applies a batch before the submitter's receipt resolves, so an administrator
 * who added an instrument can trade it the moment the answer arrives, over REST and WebSocket alike.
 *
 * Between reference-data commands (nearly always) nothing is awaited and `applyBatch` is not called: the
 * order path pays nothing for this.
 */
import { EVENT_STRIDE } from '../../book/index.js';
import {
  C_A,
  C_B,
  CoreEventType,
  F_INSTRUMENT,
  INSTRUMENT_DEFAULTS,
  type AssetInfo,
  type InstrumentSpec,
} from '../../core/index.js';
import { decodeFramedCommands } from '../../journal/index.js';
import {
  instrumentOfSpec,
  type AssetConfig,
  type InstrumentConfig,
  type InstrumentSpecConfig,
} from '../../ops/index.js';

export class InstrumentTable {
  private readonly bySymbol = new Map<string, InstrumentConfig>();
  private readonly byId = new Map<number, InstrumentConfig>();
  private readonly assetsById = new Map<number, AssetConfig>();
  private readonly assetsByCode = new Map<string, AssetConfig>();
  /** Specs and assets submitted whose durable events have not come yet, by id. */
  private readonly expectedSpecs = new Map<number, InstrumentSpecConfig>();
  private readonly expectedAssets = new Map<number, AssetConfig>();
  /** Instruments by id, made anew after each change (readers keep the array they got). */
  private listed: readonly InstrumentConfig[] = [];

  /** The table of the core's state: its assets, then its instruments (as the journal's replay left them). */
  static of(assets: readonly AssetInfo[], specs: readonly Readonly<InstrumentSpec>[]): InstrumentTable {
    const t = new InstrumentTable();
    for (const a of assets) t.addAsset({ id: a.asset, code: a.code, decimals: a.decimals });
    for (const s of specs) t.define(toSpecConfig(s));
    return t;
  }

  instruments(): readonly InstrumentConfig[] {
    return this.listed;
  }

  instrumentBySymbol(symbol: string): InstrumentConfig | undefined {
    return this.bySymbol.get(symbol);
  }

  instrumentById(id: number): InstrumentConfig | undefined {
    return this.byId.get(id);
  }

  assetByCode(code: string): AssetConfig | undefined {
    return this.assetsByCode.get(code);
  }

  assetById(id: number): AssetConfig | undefined {
    return this.assetsById.get(id);
  }

  assets(): AssetConfig[] {
    return [...this.assetsById.values()].sort((a, b) => a.id - b.id);
  }

  /** The lowest instrument id above every one in use. */
  nextInstrumentId(): number {
    let max = 0;
    for (const id of this.byId.keys()) if (id > max) max = id;
    for (const id of this.expectedSpecs.keys()) if (id > max) max = id;
    return max + 1;
  }

  /** Whether a batch may hold an event this table waits for (the venue's listener calls applyBatch then). */
  get awaiting(): boolean {
    return this.expectedSpecs.size > 0 || this.expectedAssets.size > 0;
  }

  /** The complete spec a defineInstrument command about to be submitted gives its instrument. */
  expectInstrument(spec: InstrumentSpecConfig): void {
    this.expectedSpecs.set(spec.instrument, spec);
  }

  expectAsset(asset: AssetConfig): void {
    this.expectedAssets.set(asset.id, asset);
  }

  /** Forgets what a command's submitter expected once its receipt (or refusal) is in. */
  settled(kind: 'asset' | 'instrument', id: number): void {
    if (kind === 'asset') this.expectedAssets.delete(id);
    else this.expectedSpecs.delete(id);
  }

  /**
   * Expects the assets and instruments that another process (a split venue's other gateway) added or changed
   * in this batch, read from the batch's own command records, so that `applyBatch` takes them; returns what it
   * expected, to be `settled` after `applyBatch`. Only what the core accepted (its event is in the command's
   * records) and this table does not expect already (this process's own submissions) is taken.
   */
  expectDefinedElsewhere(batch: {
    readonly events: Float64Array;
    readonly ends: Int32Array;
    readonly count: number;
    readonly records?: Uint8Array;
  }): ['asset' | 'instrument', number][] {
    const { events, ends, records } = batch;
    if (records === undefined) return [];
    let defines = false;
    for (let o = 0; o < events.length && !defines; o += EVENT_STRIDE) {
      defines = events[o] === CoreEventType.AssetAdded || events[o] === CoreEventType.InstrumentDefined;
    }
    if (!defines) return [];
    const expected: ['asset' | 'instrument', number][] = [];
    const commands = decodeFramedCommands(records, batch.count);
    for (let k = 0, from = 0; k < commands.length; from = ends[k], k++) {
      const c = commands[k];
      if (c.kind === 'addAsset') {
        if (this.expectedAssets.has(c.asset) || !hasEvent(events, from, ends[k], CoreEventType.AssetAdded))
          continue;
        this.expectAsset({ id: c.asset, code: c.code, decimals: c.decimals });
        expected.push(['asset', c.asset]);
      } else if (c.kind === 'defineInstrument') {
        const id = c.spec.instrument;
        if (this.expectedSpecs.has(id) || !hasEvent(events, from, ends[k], CoreEventType.InstrumentDefined))
          continue;
        const known = this.byId.get(id)?.spec;
        this.expectInstrument(
          toSpecConfig({ ...INSTRUMENT_DEFAULTS, ...known, ...c.spec } as InstrumentSpec),
        );
        expected.push(['instrument', id]);
      }
    }
    return expected;
  }

  /** Applies the reference-data records of a durable batch (all its records, back to back). */
  applyBatch(events: Float64Array): void {
    for (let o = 0; o < events.length; o += EVENT_STRIDE) {
      const type = events[o];
      if (type === CoreEventType.AssetAdded) {
        const id = events[o + C_A];
        const a = this.expectedAssets.get(id);
        if (a === undefined || a.decimals !== events[o + C_B]) {
          throw new Error(`instrument table: asset ${id} was added by a command this gateway did not send`);
        }
        this.addAsset(a);
      } else if (type === CoreEventType.InstrumentDefined) {
        const id = events[o + F_INSTRUMENT];
        const spec = this.expectedSpecs.get(id);
        if (spec === undefined) {
          throw new Error(
            `instrument table: instrument ${id} was defined by a command this gateway did not send`,
          );
        }
        this.define(spec);
      }
    }
  }

  private addAsset(a: AssetConfig): void {
    this.assetsById.set(a.id, a);
    this.assetsByCode.set(a.code, a);
  }

  private define(spec: InstrumentSpecConfig): void {
    const base = this.assetsById.get(spec.baseAsset);
    const quote = this.assetsById.get(spec.quoteAsset);
    if (base === undefined || quote === undefined) {
      throw new Error(`instrument table: ${spec.symbol} names an asset the core does not have`);
    }
    // An instrument whose price unit has no decimal form cannot be shown over the API: it stays unlisted.
    const inst = instrumentOfSpec(spec, base, quote);
    if (inst === null) return;
    const before = this.byId.get(spec.instrument);
    if (before !== undefined) this.bySymbol.delete(before.spec.symbol);
    this.byId.set(spec.instrument, inst);
    this.bySymbol.set(spec.symbol, inst);
    this.listed = [...this.byId.values()].sort((a, b) => a.spec.instrument - b.spec.instrument);
  }
}

/** The core's spec as the configuration's type (the same fields; markMethod narrowed). */
export function toSpecConfig(s: Readonly<InstrumentSpec>): InstrumentSpecConfig {
  return { ...s, markMethod: s.markMethod === 2 ? 2 : 1 };
}

/** Whether records [from, to) of `events` (one command's, by a batch's `ends`) hold one of `type`. */
export function hasEvent(events: Float64Array, from: number, to: number, type: number): boolean {
  for (let r = from; r < to; r++) if (events[r * EVENT_STRIDE] === type) return true;
  return false;
}
