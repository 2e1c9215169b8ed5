/**
 * `COPY ... FROM STDIN` on PGlite, in-process or on its worker (pglite.ts, pglite-worker.ts): PGlite has no
 * COPY sub-protocol to stream STDIN through; it reads the input from `/dev/blob`, the query's `blob` option.
 */
import type { Transaction } from '@electric-sql/pglite';

/**
 * `COPY ... FROM STDIN` as PGlite runs it: from its `/dev/blob`, the query's `blob` option (it has no COPY
 * sub-protocol to stream STDIN through). Throws for a statement that is not such a COPY.
 */
export function copyFromBlobSql(sql: string): string {
  const blob = sql.replace(/\bFROM\s+STDIN\b/i, "FROM '/dev/blob'");
  if (blob === sql || !/^\s*COPY\b/i.test(sql)) throw new Error('copyFrom takes COPY ... FROM STDIN');
  return blob;
}

/** `COPY ... FROM STDIN` with `data` as its input, through PGlite's `/dev/blob`; resolves with the rows copied. */
export async function copyFromBlob(
  runner: Pick<Transaction, 'query'>,
  sql: string,
  data: Uint8Array,
): Promise<number> {
  const result = await runner.query(copyFromBlobSql(sql), [], { blob: new Blob([data]) });
  return result.affectedRows ?? 0;
}
