/**
 * Snapshots of the whole core. A core restored from a snapshot taken after command N, fed commands N+1.., writes
 * byte-identical records (book slots included) and reaches the same state hash as the core that never stopped:
 * over random commands (three seeds of 100,000, snapshots at random points, each restored core snapshotted in
 * turn) and over the shared workload through the core. Snapshot, restore, snapshot gives the same bytes.
 * Truncated, corrupted or malformed bytes throw a SnapshotError and never yield a core.
 */
import { after, describe, it } from 'node:test';
import { equal, fail, ok, throws } from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { EVENT_STRIDE, OrderType, SelfTradePrevention, Side, TimeInForce } from '../../src/book/index.js';
import { makeCoreReplayer, ownersOf } from '../../src/cli/core-workload.js';
import { readWorkload } from '../../src/cli/workload.js';
import {
  AccountType,
  CORE_SNAPSHOT_VERSION,
  ExchangeCore,
  SnapshotError,
  decodeCoreSnapshot,
  encodeCoreSnapshot,
  type Command,
} from '../../src/core/index.js';
import { Rng } from '../book/helpers.js';
import { RandomCommands } from './random-commands.js';

const SEEDS = [101, 202, 303];
const COMMANDS_PER_SEED = 100_000;
const SNAPSHOTS_PER_SEED = 5;
const GENERATOR = '../shared/bench/orderbook/gen-workload.js';
const WORKLOAD_OPS = 100_000;
let dir = '';

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** The bytes of the records in the core's event buffer. */
function records(core: ExchangeCore): Buffer {
  const d = core.events.data;
  return Buffer.from(d.buffer, d.byteOffset, core.events.count * EVENT_STRIDE * 8);
}

