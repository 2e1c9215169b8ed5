/**
 * Client order ids: (account, client_order_id) → order id, kept in memory and made durable by the journal.
 * A placement with a client order id carries it in its place command (`PlaceOrder.clientOrderId`, which the
 * core ignores), so the mapping is written with the order, in the same record and the same fdatasync, and is
 * exactly as durable as the order:
 *
 * - order journaled: its mapping is too; at start it is rebuilt from the journal, and a retry finds the order;
 * - order not journaled (refused before the journal, or lost with an unsynced batch in a crash): no mapping
 *   either, and a retry places the order anew. Nothing needs reconciling.
 *
 * `LocalOrderEntry` maps a pair in memory (`reserve`) when it submits the order, so that a retry in this process
 * finds it (after waiting for the placement in flight), and drops it again (`forget`) when the engine refuses
 * the command before its journal. One venue process writes a data directory (the engine's lock), so nothing
 * else assigns order ids or client order ids.
 *
 * At start the mappings come from a pass over the journal's place records (the views' replay, which reads every
 * record anyway, or `scanJournal`), then from what earlier versions kept outside the journal, for orders placed
 * before the upgrade (`loadLegacy`): the store's `client_orders` table and the data directory's
 * `client-orders.log`, whose rules were theirs: a mapping was written before its order was submitted, so a
 * mapping to an order above the highest journaled order id, or one forgotten (`-`), names an order never
 * journaled and is dropped. Nothing writes either any more. The log is rewritten once without what it drops
 * (the order ids above the highest journaled one will be given to new orders), then only read.
 *
 * How long a mapping is kept: while its order is live, and once it has ended (filled, cancelled, expired, or
 * rejected), for as long as it is among the last `endedKept` orders with a client order id to end (by default
 * as many as the views keep ended orders, so that an order the venue still shows still shows its id). Then
 * the mapping is forgotten: its order has no client order id any more, and a request with the pair places a
 * new order. The endings come from the core's records of every command: those of the durable batches
 * (`noteBatch`, which LocalOrderEntry calls), of the commands a gateway's follower executes, and at start of
 * the replay that also notes the mappings (`journaled` takes a command's records with it). Without that bound the venue kept one
 * mapping per order ever placed with an id: at 10,000 such orders a second, about 4 GB an hour.
 *
 * A line of that log is `CRC OP ACCOUNT ORDER CLIENT\n`: CRC the CRC-32 (hex) of the rest of the line, OP `+`
 * (mapped) or `-` (forgotten). A last line cut short by a crash is dropped; any other line that does not check
 * stops the start, since corrupt data is worse than none.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CommandKind, EVENT_STRIDE, EventType, F_B, F_ORDER_ID } from '../../book/index.js';
import { Ring } from '../../collections/index.js';
import { ExchangeCore, type Command } from '../../core/index.js';
import { JournalReader, executeByKind } from '../../journal/index.js';
import type { Store } from '../../store/index.js';
import { VIEW_LIMITS } from '../views/limits.js';
import { ClientOrderTable } from './client-order-table.js';

/** Characters a client order id may have at the API: printable ASCII without spaces, 1 to 64. */
export const CLIENT_ORDER_ID_PATTERN = '^[\\x21-\\x7e]{1,64}$';

/** The log's file name in the data directory (written by versions before the journal carried the ids). */
export const CLIENT_ORDER_LOG_FILE = 'client-orders.log';

/**
 * The order a core record at offset `o` of `d` ends (filled, cancelled, expired, or a placement rejected), or 0:
 * the views' rule for an order's end (views.ts: `end`, and `rejected` for a place).
 */
export function orderEndedBy(d: Float64Array, o: number): number {
  const type = d[o];
  if (
    type === EventType.OrderFilled ||
    type === EventType.OrderCancelled ||
    type === EventType.OrderExpired
  ) {
    return d[o + F_ORDER_ID];
  }
  if (type === EventType.OrderRejected && d[o + F_B] === CommandKind.Place) return d[o + F_ORDER_ID];
  return 0;
}

export class ClientOrders {
  // Off the JavaScript heap (ClientOrderTable): the mappings of live orders and of the last `endedKept` ended.
  private readonly table: ClientOrderTable;
  /** The orders with a mapping that have ended, oldest ended first: the first beyond `endedKept` go. */
  private readonly ended = new Ring(1);

