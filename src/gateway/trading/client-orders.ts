/**
 * Client order ids, durable: (account, client_order_id) → order id. The core's commands have no field for a
 * client's id, so the gateway keeps the mapping itself, in an append-only log in the venue's data directory
 * (`client-orders.log`, beside the journal), and writes it before it submits the order. That order of writes
 * is what makes a retry safe across a crash:
 *
 * - mapping written, order journaled: the retry finds the mapping and the order in the views: the same order;
 * - mapping written, order never journaled (a crash in between): its order id is above the engine's highest,
 *   so `open` drops it at start (no client was told of it), and a retry places the order anew;
 * - nothing written: nothing happened; the retry places the order.
 *
 * Concurrent requests with one client id in this process wait for the first (`Trading`'s in-flight map), and
 * a pair already mapped, or being written, is refused here. One venue process writes a data directory (the
 * engine's lock), so nothing else assigns order ids or appends to the log.
 *
 * The writes are grouped, as the journal groups its fsyncs: the mappings asked for in one turn of the event
 * loop, and those asked for while a write runs, go to the file as one append and one fdatasync (at most
 * `CLIENT_ORDER_BATCH_ROWS_MAX` lines), and each caller hears of its own line once that is done. The log used
 * to be a table of the query store (`client_orders`): a multi-row INSERT into PGlite cost 20-25 µs of the main
 * thread per mapping, a quarter of the venue's CPU under load; a line of the log costs about one. Mappings
 * written to that table by earlier versions are still read at start; nothing writes there any more.
 *
 * A line is `CRC OP ACCOUNT ORDER CLIENT\n`: CRC the CRC-32 (hex) of the rest of the line, OP `+` (mapped) or
 * `-` (forgotten: the order was refused before the journal). A client order id is printable ASCII without
 * spaces, so the fields need no quoting. A last line cut short by a crash is dropped at start (its callers were
 * never answered); any other line that does not check stops the start, since corrupt data is worse than none.
 */
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Store } from '../../store/index.js';

/** Characters a client order id may have: printable ASCII without spaces, 1 to 64. */
export const CLIENT_ORDER_ID_PATTERN = '^[\\x21-\\x7e]{1,64}$';
const CLIENT_ORDER_ID = new RegExp(CLIENT_ORDER_ID_PATTERN);

/** Mappings one append carries at most (each line is at most ~100 bytes). */
export const CLIENT_ORDER_BATCH_ROWS_MAX = 1000;

/** The log's file name in the data directory. */
export const CLIENT_ORDER_LOG_FILE = 'client-orders.log';

/** The file operations the log uses; tests inject failures here. */
export interface ClientOrderFile {
  append(bytes: Buffer): Promise<void>;
  /** Makes what was appended durable (fdatasync). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

interface PendingRow {
  readonly accountId: number;
  readonly clientOrderId: string;
  readonly orderId: number;
  readonly done: (recorded: boolean) => void;
  readonly failed: (e: unknown) => void;
}

export interface ClientOrdersOptions {
  /** The venue's data directory (the log's home). */
  readonly dir: string;
  /** Mappings to orders above this id were written before a submit that never reached the journal. */
  readonly highestJournaledOrderId: number;
  /** Opens the log for appending; default node's file system. */
  readonly openFile?: (path: string) => Promise<ClientOrderFile>;
}

export class ClientOrders {
  /** Order id → client order id, for every mapping (loaded at start, then kept in step). */
  private readonly byOrder = new Map<number, string>();
  private readonly byClient = new Map<string, number>();
  /** Rows waiting for the next append, by (account, client id) key. */
  private pending = new Map<string, PendingRow>();
  /** Keys pending or being written: taken, though not yet durable. */
  private readonly reserved = new Set<string>();
  private writing = false;
  /** Set once an append or sync fails: the file's tail is unknown, so nothing more is written. */
  private failure: Error | null = null;
  private groups = 0;

  private constructor(private readonly file: ClientOrderFile) {}

  /**
   * Loads the mappings of the store's legacy table and of the log, dropping those whose order id is above
   * `highestJournaledOrderId`, and opens the log for appending.
   */
  static async open(store: Store, options: ClientOrdersOptions): Promise<ClientOrders> {
    const highest = options.highestJournaledOrderId;
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
    const path = join(options.dir, CLIENT_ORDER_LOG_FILE);
    const read = await readLog(path);
    let stale = read.tornTail;
    for (const line of read.lines) {
      const k = key(line.accountId, line.clientOrderId);
      if (line.op === '-' || line.orderId > highest) {
        stale = true;
        maps.delete(k);
      } else {
        maps.set(k, line);
      }
    }
    // A torn tail or mappings to dropped orders: the log is rewritten with what stands, then appended to.
    if (stale) await rewrite(path, maps.values());
    const c = new ClientOrders(await (options.openFile ?? openAppend)(path));
    for (const m of maps.values()) c.remember(m.accountId, m.clientOrderId, m.orderId);
    return c;
  }

