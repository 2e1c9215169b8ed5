/**
 * The market data store: ticks and bars in the query store's day-partitioned tables (migration 5), with the
 * same SQL on PGlite and PostgreSQL. Writes are one multi-row statement per table (`INSERT ... SELECT FROM
 * unnest($1, $2, ...)`: a handful of array parameters whatever the row count, so one statement carries
 * thousands of rows without PostgreSQL's 65,535-parameter limit) and idempotent: a tick already there
 * (same instrument, time and event id) is skipped, and a bar replaces the stored one of its key only with
 * a higher revision, so redelivered or replayed messages change nothing.
 *
 * Ticks go in with a plain COPY (binary: the server parses no text; PGlite reads it from its /dev/blob) first, the
 * usual case being that none is there yet; a unique violation (a redelivery) rolls the transaction back and
 * writes the batch again in a new one, inserting the ticks with ON CONFLICT DO NOTHING. No savepoint: it cost
 * two more round trips per batch for a case that redeliveries alone bring.
 *
 * Every day a row lands in must have its partition first: `ensureDays` creates the missing ones through
 * `md_ensure_day` (idempotent, under an advisory lock) and remembers which exist, so a batch of a day seen
 * before costs nothing extra.
 */
import type { Envelope } from '../../bus/index.js';
import type { Queryable, Row, SqlValue, Store } from '../../store/index.js';
import { TickCopyBuffer } from './copy.js';
import { barRowOf, tickRowOf, type BarRow, type TickRow } from './rows.js';

export const DAY_US = 86_400_000_000;

/** `t` as a SQL timestamptz expression of a µs parameter (exact: µs is timestamptz's precision). */
const ts = (param: string): string => `(timestamptz 'epoch' + ${param} * interval '1 microsecond')`;
/** A timestamptz column as µs since the epoch (exact: extract returns numeric). */
const us = (column: string): string => `(extract(epoch from ${column}) * 1000000)::int8`;

const TICK_ROWS = `
  INSERT INTO md_ticks (instrument, ts, ts_ns, event_id, kind, price, size, side, bid_price, bid_size,
                        ask_price, ask_size, trade_id, flags, source)
  SELECT i, ${ts('t')}, n, e, k, p, s, sd, bp, bs, ap, az, tid, f, src
    FROM unnest($1::text[], $2::int8[], $3::int2[], $4::text[], $5::"char"[], $6::int8[], $7::int8[],
                $8::"char"[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::int4[],
                $15::text[]) AS u(i, t, n, e, k, p, s, sd, bp, bs, ap, az, tid, f, src)`;

/** The usual case, no tick there yet: a plain insert (ON CONFLICT's speculative insertion costs a third more). */
const INSERT_TICKS = TICK_ROWS;
/** After a unique violation (a redelivery, a replay): the rows not there yet, counted. */
const INSERT_NEW_TICKS = `
  WITH written AS (${TICK_ROWS} ON CONFLICT DO NOTHING RETURNING 1)
  SELECT count(*)::int4 AS n FROM written`;

const COPY_TICKS = `
  COPY md_ticks (instrument, ts, ts_ns, event_id, kind, price, size, side, bid_price, bid_size, ask_price,
                 ask_size, trade_id, flags, source) FROM STDIN (FORMAT binary)`;

/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';

const UPSERT_BARS = `
  WITH written AS (
    INSERT INTO md_bars (instrument, interval, start_ts, number, end_ts, open, high, low, close, volume,
                         notional, trades, revision, event_id)
    SELECT i, iv, ${ts('st')}, nb, ${ts('en')}, o, h, l, c, v, nt, tr, rv, e
      FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[],
                  $8::int8[], $9::int8[], $10::int8[], $11::numeric[], $12::int4[], $13::int4[], $14::text[])
           AS u(i, iv, st, nb, en, o, h, l, c, v, nt, tr, rv, e)
    ON CONFLICT (instrument, interval, start_ts, number) DO UPDATE
      SET end_ts = excluded.end_ts, open = excluded.open, high = excluded.high, low = excluded.low,
          close = excluded.close, volume = excluded.volume, notional = excluded.notional,
          trades = excluded.trades, revision = excluded.revision, event_id = excluded.event_id
      WHERE md_bars.revision < excluded.revision
    RETURNING 1
  )
  SELECT count(*)::int4 AS n FROM written`;

