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
 */
import type { Store } from '../../store/index.js';

/** Characters a client order id may have: printable ASCII without spaces, 1 to 64. */
export const CLIENT_ORDER_ID_PATTERN = '^[\\x21-\\x7e]{1,64}$';

export class ClientOrders {
  /** Order id → client order id, for every mapping in the store (loaded at start, then kept in step). */
  private readonly byOrder = new Map<number, string>();
  private readonly byClient = new Map<string, number>();

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
  async record(accountId: number, clientOrderId: string, orderId: number): Promise<boolean> {
    const rows = await this.store.query(
      `INSERT INTO client_orders (account_id, client_order_id, order_id) VALUES ($1, $2, $3)
       ON CONFLICT (account_id, client_order_id) DO NOTHING RETURNING order_id`,
      [accountId, clientOrderId, orderId],
    );
    if (rows.length === 0) return false;
    this.remember(accountId, clientOrderId, orderId);
    return true;
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
