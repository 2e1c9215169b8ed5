/**
 * `rialto journal verify | inspect | tail`: a data directory's journal, read through a read-only port. They
 * never cut a torn tail or change any file, and take no lock, so they are safe beside a running engine (whose
 * newest records may then show as a torn tail while their write is in flight).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from '../core/index.js';
import {
  JournalError,
  JournalErrorCode,
  JournalReader,
  readOnlyFs,
  type SegmentSummary,
  type TornTail,
} from '../journal/index.js';
import { CliError, type ProgramIo } from './cli-io.js';

export interface TailReport {
  file: string;
  offset: number;
  bytes: number;
  reason: string;
  /** The last segment's header is torn: the whole file holds nothing valid. */
  wholeFile: boolean;
}

export interface DamageReport {
  code: string;
  file: string | null;
  offset: number | null;
  message: string;
}

export interface VerifyReport {
  dir: string;
  /** False when the journal is damaged anywhere but a torn tail (the engine would refuse to start). */
  ok: boolean;
  segments: number;
  /** Records checked: all of them when ok, else those of the segments before the damage. */
  records: number;
  /** The range of the records checked (null when there are none). */
  firstSeq: number | null;
  lastSeq: number | null;
  /** Bytes of all segment files. */
  bytes: number;
  tornTail: TailReport | null;
  corruption: DamageReport | null;
}

/** A segment as the tools report it: the journal's own summary of it. */
export type SegmentReport = SegmentSummary;

export interface InspectReport {
  dir: string;
  /** The segments that checked out, in order (up to the damage, if any). */
  segments: SegmentReport[];
  tornTail: TailReport | null;
  corruption: DamageReport | null;
}

const reader = (dir: string): JournalReader => new JournalReader(dir, readOnlyFs());

function tailReport(tail: TornTail | null): TailReport | null {
  if (tail === null) return null;
  return {
    file: tail.file,
    offset: tail.offset,
    bytes: tail.bytes,
    reason: tail.reason,
    wholeFile: tail.wholeFile,
  };
}

/** Damage the scan reports (corruption, another format, missing records), or null for any other error. */
function damageOf(e: unknown): DamageReport | null {
  if (!(e instanceof JournalError)) return null;
  const expected: string[] = [JournalErrorCode.Corrupt, JournalErrorCode.Version, JournalErrorCode.Missing];
  if (!expected.includes(e.code)) return null;
  return { code: e.code, file: e.file ?? null, offset: e.offset ?? null, message: e.message };
}

/**
 * The journal's own errors and the file system's (EACCES, ENOENT: `e.code` and `e.syscall` set) become
 * one-line failures; anything else is a bug and keeps its stack.
 */
export function asCliError(e: unknown): unknown {
  if (e instanceof JournalError) return new CliError(e.message);
  const io = e as NodeJS.ErrnoException | null;
  if (e instanceof Error && typeof io?.code === 'string' && typeof io.syscall === 'string') {
    return new CliError(e.message);
  }
  return e;
}

/** Scans the whole journal (null when it has no segment), passing each record and each segment on. */
async function scanAll(
  dir: string,
  visit: ((seq: number, timeUs: number, command: Command) => void) | null,
  onSegment: (s: SegmentSummary) => void,
): Promise<{ tail: TailReport | null; corruption: DamageReport | null } | null> {
  const r = reader(dir);
  const segments = await r.segments();
  if (segments.length === 0) return null;
  try {
    const result = await r.scan(segments[0].firstSeq, visit, onSegment);
    return { tail: tailReport(result.tail), corruption: null };
  } catch (e) {
    const corruption = damageOf(e);
    if (corruption === null) throw e;
    return { tail: null, corruption };
  }
}

/** Checks every segment and record (headers, framing, CRC32C, sequence and time continuity, decoding). */
export async function verifyJournal(dir: string, io: ProgramIo): Promise<VerifyReport> {
  const files = await reader(dir).segments();
  const bytes = files.reduce((n, f) => n + statSync(f.path).size, 0);
  const summaries: SegmentSummary[] = [];
  const progress = io.progress('verifying', bytes, 'bytes');
  let done = 0;
  let outcome;
  try {
    // Every record is decoded too: bytes whose checksum holds but that do not decode are corruption.
    outcome = await scanAll(
      dir,
      () => undefined,
      (s) => {
        summaries.push(s);
        done += s.bytes;
        progress.update(done);
      },
    );
  } finally {
    progress.stop();
  }
  const records = summaries.reduce((n, s) => n + s.records, 0);
  const first = summaries.find((s) => s.records > 0);
  return {
    dir,
    ok: (outcome?.corruption ?? null) === null,
    segments: files.length,
    records,
    firstSeq: first === undefined ? null : first.firstSeq,
    lastSeq: records === 0 ? null : summaries[summaries.length - 1].lastSeq,
    bytes,
    tornTail: outcome?.tail ?? null,
    corruption: outcome?.corruption ?? null,
  };
}

/** Each segment's header version, sequence range, record count and size (checked, not decoded). */
export async function inspectJournal(dir: string): Promise<InspectReport> {
  const segments: SegmentReport[] = [];
  const outcome = await scanAll(dir, null, (s) => segments.push({ ...s, file: basename(s.file) }));
  return { dir, segments, tornTail: outcome?.tail ?? null, corruption: outcome?.corruption ?? null };
}

/** Numbers JSON cannot hold (NaN, ±Infinity, -0) as strings: a command the core rejected may carry them. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value !== 'number') return value;
  if (!Number.isFinite(value)) return String(value);
  return Object.is(value, -0) ? '-0' : value;
}

/** One record as a JSON line: its sequence number, time and command (the time is the record's, not repeated). */
export function recordLine(seq: number, timeUs: number, command: Command): string {
  const { timeUs: _time, ...fields } = command;
  return JSON.stringify({ seq, timeUs, command: fields }, jsonValue) + '\n';
}

