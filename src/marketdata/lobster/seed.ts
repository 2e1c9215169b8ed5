/**
 * Seeding a mid-day replay from the order-book file: its first row is the book right after the first message,
 * so the book before it is that row with the first message's own effect taken back (a submit's size taken off
 * its level; a cancel's, delete's or execution's size put back). What is left becomes anonymous quantity per
 * level. The row only shows its own depth: a level beyond it is unknown, and a reference to it later finds no
 * anonymous quantity (reported as such).
 */
import type { LobsterBook } from './book.js';
import { MessageType } from './book.js';
import { EMPTY_ASK_PRICE, EMPTY_BID_PRICE } from './limits.js';
import type { MessageFields } from './parse.js';
import { LobsterFormatError } from './parse.js';
import { Issue, type LobsterReport } from './report.js';

/** One order-book row: the non-empty levels of each side, best first, and the depth the row shows. */
export interface BookRow {
  depth: number;
  asks: { price: number; size: number }[];
  bids: { price: number; size: number }[];
}

/** Parses an order-book row (`line` names it in errors); malformed rows throw LobsterFormatError. */
export function parseBookRow(text: string, line = 1): BookRow {
  const cells = text.replace(/\r$/, '').split(',');
  const fail = (reason: string): never => {
    throw new LobsterFormatError(line, reason);
  };
  if (cells.length % 4 !== 0)
    fail(
      `expected groups of 4 columns (ask price, ask size, bid price, bid size), found ${cells.length} columns`,
    );
  const values = cells.map((c, i) => {
    if (!/^-?\d{1,15}$/.test(c))
      fail(`column ${i + 1} is not a whole number: ${JSON.stringify(c.slice(0, 60))}`);
    return Number(c);
  });
  const row: BookRow = { depth: values.length / 4, asks: [], bids: [] };
  for (let level = 0; level < row.depth; level++) {
    const at = level * 4;
    addLevel(row.asks, values[at], values[at + 1], EMPTY_ASK_PRICE, level, 'ask', fail);
    addLevel(row.bids, values[at + 2], values[at + 3], EMPTY_BID_PRICE, level, 'bid', fail);
  }
  return row;
}

function addLevel(
  side: { price: number; size: number }[],
  price: number,
  size: number,
  emptyPrice: number,
  level: number,
  name: string,
  fail: (reason: string) => never,
): void {
  const where = `${name} level ${level + 1}`;
  if (price === emptyPrice) {
    if (size !== 0) fail(`${where} is marked empty but has size ${size}`);
    return;
  }
  if (side.length < level) fail(`${where} follows an empty level`);
  if (!(price > 0 && price < EMPTY_ASK_PRICE)) fail(`${where} has price ${price}`);
  if (!(size > 0)) fail(`${where} has size ${size}`);
  const previous = side.at(-1);
  const worse = name === 'ask' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  if (previous !== undefined && !worse(price, previous.price)) {
    fail(`${where} (price ${price}) is not worse than the level before it (${previous.price})`);
  }
  side.push({ price, size });
}

/** Seeds `book` with the book before `first` (the row is the book after it). */
export function seedBook(book: LobsterBook, row: BookRow, first: MessageFields, report: LobsterReport): void {
  const asks = new Map(row.asks.map((l) => [l.price, l.size]));
  const bids = new Map(row.bids.map((l) => [l.price, l.size]));
  const usable = first.direction === 1 || first.direction === -1;
  const valid = usable && first.size > 0 && first.price > 0 && first.price < EMPTY_ASK_PRICE;
  if (valid && first.type <= MessageType.Execute) {
    const buy = first.direction === 1;
    const levels = buy ? bids : asks;
    const shown = buy ? row.bids : row.asks;
    const at = levels.get(first.price);
    if (first.type !== MessageType.Submit) {
      levels.set(first.price, (at ?? 0) + first.size);
    } else if (at !== undefined && at >= first.size) {
      levels.set(first.price, at - first.size);
    } else if (at !== undefined || withinShown(shown, row.depth, first.price, buy)) {
      report.add(
        Issue.SEED_MISMATCH,
        `the first message submits ${first.size} at ${first.price}, but the initial book row shows ` +
          `${at ?? 0} there; the level is seeded empty`,
      );
      levels.delete(first.price);
    }
  }
  for (const [price, size] of bids) if (size > 0) book.seed(1, price, size);
  for (const [price, size] of asks) if (size > 0) book.seed(-1, price, size);
}

/** Whether a level at `price` would have to appear in the row (it is no worse than the row's worst level). */
function withinShown(shown: { price: number }[], depth: number, price: number, buy: boolean): boolean {
  if (shown.length < depth) return true;
  const worst = shown[shown.length - 1].price;
  return buy ? price >= worst : price <= worst;
}
