/**
 * What the journal tests share: temporary directories, a file-system port that counts syncs and fails or
 * stalls on cue, a deterministic clock, and commands (fixed samples and fast-check arbitraries over all 15
 * kinds, with values both inside and outside what a valid command holds).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Command, PlaceOrder } from '../../src/core/index.js';
import { nodeFs, type JournalFs } from '../../src/journal/index.js';

/** Temporary directories, each removed by cleanup(). */
export class TempDirs {
  private readonly dirs: string[] = [];

  make(): string {
    const dir = mkdtempSync(join(tmpdir(), 'rialto-journal-'));
    this.dirs.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

function errno(code: string, op: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: simulated failure, ${op}`);
  e.code = code;
  return e;
}

/**
 * Node's file system with counters and faults. `failWritesAfterBytes` lets that many more bytes be written
 * (a short write), then fails every write with `writeError`; `failSync` fails every fdatasync and fsync;
 * `holdSyncs` makes fdatasync wait until release() is called.
 */
export class TestFs implements JournalFs {
  fdatasyncs = 0;
  fsyncs = 0;
  dirSyncs = 0;
  writes = 0;
  failWritesAfterBytes = Infinity;
  writeError = 'ENOSPC';
  failSync = '';
  failRename = '';
  holdSyncs = false;
  private held: (() => void)[] = [];

  mkdir = (path: string): Promise<void> => nodeFs.mkdir(path);
  readdir = (path: string): Promise<string[]> => nodeFs.readdir(path);
  open = (path: string, mode: 'r' | 'r+' | 'wx' | 'w'): Promise<number> => nodeFs.open(path, mode);
  close = (fd: number): Promise<void> => nodeFs.close(fd);
  size = (fd: number): Promise<number> => nodeFs.size(fd);
  read = (fd: number, b: Uint8Array, off: number, len: number, pos: number): Promise<number> =>
    nodeFs.read(fd, b, off, len, pos);
  truncate = (fd: number, length: number): Promise<void> => nodeFs.truncate(fd, length);
  unlink = (path: string): Promise<void> => nodeFs.unlink(path);

  async write(fd: number, b: Uint8Array, off: number, len: number, pos: number): Promise<number> {
    this.writes++;
    if (this.failWritesAfterBytes <= 0) throw errno(this.writeError, 'write');
    const n = Math.min(len, this.failWritesAfterBytes);
    this.failWritesAfterBytes -= n;
    return nodeFs.write(fd, b, off, n, pos);
  }

  async fdatasync(fd: number): Promise<void> {
    this.fdatasyncs++;
    if (this.holdSyncs) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.failSync !== '') throw errno(this.failSync, 'fdatasync');
    return nodeFs.fdatasync(fd);
  }

  async fsync(fd: number): Promise<void> {
    this.fsyncs++;
    if (this.failSync !== '') throw errno(this.failSync, 'fsync');
    return nodeFs.fsync(fd);
  }

  async rename(from: string, to: string): Promise<void> {
    if (this.failRename !== '') throw errno(this.failRename, 'rename');
    return nodeFs.rename(from, to);
  }

  async syncDir(path: string): Promise<void> {
    this.dirSyncs++;
    return nodeFs.syncDir(path);
  }

  /** Syncs waiting under holdSyncs. */
  get waiting(): number {
    return this.held.length;
  }

  /** Lets the held syncs finish (and stops holding new ones unless `keepHolding`). */
  release(keepHolding = false): void {
    this.holdSyncs = keepHolding;
    for (const go of this.held.splice(0)) go();
  }
}

/** A clock that advances one microsecond per read from a fixed start, or returns what `next` says. */
export function testClock(startUs = 1_767_225_600_000_000): {
  clockUs: () => number;
  set: (us: number) => void;
} {
  let now = startUs;
  return {
    clockUs: () => now++,
    set: (us: number) => {
      now = us;
    },
  };
}

/** Resolves after the pending microtasks and I/O callbacks of this turn (lets batches form and syncs start). */
export function settle(ms = 5): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `check` holds (real file I/O may take long on a loaded machine); throws after 20 s. */
export async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not so after 20 s: ${what}`);
    await settle(2);
  }
}

