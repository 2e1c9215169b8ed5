/**
 * Order entry: what must stay single however many gateways there are. Order ids come from one counter above
 * the engine's highest, and client order ids map to order ids through one log (client-orders.ts), written
 * before the order is submitted. `LocalOrderEntry` is that counter and that log beside the engine: in
 * `rialto start` in the venue's own process, in `rialto engine` in the engine's process, where every gateway's
 * placements arrive (gateway/remote), so that a retry through another gateway finds the same order.
 */
import type { PlaceOrder } from '../../core/index.js';
import { EngineError, type EnginePort, type Receipt } from '../../engine/index.js';
import type { Store } from '../../store/index.js';
import { ClientOrders } from './client-orders.js';
import { ApiError, ErrorCode } from './errors.js';

/** The client order id an order was placed with, by order id. */
export interface ClientOrderIds {
  clientOrderIdOf(orderId: number): string | null;
}

export interface PlaceOutcome {
  /** The order's id: the one assigned, or the one a client order id already named. */
  readonly orderId: number;
  /** The placement's receipt; null when the client order id named an order placed before. */
  readonly receipt: Receipt | null;
}

export interface OrderEntry extends ClientOrderIds {
  /**
   * Assigns `cmd` an order id (it comes with 0) and submits it; with a client order id, first maps it to the
   * order id durably, or answers with the order it maps to already (a retry). Rejects with EngineError when
   * the engine refuses the command and with ApiError CLIENT_ORDER_ID_CONFLICT when the id is taken.
   */
  place(cmd: PlaceOrder, clientOrderId: string | undefined): Promise<PlaceOutcome>;
  close(): Promise<void>;
}

export class LocalOrderEntry implements OrderEntry {
  private nextOrderId: number;
  private readonly inFlight = new Map<string, Promise<PlaceOutcome>>();

  constructor(
    private readonly engine: EnginePort,
    readonly clientOrders: ClientOrders,
    highestOrderId: number,
  ) {
    this.nextOrderId = highestOrderId + 1;
  }

  /**
   * Opens the client order id log of `dir` (dropping mappings above `highestOrderId`, which no journaled order
   * has) beside `engine`.
   */
  static async open(
    engine: EnginePort,
    store: Store,
    dir: string,
    highestOrderId: number,
  ): Promise<LocalOrderEntry> {
    const clientOrders = await ClientOrders.open(store, { dir, highestJournaledOrderId: highestOrderId });
    return new LocalOrderEntry(engine, clientOrders, highestOrderId);
  }

  clientOrderIdOf(orderId: number): string | null {
    return this.clientOrders.clientOrderIdOf(orderId);
  }

  async place(cmd: PlaceOrder, client: string | undefined): Promise<PlaceOutcome> {
    if (client === undefined) {
      const orderId = (cmd.orderId = this.nextOrderId++);
      return { orderId, receipt: await this.engine.submit([cmd]) };
    }
    const k = `${cmd.accountId}:${client}`;
    // Concurrent requests with one client order id wait for the first, then find its mapping.
    for (let pending = this.inFlight.get(k); pending !== undefined; pending = this.inFlight.get(k)) {
      await pending.catch(() => undefined);
    }
    const existing = this.clientOrders.find(cmd.accountId, client);
    if (existing !== undefined) return { orderId: existing, receipt: null };
    const placing = this.placeWithClientId(cmd, client);
    this.inFlight.set(k, placing);
    try {
      return await placing;
    } finally {
      this.inFlight.delete(k);
    }
  }

  close(): Promise<void> {
    return this.clientOrders.close();
  }

  private async placeWithClientId(cmd: PlaceOrder, client: string): Promise<PlaceOutcome> {
    const orderId = (cmd.orderId = this.nextOrderId++);
    const recorded = await this.clientOrders.record(cmd.accountId, client, orderId);
    if (!recorded) {
      // Only another writer of the log could have taken it meanwhile; the data directory's lock rules that out.
      throw new ApiError(409, ErrorCode.ClientOrderIdConflict, `client_order_id ${client} is in use`);
    }
    try {
      return { orderId, receipt: await this.engine.submit([cmd]) };
    } catch (e) {
      // Refused before the journal by an engine that still runs: nothing was sequenced, the id is free again.
      // After an engine failure the record may or may not be in the journal: start-up reconciles it.
      if (e instanceof EngineError && this.engine.failed === null) {
        await this.clientOrders.forget(cmd.accountId, client, orderId).catch(() => undefined);
      }
      throw e;
    }
  }
}
