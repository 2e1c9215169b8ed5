/**
 * What the rebuild could not apply as given, or applied in a documented way: a count for every kind of issue
 * and the first few examples of each (line number and reason), plus counts of what it did apply. Nothing the
 * rebuild sees is dropped without a count here. Issues are rare on good data, so the report is built for
 * clarity; the hot path only touches it through `note`, which allocates nothing unless an example is kept.
 */
import { EXAMPLES_PER_KIND } from './limits.js';

/** The kinds of issue, stable codes (never reused once retired). Their meaning is in docs/marketdata.md. */
export const ISSUE_CODES = [
  'TIME_BACKWARDS',
  'BAD_DIRECTION',
  'BAD_SIZE',
  'BAD_PRICE',
  'BAD_HALT_PRICE',
  'DUPLICATE_ORDER',
  'PRICE_MISMATCH',
  'SIDE_MISMATCH',
  'CANCEL_EXCEEDS_ORDER',
  'EXECUTION_EXCEEDS_ORDER',
  'DELETE_SIZE_MISMATCH',
  'UNKNOWN_ORDER_NO_ANONYMOUS',
  'UNKNOWN_ORDER_EXCEEDS_ANONYMOUS',
  'CROSSED_BOOK',
  'SEED_MISMATCH',
] as const;
export type IssueCode = (typeof ISSUE_CODES)[number];

/** Numeric indexes of the codes, for the hot path. */
export const Issue = Object.fromEntries(ISSUE_CODES.map((c, i) => [c, i])) as { [K in IssueCode]: number };

export interface IssueExample {
  line: number;
  code: IssueCode;
  reason: string;
}

/** The report as written to --report (JSON). */
export interface LobsterReportJson {
  messages: number;
  /** Messages by type, "1".."7". */
  byType: Record<string, number>;
  /** References to unknown order ids served from the anonymous quantity at their price. */
  anonymousApplied: number;
  /** Messages that changed nothing because of an issue (their issue says why). */
  skipped: number;
  /** Issues by code; every code is present, most with 0. */
  issues: Record<IssueCode, number>;
  issuesTotal: number;
  /** The first examples of each code, by line. */
  examples: IssueExample[];
  /** At the end: orders tracked by id, and the anonymous quantity left in the book. */
  ordersOpen: number;
  anonymousLeft: number;
}

export class LobsterReport {
  /** The line being applied; the book's issues are filed under it. */
  line = 0;
  messages = 0;
  readonly byType = new Float64Array(8);
  anonymousApplied = 0;
  skipped = 0;
  private readonly counts = new Float64Array(ISSUE_CODES.length);
  private readonly kept: IssueExample[] = [];

  /**
   * Counts an issue of kind `issue` on the current line; returns whether an example is wanted, in which
   * case the caller builds the reason and passes it to `example` (so that no string is built otherwise).
   */
  note(issue: number): boolean {
    this.counts[issue]++;
    return this.counts[issue] <= EXAMPLES_PER_KIND;
  }

  example(issue: number, reason: string): void {
    this.kept.push({ line: this.line, code: ISSUE_CODES[issue], reason });
  }

  /** Counts an issue and keeps its example (for rare paths where building the reason costs nothing that matters). */
  add(issue: number, reason: string): void {
    if (this.note(issue)) this.example(issue, reason);
  }

  count(code: IssueCode): number {
    return this.counts[Issue[code]];
  }

  get issuesTotal(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  toJSON(end: { ordersOpen: number; anonymousLeft: number }): LobsterReportJson {
    const byType: Record<string, number> = {};
    for (let t = 1; t <= 7; t++) byType[String(t)] = this.byType[t];
    const issues = Object.fromEntries(ISSUE_CODES.map((c, i) => [c, this.counts[i]])) as Record<
      IssueCode,
      number
    >;
    return {
      messages: this.messages,
      byType,
      anonymousApplied: this.anonymousApplied,
      skipped: this.skipped,
      issues,
      issuesTotal: this.issuesTotal,
      examples: [...this.kept].sort((a, b) => a.line - b.line),
      ordersOpen: end.ordersOpen,
      anonymousLeft: end.anonymousLeft,
    };
  }
}
