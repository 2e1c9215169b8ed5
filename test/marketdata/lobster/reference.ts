/**
 * A plain reference for the LOBSTER rebuild, written for obviousness rather than speed: orders in a Map, the
 * anonymous quantity in a Map per side, and every row computed by sorting. The rules are those of
 * docs/marketdata.md, restated here independently; the fast book must agree with it row by row and in its
 * issue counts. Also the helpers the tests share: messages as objects, CSV text, and running the rebuild.
 */
import {
  LobsterReplay,
  type BookRow,
  type IssueCode,
  type LobsterReportJson,
} from '../../../src/marketdata/index.js';

export interface Msg {
  /** Nanoseconds after midnight. */
  t: number;
  type: number;
  id: number;
  size: number;
  price: number;
  dir: number;
}

const EMPTY_ASK = 9_999_999_999;
const EMPTY_BID = -9_999_999_999;

/** A message as a CSV line: the time in seconds with 9 decimals. */
export function line(m: Msg): string {
  const s = Math.floor(m.t / 1e9);
  const ns = String(m.t % 1e9).padStart(9, '0');
  return `${s}.${ns},${m.type},${m.id},${m.size},${m.price},${m.dir}`;
}

export const csv = (msgs: readonly Msg[]): string => msgs.map((m) => line(m) + '\n').join('');

interface RefOrder {
  price: number;
  dir: number;
  left: number;
}

export class ReferenceBook {
  readonly orders = new Map<number, RefOrder>();
  /** Anonymous quantity by direction (1 bid, -1 ask) and price. */
  readonly anon = new Map<number, Map<number, number>>([
    [1, new Map()],
    [-1, new Map()],
  ]);
  readonly issues = new Map<IssueCode, number>();
  /** Line numbers of each issue, in order. */
  readonly issueLines: { line: number; code: IssueCode }[] = [];
  skipped = 0;
  anonymousApplied = 0;
  private lastT = -1;
  private crossed = false;
  private lineNo = 0;

  private issue(code: IssueCode): void {
    this.issues.set(code, (this.issues.get(code) ?? 0) + 1);
    this.issueLines.push({ line: this.lineNo, code });
  }

  seedLevel(dir: number, price: number, qty: number): void {
    const m = this.anon.get(dir)!;
    m.set(price, (m.get(price) ?? 0) + qty);
  }

  /** Visible levels of one side, best first: [price, size]. */
  levels(dir: number): [number, number][] {
    const total = new Map<number, number>();
    for (const o of this.orders.values())
      if (o.dir === dir) total.set(o.price, (total.get(o.price) ?? 0) + o.left);
    for (const [p, q] of this.anon.get(dir)!) if (q > 0) total.set(p, (total.get(p) ?? 0) + q);
    return [...total.entries()].sort((a, b) => (dir === 1 ? b[0] - a[0] : a[0] - b[0]));
  }

  row(depth: number): string {
    const asks = this.levels(-1);
    const bids = this.levels(1);
    const cells: number[] = [];
    for (let i = 0; i < depth; i++) {
      cells.push(...(asks[i] ?? [EMPTY_ASK, 0]), ...(bids[i] ?? [EMPTY_BID, 0]));
    }
    return cells.join(',');
  }

  apply(m: Msg): void {
    this.lineNo++;
    if (m.t < this.lastT) this.issue('TIME_BACKWARDS');
    this.lastT = m.t;
    if (m.type === 7) {
      if (![-1, 0, 1].includes(m.price)) this.issue('BAD_HALT_PRICE');
      return;
    }
    if (m.type === 5 || m.type === 6) return;
    if (m.dir !== 1 && m.dir !== -1) return this.skip('BAD_DIRECTION');
    if (m.size <= 0) return this.skip('BAD_SIZE');
    if (m.price <= 0 || m.price >= EMPTY_ASK) return this.skip('BAD_PRICE');
    const known = this.orders.get(m.id);
    if (m.type === 1) {
      if (known) return this.skip('DUPLICATE_ORDER');
      this.orders.set(m.id, { price: m.price, dir: m.dir, left: m.size });
    } else if (known) {
      this.reduceKnown(m, known);
    } else {
      this.reduceAnonymous(m);
    }
    const bid = this.levels(1)[0];
    const ask = this.levels(-1)[0];
    const crossed = bid !== undefined && ask !== undefined && bid[0] >= ask[0];
    if (crossed && !this.crossed) this.issue('CROSSED_BOOK');
    this.crossed = crossed;
  }

  private skip(code: IssueCode): void {
    this.issue(code);
    this.skipped++;
  }

  private reduceKnown(m: Msg, o: RefOrder): void {
    if (o.price !== m.price) this.issue('PRICE_MISMATCH');
    if (o.dir !== m.dir) this.issue('SIDE_MISMATCH');
    let taken = m.size;
    if (m.type === 3) {
      if (m.size !== o.left) this.issue('DELETE_SIZE_MISMATCH');
      taken = o.left;
    } else if (m.size > o.left) {
      this.issue(m.type === 2 ? 'CANCEL_EXCEEDS_ORDER' : 'EXECUTION_EXCEEDS_ORDER');
      taken = o.left;
    }
    o.left -= taken;
    if (o.left === 0) this.orders.delete(m.id);
  }

  private reduceAnonymous(m: Msg): void {
    const side = this.anon.get(m.dir)!;
    const there = side.get(m.price) ?? 0;
    if (there === 0) return this.skip('UNKNOWN_ORDER_NO_ANONYMOUS');
    this.anonymousApplied++;
    if (m.size > there) this.issue('UNKNOWN_ORDER_EXCEEDS_ANONYMOUS');
    side.set(m.price, there - Math.min(there, m.size));
  }
}

/** The reference's row after each message. */
export function referenceRows(msgs: readonly Msg[], depth: number, ref = new ReferenceBook()): string[] {
  return msgs.map((m) => {
    ref.apply(m);
    return ref.row(depth);
  });
}

export interface Rebuilt {
  rows: string[];
  report: LobsterReportJson;
}

/** Runs the rebuild over `text`, pushed in chunks of `chunkBytes` (lines straddle chunks when small). */
export function rebuild(
  text: string,
  levels: number,
  seed: BookRow | null = null,
  chunkBytes = 1 << 16,
): Rebuilt {
  const out: string[] = [];
  const decoder = new TextDecoder();
  const replay = new LobsterReplay({ levels, seed, sink: (b) => void out.push(decoder.decode(b)) });
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; at += chunkBytes) replay.push(bytes.subarray(at, at + chunkBytes));
  const report = replay.finish();
  const joined = out.join('');
  return { rows: joined === '' ? [] : joined.replace(/\n$/, '').split('\n'), report };
}

/** The non-zero issue counts of a report, as a Map like the reference's. */
export function issueCounts(report: LobsterReportJson): Map<IssueCode, number> {
  return new Map(Object.entries(report.issues).filter(([, n]) => n > 0) as [IssueCode, number][]);
}

/** An order-book row's text, from the reference (the file's format), parsed back by the module under test. */
export function bookRowText(ref: ReferenceBook, depth: number): string {
  return ref.row(depth);
}