function run(core: ExchangeCore, cmd: Command): Buffer {
  core.events.clear();
  core.execute(cmd);
  return records(core);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** A core restored from `bytes`, checked to snapshot back to the same bytes. */
function restore(bytes: Uint8Array): ExchangeCore {
  const core = decodeCoreSnapshot(bytes);
  ok(sameBytes(encodeCoreSnapshot(core), bytes), 'snapshot, restore, snapshot gives the same bytes');
  return core;
}

/**
 * Runs `n` random commands on a core and, from the first snapshot point on, on a follower restored from it;
 * at each later point the follower, restored from a snapshot of itself, must snapshot to the original's bytes.
 */
function runWithSnapshots(seed: number, n: number, points: number): { compared: number; snapshots: number } {
  const gen = new RandomCommands(seed);
  const rng = new Rng(seed * 7 + 1);
  const at = new Set<number>();
  while (at.size < points) at.add(rng.int(n));
  const original = new ExchangeCore();
  for (const cmd of gen.setup()) run(original, cmd);
  let follower: ExchangeCore | undefined;
  let compared = 0;
  for (let i = 0; i < n; i++) {
    if (at.has(i)) {
      const bytes = encodeCoreSnapshot(original);
      if (follower !== undefined)
        ok(sameBytes(encodeCoreSnapshot(follower), bytes), `seed ${seed}: state at ${i}`);
      follower = restore(follower === undefined ? bytes : encodeCoreSnapshot(follower));
      equal(follower.stateHash(), original.stateHash(), `seed ${seed}: hash after restoring at ${i}`);
    }
    const cmd = gen.next();
    const expected = run(original, cmd);
    if (follower === undefined) continue;
    const got = run(follower, cmd);
    if (!got.equals(expected)) fail(`seed ${seed} command ${i}: records differ (${JSON.stringify(cmd)})`);
    compared += original.events.count;
  }
  ok(follower !== undefined);
  equal(follower.stateHash(), original.stateHash(), `seed ${seed}: final hash`);
  ok(sameBytes(encodeCoreSnapshot(follower), encodeCoreSnapshot(original)), `seed ${seed}: final state`);
  return { compared, snapshots: at.size };
}

/** A small venue's snapshot, for the corruption tests. */
function smallSnapshot(): Uint8Array {
  const gen = new RandomCommands(7);
  const core = new ExchangeCore();
  for (const cmd of gen.setup()) run(core, cmd);
  for (let i = 0; i < 5_000; i++) run(core, gen.next());
  return encodeCoreSnapshot(core);
}

/** `bytes` with its checksum recomputed, so that only the parts' own checks can catch a change. */
function resealed(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const body = out.length - 4;
  new DataView(out.buffer).setUint32(body, crc32(out.subarray(0, body)), true);
  return out;
}

function throwsSnapshotError(bytes: Uint8Array, message: RegExp, what: string): void {
  throws(
    () => decodeCoreSnapshot(bytes),
    (e: unknown) => e instanceof SnapshotError && message.test(e.message),
    what,
  );
}

void describe('core snapshots', () => {
  for (const seed of SEEDS) {
    void it(`seed ${seed}: cores restored at random points continue byte for byte`, () => {
      const { compared, snapshots } = runWithSnapshots(seed, COMMANDS_PER_SEED, SNAPSHOTS_PER_SEED);
      equal(snapshots, SNAPSHOTS_PER_SEED);
      ok(compared > 100_000, `records compared: ${compared}`);
    });
  }

  void it('a fresh core and one right after setup restore too', () => {
    const core = new ExchangeCore();
    const fresh = restore(encodeCoreSnapshot(core));
    equal(fresh.stateHash(), core.stateHash());
    const gen = new RandomCommands(5);
    for (const cmd of gen.setup()) ok(run(core, cmd).equals(run(fresh, cmd)));
    const restored = restore(encodeCoreSnapshot(core));
    for (let i = 0; i < 20_000; i++) {
      const cmd = gen.next();
      ok(run(core, cmd).equals(run(restored, cmd)), `command ${i}`);
    }
    equal(restored.stateHash(), core.stateHash());
  });

  void it('the shared workload continues identically through a restored core', () => {
    if (!existsSync(resolve(GENERATOR)))
      fail(`the shared workload generator is missing: ${resolve(GENERATOR)}`);
    dir = mkdtempSync(join(tmpdir(), 'rialto-snapshot-'));
    const out = join(dir, 'ops');
    const gen = spawnSync(
      process.execPath,
      [GENERATOR, `--ops=${WORKLOAD_OPS}`, '--seed=17', `--out=${out}`],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    equal(gen.status, 0, gen.stderr);
    const w = readWorkload(`${out}.bin`);
    const owners = ownersOf(w);
    const a = makeCoreReplayer(w, owners);
    const half = w.count >> 1;
    for (let i = 0; i < half; i++) a.step(i);
    const t0 = performance.now();
    const bytes = encodeCoreSnapshot(a.core);
    const t1 = performance.now();
    const core = decodeCoreSnapshot(bytes);
    const t2 = performance.now();
    const orders = a.core.openOrderCount;
    console.log(
      `# workload snapshot after ${half} operations: ${orders} live orders, ${bytes.length} bytes, ` +
        `encode ${(t1 - t0).toFixed(1)} ms, decode ${(t2 - t1).toFixed(1)} ms`,
    );
    equal(core.openOrderCount, orders);
    equal(core.stateHash(), a.core.stateHash());
    const b = makeCoreReplayer(w, owners, core);
    for (let i = half; i < w.count; i++) {
      a.step(i);
      b.step(i);
      if (!records(b.core).equals(records(a.core))) fail(`operation ${i}: records differ`);
    }
    equal(b.core.stateHash(), a.core.stateHash());
    ok(sameBytes(encodeCoreSnapshot(b.core), encodeCoreSnapshot(a.core)));
  });

  void it('a core of 1,000 accounts and 30,000 live orders encodes and decodes well under a second', () => {
    const core = new ExchangeCore();
    const t = 1_767_225_600_000_000;
    const setup: Command[] = [
      { kind: 'addAsset', timeUs: t, asset: 0, code: 'USD', decimals: 2 },
      { kind: 'addAsset', timeUs: t, asset: 1, code: 'BTC', decimals: 8 },
      {
        kind: 'defineInstrument',
        timeUs: t,
        spec: { instrument: 1, symbol: 'BTC-USD', baseAsset: 1, quoteAsset: 0, takerFeePpm: 200 },
      },
    ];
    for (let a = 1; a <= 1000; a++) {
      setup.push({ kind: 'createAccount', timeUs: t, accountId: a, accountType: AccountType.Customer });
      setup.push({ kind: 'deposit', timeUs: t, accountId: a, asset: 0, amount: 1e12, ref: a });
      setup.push({ kind: 'deposit', timeUs: t, accountId: a, asset: 1, amount: 1e12, ref: a });
    }
    for (const cmd of setup) run(core, cmd);
    const rng = new Rng(30);
    const order = (i: number, side: Side, price: number): Command => ({
      kind: 'placeOrder',
      timeUs: t + i,
      accountId: 1 + rng.int(1000),
      instrument: 1,
      orderId: i,
      side,
      type: OrderType.Limit,
      tif: TimeInForce.GTC,
      price,
      triggerPrice: 0,
      qty: 1 + rng.int(100),
      displayQty: 0,
      postOnly: false,
      stp: SelfTradePrevention.None,
      expireTimeUs: 0,
    });
    for (let i = 1; i <= 30_000; i++) {
      const side = (i % 2) as Side;
      run(core, order(i, side, side === Side.Buy ? 9_000 + rng.int(1000) : 10_001 + rng.int(1000)));
    }
    equal(core.openOrderCount, 30_000);
    const t0 = performance.now();
    const bytes = encodeCoreSnapshot(core);
    const t1 = performance.now();
    const restored = decodeCoreSnapshot(bytes);
    const t2 = performance.now();
    console.log(
      `# 1,000 accounts, 30,000 orders: ${bytes.length} bytes, encode ${(t1 - t0).toFixed(1)} ms, ` +
        `decode ${(t2 - t1).toFixed(1)} ms`,
    );
    // Far more than it takes (tens of milliseconds), so that a busy machine does not fail it.
    ok(t1 - t0 < 1000 && t2 - t1 < 1000, `encode ${t1 - t0} ms, decode ${t2 - t1} ms`);
    for (let i = 30_001; i <= 40_000; i++) {
      const cmd = order(i, rng.int(2) as Side, 9_500 + rng.int(1000));
      ok(run(core, cmd).equals(run(restored, cmd)), `order ${i}`);
    }
    equal(restored.stateHash(), core.stateHash());
  });

  void it('truncated bytes throw', () => {
    const bytes = smallSnapshot();
    const rng = new Rng(3);
    const lengths = [0, 1, 4, 11, 12, 15, 16, bytes.length >> 1, bytes.length - 5, bytes.length - 1];
    for (let k = 0; k < 40; k++) lengths.push(rng.int(bytes.length));
    for (const n of lengths) throwsSnapshotError(bytes.subarray(0, n), /truncated|header/, `${n} bytes`);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    throwsSnapshotError(longer, /trailing bytes/, 'three bytes more');
  });

  void it('corrupted bytes throw', () => {
    const bytes = smallSnapshot();
    const rng = new Rng(4);
    for (let k = 0; k < 200; k++) {
      const bad = bytes.slice();
      const at = 12 + rng.int(bytes.length - 12);
      bad[at] ^= 1 << rng.int(8);
      throwsSnapshotError(bad, /corrupted/, `bit flipped at byte ${at}`);
    }
    const magic = bytes.slice();
    magic[0] = 0x58;
    throwsSnapshotError(magic, /not a core snapshot/, 'magic');
    const version = bytes.slice();
    new DataView(version.buffer).setUint32(4, CORE_SNAPSHOT_VERSION + 1, true);
    throwsSnapshotError(resealed(version), /version/, 'version');
  });

  void it('malformed bytes with a valid checksum throw a SnapshotError or restore a working core', () => {
    const bytes = smallSnapshot();
    const rng = new Rng(5);
    let thrown = 0;
    for (let k = 0; k < 300; k++) {
      const bad = bytes.slice();
      const at = 16 + rng.int(bytes.length - 20);
      bad[at] = rng.int(256);
      try {
        // A change that keeps the state consistent (a stale byte of a free slot, say) restores a core that works.
        decodeCoreSnapshot(resealed(bad)).stateHash();
      } catch (e) {
        ok(e instanceof SnapshotError, `byte ${at}: ${String(e)}`);
        thrown++;
      }
    }
    ok(thrown > 100, `malformed snapshots refused: ${thrown}`);
    // A section out of place is named.
    const text = Buffer.from(bytes).toString('latin1');
    const tag = text.indexOf('LDGR');
    ok(tag > 0);
    const moved = bytes.slice();
    moved[tag] = 0x58;
    throwsSnapshotError(resealed(moved), /expected section LDGR/, 'section tag');
  });

  void it("order columns whose quantities differ from the book's throw", () => {
    const bytes = smallSnapshot();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tag = Buffer.from(bytes).toString('latin1').indexOf('OCOL');
    ok(tag > 0);
    // OCOL: capacity, size, then blocks (a u32 count, then the elements): live flags, order ids, accounts,
    // sides, market flags, holds per lot, open quantities, filled quantities, ...
    const n = view.getUint32(tag + 12, true);
    const live = tag + 16;
    let s = 0;
    while (s < n && bytes[live + s] !== 1) s++;
    ok(s < n, 'a live order');
    const widths = [1, 8, 4, 1, 1, 8];
    let at = tag + 12;
    for (const w of widths) at += 4 + n * w;
    equal(view.getUint32(at, true), n);
    for (const [block, what] of [
      [at + 4, 'open quantity'],
      [at + 4 + 8 * n + 4, 'filled quantity'],
    ] as const) {
      const bad = bytes.slice();
      const bv = new DataView(bad.buffer);
      const x = block + 8 * s;
      bv.setFloat64(x, bv.getFloat64(x, true) + 1, true);
      throwsSnapshotError(resealed(bad), /quantities differ from the book's/, what);
    }
  });
});
