/**
 * Journal I/O benchmark: durable appends with group commit, then the recovery read. Prints one JSON line.
 *
 *   npm run bench:journal-io -- [--records 3000000] [--appenders 1000] [--per-append 1] [--dir DIR] [--keep]
 *
 * Append: `appenders` concurrent clients each append `per-append` commands, wait for the acknowledgement
 * (write + fdatasync under the default { fsync: 'batch' } policy), and append again, until `records` commands
 * are in; batches form on their own while a sync is in flight. The commands are a fixed mix like the order
 * flow (60% place, 30% cancel, 10% amend). Reported: durable records per second, syncs per second, the mean
 * batch, and the latency of an append from call to acknowledgement.
 *
 * Read: the journal is opened again and every record replayed (frame, CRC32C, sequence and time checked,
 * command decoded into an object): records per second, and the same for a scan that checks without decoding.
 * The journal goes to a temporary directory under os.tmpdir(), removed at the end unless --keep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from '../src/core/index.js';
import { JournalReader, openJournal } from '../src/journal/index.js';
import { benchArgs, peakRssMB } from './common.js';

const { values: args } = benchArgs('journal-io', {
  options: {
    records: { type: 'string', default: '3000000' },
    appenders: { type: 'string', default: '1000' },
    'per-append': { type: 'string', default: '1' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const RECORDS = Number(args.records);
const APPENDERS = Number(args.appenders);
const PER_APPEND = Number(args['per-append']);

/** A pool of commands in the order-flow mix, reused round-robin (the journal copies what it needs). */
function commandPool(size: number): Command[] {
  const pool: Command[] = [];
  for (let i = 0; i < size; i++) {
    const orderId = 1_000_000 + i;
    const accountId = 1 + (i % 1000);
    const roll = (i * 7919) % 10;
    if (roll < 6) {
      pool.push({
        kind: 'placeOrder',
        timeUs: 0,
        accountId,
        instrument: 1,
        orderId,
        side: (i & 1) as 0 | 1,
        type: 1,
        tif: 1,
        price: 100_000 + (i % 500),
        triggerPrice: 0,
        qty: 1 + (i % 40),
        displayQty: 0,
        postOnly: false,
        stp: 0,
        expireTimeUs: 0,
      });
    } else if (roll < 9) {
      pool.push({ kind: 'cancelOrder', timeUs: 0, accountId, instrument: 1, orderId: orderId - 50 });
    } else {
      pool.push({
        kind: 'amendOrder',
        timeUs: 0,
        accountId,
        instrument: 1,
        orderId: orderId - 20,
        price: 100_100,
        qty: 5,
        triggerPrice: 0,
      });
    }
  }
  return pool;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function appendPhase(dir: string): Promise<Record<string, number>> {
  const { writer } = await openJournal({
    dir,
    clockUs: () => Math.round(performance.timeOrigin * 1000 + performance.now() * 1000),
  });
  const pool = commandPool(4096);
  const appends = Math.ceil(RECORDS / PER_APPEND);
  const latencyUs = new Float64Array(appends);
  let issued = 0;
  let next = 0;
  async function client(): Promise<void> {
    while (issued < appends) {
      const i = issued++;
      const batch: Command[] = [];
      for (let k = 0; k < PER_APPEND; k++) batch.push(pool[next++ & 4095]);
      const t0 = performance.now();
      await writer.append(batch);
      latencyUs[i] = (performance.now() - t0) * 1000;
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: APPENDERS }, client));
  const seconds = (performance.now() - t0) / 1000;
  const stats = writer.stats();
  await writer.close();
  latencyUs.sort();
  return {
    appendedRecords: stats.ackedSeq,
    durableRecordsPerSec: Math.round(stats.ackedSeq / seconds),
    fsyncsPerSec: Math.round(stats.syncs / seconds),
    meanBatchSize: Math.round(stats.records / stats.batches),
    bytesPerRecord: +(stats.bytes / stats.records).toFixed(1),
    appendLatencyUsP50: Math.round(percentile(latencyUs, 0.5)),
    appendLatencyUsP99: Math.round(percentile(latencyUs, 0.99)),
    appendSeconds: +seconds.toFixed(2),
  };
}

async function readPhase(dir: string): Promise<Record<string, number>> {
  let seqSum = 0;
  let places = 0;
  const t0 = performance.now();
  const opened = await openJournal(
    { dir, clockUs: () => 0 },
    {
      fromSeq: 1,
      visit: (seq, _timeUs, command) => {
        seqSum += seq;
        if (command.kind === 'placeOrder') places++;
      },
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  await opened.writer.close();
  if (seqSum !== (opened.replayed * (opened.replayed + 1)) / 2 || places === 0)
    throw new Error('replay mismatch');
  const t1 = performance.now();
  const scan = await new JournalReader(dir).scan(1, null);
  const checkSeconds = (performance.now() - t1) / 1000;
  return {
    readRecords: opened.replayed,
    readDecodeRecordsPerSec: Math.round(opened.replayed / seconds),
    readDecodeSeconds: +seconds.toFixed(2),
    checkOnlyRecordsPerSec: Math.round(scan.lastSeq / checkSeconds),
  };
}

async function main(): Promise<void> {
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'rialto-journal-bench-'));
  try {
    const append = await appendPhase(dir);
    const read = await readPhase(dir);
    const result = {
      bench: 'journal-io',
      node: process.version,
      cpus: cpus().length,
      dir,
      durability: 'batch',
      appenders: APPENDERS,
      perAppend: PER_APPEND,
      ...append,
      ...read,
      peakRssMB: peakRssMB(),
    };
    console.log(JSON.stringify(result));
  } finally {
    if (!args.keep && args.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