/** One valid command of every kind, with their times left at 0 for the sequencer. */
export function sampleCommands(): Command[] {
  return [
    { kind: 'addAsset', timeUs: 0, asset: 0, code: 'USD', decimals: 2 },
    { kind: 'addAsset', timeUs: 0, asset: 1, code: 'BTC', decimals: 8 },
    { kind: 'createAccount', timeUs: 0, accountId: 1, accountType: 1 },
    { kind: 'setAccountStatus', timeUs: 0, accountId: 1, status: 2 },
    { kind: 'deposit', timeUs: 0, accountId: 1, asset: 0, amount: 10_000_000, ref: 77 },
    { kind: 'withdraw', timeUs: 0, accountId: 1, asset: 0, amount: 500, ref: 78 },
    {
      kind: 'defineInstrument',
      timeUs: 0,
      spec: { instrument: 1, symbol: 'BTC-USD', baseAsset: 1, quoteAsset: 0, tickSize: 1, takerFeePpm: 500 },
    },
    {
      kind: 'placeOrder',
      timeUs: 0,
      accountId: 1,
      instrument: 1,
      orderId: 1001,
      side: 0,
      type: 1,
      tif: 1,
      price: 10_000,
      triggerPrice: 0,
      qty: 5,
      displayQty: 0,
      postOnly: false,
      stp: 0,
      expireTimeUs: 0,
    },
    { kind: 'cancelOrder', timeUs: 0, accountId: 1, instrument: 1, orderId: 1001 },
    {
      kind: 'amendOrder',
      timeUs: 0,
      accountId: 1,
      instrument: 1,
      orderId: 1001,
      price: 0,
      qty: 3,
      triggerPrice: 0,
    },
    { kind: 'massCancel', timeUs: 0, accountId: 0, instrument: -1, side: -1 },
    { kind: 'advanceTime', timeUs: 0 },
    { kind: 'setRiskLimits', timeUs: 0, accountId: 1, limits: { orderQtyMax: 100, dailyLossMax: 5_000 } },
    { kind: 'setTradingStatus', timeUs: 0, instrument: 1, halted: true },
    { kind: 'killSwitch', timeUs: 0, accountId: 1 },
    { kind: 'resetKillSwitch', timeUs: 0, officerId: 9, accountId: 1 },
  ];
}

/** A place order with the given id, for bulk tests. */
export function placeOrder(orderId: number): Command {
  return {
    kind: 'placeOrder',
    timeUs: 0,
    accountId: 1 + (orderId % 7),
    instrument: 1,
    orderId,
    side: (orderId & 1) as 0 | 1,
    type: 1,
    tif: 1,
    price: 10_000 + (orderId % 100),
    triggerPrice: 0,
    qty: 1 + (orderId % 50),
    displayQty: 0,
    postOnly: false,
    stp: 0,
    expireTimeUs: 0,
  };
}

// Numbers: mostly the small integers valid commands hold, sometimes anything a double can be.
const anyNumber = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -2, max: 70_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 32 }) },
  { weight: 1, arbitrary: fc.maxSafeInteger() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 53, 0.5) },
);
const smallString = fc.string({ unit: 'binary', maxLength: 40 });
const time = fc.constant(0);

const specArb = fc.record(
  {
    instrument: anyNumber,
    symbol: smallString,
    baseAsset: anyNumber,
    quoteAsset: anyNumber,
    baseScale: anyNumber,
    quoteScale: anyNumber,
    tickSize: anyNumber,
    lotSize: anyNumber,
    qtyMin: anyNumber,
    qtyMax: anyNumber,
    priceBandBps: anyNumber,
    referencePrice: anyNumber,
    marketProtectionBps: anyNumber,
    makerFeePpm: anyNumber,
    takerFeePpm: anyNumber,
    markMethod: anyNumber as fc.Arbitrary<never>,
  },
  { requiredKeys: ['instrument'], noNullPrototype: true },
);

const limitsArb = fc.record(
  {
    orderQtyMax: anyNumber,
    orderNotionalMax: anyNumber,
    openOrdersMax: anyNumber,
    positionQtyMax: anyNumber,
    positionEquityPpm: anyNumber,
    dailyLossMax: anyNumber,
    dailyLossEquityPpm: anyNumber,
    emergencyLossMax: anyNumber,
    emergencyLossEquityPpm: anyNumber,
  },
  { requiredKeys: [], noNullPrototype: true },
);

