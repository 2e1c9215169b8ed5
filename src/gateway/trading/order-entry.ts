/**
 * Order entry: what must stay single however many gateways there are. Order ids come from one counter above
 * the engine's highest, and client order ids map to order ids (client-orders.ts) through the place commands
 * that carry them into the journal. `LocalOrderEntry` is that counter and that map beside the engine: in
 * `rialto start` in the venue's own process, in `rialto engine` in the engine's process, where every gateway's
 * placements arrive (gateway/remote), so that a retry through another gateway finds the same order.
 */
import type { PlaceOrder } from '../../core/index.js';
import { EngineError, type EnginePort, type Receipt } from '../../engine/index.js';
import type { Store } from '../../store/index.js';
import { ClientOrders, clientOrderKey } from './client-orders.js';
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
   * Assigns `cmd` an order id (it comes with 0) and submits it; with a client order id, submits it with the
   * command (the journal makes the mapping durable with the order), or answers with the order it maps to
   * already (a retry). Rejects with EngineError when the engine refuses the command and with ApiError
   * CLIENT_ORDER_ID_CONFLICT when the id is taken.
   */
  place(cmd: PlaceOrder, clientOrderId: string | undefined): Promise<PlaceOutcome>;
  close(): Promise<void>;
}

export class LocalOrderEntry implements OrderEntry {
  private nextOrderId: number;
  /** Placements with a client order id not yet durable, by `account:client`: a retry waits for its first. */
  private readonly inFlight = new Map<string, Promise<PlaceOutcome>>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly engine: EnginePort,
    readonly clientOrders: ClientOrders,
    highestOrderId: number,
  ) {
    this.nextOrderId = highestOrderId + 1;
    // The orders that end, so that the mappings of ended ones are kept only as long as their retention says.
    this.unsubscribe = engine.subscribe((b) => clientOrders.noteBatch(b));
  }

  /**
   * The order entry beside `engine`, whose journal in `dir` is recovered up to `lastSeq`: the client order ids
   * of `journaled` (noted by a replay of that journal), or of a pass over it when null, then those earlier
   * versions kept outside the journal. Order ids continue above `highestOrderId`.
   */
  static async open(
    engine: EnginePort,
    store: Store,
    journal: { readonly dir: string; readonly lastSeq: number; readonly journaled: ClientOrders | null },
    highestOrderId: number,
  ): Promise<LocalOrderEntry> {
    let clientOrders = journal.journaled;
    if (clientOrders === null) {
      clientOrders = new ClientOrders();
      await clientOrders.scanJournal(journal.dir, journal.lastSeq);
    }
    await clientOrders.loadLegacy(store, journal.dir, highestOrderId);
    return new LocalOrderEntry(engine, clientOrders, highestOrderId);
  }

  clientOrderIdOf(orderId: number): string | null {
    return this.clientOrders.clientOrderIdOf(orderId);
  }

  place(cmd: PlaceOrder, client: string | undefined): Promise<PlaceOutcome> {
    if (client === undefined) {
      const orderId = (cmd.orderId = this.nextOrderId++);
      return this.engine.submit([cmd]).then((receipt) => ({ orderId, receipt }));
    }
    const k = clientOrderKey(cmd.accountId, client);
    // A request with the client order id of a placement in flight waits for it, then finds its mapping (or,
    // when the engine refused it before its journal, places anew).
    const pending = this.inFlight.get(k);
    if (pending !== undefined) {
      const again = (): Promise<PlaceOutcome> => this.place(cmd, client);
      return pending.then(again, again);
    }
    const existing = this.clientOrders.find(cmd.accountId, client);
    if (existing !== undefined) return Promise.resolve({ orderId: existing, receipt: null });
    const orderId = (cmd.orderId = this.nextOrderId++);
    if (!this.clientOrders.reserve(cmd.accountId, client, orderId)) {
      // Unreachable: find said the pair is free, and nothing runs in between.
      return Promise.reject(
        new ApiError(409, ErrorCode.ClientOrderIdConflict, `client_order_id ${client} is in use`),
      );
    }
    cmd.clientOrderId = client;
    const placing = this.engine.submit([cmd]).then(
      (receipt) => {
        this.inFlight.delete(k);
        return { orderId, receipt };
      },
      (e: unknown) => {
        this.inFlight.delete(k);
        // Refused before the journal by an engine that still runs: nothing was sequenced, the id is free again.
        // After an engine failure the record may or may not be in the journal: the restart's pass over the
        // journal says which, and until then the mapping stands.
        if (e instanceof EngineError && this.engine.failed === null) {
          this.clientOrders.forget(cmd.accountId, client, orderId);
        }
        throw e;
      },
    );
    this.inFlight.set(k, placing);
    return placing;
  }

  close(): Promise<void> {
    this.unsubscribe();
    return Promise.resolve();
  }
}
