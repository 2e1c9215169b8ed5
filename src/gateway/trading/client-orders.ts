/**
 * Client order ids, durable: (account, client_order_id) → order id in the query store's `client_orders`
 * table. The core's commands have no field for a client's id, so the gateway keeps the mapping itself and
 * writes it before it submits the order. That order of writes is what makes a retry safe across a crash:
 *
 * - mapping written, order journaled: the retry finds the mapping and the order in the views: the same order;
 * - mapping written, order never journaled (a crash in between): its order id is above the engine's highest,
 *   so `reconcile` at start deletes it (no client was told of it), and a retry places the order anew;
 * - nothing written: nothing happened; the retry places the order.
 *
 * Concurrent requests with one client id in this process wait for the first (`inFlight`); the table's primary
 * key refuses a second writer in any case. One venue process writes a data directory (the engine's lock), so
 * nothing else assigns order ids.
 *
 * The writes are grouped, as the journal groups its fsyncs: the mappings asked for in one turn of the event
 * loop, and those asked for while a write runs, go to the store as one multi-row INSERT (at most
 * `CLIENT_ORDER_BATCH_ROWS_MAX` rows), and each caller hears of its own row once that statement is done. One
 * statement per order cost the embedded store (PGlite) far more than the order itself under load.
 */
import type { Store } from '../../store/index.js';

/** Characters a client order id may have: printable ASCII without spaces, 1 to 64. */
export const CLIENT_ORDER_ID_PATTERN = '^[\\x21-\\x7e]{1,64}$';

/** Rows one INSERT carries at most (three parameters each, far below PostgreSQL's 65,535). */
export const CLIENT_ORDER_BATCH_ROWS_MAX = 1000;

interface PendingRow {
  readonly accountId: number;
  readonly clientOrderId: string;
  readonly orderId: number;
  readonly done: (recorded: boolean) => void;
  readonly failed: (e: unknown) => void;
}

export class ClientOrders {
  /** Order id → client order id, for every mapping in the store (loaded at start, then kept in step). */
  private readonly byOrder = new Map<number, string>();
  private readonly byClient = new Map<string, number>();
  /** Rows waiting for the next INSERT, by (account, client id) key. */
  private pending = new Map<string, PendingRow>();
  private writing = false;

  private constructor(private readonly store: Store) {}

  /**
   * Loads the mappings, first deleting those whose order id is above `highestJournaledOrderId` (written before
   * a submit that never reached the journal).
   */
  static async open(store: Store, highestJournaledOrderId: number): Promise<ClientOrders> {
    const c = new ClientOrders(store);
    await store.query('DELETE FROM client_orders WHERE order_id > $1', [highestJournaledOrderId]);
    const rows = await store.query('SELECT account_id, client_order_id, order_id FROM client_orders');
    for (const r of rows) {
      const { account_id: account, client_order_id: client, order_id: order } = r;
      if (typeof account !== 'number' || typeof client !== 'string' || typeof order !== 'bigint') {
        throw new Error('client_orders has a row of an unexpected shape');
      }
      c.remember(account, client, Number(order));
    }
    return c;
  }

  find(accountId: number, clientOrderId: string): number | undefined {
    return this.byClient.get(key(accountId, clientOrderId));
  }

  clientOrderIdOf(orderId: number): string | null {
    return this.byOrder.get(orderId) ?? null;
  }

  /** Writes the mapping durably; false when the (account, client id) pair is already taken. */
  record(accountId: number, clientOrderId: string, orderId: number): Promise<boolean> {
    const k = key(accountId, clientOrderId);
    // The same pair twice in one batch: the second is a conflict, as the table's key would make it.
    if (this.pending.has(k)) return Promise.resolve(false);
    return new Promise((done, failed) => {
      this.pending.set(k, { accountId, clientOrderId, orderId, done, failed });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.write());
      }
    });
  }

  /** Writes what is pending, batch after batch, until nothing is. */
  private async write(): Promise<void> {
    while (this.pending.size > 0) {
      const rows: PendingRow[] = [];
      for (const [k, row] of this.pending) {
        if (rows.length === CLIENT_ORDER_BATCH_ROWS_MAX) break;
        rows.push(row);
        this.pending.delete(k);
      }
      await this.insert(rows);
    }
    this.writing = false;
  }

  private async insert(rows: readonly PendingRow[]): Promise<void> {
    const values: string[] = [];
    const params: (number | string)[] = [];
    for (const r of rows) {
      const n = params.length;
      values.push(`($${n + 1}, $${n + 2}, $${n + 3})`);
      params.push(r.accountId, r.clientOrderId, r.orderId);
    }
    let inserted: Set<string>;
    try {
      const returned = await this.store.query(
        `INSERT INTO client_orders (account_id, client_order_id, order_id) VALUES ${values.join(', ')}
         ON CONFLICT (account_id, client_order_id) DO NOTHING RETURNING account_id, client_order_id`,
        params,
      );
      inserted = new Set(returned.map((x) => key(Number(x.account_id), String(x.client_order_id))));
    } catch (e) {
      for (const r of rows) r.failed(e);
      return;
    }
    for (const r of rows) {
      const ok = inserted.has(key(r.accountId, r.clientOrderId));
      if (ok) this.remember(r.accountId, r.clientOrderId, r.orderId);
      r.done(ok);
    }
  }

  /** Drops a mapping whose order was refused before the journal (best effort: start-up reconciles too). */
  async forget(accountId: number, clientOrderId: string, orderId: number): Promise<void> {
    this.byClient.delete(key(accountId, clientOrderId));
    this.byOrder.delete(orderId);
    await this.store.query('DELETE FROM client_orders WHERE account_id = $1 AND client_order_id = $2', [
      accountId,
      clientOrderId,
    ]);
  }

  private remember(accountId: number, clientOrderId: string, orderId: number): void {
    this.byClient.set(key(accountId, clientOrderId), orderId);
    this.byOrder.set(orderId, clientOrderId);
  }
}

const key = (accountId: number, clientOrderId: string): string => `${accountId}:${clientOrderId}`;