/** Any command of any kind; times are 0 (the record carries the time). Enumerations are cast: the codec keeps them as numbers. */
/** Records with ordinary prototypes, as commands from JSON or object literals have. */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

/**
 * A client order id as the journal takes it: any string of at most 255 UTF-8 bytes without lone surrogates
 * (the API allows printable ASCII up to 64; the codec is wider), ASCII and not, empty included.
 */
export const arbClientOrderId: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: fc.constantFrom(...'!#-.09AZaz~'.split('')), maxLength: 64 }),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 120 }),
  )
  .filter((s) => Buffer.byteLength(s, 'utf8') <= 255 && !/\p{Cs}/u.test(s));

/** A place order, valid or not, with a client order id or without (then absent, not undefined). */
export const arbPlace: fc.Arbitrary<PlaceOrder> = fc.record(
  {
    kind: fc.constant('placeOrder' as const),
    timeUs: time,
    accountId: anyNumber,
    instrument: anyNumber,
    orderId: anyNumber,
    side: anyNumber as fc.Arbitrary<never>,
    type: anyNumber as fc.Arbitrary<never>,
    tif: anyNumber as fc.Arbitrary<never>,
    price: anyNumber,
    triggerPrice: anyNumber,
    qty: anyNumber,
    displayQty: anyNumber,
    postOnly: fc.boolean(),
    stp: anyNumber as fc.Arbitrary<never>,
    expireTimeUs: anyNumber,
    clientOrderId: arbClientOrderId,
  },
  {
    noNullPrototype: true,
    requiredKeys: [
      'kind',
      'timeUs',
      'accountId',
      'instrument',
      'orderId',
      'side',
      'type',
      'tif',
      'price',
      'triggerPrice',
      'qty',
      'displayQty',
      'postOnly',
      'stp',
      'expireTimeUs',
    ],
  },
);

export const arbCommand: fc.Arbitrary<Command> = fc.oneof(
  rec({
    kind: fc.constant('addAsset' as const),
    timeUs: time,
    asset: anyNumber,
    code: smallString,
    decimals: anyNumber,
  }),
  rec({
    kind: fc.constant('createAccount' as const),
    timeUs: time,
    accountId: anyNumber,
    accountType: anyNumber as fc.Arbitrary<never>,
  }),
  rec({
    kind: fc.constant('setAccountStatus' as const),
    timeUs: time,
    accountId: anyNumber,
    status: anyNumber as fc.Arbitrary<never>,
  }),
  rec({
    kind: fc.constantFrom('deposit' as const, 'withdraw' as const),
    timeUs: time,
    accountId: anyNumber,
    asset: anyNumber,
    amount: anyNumber,
    ref: anyNumber,
  }),
  rec({ kind: fc.constant('defineInstrument' as const), timeUs: time, spec: specArb }),
  arbPlace,
  rec({
    kind: fc.constant('cancelOrder' as const),
    timeUs: time,
    accountId: anyNumber,
    instrument: anyNumber,
    orderId: anyNumber,
  }),
  rec({
    kind: fc.constant('amendOrder' as const),
    timeUs: time,
    accountId: anyNumber,
    instrument: anyNumber,
    orderId: anyNumber,
    price: anyNumber,
    qty: anyNumber,
    triggerPrice: anyNumber,
  }),
  rec({
    kind: fc.constant('massCancel' as const),
    timeUs: time,
    accountId: anyNumber,
    instrument: anyNumber,
    side: anyNumber,
  }),
  rec({ kind: fc.constant('advanceTime' as const), timeUs: time }),
  rec({
    kind: fc.constant('setRiskLimits' as const),
    timeUs: time,
    accountId: anyNumber,
    limits: limitsArb,
  }),
  rec({
    kind: fc.constant('setTradingStatus' as const),
    timeUs: time,
    instrument: anyNumber,
    halted: fc.boolean(),
  }),
  rec({ kind: fc.constant('killSwitch' as const), timeUs: time, accountId: anyNumber }),
  rec({
    kind: fc.constant('resetKillSwitch' as const),
    timeUs: time,
    officerId: anyNumber,
    accountId: anyNumber,
  }),
);
