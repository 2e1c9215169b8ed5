/**
 * Checking the audit trail: the file's chain (every hash recomputed from the previous one and the event, the
 * first broken link named), the table against the file (each row the same event as the file's line of its
 * number), and the file's last events. All read only, a page at a time, safe beside a venue that appends.
 */
import { ChainChecker, type ChainReport } from './chain.js';
import { canonicalEventJson, type AuditRecord } from './event.js';
import { AuditFileReader, recordOfLine, type AuditFileEnd } from './file.js';
import { AUDIT_LIMITS } from './limits.js';
import type { AuditLog } from './log.js';

export interface FileVerification {
  readonly report: ChainReport;
  /** How the file ends: a torn tail (a group being written, or cut short by a crash) is not a break. */
  readonly end: AuditFileEnd;
  /** The hash of event `anchorSeq` in the file, when asked for and present. */
  readonly anchorHash: string | null;
}

/** Verifies the file's chain; `progress` is told the bytes checked so far. */
export async function verifyAuditFile(
  path: string,
  options: { readonly anchorSeq?: number; readonly progress?: (bytes: number) => void } = {},
): Promise<FileVerification> {
  const reader = new AuditFileReader(path);
  const checker = new ChainChecker();
  let anchorHash: string | null = null;
  for await (const page of reader.pages(AUDIT_LIMITS.verifyPageRows)) {
    const records = page.map(recordOfLine);
    if (options.anchorSeq !== undefined && anchorHash === null) {
      anchorHash = records.find((r) => r.seq === options.anchorSeq)?.hash ?? null;
    }
    const good = checker.add(records);
    options.progress?.(page[page.length - 1].next);
    if (!good) break;
  }
  if (reader.end.kind === 'corrupt') checker.damaged(reader.end.offset, reader.end.why);
  return { report: checker.report(), end: reader.end, anchorHash };
}

export type TableComparison =
  | { readonly ok: true; readonly rows: number; readonly lag: number }
  | { readonly ok: false; readonly seq: number; readonly why: string };

/**
 * Compares `audit_events` with the file: every row must be the event of the file's line of its number (same
 * canonical JSON, same hash), without gaps; the table may lag behind the file (`lag` events), never lead it.
 */
export async function compareTable(path: string, log: AuditLog): Promise<TableComparison> {
  const tableHead = (await log.head()).seq;
  const reader = new AuditFileReader(path);
  let rows: AuditRecord[] = [];
  let at = 0;
  let fileHead = 0;
  for await (const page of reader.pages(AUDIT_LIMITS.verifyPageRows)) {
    for (const line of page) {
      fileHead = line.seq;
      if (line.seq > tableHead) continue;
      if (at >= rows.length) {
        rows = await log.page(line.seq - 1, AUDIT_LIMITS.verifyPageRows);
        at = 0;
      }
      const row = rows[at];
      if (row === undefined || row.seq !== line.seq) {
        return { ok: false, seq: line.seq, why: 'the table has no row for it' };
      }
      at++;
      if (row.hash !== line.hash) {
        return { ok: false, seq: line.seq, why: `the table's hash ${row.hash}, the file's ${line.hash}` };
      }
      if (canonicalEventJson(row.seq, row) !== line.json) {
        return { ok: false, seq: line.seq, why: "the table's row is not the file's event" };
      }
    }
  }
  if (tableHead > fileHead) {
    return {
      ok: false,
      seq: fileHead + 1,
      why: `the table goes on to event ${tableHead}, the file ends before it`,
    };
  }
  return { ok: true, rows: tableHead, lag: fileHead - tableHead };
}

/** The last `n` events of the file (its torn tail left out), oldest first, as stored. */
export async function tailAuditFile(path: string, n: number): Promise<AuditRecord[]> {
  const reader = new AuditFileReader(path);
  let kept: AuditRecord[] = [];
  for await (const page of reader.pages(AUDIT_LIMITS.verifyPageRows)) {
    kept = kept.concat(page.slice(-n).map(recordOfLine)).slice(-n);
  }
  return kept;
}