const SAVE_PROGRESS = `
  INSERT INTO md_progress (feed, seq) VALUES ($1, $2)
  ON CONFLICT (feed) DO UPDATE SET seq = GREATEST(md_progress.seq, excluded.seq), updated_at = now()`;

const SIDE_CODE = { buy: 'b', sell: 's', unknown: 'u' } as const;
const SIDE_NAME: Readonly<Record<string, 'buy' | 'sell' | 'unknown'>> = { b: 'buy', s: 'sell', u: 'unknown' };

/** What one write did: rows inserted (or replaced, for bars) and rows that were there already. */
export interface WriteResult {
  readonly ticksWritten: number;
  readonly ticksExisting: number;
  readonly barsWritten: number;
  readonly barsExisting: number;
}

export interface WriteBatch {
  /** As rows, or encoded for COPY as they came (the writer's batches on PostgreSQL). */
  readonly ticks: readonly TickRow[] | TickCopyBuffer;
  readonly bars: readonly BarRow[];
  /** A feed's journal sequence number written through, saved in the same transaction; null: none. */
  readonly progress: { readonly feed: string; readonly seq: number } | null;
}

/**
 * How a write keeps its place behind the one written before it on another connection: it starts its
 * statements only once that one's are done (so that neither ever waits for a row of the other while the
 * other waits for it), and commits only once that one committed, rolling back if it failed.
 */
export interface WriteOrder {
  /** Resolves when the write before has done its statements (or ended). */
  readonly start: Promise<void>;
  /** Resolves when the write before committed; rejects when it failed. */
  readonly commit: Promise<void>;
  /** Told when this write's statements are done, before it commits. */
  readonly written: () => void;
}

/** A stored bar as a query returns it. */
export interface StoredBar {
  readonly startUs: number;
  readonly endUs: number;
  readonly number: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly notional: bigint;
  readonly trades: number;
  readonly revision: number;
}

export interface StoredTick {
  readonly timeUs: number;
  readonly timeNs: number;
  readonly eventId: string;
  readonly kind: 'trade' | 'quote';
  readonly price: number | null;
  readonly size: number | null;
  readonly side: 'buy' | 'sell' | 'unknown' | null;
  readonly bidPrice: number | null;
  readonly bidSize: number | null;
  readonly askPrice: number | null;
  readonly askSize: number | null;
  readonly tradeId: number | null;
  readonly flags: number;
  readonly source: string;
}

/** A day number (days since 1970-01-01 UTC) as 'YYYY-MM-DD'. */
export const dayText = (day: number): string => new Date(day * 86_400_000).toISOString().slice(0, 10);

const num = (v: unknown): number => {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  throw new Error(`market data store: expected a number, got ${typeof v}`);
};
const numOrNull = (v: unknown): number | null => (v === null ? null : num(v));

/**
 * Keeps, of the bars of one batch with the same key, the highest revision: one INSERT ... ON CONFLICT DO
 * UPDATE may not touch a row twice.
 */
function latestRevisions(bars: readonly BarRow[]): readonly BarRow[] {
  const byKey = new Map<string, BarRow>();
  for (const b of bars) {
    const key = `${b.instrument}\u0000${b.interval}\u0000${b.startUs}\u0000${b.number}`;
    const held = byKey.get(key);
    if (held === undefined || held.revision < b.revision) byKey.set(key, b);
  }
  return byKey.size === bars.length ? bars : [...byKey.values()];
}

export class MarketDataStore {
  private readonly days = new Set<number>();

  constructor(readonly store: Store) {}