  find(accountId: number, clientOrderId: string): number | undefined {
    return this.byClient.get(key(accountId, clientOrderId));
  }

  clientOrderIdOf(orderId: number): string | null {
    return this.byOrder.get(orderId) ?? null;
  }

  /** Appends and syncs done so far (one per group of mappings). */
  get groupsWritten(): number {
    return this.groups;
  }

  /**
   * Writes the mapping durably; false when the (account, client id) pair is already mapped or being written.
   * Rejects when the log cannot be written (and from then on: the venue needs a restart).
   */
  record(accountId: number, clientOrderId: string, orderId: number): Promise<boolean> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (!CLIENT_ORDER_ID.test(clientOrderId)) {
      return Promise.reject(new Error(`client order id ${JSON.stringify(clientOrderId)} is not valid`));
    }
    if (this.byOrder.has(orderId)) return Promise.reject(new Error(`order ${orderId} is mapped already`));
    const k = key(accountId, clientOrderId);
    if (this.byClient.has(k) || this.reserved.has(k)) return Promise.resolve(false);
    return new Promise((done, failed) => {
      this.reserved.add(k);
      this.pending.set(k, { accountId, clientOrderId, orderId, done, failed });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.write());
      }
    });
  }

  /** Drops a mapping whose order was refused before the journal; the log keeps a line saying so. */
  async forget(accountId: number, clientOrderId: string, orderId: number): Promise<void> {
    if (this.byOrder.get(orderId) !== clientOrderId) return;
    this.byClient.delete(key(accountId, clientOrderId));
    this.byOrder.delete(orderId);
    if (this.failure !== null) return;
    // Best effort: without this line the mapping would come back at start and name an order never placed.
    await this.file.append(Buffer.from(line('-', accountId, orderId, clientOrderId), 'latin1'));
  }

  async close(): Promise<void> {
    while (this.writing) await new Promise((resolve) => setImmediate(resolve));
    await this.file.close();
  }

  /** Writes what is pending, group after group, until nothing is. */
  private async write(): Promise<void> {
    while (this.pending.size > 0) {
      const rows: PendingRow[] = [];
      for (const [k, row] of this.pending) {
        if (rows.length === CLIENT_ORDER_BATCH_ROWS_MAX) break;
        rows.push(row);
        this.pending.delete(k);
      }
      await this.append(rows);
    }
    this.writing = false;
  }

  private async append(rows: readonly PendingRow[]): Promise<void> {
    let text = '';
    for (const r of rows) text += line('+', r.accountId, r.orderId, r.clientOrderId);
    try {
      if (this.failure !== null) throw this.failure;
      await this.file.append(Buffer.from(text, 'latin1'));
      await this.file.sync();
      this.groups++;
    } catch (e) {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
      for (const r of rows) {
        this.reserved.delete(key(r.accountId, r.clientOrderId));
        r.failed(e);
      }
      return;
    }
    for (const r of rows) {
      this.reserved.delete(key(r.accountId, r.clientOrderId));
      this.remember(r.accountId, r.clientOrderId, r.orderId);
      r.done(true);
    }
  }

  private remember(accountId: number, clientOrderId: string, orderId: number): void {
    this.byClient.set(key(accountId, clientOrderId), orderId);
    this.byOrder.set(orderId, clientOrderId);
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

const key = (accountId: number, clientOrderId: string): string => `${accountId}:${clientOrderId}`;

function line(op: '+' | '-', accountId: number, orderId: number, clientOrderId: string): string {
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

/** The log's lines; a last line cut short (no newline, or not checking) is reported as a torn tail. */
async function readLog(path: string): Promise<{ lines: LogLine[]; tornTail: boolean }> {
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], tornTail: false };
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
  for (const m of maps) text += line('+', m.accountId, m.orderId, m.clientOrderId);
  const temp = `${path}.tmp`;
  const fh = await open(temp, 'w');
  try {
    await fh.writeFile(text, 'latin1');
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(temp, path);
  await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function openAppend(path: string): Promise<ClientOrderFile> {
  const fh: FileHandle = await open(path, 'a');
  // The file may be new: its directory entry must be as durable as the lines appended to it.
  await syncDir(dirname(path));
  return {
    append: async (bytes) => {
      // One write call for the whole group; a short write is finished by looping.
      for (let at = 0; at < bytes.length;) at += (await fh.write(bytes, at)).bytesWritten;
    },
    sync: () => fh.datasync(),
    close: () => fh.close(),
  };
}
