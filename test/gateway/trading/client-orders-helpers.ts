/**
 * What the client order id tests and their crash child share: a small venue's setup commands, a place per
 * index, a store without a legacy table's rows, and the place records of a journal.
 */
import type { Command, PlaceOrder } from '../../../src/core/index.js';
import { JournalReader } from '../../../src/journal/index.js';
import type { Store } from '../../../src/store/index.js';

/** Two assets, one instrument, seven funded accounts. */
export function orderFlowSetup(): Command[] {
  const setup: Command[] = [
    { kind: 'addAsset', timeUs: 0, asset: 0, code: 'USD', decimals: 2 },
    { kind: 'addAsset', timeUs: 0, asset: 1, code: 'BTC', decimals: 8 },
    {
      kind: 'defineInstrument',
      timeUs: 0,
      spec: { instrument: 1, symbol: 'BTC-USD', baseAsset: 1, quoteAsset: 0, tickSize: 1 },
    },
  ];
  for (let a = 1; a <= 7; a++) {
    setup.push({ kind: 'createAccount', timeUs: 0, accountId: a, accountType: 1 });
    for (const asset of [0, 1]) {
      setup.push({ kind: 'deposit', timeUs: 0, accountId: a, asset, amount: 1e12, ref: a * 2 + asset });
    }
  }
  return setup;
}

/** The i-th placement (order id 0: the order entry assigns it), alternating sides around one price. */
export function placeFor(i: number, accountId = 1 + (i % 7)): PlaceOrder {
  return {
    kind: 'placeOrder',
    timeUs: 0,
    accountId,
    instrument: 1,
    orderId: 0,
    side: (i & 1) as 0 | 1,
    type: 1,
    tif: 1,
    price: 10_000 + (i % 5),
    triggerPrice: 0,
    qty: 1 + (i % 3),
    displayQty: 0,
    postOnly: false,
    stp: 0,
    expireTimeUs: 0,
  };
}

/** A store whose legacy `client_orders` table is empty (the order entry only reads it). */
export const emptyLegacyStore = {
  query: () => Promise.resolve([]),
} as unknown as Store;

/** The journal's place records with a client order id, in order: [account, client order id, order id]. */
export async function journaledClientIds(dir: string): Promise<[number, string, number][]> {
  const out: [number, string, number][] = [];
  await new JournalReader(dir).scan(1, (_seq, _t, c) => {
    if (c.kind === 'placeOrder' && c.clientOrderId !== undefined) {
      out.push([c.accountId, c.clientOrderId, c.orderId]);
    }
  });
  return out;
}