  /** Makes the partitions of days `from` to `to` (day numbers, inclusive) that do not exist yet. */
  async ensureDays(from: number, to: number): Promise<number> {
    let made = 0;
    for (let d = from; d <= to; d++) {
      if (this.days.has(d)) continue;
      await this.store.query('SELECT md_ensure_day($1::date)', [dayText(d)]);
      this.days.add(d);
      made++;
    }
    return made;
  }

  /** Forgets which partitions exist (after a failure that says one is missing: someone dropped it). */
  forgetDays(): void {
    this.days.clear();
  }

  /** The partitions that exist, as 'YYYY-MM-DD' (for operators and tests). */
  async partitionDays(table: 'md_ticks' | 'md_bars'): Promise<string[]> {
    const rows = await this.store.query(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.oid = $1::regclass ORDER BY c.relname`,
      [table],
    );
    return rows.map((r) => {
      const m = /_([0-9]{4})([0-9]{2})([0-9]{2})$/.exec(String(r.name));
      if (m === null) throw new Error(`market data store: unexpected partition ${String(r.name)}`);
      return `${m[1]}-${m[2]}-${m[3]}`;
    });
  }

  /**
   * Retention: drops `table`'s partitions of the days before `day` (a day number), whole, and returns their
   * days ('YYYY-MM-DD'). Under md_ensure_day's advisory lock, so that no writer makes one of them meanwhile; a
   * writer that later gets a tick of a dropped day makes its partition again (a late tick is not refused).
   * With `dryRun` it only names them.
   */
  async dropDaysBefore(table: 'md_ticks' | 'md_bars', day: number, dryRun = false): Promise<string[]> {
    const before = dayText(day);
    const days = (await this.partitionDays(table)).filter((d) => d < before);
    if (dryRun || days.length === 0) return days;
    await this.store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(5929342180497771844)');
      // The names are ours: the table's name and a day of partitionDays, digits only.
      for (const d of days) await tx.exec(`DROP TABLE IF EXISTS ${table}_${d.replaceAll('-', '')}`);
    });
    this.days.clear();
    return days;
  }

  /** Ticks (`TickEnriched`/`TickNormalized` messages), idempotent by event id. */
  async writeTicks(messages: readonly Envelope[]): Promise<WriteResult> {
    return this.write({ ticks: messages.map(tickRowOf), bars: [], progress: null });
  }

  /** Bars (`BarClosed`/`BarCorrected` messages); a higher revision replaces a lower one. */
  async writeBars(messages: readonly Envelope[]): Promise<WriteResult> {
    return this.write({ ticks: [], bars: messages.map(barRowOf), progress: null });
  }

  /** Ticks, bars and a feed's progress in one transaction, their days' partitions made first. */
  async write(batch: WriteBatch, order?: WriteOrder): Promise<WriteResult> {
    await this.ensureRowDays(batch);
    try {
      return await this.writeOnce(batch, false, order);
    } catch (e) {
      if ((e as { code?: unknown }).code !== UNIQUE_VIOLATION) throw e;
    }
    return this.writeOnce(batch, true, order);
  }

  /** `WriteBatch` in one transaction; `existing`: some ticks may be there already (skipped, counted). */
  private writeOnce(batch: WriteBatch, existing: boolean, order?: WriteOrder): Promise<WriteResult> {
    const bars = latestRevisions(batch.bars);
    const ticks = batch.ticks;
    const tickCount = ticks instanceof TickCopyBuffer ? ticks.count : ticks.length;
    return this.store.transaction(async (tx) => {
      if (order !== undefined) await order.start;
      const ticksWritten = tickCount === 0 ? 0 : await insertTicks(tx, ticks, existing);
      const barsWritten = bars.length === 0 ? 0 : await upsertBars(tx, bars);
      if (batch.progress !== null) {
        await tx.query(SAVE_PROGRESS, [batch.progress.feed, batch.progress.seq]);
      }
      if (order !== undefined) {
        order.written();
        await order.commit;
      }
      return {
        ticksWritten,
        ticksExisting: tickCount - ticksWritten,
        barsWritten,
        barsExisting: batch.bars.length - barsWritten,
      };
    });
  }

  /** The journal sequence number a feed's data is written through (0: none yet). */
  async progress(feed: string): Promise<number> {
    const rows = await this.store.query('SELECT seq FROM md_progress WHERE feed = $1', [feed]);
    return rows.length === 0 ? 0 : num(rows[0].seq);
  }

  /** Bars of one instrument and interval starting in [fromUs, toUs), oldest first, at most `limit`. */
  async bars(
    instrument: string,
    interval: string,
    fromUs: number,
    toUs: number,
    limit: number,
  ): Promise<StoredBar[]> {
    const rows = await this.store.query(
      `SELECT ${us('start_ts')} AS start_us, ${us('end_ts')} AS end_us, number, open, high, low, close,
              volume, notional::text AS notional, trades, revision
         FROM md_bars
        WHERE instrument = $1 AND interval = $2 AND start_ts >= ${ts('$3::int8')} AND start_ts < ${ts('$4::int8')}
        ORDER BY start_ts, number LIMIT $5`,
      [instrument, interval, fromUs, toUs, limit],
    );
    return rows.map(storedBar);
  }

  /** Ticks of one instrument in [fromUs, toUs), oldest first, at most `limit`. */
  async ticks(instrument: string, fromUs: number, toUs: number, limit: number): Promise<StoredTick[]> {
    const rows = await this.store.query(
      `SELECT ${us('ts')} AS time_us, ts_ns, event_id, kind, price, size, side, bid_price, bid_size,
              ask_price, ask_size, trade_id, flags, source
         FROM md_ticks
        WHERE instrument = $1 AND ts >= ${ts('$2::int8')} AND ts < ${ts('$3::int8')}
        ORDER BY ts, ts_ns, event_id LIMIT $4`,
      [instrument, fromUs, toUs, limit],
    );
    return rows.map(storedTick);
  }

  private async ensureRowDays(batch: WriteBatch): Promise<void> {
    let prev = -1;
    const want = (timeUs: number): number => Math.floor(timeUs / DAY_US);
    if (batch.ticks instanceof TickCopyBuffer) {
      for (const d of batch.ticks.days) if (!this.days.has(d)) await this.ensureDays(d, d);
    } else {
      for (const t of batch.ticks) {
        const d = want(t.timeUs);
        if (d !== prev && !this.days.has(d)) await this.ensureDays(d, d);
        prev = d;
      }
    }
    for (const b of batch.bars) {
      const d = want(b.startUs);
      if (!this.days.has(d)) await this.ensureDays(d, d);
    }
  }
}

/** Text that stands in an array literal as it is: no quoting or escaping needed, and not the word NULL. */
const PLAIN = /^[A-Za-z0-9_.:/@+-]+$/;

/**
 * A column as PostgreSQL's array literal (`{1,NULL,3}`, `{a,"b c"}`), passed as one text parameter and cast
 * in SQL: made here in one pass, it costs a fraction of the driver's per-element conversion of a JS array.
 */
function arrayLiteral<T>(rows: readonly T[], value: (row: T) => string | number | null): string {
  let out = '{';
  for (let k = 0; k < rows.length; k++) {
    if (k > 0) out += ',';
    const v = value(rows[k]);
    if (v === null) out += 'NULL';
    else if (typeof v === 'number') out += String(v);
    else if (PLAIN.test(v) && v.toUpperCase() !== 'NULL') out += v;
    else out += `"${v.replace(/[\\"]/g, '\\$&')}"`;
  }
  return out + '}';
}

