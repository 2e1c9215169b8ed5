/**
 * The chain in the query store (`audit_events`, migration 3): appending a batch, reading pages in order, the
 * head. An append runs in one transaction that takes an advisory lock, reads the head from the table and
 * chains the batch onto it, so that several writers (a venue and `rialto keys` on one PostgreSQL) interleave
 * whole batches and never fork the chain.
 */
import type { Queryable, Row, Store } from '../store/index.js';
import {
  GENESIS_HASH,
  RESULT_STATUSES,
  canonicalJson,
  chainEvents,
  type AuditEventInput,
  type AuditRecord,
  type DetailObject,
  type ResultStatus,
} from './event.js';

/** The advisory lock that serializes appends ("AUDIT" in ASCII). */
const AUDIT_LOCK_KEY = 0x4155444954n;
const COLUMNS =
  'seq, event_id, time_us, actor_id, actor_role, actor_ip, action, target_kind, target_id, result, ' +
  'result_code, request_id, details, hash';

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

const int = (v: unknown, what: string): number => {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new Error(`audit_events.${what} is not an integer`);
  return n;
};
const text = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw new Error(`audit_events.${what} is not text`);
  return v;
};
const textOrNull = (v: unknown, what: string): string | null => (v === null ? null : text(v, what));

/**
 * The details as hashed. Details text that does not parse, or is not in canonical form, is kept as a marker
 * holding the text: its hash then fails to match and verification names the event, as for any other change.
 */
function detailsOf(stored: string): DetailObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return { unparseable: stored };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { notAnObject: stored };
  try {
    if (canonicalJson(parsed) !== stored) return { notCanonical: stored };
  } catch {
    return { notCanonical: stored };
  }
  return parsed as DetailObject;
}

function statusOf(v: unknown): ResultStatus {
  const s = text(v, 'result');
  const found = RESULT_STATUSES.find((r) => r === s);
  if (found === undefined) throw new Error(`audit_events.result is ${JSON.stringify(s)}`);
  return found;
}

/** A row as the chain holds it. */
export function recordOfRow(r: Row): AuditRecord {
  return {
    seq: int(r.seq, 'seq'),
    id: text(r.event_id, 'event_id'),
    timeUs: int(r.time_us, 'time_us'),
    actor: {
      id: textOrNull(r.actor_id, 'actor_id'),
      role: textOrNull(r.actor_role, 'actor_role'),
      ip: textOrNull(r.actor_ip, 'actor_ip'),
    },
    action: text(r.action, 'action'),
    target: { kind: text(r.target_kind, 'target_kind'), id: textOrNull(r.target_id, 'target_id') },
    result: { status: statusOf(r.result), code: textOrNull(r.result_code, 'result_code') },
    requestId: textOrNull(r.request_id, 'request_id'),
    details: detailsOf(text(r.details, 'details')),
    hash: text(r.hash, 'hash'),
  };
}

/** A record as a row of audit_events, keyed by column (for json_populate_recordset). */
function rowObject(e: AuditRecord): Record<string, string | number | null> {
  return {
    seq: e.seq,
    event_id: e.id,
    time_us: e.timeUs,
    actor_id: e.actor.id,
    actor_role: e.actor.role,
    actor_ip: e.actor.ip,
    action: e.action,
    target_kind: e.target.kind,
    target_id: e.target.id,
    result: e.result.status,
    result_code: e.result.code,
    request_id: e.requestId,
    details: canonicalJson(e.details),
    hash: e.hash,
  };
}

async function headOf(q: Queryable): Promise<ChainHead> {
  const rows = await q.query('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  if (rows.length === 0) return { seq: 0, hash: GENESIS_HASH };
  return { seq: int(rows[0].seq, 'seq'), hash: text(rows[0].hash, 'hash') };
}

export class AuditLog {
  constructor(private readonly store: Store) {}

  /**
   * Chains `events` onto the head and writes them with one INSERT, in one transaction. With `skipWritten`
   * (a retry after a failure whose outcome is unknown), events whose id the table already has are left out.
   */
  async append(events: readonly AuditEventInput[], skipWritten = false): Promise<AuditRecord[]> {
    if (events.length === 0) return [];
    return this.store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK_KEY]);
      let todo = events;
      if (skipWritten) {
        const ids = events.map((e) => e.id);
        const rows = await tx.query('SELECT event_id FROM audit_events WHERE event_id = ANY($1::text[])', [
          ids,
        ]);
        const written = new Set(rows.map((r) => r.event_id));
        todo = events.filter((e) => !written.has(e.id));
        if (todo.length === 0) return [];
      }
      const head = await headOf(tx);
      const records = chainEvents(head.seq, head.hash, todo);
      // One JSON parameter for the whole batch, unpacked by the database: binding 14 parameters a row cost
      // PGlite about twice as much per event as parsing the JSON does.
      const rows = records.map(rowObject);
      await tx.query(
        `INSERT INTO audit_events (${COLUMNS}) SELECT ${COLUMNS} FROM json_populate_recordset(NULL::audit_events, $1::json)`,
        [JSON.stringify(rows)],
      );
      return records;
    });
  }

  async head(): Promise<ChainHead> {
    return headOf(this.store);
  }

  /** Up to `limit` events after `afterSeq`, in order. */
  async page(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    const rows = await this.store.query(
      `SELECT ${COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, limit],
    );
    return rows.map(recordOfRow);
  }

  /** The last `n` events, in order. */
  async tail(n: number): Promise<AuditRecord[]> {
    const rows = await this.store.query(
      `SELECT ${COLUMNS} FROM (SELECT ${COLUMNS} FROM audit_events ORDER BY seq DESC LIMIT $1) t ORDER BY seq`,
      [n],
    );
    return rows.map(recordOfRow);
  }

  /** Every event, page by page (for a verifier): yields pages of at most `pageRows`. */
  async *pages(pageRows: number): AsyncGenerator<AuditRecord[]> {
    let after = 0;
    for (;;) {
      const page = await this.page(after, pageRows);
      if (page.length === 0) return;
      yield page;
      after = page[page.length - 1].seq;
    }
  }
}
