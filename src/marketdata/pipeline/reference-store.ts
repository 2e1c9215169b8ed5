/**
 * Reference data in the query store (table md_reference_data, migration 4): the port the enrich stage's cache
 * reads. A trigger bumps a row's revision on every change and NOTIFYs its instrument on channel
 * `rialto_md_reference`, whoever made the change (this process, another gateway, an operator in psql), so
 * every cache drops the entry at once instead of serving it until its TTL. When the listening connection was
 * lost, the store reports a gap and the caches drop everything (notifications sent meanwhile are gone).
 */
import type { Queryable, Row, Store } from '../../store/index.js';
import type { ReferenceDataPort } from './reference.js';
import type { ReferenceData } from './tick.js';

export const REFERENCE_CHANNEL = 'rialto_md_reference';

/** Reference data as written: the store assigns the revision. */
export type ReferenceDataInput = Omit<ReferenceData, 'revision'>;

const METHODS = new Set(['manual', 'rule', 'model', 'vendor']);
const TEXT_MAX = { instrument: 64, assetClass: 64, venue: 64, currency: 16, unit: 32 } as const;
const TAXONOMY_DEPTH_MAX = 16;
const TAXONOMY_PART_MAX = 64;

/** Why `input` cannot be stored, or null. The table's checks say the same; this says it first and clearly. */
export function referenceDataProblem(input: ReferenceDataInput): string | null {
  for (const [field, max] of Object.entries(TEXT_MAX) as [keyof typeof TEXT_MAX, number][]) {
    const v = input[field];
    if (typeof v !== 'string' || v.length < 1 || v.length > max)
      return `${field} must be 1 to ${max} characters`;
  }
  for (const field of ['tickSize', 'lotSize'] as const) {
    const v = input[field];
    if (!Number.isSafeInteger(v) || v <= 0) return `${field} must be a whole number above 0`;
  }
  const t = input.taxonomy;
  if (!Array.isArray(t.path) || t.path.length > TAXONOMY_DEPTH_MAX)
    return `taxonomy.path must be a list of at most ${TAXONOMY_DEPTH_MAX} names`;
  if (t.path.some((p) => typeof p !== 'string' || p.length < 1 || p.length > TAXONOMY_PART_MAX))
    return `each taxonomy.path name must be 1 to ${TAXONOMY_PART_MAX} characters`;
  if (typeof t.confidence !== 'number' || !(t.confidence >= 0 && t.confidence <= 1))
    return 'taxonomy.confidence must be a number from 0 to 1';
  if (!METHODS.has(t.method)) return 'taxonomy.method must be manual, rule, model or vendor';
  return null;
}

const COLUMNS = `instrument, asset_class, venue, currency, unit, tick_size, lot_size, taxonomy_path,
  taxonomy_confidence, taxonomy_method, revision`;

function fromRow(r: Row): ReferenceData {
  return Object.freeze({
    instrument: String(r.instrument),
    assetClass: String(r.asset_class),
    venue: String(r.venue),
    currency: String(r.currency),
    unit: String(r.unit),
    tickSize: Number(r.tick_size),
    lotSize: Number(r.lot_size),
    taxonomy: Object.freeze({
      path: Object.freeze([...(r.taxonomy_path as string[])]),
      confidence: Number(r.taxonomy_confidence),
      method: String(r.taxonomy_method) as ReferenceData['taxonomy']['method'],
    }),
    revision: Number(r.revision),
  });
}

function params(input: ReferenceDataInput): (string | number | readonly string[])[] {
  return [
    input.instrument,
    input.assetClass,
    input.venue,
    input.currency,
    input.unit,
    input.tickSize,
    input.lotSize,
    input.taxonomy.path,
    input.taxonomy.confidence,
    input.taxonomy.method,
  ];
}

const INSERT = `INSERT INTO md_reference_data (instrument, asset_class, venue, currency, unit, tick_size, lot_size,
    taxonomy_path, taxonomy_confidence, taxonomy_method) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;

export class StoreReferenceData implements ReferenceDataPort {
  private listeners: ((instrument: string | null) => void)[] = [];
  private unlisten: (() => Promise<void>) | null = null;

  private constructor(private readonly db: Store) {}

  /** Opens the port on a migrated store and starts listening for changes. */
  static async open(db: Store): Promise<StoreReferenceData> {
    const port = new StoreReferenceData(db);
    port.unlisten = await db.listen(REFERENCE_CHANNEL, {
      notify: (instrument) => port.emit(instrument),
      gap: () => port.emit(null),
    });
    return port;
  }

  async get(instrument: string): Promise<ReferenceData | null> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM md_reference_data WHERE instrument = $1`, [
      instrument,
    ]);
    return rows.length === 0 ? null : fromRow(rows[0]);
  }

  async list(): Promise<ReferenceData[]> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM md_reference_data ORDER BY instrument`);
    return rows.map(fromRow);
  }

  /** Creates or replaces an instrument's record; returns it as stored (with its new revision). */
  async put(input: ReferenceDataInput): Promise<ReferenceData> {
    const problem = referenceDataProblem(input);
    if (problem !== null) throw new RangeError(problem);
    const rows = await this.db.query(
      `${INSERT} ON CONFLICT (instrument) DO UPDATE SET asset_class = EXCLUDED.asset_class,
         venue = EXCLUDED.venue, currency = EXCLUDED.currency, unit = EXCLUDED.unit,
         tick_size = EXCLUDED.tick_size, lot_size = EXCLUDED.lot_size, taxonomy_path = EXCLUDED.taxonomy_path,
         taxonomy_confidence = EXCLUDED.taxonomy_confidence, taxonomy_method = EXCLUDED.taxonomy_method
       RETURNING ${COLUMNS}`,
      params(input),
    );
    return fromRow(rows[0]);
  }

  /** Adds records for instruments that have none; keeps every existing one (an operator's edits win). */
  async seed(inputs: readonly ReferenceDataInput[], tx: Queryable = this.db): Promise<number> {
    let added = 0;
    for (const input of inputs) {
      const problem = referenceDataProblem(input);
      if (problem !== null) throw new RangeError(`${input.instrument}: ${problem}`);
      const rows = await tx.query(
        `${INSERT} ON CONFLICT (instrument) DO NOTHING RETURNING instrument`,
        params(input),
      );
      added += rows.length;
    }
    return added;
  }

  async delete(instrument: string): Promise<boolean> {
    const rows = await this.db.query(
      'DELETE FROM md_reference_data WHERE instrument = $1 RETURNING instrument',
      [instrument],
    );
    return rows.length > 0;
  }

  onChange(listener: (instrument: string | null) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  async close(): Promise<void> {
    const u = this.unlisten;
    this.unlisten = null;
    this.listeners = [];
    await u?.();
  }

  private emit(instrument: string | null): void {
    for (const l of this.listeners) l(instrument);
  }
}