/**
 * Tick rows as `COPY md_ticks (...) FROM STDIN (FORMAT binary)` input (copy.ts). Against the unnest of array
 * literals it spares the server the parsing of 15 texts per row (about half its work per tick) and this
 * process the building of them.
 */
export function ticksCopyData(rows: readonly TickRow[]): Uint8Array {
  const out = new TickCopyBuffer(64 + rows.length * 160);
  for (const r of rows) out.addRow(r);
  return out.data();
}

/** The rows as array literals, one per column: fifteen parameters, whatever the number of rows. */
function tickParams(rows: readonly TickRow[]): SqlValue[] {
  return [
    arrayLiteral(rows, (r) => r.instrument),
    arrayLiteral(rows, (r) => r.timeUs),
    arrayLiteral(rows, (r) => r.timeNs),
    arrayLiteral(rows, (r) => r.eventId),
    arrayLiteral(rows, (r) => (r.kind === 'trade' ? 't' : 'q')),
    arrayLiteral(rows, (r) => r.price),
    arrayLiteral(rows, (r) => r.size),
    arrayLiteral(rows, (r) => (r.side === null ? null : SIDE_CODE[r.side])),
    arrayLiteral(rows, (r) => r.bidPrice),
    arrayLiteral(rows, (r) => r.bidSize),
    arrayLiteral(rows, (r) => r.askPrice),
    arrayLiteral(rows, (r) => r.askSize),
    arrayLiteral(rows, (r) => r.tradeId),
    arrayLiteral(rows, (r) => r.flags),
    arrayLiteral(rows, (r) => r.source),
  ];
}

