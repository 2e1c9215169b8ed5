/**
 * The client order id crash test's child: an engine and its order entry on a directory, placing orders with
 * client order ids `c-0`, `c-1`, ... several in flight, printing `ack <client order id> <order id>` for each
 * placement answered (durable), until its parent kills it.
 *
 * Usage: node client-orders-child.js DIR COUNT
 */
import type { PlaceOrder } from '../../../src/core/index.js';
import { Engine } from '../../../src/engine/index.js';
import { LocalOrderEntry } from '../../../src/gateway/trading/order-entry.js';
import { emptyLegacyStore, orderFlowSetup, placeFor } from './client-orders-helpers.js';

const IN_FLIGHT = 8;

async function main(): Promise<void> {
  const [dir, countText] = process.argv.slice(2);
  const count = Number(countText);
  const engine = await Engine.start({ dir, snapshotEveryMs: 0 });
  if (engine.recovery.lastSeq === 0) await engine.submit(orderFlowSetup());
  const journal = { dir, lastSeq: engine.recovery.lastSeq, journaled: null };
  const entry = await LocalOrderEntry.open(engine, emptyLegacyStore, journal, await engine.highestOrderId());
  process.stdout.write('ready\n');
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < count; i++) {
    const client = `c-${i}`;
    const cmd: PlaceOrder = placeFor(i);
    const p = entry.place(cmd, client).then((o) => {
      process.stdout.write(`ack ${client} ${o.orderId}\n`);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  process.stdout.write('done\n');
  // Waits to be killed.
  await new Promise(() => undefined);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? String(e.stack) : String(e)}\n`);
  process.exit(1);
});
