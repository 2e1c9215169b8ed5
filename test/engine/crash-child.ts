/**
 * The crash test's child: runs an engine on a directory and feeds it a seeded command stream, several batches
 * in flight, printing what it learns on stdout, one line each:
 *
 *   start <lastSeq> <snapshotSeq>   recovered: the journal holds commands 1 .. lastSeq of the stream
 *   ack <seq>                       every command up to seq is durable (acknowledged)
 *   done <stateHash> <lastSeq>      the whole stream is in; the state hash after it
 *
 * Usage: node crash-child.js DIR SEED TOTAL SNAPSHOT_EVERY
 */
import { Engine } from '../../src/engine/index.js';
import type { Command } from '../../src/core/index.js';
import { RandomCommands } from '../core/random-commands.js';

const IN_FLIGHT = 4;
const BATCH_MAX = 40;

async function main(): Promise<void> {
  const [dir, seedText, totalText, everyText] = process.argv.slice(2);
  const seed = Number(seedText);
  const total = Number(totalText);
  const engine = await Engine.start({
    dir,
    snapshotEveryCommands: Number(everyText),
    snapshotEveryMs: 0,
    snapshotsKept: 2,
  });
  const start = engine.recovery.lastSeq;
  process.stdout.write(`start ${start} ${engine.recovery.snapshotSeq}\n`);
  // The stream is a pure function of the seed: skip what the journal already holds.
  const gen = new RandomCommands(seed);
  const pending: Command[] = gen.setup();
  const take = (): Command => pending.shift() ?? gen.next();
  for (let i = 0; i < start; i++) take();
  let next = start;
  let acked = start;
  let rng = (seed * 7919 + start) % 2147483647 || 1;
  const random = (n: number): number => {
    rng = (rng * 48271) % 2147483647;
    return rng % n;
  };
  const inFlight = new Set<Promise<void>>();
  while (next < total) {
    const n = Math.min(total - next, 1 + random(BATCH_MAX));
    const batch: Command[] = [];
    for (let i = 0; i < n; i++) batch.push(take());
    next += n;
    const p = engine.submit(batch).then((receipt) => {
      const last = receipt.lastSeq;
      if (last > acked) acked = last;
      process.stdout.write(`ack ${last}\n`);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const hash = await engine.stateHash();
  await engine.close();
  process.stdout.write(`done ${hash} ${acked}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`crash-child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