/** Thrown by a visitor to end a scan once it has seen enough (the scan itself has no early exit). */
class Enough extends Error {}
const ENOUGH = new Enough('enough records');

/**
 * Prints up to `limit` records from `fromSeq` (or the journal's first). The scan stops once it has them, so
 * the rest of the journal is not checked: that is verify's job.
 */
export async function printRecords(
  dir: string,
  fromSeq: number | null,
  limit: number,
  io: ProgramIo,
): Promise<void> {
  const r = reader(dir);
  const segments = await r.segments();
  let printed = 0;
  try {
    await r.scan(fromSeq ?? (segments.length === 0 ? 1 : segments[0].firstSeq), (seq, timeUs, command) => {
      io.stdout(recordLine(seq, timeUs, command));
      if (++printed >= limit) throw ENOUGH;
    });
  } catch (e) {
    if (e !== ENOUGH) throw asCliError(e);
  }
}

/** Prints the last `n` records; returns the sequence number the next record will have. */
export async function printTail(dir: string, n: number, io: ProgramIo): Promise<number> {
  const r = reader(dir);
  const segments = await r.segments();
  if (segments.length === 0) return 1;
  try {
    const end = await r.scan(segments[segments.length - 1].firstSeq, null);
    const from = Math.max(segments[0].firstSeq, end.lastSeq - n + 1);
    if (n === 0 || from > end.lastSeq) return end.lastSeq + 1;
    const result = await r.scan(from, (seq, timeUs, command) => io.stdout(recordLine(seq, timeUs, command)));
    return result.lastSeq + 1;
  } catch (e) {
    throw asCliError(e);
  }
}

/** The segment names and the size of the last one: while they stay the same, no record was added. */
function journalShape(dir: string): string {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^journal-\d{20}\.seg$/.test(n));
  } catch (e) {
    throw new CliError(
      `cannot read the data directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  if (names.length === 0) return '';
  names.sort();
  const last = names[names.length - 1];
  let size = -1;
  try {
    size = statSync(join(dir, last)).size;
  } catch {
    // Removed between the listing and the stat (a torn new segment cut at an engine's start): shape changed.
  }
  return `${names.join(',')}:${size}`;
}

/**
 * What may pass by the next poll while an engine works: a write in flight that looks damaged, a segment
 * removed between the listing and its reading (a torn new segment dropped at an engine's start).
 */
function passing(e: unknown): boolean {
  if (e instanceof JournalError) return e.code === JournalErrorCode.Corrupt;
  return (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Polls every `intervalMs` and prints records from `nextSeq` on as they arrive, until `signal` aborts. A poll
 * rescans only when the segment files or the last one's size changed. Damage (or a segment gone) seen once is
 * looked at again at the next poll (a write in flight may look damaged for a moment); twice in a row, it fails.
 */
export async function followJournal(
  dir: string,
  nextSeq: number,
  intervalMs: number,
  io: ProgramIo,
  signal: AbortSignal,
): Promise<void> {
  let next = nextSeq;
  let shape = journalShape(dir);
  let damaged = 0;
  while (!signal.aborted) {
    await sleep(intervalMs, signal);
    if (signal.aborted) return;
    const now = journalShape(dir);
    if (now === shape || now === '') continue;
    try {
      const result = await reader(dir).scan(next, (seq, timeUs, command) => {
        io.stdout(recordLine(seq, timeUs, command));
        next = seq + 1;
      });
      next = result.lastSeq + 1;
      shape = now;
      damaged = 0;
    } catch (e) {
      if (passing(e) && ++damaged < 2) continue;
      throw asCliError(e);
    }
  }
}

// ------------------------------------------------------------------ text for people

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function tailText(t: TailReport): string {
  if (t.wholeFile) {
    return (
      `torn tail: ${t.file} (${t.bytes} bytes): its header is torn (${t.reason}) and it holds no valid record; ` +
      'a segment being created when a process stopped: the engine removes it at its next start'
    );
  }
  return (
    `torn tail: ${t.file} at byte ${t.offset}, ${t.bytes} bytes: ${t.reason}; ` +
    'a write cut short, never acknowledged: the engine cuts it at its next start'
  );
}

export function verifyText(r: VerifyReport): string {
  const range = r.firstSeq !== null && r.lastSeq !== null ? ` (seq ${r.firstSeq} .. ${r.lastSeq})` : '';
  const checked = r.ok ? '' : ' checked before the damage';
  const head = `journal ${r.dir}: ${plural(r.segments, 'segment')}, ${plural(r.records, 'record')}${range}${checked}, ${r.bytes} bytes`;
  if (r.corruption !== null) return `${head}: CORRUPT\n`;
  if (r.tornTail !== null) return `${head}: ok, with a torn tail\n${tailText(r.tornTail)}\n`;
  return `${head}: ok\n`;
}

export function inspectText(r: InspectReport): string {
  const rows = [['file', 'version', 'first seq', 'last seq', 'records', 'bytes']];
  for (const s of r.segments) {
    rows.push([s.file, s.version, s.firstSeq, s.lastSeq, s.records, s.bytes].map(String));
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = rows.map(
    (row) =>
      '  ' + row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '),
  );
  let text = `journal ${r.dir}: ${plural(r.segments.length, 'segment')}${r.corruption === null ? '' : ' before the damage'}\n`;
  if (r.segments.length > 0) text += lines.join('\n') + '\n';
  if (r.tornTail !== null) text += tailText(r.tornTail) + '\n';
  return text;
}