  /** `endedKept`: mappings of ended orders kept, the latest to end (the views' ended orders by default). */
  constructor(
    private readonly endedKept: number = VIEW_LIMITS.endedOrdersKeptDefault,
    tableSlack?: number,
  ) {
    if (!(Number.isSafeInteger(endedKept) && endedKept >= 0))
      throw new RangeError('endedKept must be 0 or more');
    this.table = new ClientOrderTable(tableSlack);
  }

  /** Pairs mapped. */
  get size(): number {
    return this.table.size;
  }

  /** Mappings of ended orders kept now, and the table's storage (entries, arena chunks). */
  get retention(): { ended: number; entries: number; chunks: number } {
    return { ended: this.ended.length, ...this.table.storage };
  }

  /** Notes the orders that the core's records `from` to `to` of `d` end (see orderEndedBy). */
  noteRecords(d: Float64Array, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const orderId = orderEndedBy(d, i * EVENT_STRIDE);
      if (orderId !== 0) this.orderEnded(orderId);
    }
  }

  /** noteRecords over a durable batch's records. */
  noteBatch(b: { readonly events: Float64Array; readonly ends: Int32Array }): void {
    const n = b.ends.length === 0 ? 0 : b.ends[b.ends.length - 1];
    this.noteRecords(b.events, 0, n);
  }

  private orderEnded(orderId: number): void {
    if (!this.table.hasOrder(orderId)) return;
    const ended = this.ended;
    ended.put(ended.push(), 0, orderId);
    while (ended.length > this.endedKept) {
      const oldest = ended.get(ended.head, 0);
      ended.head = ended.head + 1;
      this.table.forgetOrder(oldest);
    }
  }

  find(accountId: number, clientOrderId: string): number | undefined {
    return this.table.find(accountId, clientOrderId);
  }

  clientOrderIdOf(orderId: number): string | null {
    return this.table.clientOrderIdOf(orderId);
  }

  /**
   * Notes a journaled command: a place with a client order id maps it. Of two journaled places with one pair
   * (which LocalOrderEntry never submits) the first stands, as it would have answered the retries. With the
   * command's core records (`count` of them in `d`), notes the orders they end too (noteRecords).
   */
  journaled(command: Command, d: Float64Array | null = null, count = 0): void {
    if (command.kind === 'placeOrder') {
      const client = command.clientOrderId;
      if (client !== undefined) this.table.add(command.accountId, client, command.orderId);
    }
    if (d !== null) this.noteRecords(d, 0, count);
  }

  /** Maps the pair to `orderId`, about to be submitted; false when the pair is mapped already. */
  reserve(accountId: number, clientOrderId: string, orderId: number): boolean {
    return this.table.reserve(accountId, clientOrderId, orderId);
  }

  /** Drops a reserved mapping whose order was refused before the journal: the pair is free again. */
  forget(accountId: number, clientOrderId: string, orderId: number): void {
    this.table.forget(accountId, clientOrderId, orderId);
  }

  /**
   * Notes the place records with a client order id of the journal in `dir` up to `lastSeq`: the pass for a
   * process that does not replay the journal otherwise (the engine's, in split mode).
   */
  async scanJournal(dir: string, lastSeq: number): Promise<void> {
    if (lastSeq <= 0) return;
    // Through a core of its own, for the records that say which orders ended.
    const core = new ExchangeCore();
    await new JournalReader(dir).scan(1, (seq, _timeUs, command, kind) => {
      if (seq > lastSeq) return;
      core.events.clear();
      executeByKind(core, command, kind);
      this.journaled(command, core.events.data, core.events.count);
    });
  }

  /**
   * Adds the mappings earlier versions kept outside the journal (the store's legacy table and the data
   * directory's log), dropping those whose order id is above `highestJournaledOrderId` and those forgotten.
   * A mapping the journal has already stands.
   */
  async loadLegacy(store: Store, dir: string, highestJournaledOrderId: number): Promise<void> {
    const highest = highestJournaledOrderId;
    await store.query('DELETE FROM client_orders WHERE order_id > $1', [highest]);
    const rows = await store.query('SELECT account_id, client_order_id, order_id FROM client_orders');
    const maps = new Map<string, Mapping>();
    for (const r of rows) {
      const { account_id: account, client_order_id: client, order_id: order } = r;
      if (typeof account !== 'number' || typeof client !== 'string' || typeof order !== 'bigint') {
        throw new Error('client_orders has a row of an unexpected shape');
      }
      maps.set(key(account, client), { accountId: account, clientOrderId: client, orderId: Number(order) });
    }
    const path = join(dir, CLIENT_ORDER_LOG_FILE);
    const read = await readLog(path);
    if (read !== null) {
      let stale = read.tornTail;
      const fromLog = new Map<string, Mapping>();
      for (const line of read.lines) {
        const k = key(line.accountId, line.clientOrderId);
        if (line.op === '-' || line.orderId > highest) {
          stale = true;
          fromLog.delete(k);
        } else {
          fromLog.set(k, line);
        }
      }
      // A torn tail or mappings to unjournaled orders: the log is rewritten with what stands, once.
      if (stale) await rewrite(path, fromLog.values());
      for (const [k, m] of fromLog) maps.set(k, m);
    }
    for (const m of maps.values()) {
      if (this.table.find(m.accountId, m.clientOrderId) !== undefined || this.table.hasOrder(m.orderId))
        continue;
      this.table.add(m.accountId, m.clientOrderId, m.orderId);
    }
  }
}