async function insertTicks(
  tx: Queryable,
  ticks: readonly TickRow[] | TickCopyBuffer,
  existing: boolean,
): Promise<number> {
  const encoded = ticks instanceof TickCopyBuffer;
  if (!existing && tx.copyFrom !== undefined) {
    return tx.copyFrom(COPY_TICKS, encoded ? ticks.data() : ticksCopyData(ticks));
  }
  const rows = encoded ? ticks.rows() : ticks;
  if (!existing) {
    await tx.query(INSERT_TICKS, tickParams(rows));
    return rows.length;
  }
  const [row] = await tx.query(INSERT_NEW_TICKS, tickParams(rows));
  return num(row.n);
}

async function upsertBars(tx: Queryable, rows: readonly BarRow[]): Promise<number> {
  const params: SqlValue[] = [
    rows.map((r) => r.instrument),
    rows.map((r) => r.interval),
    rows.map((r) => r.startUs),
    rows.map((r) => r.number),
    rows.map((r) => r.endUs),
    rows.map((r) => r.open),
    rows.map((r) => r.high),
    rows.map((r) => r.low),
    rows.map((r) => r.close),
    rows.map((r) => r.volume),
    rows.map((r) => r.notional),
    rows.map((r) => r.trades),
    rows.map((r) => r.revision),
    rows.map((r) => r.eventId),
  ];
  const [row] = await tx.query(UPSERT_BARS, params);
  return num(row.n);
}

function storedBar(r: Row): StoredBar {
  return {
    startUs: num(r.start_us),
    endUs: num(r.end_us),
    number: num(r.number),
    open: num(r.open),
    high: num(r.high),
    low: num(r.low),
    close: num(r.close),
    volume: num(r.volume),
    notional: BigInt(String(r.notional)),
    trades: num(r.trades),
    revision: num(r.revision),
  };
}

function storedTick(r: Row): StoredTick {
  const side = typeof r.side === 'string' ? SIDE_NAME[r.side] : null;
  return {
    timeUs: num(r.time_us),
    timeNs: num(r.ts_ns),
    eventId: String(r.event_id),
    kind: r.kind === 't' ? 'trade' : 'quote',
    price: numOrNull(r.price),
    size: numOrNull(r.size),
    side: side ?? null,
    bidPrice: numOrNull(r.bid_price),
    bidSize: numOrNull(r.bid_size),
    askPrice: numOrNull(r.ask_price),
    askSize: numOrNull(r.ask_size),
    tradeId: numOrNull(r.trade_id),
    flags: num(r.flags),
    source: String(r.source),
  };
}
