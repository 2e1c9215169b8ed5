/**
 * The chain's projection in the query store (`audit_events`, migration 3): rows written from the lines of the
 * audit file (file.ts, the truth) by the projection (projection.ts), read in pages in order, the head. And the
 * inbox (`audit_inbox`, migration 6): events of `rialto keys` on a PostgreSQL store, which cannot append to the
 * venue's file, waiting for the venue to chain them.
 */
import type { Queryable, Row, Store } from '../store/index.js';
import {
  GENESIS_HASH,
  RESULT_STATUSES,
  canonicalEventJson,
  canonicalJson,
  type AuditEventInput,
  type AuditRecord,
  type DetailObject,
  type ResultStatus,
} from './event.js';
import { CopyTextWriter, copyRowOfLine } from './copy-row.js';
import { AUDIT_LIMITS } from './limits.js';
import { eventOfJson, type AuditLine, type ChainHead } from './file.js';

const COLUMNS =
  'seq, event_id, time_us, actor_id, actor_role, actor_ip, action, target_kind, target_id, result, ' +
  'result_code, request_id, details, hash';

/**
 * Rows from the file's lines as COPY's text format, one line a row, the columns in COLUMNS' order: PGlite's
 * CPU per row about two thirds of the JSON INSERT's below (its `/dev/blob` stands for STDIN). A COPY is all or
 * nothing: a row already there (projecting a line twice) fails it with a unique violation, and the batch is
 * then written by the INSERT, which skips such rows.
 */
const COPY_SQL = `COPY audit_events (${COLUMNS}) FROM STDIN`;

/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * Rows from the file's lines, unpacked by the database from one JSON parameter (an array of row objects keyed
 * by column): binding 14 parameters a row cost PGlite about twice as much per row, and extracting the columns
 * from each line's JSON in SQL (`->>` on the json type parses the text again for every column) three times.
 */
const PROJECT_SQL =
  `INSERT INTO audit_events (${COLUMNS}) SELECT ${COLUMNS} ` +
  'FROM json_populate_recordset(NULL::audit_events, $1::json) ON CONFLICT DO NOTHING';

/** The lines as COPY's text input (columns in COLUMNS' order): copy-row.ts's `copyRowOfLine` of each. */
function copyText(lines: readonly AuditLine[]): Uint8Array {
  const out = new CopyTextWriter(lines.length * 512);
  for (const line of lines) out.add(copyRowOfLine(line.seq, line.hash, line.json));
  return out.bytes();
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * `copyText` of a batch, `projectionEncodeRowsPerTurn` lines per turn of the event loop: a batch of thousands
 * of lines encoded at once would hold up the venue's answers meanwhile.
 */
async function copyTextInTurns(lines: readonly AuditLine[]): Promise<Uint8Array> {
  const perTurn = AUDIT_LIMITS.projectionEncodeRowsPerTurn;
  if (lines.length <= perTurn) return copyText(lines);
  const parts: Uint8Array[] = [];
  for (let at = 0; at < lines.length; at += perTurn) {
    if (at > 0) await nextTurn();
    parts.push(copyText(lines.slice(at, at + perTurn)));
  }
  return Buffer.concat(parts);
}

/** A line as a row of audit_events, keyed by column; null when its JSON is not an event. */
function rowOfLine(line: AuditLine): Record<string, string | number | null> {
  const e = eventOfJson(line.json);
  if (e === null) throw new Error(`the audit file's event ${line.seq} is not an event`);
  return {
    seq: line.seq,
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
    hash: line.hash,
  };
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

async function headOf(q: Queryable): Promise<ChainHead> {
  const rows = await q.query('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  if (rows.length === 0) return { seq: 0, hash: GENESIS_HASH };
  return { seq: int(rows[0].seq, 'seq'), hash: text(rows[0].hash, 'hash') };
}

export class AuditLog {
  constructor(private readonly store: Store) {}

  /**
   * Writes the file's lines as rows; rows already there (by sequence or event id) are left as they are, so
   * projecting a line twice is harmless.
   */
  async project(lines: readonly AuditLine[]): Promise<void> {
    if (lines.length === 0) return;
    await this.projectCopyText(await copyTextInTurns(lines), () => Promise.resolve(lines));
  }

  /**
   * Writes rows given as their COPY text (`copyRowOfLine` of each line, in order: as the audit file's worker
   * hands a group over), as `project` does: by COPY, and when a row is there already, by the INSERT that
   * skips such rows, from the lines (`lines` reads them, only then).
   */
  async projectCopyText(data: Uint8Array, lines: () => Promise<readonly AuditLine[]>): Promise<void> {
    try {
      const copied = await this.store.transaction(async (tx) =>
        tx.copyFrom === undefined ? false : (await tx.copyFrom(COPY_SQL, data)) >= 0,
      );
      if (copied) return;
    } catch (e) {
      if ((e as { code?: unknown }).code !== UNIQUE_VIOLATION) throw e;
    }
    await this.store.query(PROJECT_SQL, [JSON.stringify((await lines()).map(rowOfLine))]);
  }

  /** The events whose ids are given and that the table has. */
  async idsPresent(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.store.query(
      'SELECT event_id FROM audit_events WHERE event_id = ANY($1::text[])',
      [ids],
    );
    return new Set(rows.map((r) => text(r.event_id, 'event_id')));
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

/**
 * Events of `rialto keys` on a PostgreSQL store beside a running venue: the command cannot append to the venue's
 * file (another process, maybe another machine), so it leaves the event here and the venue chains it
 * (projection.ts: once the table has caught up with the file, so that an event chained before a crash, and
 * not yet removed from here, is recognised by its id and not chained twice).
 */
export class AuditInbox {
  constructor(private readonly store: Queryable) {}

  async add(event: AuditEventInput): Promise<void> {
    await this.store.query('INSERT INTO audit_inbox (event_id, event) VALUES ($1, $2)', [
      event.id,
      canonicalEventJson(0, event),
    ]);
  }

  /** Up to `limit` events, oldest first. */
  async peek(limit: number): Promise<AuditEventInput[]> {
    const rows = await this.store.query(
      'SELECT event FROM audit_inbox ORDER BY added_at, event_id LIMIT $1',
      [limit],
    );
    return rows.map((r) => {
      const e = eventOfJson(text(r.event, 'event'));
      if (e === null) throw new Error('audit_inbox holds an event that does not parse');
      return e;
    });
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.store.query('DELETE FROM audit_inbox WHERE event_id = ANY($1::text[])', [ids]);
  }

  async count(): Promise<number> {
    const rows = await this.store.query('SELECT count(*)::int AS n FROM audit_inbox');
    return int(rows[0]?.n ?? 0, 'count');
  }
}
