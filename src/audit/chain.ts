/**
 * Checking a chain: events read in order of sequence, each hash recomputed from the previous stored hash and
 * the event, and the first link that does not hold named. Pure: the caller feeds records page by page
 * (`ChainChecker.add`), so a chain of any length is checked in constant memory.
 */
import { GENESIS_HASH, chainHash, type AuditRecord } from './event.js';

export type ChainBreak =
  | { readonly kind: 'gap'; readonly seq: number; readonly foundSeq: number }
  /** The file is damaged where event `seq` should be (a bad CRC, a number out of order) at byte `offset`. */
  | { readonly kind: 'damaged'; readonly seq: number; readonly offset: number; readonly why: string }
  | { readonly kind: 'hash'; readonly seq: number; readonly expected: string; readonly found: string };

export type ChainReport =
  | { readonly ok: true; readonly count: number; readonly headSeq: number; readonly headHash: string }
  | { readonly ok: false; readonly checked: number; readonly broken: ChainBreak };

/** Checks records given in order; stops at the first break. */
export class ChainChecker {
  private prevHash = GENESIS_HASH;
  private nextSeq = 1;
  private broken: ChainBreak | null = null;

  /** Adds records in order; returns false once the chain is broken (later records are not looked at). */
  add(records: readonly AuditRecord[]): boolean {
    for (const r of records) {
      if (this.broken !== null) return false;
      if (r.seq !== this.nextSeq) {
        this.broken = { kind: 'gap', seq: this.nextSeq, foundSeq: r.seq };
        return false;
      }
      const expected = chainHash(this.prevHash, r.seq, r);
      if (expected !== r.hash) {
        this.broken = { kind: 'hash', seq: r.seq, expected, found: r.hash };
        return false;
      }
      this.prevHash = r.hash;
      this.nextSeq++;
    }
    return this.broken === null;
  }

  /** Marks the chain broken where the file is damaged, unless it broke before. */
  damaged(offset: number, why: string): void {
    this.broken ??= { kind: 'damaged', seq: this.nextSeq, offset, why };
  }

  /** The events checked so far, all good. */
  get count(): number {
    return this.nextSeq - 1;
  }

  report(): ChainReport {
    if (this.broken !== null) return { ok: false, checked: this.count, broken: this.broken };
    return { ok: true, count: this.count, headSeq: this.count, headHash: this.prevHash };
  }
}

/** Checks a whole chain held in memory (tests, small chains). */
export function verifyChain(records: readonly AuditRecord[]): ChainReport {
  const c = new ChainChecker();
  c.add(records);
  return c.report();
}

/** A one-line description of a break, for people. */
export function describeBreak(b: ChainBreak): string {
  if (b.kind === 'gap') return `event ${b.seq} is missing (the next event found is ${b.foundSeq})`;
  if (b.kind === 'damaged') return `event ${b.seq}: ${b.why} at byte ${b.offset} of the audit file`;
  return `event ${b.seq}: expected hash ${b.expected}, found ${b.found}`;
}

/** Anything that yields the chain's records page by page, in order (an `AuditLog`). */
export interface ChainSource {
  pages(pageRows: number): AsyncIterable<readonly AuditRecord[]>;
}

/** Checks a stored chain page by page; `progress` is told how many events were checked after each page. */
export async function verifySource(
  source: ChainSource,
  pageRows: number,
  progress: (checked: number) => void = () => undefined,
): Promise<ChainReport> {
  const c = new ChainChecker();
  for await (const page of source.pages(pageRows)) {
    const good = c.add(page);
    progress(c.count);
    if (!good) break;
  }
  return c.report();
}
