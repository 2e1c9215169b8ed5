/**
 * The command codec: every command round-trips exactly (valid ones in their compact form, anything else in the
 * wide form), and bytes that are not a command are refused with JOURNAL_COMMAND_MALFORMED, never decoded into
 * something else.
 */
import { describe, it } from 'node:test';
import { deepEqual, equal, ok, throws } from 'node:assert/strict';
import fc from 'fast-check';
import {
  CommandCode,
  ExchangeCore,
  decodeStream,
  type Command,
  type PlaceOrder,
} from '../../src/core/index.js';
import {
  COMMAND_BYTES_MAX,
  COMMAND_KIND,
  JournalError,
  JournalErrorCode,
  commandBytes,
  decodeCommand,
  encodeCommand,
} from '../../src/journal/index.js';
import { arbClientOrderId, arbCommand, arbPlace, placeOrder, sampleCommands } from './helpers.js';

const T = 1_767_225_600_123_456;

function roundTrip(cmd: Command): Command {
  const bytes = commandBytes(cmd);
  return decodeCommand(bytes, 0, bytes.length, cmd.timeUs);
}

function isCode(code: string): (e: unknown) => boolean {
  return (e) => e instanceof JournalError && e.code === code;
}

describe('command codec', () => {
  void it('numbers the kinds as the core does', () => {
    deepEqual({ ...COMMAND_KIND }, { ...CommandCode });
  });

  void it('round-trips one command of every kind', () => {
    const samples = sampleCommands();
    equal(new Set(samples.map((c) => c.kind)).size, 15);
    for (const cmd of samples) {
      cmd.timeUs = T;
      deepEqual(roundTrip(cmd), cmd);
    }
  });

  void it('keeps hot commands compact: place 44 bytes, cancel 15, amend 27', () => {
    const [place, cancel, amend] = ['placeOrder', 'cancelOrder', 'amendOrder'].map(
      (k) => sampleCommands().find((c) => c.kind === k) as Command,
    );
    equal(commandBytes(place).length, 44);
    equal(commandBytes(cancel).length, 15);
    equal(commandBytes(amend).length, 27);
    equal(commandBytes(placeOrder(2 ** 40)).length, 44, 'order ids are float64 even when compact');
  });

  void it('lays out the compact place, cancel and amend as the format says, byte for byte', () => {
    // Written field by field here, independently of the codec: journals already on disk have these bytes.
    const layout = (kind: number, fields: [string, number][]): Uint8Array => {
      const out = new Uint8Array(64);
      const v = new DataView(out.buffer);
      out[0] = kind;
      let at = 1;
      for (const [type, value] of fields) {
        if (type === 'u8') v.setUint8(at, value);
        if (type === 'u16') v.setUint16(at, value, true);
        if (type === 'i32') v.setInt32(at, value, true);
        if (type === 'u32') v.setUint32(at, value, true);
        if (type === 'f64') v.setFloat64(at, value, true);
        at += { u8: 1, u16: 2, i32: 4, u32: 4, f64: 8 }[type] as number;
      }
      return out.slice(0, at);
    };
    const place: Command = {
      kind: 'placeOrder',
      timeUs: T,
      accountId: -7,
      instrument: 513,
      orderId: 2 ** 40 + 3,
      side: 1,
      type: 2,
      tif: 3,
      price: 4_000_000_001,
      triggerPrice: 17,
      qty: 65_537,
      displayQty: 9,
      postOnly: true,
      stp: 2,
      expireTimeUs: T + 5,
    };
    const placeBytes = layout(7, [
      ['i32', -7],
      ['u16', 513],
      ['f64', 2 ** 40 + 3],
      ['u8', 1],
      ['u8', 2],
      ['u8', 3],
      ['u32', 4_000_000_001],
      ['u32', 17],
      ['u32', 65_537],
      ['u32', 9],
      ['u8', 1],
      ['u8', 2],
      ['f64', T + 5],
    ]);
    const cancel: Command = { kind: 'cancelOrder', timeUs: T, accountId: 5, instrument: 2, orderId: 99 };
    const cancelBytes = layout(8, [
      ['i32', 5],
      ['u16', 2],
      ['f64', 99],
    ]);
    const amend: Command = {
      kind: 'amendOrder',
      timeUs: T,
      accountId: 5,
      instrument: 2,
      orderId: 99,
      price: 101,
      qty: 0,
      triggerPrice: 3,
    };
    const amendBytes = layout(9, [
      ['i32', 5],
      ['u16', 2],
      ['f64', 99],
      ['u32', 101],
      ['u32', 0],
      ['u32', 3],
    ]);
    for (const [cmd, bytes] of [
      [place, placeBytes],
      [cancel, cancelBytes],
      [amend, amendBytes],
    ] as const) {
      deepEqual(commandBytes(cmd), bytes, cmd.kind);
      deepEqual(decodeCommand(bytes, 0, bytes.length, T), cmd, cmd.kind);
    }
    // A boolean byte other than 0 or 1 is refused on the fixed-offset path too.
    const bad = placeBytes.slice();
    bad[34] = 2;
    throws(() => decodeCommand(bad, 0, bad.length, T), isCode(JournalErrorCode.CommandMalformed));
  });

  void it('writes values outside the compact types in the wide form, exactly', () => {
    for (const price of [-1, 0.5, 2 ** 32, NaN, -0, Infinity, Number.MAX_SAFE_INTEGER]) {
      const cmd = { ...placeOrder(7), price };
      const bytes = commandBytes(cmd);
      ok(bytes[0] & 0x80, `wide for ${price}`);
      ok(bytes.length > 44);
      deepEqual(roundTrip(cmd), cmd);
      ok(Object.is((roundTrip(cmd) as typeof cmd).price, price));
    }
  });

  void it('round-trips any command, valid or not (property)', () => {
    fc.assert(
      fc.property(arbCommand, fc.maxSafeNat(), (cmd, timeUs) => {
        cmd.timeUs = timeUs;
        const back = roundTrip(cmd);
        deepEqual(back, cmd);
        ok(commandBytes(cmd).length <= COMMAND_BYTES_MAX);
      }),
      { numRuns: 3000 },
    );
  });

  void it('encodes at an offset and decodes from the middle of a buffer', () => {
    const buf = new Uint8Array(3 * COMMAND_BYTES_MAX);
    const cmds = sampleCommands().map((c) => ({ ...c, timeUs: T }));
    let at = 5;
    const ends: number[] = [];
    for (const c of cmds.slice(0, 3)) {
      at = encodeCommand(c, buf, at);
      ends.push(at);
    }
    deepEqual(decodeCommand(buf, ends[0], ends[1], T), cmds[1]);
  });

  void it('refuses every truncation and any trailing byte', () => {
    for (const cmd of sampleCommands()) {
      const bytes = commandBytes(cmd);
      for (let n = 0; n < bytes.length; n++) {
        throws(
          () => decodeCommand(bytes, 0, n, 0),
          isCode(JournalErrorCode.CommandMalformed),
          `${cmd.kind} cut at ${n}`,
        );
      }
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      throws(() => decodeCommand(longer, 0, longer.length, 0), isCode(JournalErrorCode.CommandMalformed));
    }
  });

  void it('refuses unknown kinds, booleans other than 0 and 1, unknown mask bits and bad UTF-8', () => {
    const bad = (bytes: number[]): void => {
      throws(
        () => decodeCommand(Uint8Array.from(bytes), 0, bytes.length, 0),
        isCode(JournalErrorCode.CommandMalformed),
      );
    };
    bad([0]);
    bad([16]);
    bad([0x80 | 16]);
    bad([13, 1, 0, 2]); // setTradingStatus, halted = 2
    bad([12, 1, 0, 0, 0, 0, 0x04]); // setRiskLimits, mask bit 10 (only 9 limits)
    bad([6, 0, 0x80, 1, 0]); // defineInstrument, mask bit 15 (only 15 spec fields, bits 0..14)
    bad([1, 0, 0, 2, 0xc3, 0x28, 2]); // addAsset, code with an invalid UTF-8 sequence
    equal(decodeCommand(Uint8Array.from([11]), 0, 1, 9).timeUs, 9);
  });

  void it('never returns garbage for random bytes: a decoded command re-encodes to itself (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 15 }),
        fc.boolean(),
        fc.boolean(),
        fc.uint8Array({ maxLength: 80 }),
        (kind, wide, client, rest) => {
          const bytes = Uint8Array.from([kind | (wide ? 0x80 : 0) | (client ? 0x40 : 0), ...rest]);
          let cmd: Command;
          try {
            cmd = decodeCommand(bytes, 0, bytes.length, 0);
          } catch (e) {
            ok(isCode(JournalErrorCode.CommandMalformed)(e), String(e));
            return;
          }
          deepEqual(roundTrip(cmd), cmd);
        },
      ),
      { numRuns: 5000 },
    );
  });

  void it('decodes a place written before client order ids existed exactly as before: no clientOrderId key', () => {
    // Bytes of a compact and a wide place as journals of earlier versions hold them (kind 7 and 0x87).
    // (commandBytes of the place below by the codec of main at d62d887)
    const hex = '07f9ffffff0102003000000000704201020301286bee110000000100010009000000010214898818211d1943';
    const old = Uint8Array.from(Buffer.from(hex, 'hex'));
    const cmd = decodeCommand(old, 0, old.length, T);
    equal('clientOrderId' in cmd, false);
    deepEqual(cmd, {
      kind: 'placeOrder',
      timeUs: T,
      accountId: -7,
      instrument: 513,
      orderId: 2 ** 40 + 3,
      side: 1,
      type: 2,
      tif: 3,
      price: 4_000_000_001,
      triggerPrice: 17,
      qty: 65_537,
      displayQty: 9,
      postOnly: true,
      stp: 2,
      expireTimeUs: 1_767_225_600_123_461,
    });
    deepEqual(commandBytes(cmd), old, 'and it is written back the same');
    const wide = commandBytes({ ...(placeOrder(9) as PlaceOrder), price: -1 });
    equal(wide[0], 0x87);
    equal('clientOrderId' in decodeCommand(wide, 0, wide.length, 0), false);
  });

  void it('carries a client order id after the place: the kind byte bit 6, then a u8 length and UTF-8', () => {
    const plain = commandBytes(placeOrder(5));
    const cmd: PlaceOrder = { ...(placeOrder(5) as PlaceOrder), clientOrderId: 'abc-1' };
    const bytes = commandBytes(cmd);
    equal(bytes[0], 0x47);
    deepEqual(bytes.subarray(1, 44), plain.subarray(1, 44), 'the fields as without it');
    equal(bytes[44], 5);
    equal(Buffer.from(bytes.subarray(45)).toString('latin1'), 'abc-1');
    equal(bytes.length, 50);
    deepEqual(decodeCommand(bytes, 0, bytes.length, 0), cmd);
    // The wide form carries it the same way, after its float64 fields.
    const wideCmd = { ...cmd, clientOrderId: 'é😀', price: 0.5 };
    const wide = commandBytes(wideCmd);
    equal(wide[0], 0xc7);
    equal(wide[wide.length - 7], 6, 'u8 length of 6 UTF-8 bytes');
    deepEqual(decodeCommand(wide, 0, wide.length, 0), wideCmd);
    // Any bit 6 on another kind, and a length byte that disagrees with the record, are refused.
    for (const b of [
      Uint8Array.from([
        0x40 | 8,
        ...commandBytes({ kind: 'cancelOrder', timeUs: 0, accountId: 1, instrument: 1, orderId: 1 }).subarray(
          1,
        ),
        0,
      ]),
      Uint8Array.from([...bytes.subarray(0, 44), 6, ...bytes.subarray(45)]),
      Uint8Array.from([...bytes.subarray(0, 44), 4, ...bytes.subarray(45)]),
      Uint8Array.from([...bytes.subarray(0, 45), 0xc3, 0x28, 0x41, 0x41, 0x41]),
    ]) {
      throws(() => decodeCommand(b, 0, b.length, 0), isCode(JournalErrorCode.CommandMalformed));
    }
    for (let n = 0; n < bytes.length; n++) {
      throws(() => decodeCommand(bytes, 0, n, 0), isCode(JournalErrorCode.CommandMalformed), `cut at ${n}`);
    }
  });

  void it('round-trips places with any client order id, unicode included, compact and wide (property)', () => {
    let withId = 0;
    fc.assert(
      fc.property(arbPlace, arbClientOrderId, fc.boolean(), (place, id, set) => {
        const cmd: PlaceOrder = set ? { ...place, clientOrderId: id } : place;
        if (cmd.clientOrderId !== undefined) withId++;
        const bytes = commandBytes(cmd);
        ok(bytes.length <= COMMAND_BYTES_MAX);
        equal((bytes[0] & 0x40) !== 0, cmd.clientOrderId !== undefined);
        const back = decodeCommand(bytes, 0, bytes.length, cmd.timeUs);
        deepEqual(back, cmd);
        equal('clientOrderId' in back, cmd.clientOrderId !== undefined);
      }),
      { numRuns: 3000 },
    );
    ok(withId > 1000);
  });

  void it('a client order id changes nothing in the core: the same records and state hash', () => {
    const withIds = new ExchangeCore();
    const without = new ExchangeCore();
    const setup: Command[] = [
      { kind: 'addAsset', timeUs: T, asset: 0, code: 'USD', decimals: 2 },
      { kind: 'addAsset', timeUs: T, asset: 1, code: 'BTC', decimals: 8 },
      {
        kind: 'defineInstrument',
        timeUs: T,
        spec: {
          instrument: 1,
          symbol: 'BTC-USD',
          baseAsset: 1,
          quoteAsset: 0,
          tickSize: 1,
          takerFeePpm: 500,
        },
      },
    ];
    for (let a = 1; a <= 7; a++) {
      setup.push({ kind: 'createAccount', timeUs: T, accountId: a, accountType: 1 });
      for (const asset of [0, 1]) {
        setup.push({ kind: 'deposit', timeUs: T, accountId: a, asset, amount: 1e12, ref: a * 2 + asset });
      }
    }
    let accepted = 0;
    let trades = 0;
    for (const c of setup) {
      withIds.execute({ ...c, timeUs: T });
      without.execute({ ...c, timeUs: T });
    }
    for (let i = 1; i <= 200; i++) {
      const plain = { ...(placeOrder(1000 + i) as PlaceOrder), timeUs: T + i };
      const tagged = { ...plain, clientOrderId: `c-${i}` };
      const a = decodeCommand(commandBytes(tagged), 0, commandBytes(tagged).length, T + i);
      withIds.events.clear();
      without.events.clear();
      withIds.execute(a);
      without.execute(plain);
      deepEqual(
        withIds.events.data.subarray(0, withIds.events.count * 16),
        without.events.data.subarray(0, without.events.count * 16),
      );
      for (const e of decodeStream(withIds.events)) {
        if (e.type === 'OrderAccepted') accepted++;
        if (e.type === 'TradeExecuted') trades++;
      }
    }
    ok(accepted > 50 && trades > 10, `${accepted} accepted, ${trades} trades`);
    equal(withIds.stateHash(), without.stateHash());
  });

  void it('refuses commands it could not give back as they are', () => {
    const unencodable = (cmd: unknown): void => {
      throws(() => commandBytes(cmd as Command), isCode(JournalErrorCode.CommandUnencodable));
    };
    const place = placeOrder(1);
    unencodable({ ...place, price: '100' });
    unencodable({ ...place, qty: undefined });
    unencodable({ ...place, postOnly: 1 });
    unencodable({ ...place, kind: 'toString' });
    unencodable({ ...place, clientOrderId: 12 });
    unencodable({ ...place, clientOrderId: 'x'.repeat(256) });
    unencodable({ ...place, clientOrderId: 'é'.repeat(128) });
    unencodable({ ...place, clientOrderId: 'bad\ud800' });
    unencodable({ ...place, price: -1, clientOrderId: 'x'.repeat(256) });
    unencodable({ kind: 'addAsset', timeUs: 0, asset: 0, code: 'x'.repeat(256), decimals: 2 });
    unencodable({ kind: 'addAsset', timeUs: 0, asset: 0, code: 'bad\ud800', decimals: 2 });
    unencodable({ kind: 'setRiskLimits', timeUs: 0, accountId: 1, limits: { orderQtyMax: 1, leverage: 5 } });
    unencodable({ kind: 'setRiskLimits', timeUs: 0, accountId: 1, limits: { orderQtyMax: undefined } });
    unencodable({ kind: 'defineInstrument', timeUs: 0, spec: { instrument: 1, symbol: 5 } });
    unencodable({ kind: 'defineInstrument', timeUs: 0, spec: { symbol: 'X' } });
    // The longest string that fits, in multi-byte characters, and a leading byte-order mark, come back intact.
    for (const code of ['é'.repeat(127), '\ufeffUSD', '😀'.repeat(63)]) {
      const cmd: Command = { kind: 'addAsset', timeUs: 0, asset: 0, code, decimals: 2 };
      deepEqual(roundTrip(cmd), cmd);
    }
  });
});