interface Mapping {
  readonly accountId: number;
  readonly clientOrderId: string;
  readonly orderId: number;
}

interface LogLine extends Mapping {
  readonly op: '+' | '-';
}

/** The key of a pair in the maps: `account:client order id` (a client order id has no other meaning here). */
export const clientOrderKey = (accountId: number, clientOrderId: string): string =>
  `${accountId}:${clientOrderId}`;
const key = clientOrderKey;

/** A line of the legacy log (tests write logs as earlier versions did with it). */
export function clientOrderLogLine(
  op: '+' | '-',
  accountId: number,
  orderId: number,
  clientOrderId: string,
): string {
  const body = `${op} ${accountId} ${orderId} ${clientOrderId}`;
  return `${crc32(body).toString(16).padStart(8, '0')} ${body}\n`;
}

const LINE = /^([0-9a-f]{8}) (([+-]) ([1-9][0-9]{0,15}) ([1-9][0-9]{0,15}) ([\x21-\x7e]{1,64}))$/;

function parseLine(text: string): LogLine | null {
  const m = LINE.exec(text);
  if (m === null || parseInt(m[1], 16) !== crc32(m[2])) return null;
  const accountId = Number(m[4]);
  const orderId = Number(m[5]);
  if (!(Number.isSafeInteger(accountId) && Number.isSafeInteger(orderId))) return null;
  return { op: m[3] === '+' ? '+' : '-', accountId, orderId, clientOrderId: m[6] };
}

/**
 * The log's lines, or null when there is no log; a last line cut short (no newline, or not checking) is
 * reported as a torn tail.
 */
async function readLog(path: string): Promise<{ lines: LogLine[]; tornTail: boolean } | null> {
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const parts = text.split('\n');
  // The text after the last newline: empty, or a line whose write a crash cut short.
  const tail = parts.pop() ?? '';
  const lines: LogLine[] = [];
  for (let i = 0; i < parts.length; i++) {
    const parsed = parseLine(parts[i]);
    if (parsed !== null) {
      lines.push(parsed);
      continue;
    }
    // Only the last complete line may be torn (a crash inside one append can leave a newline of it on disk).
    if (i === parts.length - 1 && tail === '') return { lines, tornTail: true };
    throw new Error(`${path}: line ${i + 1} is corrupt: refusing to start on doubtful client order ids`);
  }
  return { lines, tornTail: tail !== '' };
}

/** Replaces the log with `maps` atomically: a new file, synced, renamed over the old, the directory synced. */
async function rewrite(path: string, maps: Iterable<Mapping>): Promise<void> {
  let text = '';
  for (const m of maps) text += clientOrderLogLine('+', m.accountId, m.orderId, m.clientOrderId);
  const temp = `${path}.tmp`;
  const fh = await open(temp, 'w');
  try {
    await fh.writeFile(text, 'latin1');
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(temp, path);
  const d = await open(dirname(path), 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
