/**
 * The binary form of the core's commands in journal records. A command is one kind byte, then its fields in
 * the order the interfaces in src/core/commands.ts declare them, little-endian. The command's time is not
 * here: it is the record's time, stamped by the sequencer, and decode takes it back from the record.
 *
 * The journal must give back exactly the command the core executed, including the invalid ones the core
 * rejected (a replay has to reject them again), so nothing is clamped or validated away. Each number field has
 * a compact type (u8, i8, u16, i32, u32 or f64) that holds every value a valid command has; when some value of
 * a command does not fit its type exactly (a negative price, a fraction, NaN, -0, an id past 2^32), the whole
 * command is written in its wide form instead: bit 7 of the kind byte set and every number field a float64.
 * A compact place order is 44 bytes, a cancel 15; the wide form costs a few dozen bytes on a rare command.
 *
 * A place order may carry the client's order id (`clientOrderId`, which the core ignores): bit 6 of the kind
 * byte set, and the id as a string after the place's fields (u8 byte length, UTF-8), in the compact and the
 * wide form alike. A place without one is written exactly as before the bit existed, so older journals decode
 * as they always did.
 *
 * Decode checks the structure (kind, exact length, booleans 0 or 1, masks, UTF-8) and throws a JournalError
 * with code JOURNAL_COMMAND_MALFORMED rather than return something it did not read. Encode throws
 * JOURNAL_COMMAND_UNENCODABLE for a command it cannot give back as it is (a field of the wrong type, an
 * unknown or undefined key in a spec or limits object, a string over 255 UTF-8 bytes or with a lone surrogate).
 */
import type {
  Command,
  CommandName,
  DefineInstrument,
  InstrumentSpec,
  PlaceOrder,
  SetRiskLimits,
} from '../core/index.js';
import type { RiskLimits } from '../risk/index.js';
import { JournalError, JournalErrorCode, assert } from './errors.js';
import { viewOf } from './format.js';
import { JOURNAL_LIMITS } from './limits.js';

/** Bytes an encoded command may take; encodeCommand needs this much room after `at`. */
export const COMMAND_BYTES_MAX = JOURNAL_LIMITS.commandBytesMax;

/**
 * The kind byte of each command. These are file-format constants, kept here rather than taken from the core's
 * CommandCode so that a renumbering there cannot change what old journals mean; a test checks they agree.
 */
export const COMMAND_KIND: Readonly<Record<CommandName, number>> = Object.freeze({
  addAsset: 1,
  createAccount: 2,
  setAccountStatus: 3,
  deposit: 4,
  withdraw: 5,
  defineInstrument: 6,
  placeOrder: 7,
  cancelOrder: 8,
  amendOrder: 9,
  massCancel: 10,
  advanceTime: 11,
  setRiskLimits: 12,
  setTradingStatus: 13,
  killSwitch: 14,
  resetKillSwitch: 15,
});
const KIND_MAX = 15;
/** Bit 7 of the kind byte: every number field is a float64. */
const WIDE = 0x80;
/** Bit 6 of the kind byte, on a placeOrder only: the client order id follows the fields, as a string. */
const CLIENT_ID = 0x40;
/** The kind byte without its flags. */
const KIND_BITS = 0x3f;
/** Bytes of the compact forms of the three order commands, kind byte included (see the header comment). */
const PLACE_COMPACT_BYTES = 44;
const CANCEL_COMPACT_BYTES = 15;
const AMEND_COMPACT_BYTES = 27;

/** The optional fields of a defineInstrument, in the order of their presence bits and of their bytes. */
const SPEC_KEYS = [
  'symbol',
  'baseAsset',
  'quoteAsset',
  'baseScale',
  'quoteScale',
  'tickSize',
  'lotSize',
  'qtyMin',
  'qtyMax',
  'priceBandBps',
  'referencePrice',
  'marketProtectionBps',
  'makerFeePpm',
  'takerFeePpm',
  'markMethod',
] as const satisfies readonly (keyof InstrumentSpec)[];

const LIMIT_KEYS = [
  'orderQtyMax',
  'orderNotionalMax',
  'openOrdersMax',
  'positionQtyMax',
  'positionEquityPpm',
  'dailyLossMax',
  'dailyLossEquityPpm',
  'emergencyLossMax',
  'emergencyLossEquityPpm',
] as const satisfies readonly (keyof RiskLimits)[];

// A field added to InstrumentSpec or RiskLimits must get a place in the format: these fail to compile until then.
type Unlisted<T, Listed> = Exclude<keyof T, Listed>;
const specKeysComplete: [Unlisted<InstrumentSpec, 'instrument' | (typeof SPEC_KEYS)[number]>] extends [never]
  ? true
  : false = true;
const limitKeysComplete: [Unlisted<RiskLimits, (typeof LIMIT_KEYS)[number]>] extends [never] ? true : false =
  true;
assert(specKeysComplete && limitKeysComplete, 'every spec and limit field has a place in the format');
assert(SPEC_KEYS.length <= 16 && LIMIT_KEYS.length <= 16, 'presence masks are u16');

const SPEC_INDEX = new Map<string, number>(SPEC_KEYS.map((k, i) => [k, i]));
const LIMIT_INDEX = new Map<string, number>(LIMIT_KEYS.map((k, i) => [k, i]));

/** A UTF-8 check that accepts a leading byte-order mark as a character, so a string comes back as it went in. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();
/** In a `u` regex a well-formed surrogate pair is one code point, so this matches only lone surrogates. */
const LONE_SURROGATE = /\p{Cs}/u;

function unencodable(message: string): JournalError {
  return new JournalError(JournalErrorCode.CommandUnencodable, message);
}

function malformed(message: string): JournalError {
  return new JournalError(JournalErrorCode.CommandMalformed, message);
}

/** -0 is not exactly representable in the integer types. */
function negativeZero(v: number): boolean {
  return v === 0 && 1 / v < 0;
}

/** Writes fields into a bound buffer; in compact mode records whether any value did not fit its type. */
class Encoder {
  bytes: Uint8Array = new Uint8Array(0);
  view = viewOf(this.bytes);
  at = 0;
  wide = false;
  misfit = false;

  bind(out: Uint8Array, at: number, wide: boolean): void {
    this.viewFor(out);
    this.at = at;
    this.wide = wide;
    this.misfit = false;
  }

  /** A DataView over `out`, kept while the same buffer is written (a batch is many records). */
  viewFor(out: Uint8Array): DataView {
    if (out !== this.bytes) {
      this.bytes = out;
      this.view = viewOf(out);
    }
    return this.view;
  }

  byte(v: number): void {
    this.bytes[this.at++] = v;
  }

  u16raw(v: number): void {
    this.view.setUint16(this.at, v, true);
    this.at += 2;
  }

  f64(v: number): void {
    if (typeof v !== 'number') throw unencodable(`a number field holds a ${typeof v}`);
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
  }

  u8(v: number): void {
    if (this.wide) return this.f64(v);
    if (v === (v & 0xff) && !negativeZero(v)) this.bytes[this.at] = v;
    else this.misfitted(v);
    this.at += 1;
  }

  i8(v: number): void {
    if (this.wide) return this.f64(v);
    if (v === (v | 0) && v >= -128 && v <= 127 && !negativeZero(v)) this.view.setInt8(this.at, v);
    else this.misfitted(v);
    this.at += 1;
  }

  u16(v: number): void {
    if (this.wide) return this.f64(v);
    if (v === (v & 0xffff) && !negativeZero(v)) this.view.setUint16(this.at, v, true);
    else this.misfitted(v);
    this.at += 2;
  }

  i32(v: number): void {
    if (this.wide) return this.f64(v);
    if (v === (v | 0) && !negativeZero(v)) this.view.setInt32(this.at, v, true);
    else this.misfitted(v);
    this.at += 4;
  }

  u32(v: number): void {
    if (this.wide) return this.f64(v);
    if (v === v >>> 0 && !negativeZero(v)) this.view.setUint32(this.at, v, true);
    else this.misfitted(v);
    this.at += 4;
  }

  bool(v: boolean): void {
    if (typeof v !== 'boolean') throw unencodable(`a boolean field holds a ${typeof v}`);
    this.bytes[this.at++] = v ? 1 : 0;
  }

  str(v: string): void {
    if (typeof v !== 'string') throw unencodable(`a string field holds a ${typeof v}`);
    if (LONE_SURROGATE.test(v)) throw unencodable('a string with a lone surrogate has no UTF-8 form');
    const room = this.bytes.subarray(this.at + 1, this.at + 1 + JOURNAL_LIMITS.stringBytesMax);
    const { read, written } = utf8Encoder.encodeInto(v, room);
    if (read !== v.length) throw unencodable(`a string over ${JOURNAL_LIMITS.stringBytesMax} UTF-8 bytes`);
    this.bytes[this.at] = written;
    this.at += 1 + written;
  }

  private misfitted(v: number): void {
    if (typeof v !== 'number') throw unencodable(`a number field holds a ${typeof v}`);
    this.misfit = true;
  }
}

/** Reads fields from bytes[at, end), checking every read against the end. */
class Decoder {
  bytes: Uint8Array = new Uint8Array(0);
  view = viewOf(this.bytes);
  at = 0;
  end = 0;
  wide = false;

  bind(bytes: Uint8Array, start: number, end: number): void {
    this.viewFor(bytes);
    this.at = start;
    this.end = end;
  }

  /** A DataView over `bytes`, kept while the same array is read (a batch or a segment is many records). */
  viewFor(bytes: Uint8Array): DataView {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.view = viewOf(bytes);
    }
    return this.view;
  }

  need(n: number): void {
    if (this.at + n > this.end) throw malformed(`command ends ${this.at + n - this.end} bytes early`);
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.at++];
  }

  u16raw(): number {
    this.need(2);
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }

  u8(): number {
    if (this.wide) return this.f64();
    return this.byte();
  }

  i8(): number {
    if (this.wide) return this.f64();
    this.need(1);
    return this.view.getInt8(this.at++);
  }

  u16(): number {
    if (this.wide) return this.f64();
    return this.u16raw();
  }

  i32(): number {
    if (this.wide) return this.f64();
    this.need(4);
    const v = this.view.getInt32(this.at, true);
    this.at += 4;
    return v;
  }

  u32(): number {
    if (this.wide) return this.f64();
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  bool(): boolean {
    const b = this.byte();
    if (b > 1) throw malformed(`boolean byte ${b}`);
    return b === 1;
  }

  str(): string {
    const n = this.byte();
    this.need(n);
    const start = this.at;
    this.at += n;
    try {
      return utf8.decode(this.bytes.subarray(start, start + n));
    } catch {
      throw malformed('a string is not valid UTF-8');
    }
  }

  mask(keys: number): number {
    const m = this.u16raw();
    if (m >>> keys !== 0) throw malformed(`presence mask ${m.toString(16)} has unknown bits`);
    return m;
  }
}

const enc = new Encoder();
const dec = new Decoder();

/**
 * Writes `cmd` at out[at...] and returns the offset after it. The caller leaves COMMAND_BYTES_MAX bytes of room.
 * Throws JOURNAL_COMMAND_UNENCODABLE (having written garbage past `at`, which the caller discards).
 */
export function encodeCommand(cmd: Command, out: Uint8Array, at: number): number {
  assert(at + COMMAND_BYTES_MAX <= out.length, 'encodeCommand needs COMMAND_BYTES_MAX bytes of room');
  // An own-property lookup in effect: a kind like 'toString' finds a function on the prototype, not a number.
  const kind: unknown = COMMAND_KIND[cmd.kind];
  if (typeof kind !== 'number') throw unencodable(`unknown command kind ${String(cmd.kind)}`);
  const fast = encodeHotCompact(cmd, out, at);
  if (fast >= 0) return fast;
  const flags = cmd.kind === 'placeOrder' && cmd.clientOrderId !== undefined ? CLIENT_ID : 0;
  enc.bind(out, at, false);
  enc.byte(kind | flags);
  writeFields(enc, cmd);
  if (enc.misfit) {
    enc.bind(out, at, true);
    enc.byte(kind | flags | WIDE);
    writeFields(enc, cmd);
  }
  const end = enc.at;
  assert(end - at <= COMMAND_BYTES_MAX, 'an encoded command fits COMMAND_BYTES_MAX');
  return end;
}

const isU8 = (v: number): boolean => v === (v & 0xff) && !negativeZero(v);
const isU16 = (v: number): boolean => v === (v & 0xffff) && !negativeZero(v);
const isI32 = (v: number): boolean => v === (v | 0) && !negativeZero(v);
const isU32 = (v: number): boolean => v === v >>> 0 && !negativeZero(v);
const isF64 = (v: number): boolean => typeof v === 'number';

/**
 * The compact place, cancel and amend written at fixed offsets (the layout decodeHotCompact reads) when
 * every field fits its compact type; returns the offset after the command, or -1 to leave the command to
 * the Encoder, which writes the wide form or refuses it. The bytes are the Encoder's for the same command.
 */
function encodeHotCompact(cmd: Command, out: Uint8Array, at: number): number {
  switch (cmd.kind) {
    case 'placeOrder': {
      if (!(
        isI32(cmd.accountId) &&
        isU16(cmd.instrument) &&
        isF64(cmd.orderId) &&
        isU8(cmd.side) &&
        isU8(cmd.type) &&
        isU8(cmd.tif) &&
        isU32(cmd.price) &&
        isU32(cmd.triggerPrice) &&
        isU32(cmd.qty) &&
        isU32(cmd.displayQty) &&
        (cmd.postOnly === true || cmd.postOnly === false) &&
        isU8(cmd.stp) &&
        isF64(cmd.expireTimeUs)
      )) {
        return -1;
      }
      const v = enc.viewFor(out);
      out[at] = COMMAND_KIND.placeOrder;
      const p = at + 1;
      v.setInt32(p, cmd.accountId, true);
      v.setUint16(p + 4, cmd.instrument, true);
      v.setFloat64(p + 6, cmd.orderId, true);
      out[p + 14] = cmd.side;
      out[p + 15] = cmd.type;
      out[p + 16] = cmd.tif;
      v.setUint32(p + 17, cmd.price, true);
      v.setUint32(p + 21, cmd.triggerPrice, true);
      v.setUint32(p + 25, cmd.qty, true);
      v.setUint32(p + 29, cmd.displayQty, true);
      out[p + 33] = cmd.postOnly ? 1 : 0;
      out[p + 34] = cmd.stp;
      v.setFloat64(p + 35, cmd.expireTimeUs, true);
      const client = cmd.clientOrderId;
      if (client === undefined) return at + PLACE_COMPACT_BYTES;
      out[at] = COMMAND_KIND.placeOrder | CLIENT_ID;
      return writeClientId(out, at + PLACE_COMPACT_BYTES, client);
    }
    case 'cancelOrder': {
      if (!(isI32(cmd.accountId) && isU16(cmd.instrument) && isF64(cmd.orderId))) return -1;
      const v = enc.viewFor(out);
      out[at] = COMMAND_KIND.cancelOrder;
      v.setInt32(at + 1, cmd.accountId, true);
      v.setUint16(at + 5, cmd.instrument, true);
      v.setFloat64(at + 7, cmd.orderId, true);
      return at + CANCEL_COMPACT_BYTES;
    }
    case 'amendOrder': {
      if (!(
        isI32(cmd.accountId) &&
        isU16(cmd.instrument) &&
        isF64(cmd.orderId) &&
        isU32(cmd.price) &&
        isU32(cmd.qty) &&
        isU32(cmd.triggerPrice)
      )) {
        return -1;
      }
      const v = enc.viewFor(out);
      out[at] = COMMAND_KIND.amendOrder;
      const p = at + 1;
      v.setInt32(p, cmd.accountId, true);
      v.setUint16(p + 4, cmd.instrument, true);
      v.setFloat64(p + 6, cmd.orderId, true);
      v.setUint32(p + 14, cmd.price, true);
      v.setUint32(p + 18, cmd.qty, true);
      v.setUint32(p + 22, cmd.triggerPrice, true);
      return at + AMEND_COMPACT_BYTES;
    }
    default:
      return -1;
  }
}

/**
 * Writes a client order id as a `str` at out[at...] and returns the offset after it: ASCII (what the API allows)
 * byte by byte, anything else through the UTF-8 encoder with the Encoder's checks.
 */
function writeClientId(out: Uint8Array, at: number, id: string): number {
  if (typeof id !== 'string') throw unencodable(`a client order id holds a ${typeof id}`);
  const n = id.length;
  if (n <= JOURNAL_LIMITS.stringBytesMax) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = id.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      out[at + 1 + i] = c;
    }
    if (ascii) {
      out[at] = n;
      return at + 1 + n;
    }
  }
  enc.bind(out, at, false);
  enc.str(id);
  return enc.at;
}

/** The encoded bytes of one command, in a new array (for tests and tools; the writer encodes in place). */
export function commandBytes(cmd: Command): Uint8Array {
  const out = new Uint8Array(COMMAND_BYTES_MAX);
  return out.slice(0, encodeCommand(cmd, out, 0));
}

/** Reads the command in bytes[start, end), which must be exactly one command, with the record's time. */
export function decodeCommand(bytes: Uint8Array, start: number, end: number, timeUs: number): Command {
  const fast = decodeHotCompact(bytes, start, end, timeUs);
  if (fast !== null) return fast;
  dec.bind(bytes, start, end);
  const kindByte = dec.byte();
  dec.wide = (kindByte & WIDE) !== 0;
  const kind = kindByte & KIND_BITS;
  if (kind < 1 || kind > KIND_MAX) throw malformed(`unknown command kind ${kind}`);
  const withClientId = (kindByte & CLIENT_ID) !== 0;
  if (withClientId && kind !== COMMAND_KIND.placeOrder) {
    throw malformed(`kind ${kind} with the client order id bit`);
  }
  const cmd = readFields(dec, kind, timeUs);
  if (withClientId) (cmd as PlaceOrder).clientOrderId = dec.str();
  if (dec.at !== end) throw malformed(`${end - dec.at} bytes after the command`);
  return cmd;
}

/**
 * The kind of the command at bytes[start] (a COMMAND_KIND value, the wide and client id bits cleared), for a
 * command that decodeCommand has read: what executeByKind dispatches on.
 */
export function commandKindAt(bytes: Uint8Array, start: number): number {
  return bytes[start] & KIND_BITS;
}

/**
 * The compact place, cancel and amend, read at fixed offsets: nearly every record is one of them, and with the
 * length known up front the per-field bounds and width checks of the Decoder are one comparison. Returns null
 * for anything else (another kind, a wide form, a length that does not match), which the Decoder then reads
 * and judges; the bytes accepted here are exactly those the Decoder accepts for these kinds.
 */
function decodeHotCompact(bytes: Uint8Array, start: number, end: number, timeUs: number): Command | null {
  const length = end - start;
  if (length < CANCEL_COMPACT_BYTES) return null;
  const kind = bytes[start];
  if (kind === COMMAND_KIND.placeOrder && length === PLACE_COMPACT_BYTES) {
    const postOnly = bytes[start + 34];
    if (postOnly > 1) return null;
    return compactPlace(bytes, start, timeUs, postOnly);
  }
  if (kind === (COMMAND_KIND.placeOrder | CLIENT_ID) && length > PLACE_COMPACT_BYTES) {
    const postOnly = bytes[start + 34];
    const n = bytes[start + PLACE_COMPACT_BYTES];
    if (postOnly > 1 || length !== PLACE_COMPACT_BYTES + 1 + n) return null;
    const client = asciiAt(bytes, start + PLACE_COMPACT_BYTES + 1, n);
    if (client === null) return null;
    const cmd = compactPlace(bytes, start, timeUs, postOnly);
    cmd.clientOrderId = client;
    return cmd;
  }
  if (kind === COMMAND_KIND.cancelOrder && length === CANCEL_COMPACT_BYTES) {
    const v = dec.viewFor(bytes);
    const p = start + 1;
    return {
      kind: 'cancelOrder',
      timeUs,
      accountId: v.getInt32(p, true),
      instrument: v.getUint16(p + 4, true),
      orderId: v.getFloat64(p + 6, true),
    };
  }
  if (kind === COMMAND_KIND.amendOrder && length === AMEND_COMPACT_BYTES) {
    const v = dec.viewFor(bytes);
    const p = start + 1;
    return {
      kind: 'amendOrder',
      timeUs,
      accountId: v.getInt32(p, true),
      instrument: v.getUint16(p + 4, true),
      orderId: v.getFloat64(p + 6, true),
      price: v.getUint32(p + 14, true),
      qty: v.getUint32(p + 18, true),
      triggerPrice: v.getUint32(p + 22, true),
    };
  }
  return null;
}

/** The string of the n ASCII bytes at bytes[at...], or null when one is not ASCII (the Decoder reads those). */
function asciiAt(bytes: Uint8Array, at: number, n: number): string | null {
  for (let i = at; i < at + n; i++) if (bytes[i] > 0x7f) return null;
  return String.fromCharCode.apply(null, bytes.subarray(at, at + n) as unknown as number[]);
}

/** The compact place at bytes[start...], its length and postOnly byte checked by the caller. */
function compactPlace(bytes: Uint8Array, start: number, timeUs: number, postOnly: number): PlaceOrder {
  const v = dec.viewFor(bytes);
  const p = start + 1;
  return {
    kind: 'placeOrder',
    timeUs,
    accountId: v.getInt32(p, true),
    instrument: v.getUint16(p + 4, true),
    orderId: v.getFloat64(p + 6, true),
    side: bytes[p + 14] as never,
    type: bytes[p + 15] as never,
    tif: bytes[p + 16] as never,
    price: v.getUint32(p + 17, true),
    triggerPrice: v.getUint32(p + 21, true),
    qty: v.getUint32(p + 25, true),
    displayQty: v.getUint32(p + 29, true),
    postOnly: postOnly === 1,
    stp: bytes[p + 34] as never,
    expireTimeUs: v.getFloat64(p + 35, true),
  };
}

function writeFields(e: Encoder, c: Command): void {
  switch (c.kind) {
    case 'addAsset':
      e.u16(c.asset);
      e.str(c.code);
      e.u8(c.decimals);
      return;
    case 'createAccount':
      e.i32(c.accountId);
      e.u8(c.accountType);
      return;
    case 'setAccountStatus':
      e.i32(c.accountId);
      e.u8(c.status);
      return;
    case 'deposit':
    case 'withdraw':
      e.i32(c.accountId);
      e.u16(c.asset);
      e.f64(c.amount);
      e.f64(c.ref);
      return;
    case 'defineInstrument':
      writeSpec(e, c.spec);
      return;
    case 'placeOrder':
      e.i32(c.accountId);
      e.u16(c.instrument);
      e.f64(c.orderId);
      e.u8(c.side);
      e.u8(c.type);
      e.u8(c.tif);
      e.u32(c.price);
      e.u32(c.triggerPrice);
      e.u32(c.qty);
      e.u32(c.displayQty);
      e.bool(c.postOnly);
      e.u8(c.stp);
      e.f64(c.expireTimeUs);
      // Its presence is the kind byte's CLIENT_ID bit, set by encodeCommand.
      if (c.clientOrderId !== undefined) e.str(c.clientOrderId);
      return;
    case 'cancelOrder':
      e.i32(c.accountId);
      e.u16(c.instrument);
      e.f64(c.orderId);
      return;
    case 'amendOrder':
      e.i32(c.accountId);
      e.u16(c.instrument);
      e.f64(c.orderId);
      e.u32(c.price);
      e.u32(c.qty);
      e.u32(c.triggerPrice);
      return;
    case 'massCancel':
      e.i32(c.accountId);
      e.i32(c.instrument);
      e.i8(c.side);
      return;
    case 'advanceTime':
      return;
    case 'setRiskLimits':
      e.i32(c.accountId);
      writeLimits(e, c.limits);
      return;
    case 'setTradingStatus':
      e.u16(c.instrument);
      e.bool(c.halted);
      return;
    case 'killSwitch':
      e.i32(c.accountId);
      return;
    case 'resetKillSwitch':
      e.i32(c.officerId);
      e.i32(c.accountId);
      return;
  }
}

/** The presence mask of an optional-fields object, refusing keys the format has no place for. */
function presenceMask(obj: object, index: ReadonlyMap<string, number>, what: string, skip: string): number {
  if (typeof obj !== 'object' || obj === null) throw unencodable(`${what} is not an object`);
  let mask = 0;
  for (const key of Object.keys(obj)) {
    if (key === skip) continue;
    const bit = index.get(key);
    if (bit === undefined) throw unencodable(`${what} has an unknown field ${key}`);
    mask |= 1 << bit;
  }
  return mask;
}

function writeSpec(e: Encoder, spec: DefineInstrument['spec']): void {
  const mask = presenceMask(spec, SPEC_INDEX, 'instrument spec', 'instrument');
  e.u16raw(mask);
  e.u16(spec.instrument);
  // Every spec field but the symbol is a float64 in both forms: the command is rare and the values wide-ranging.
  if (mask & 1) e.str(spec.symbol as string);
  for (let i = 1; i < SPEC_KEYS.length; i++) {
    if (mask & (1 << i)) e.f64(spec[SPEC_KEYS[i]] as number);
  }
}

function writeLimits(e: Encoder, limits: SetRiskLimits['limits']): void {
  const mask = presenceMask(limits, LIMIT_INDEX, 'risk limits', '');
  e.u16raw(mask);
  for (let i = 0; i < LIMIT_KEYS.length; i++) {
    if (mask & (1 << i)) e.f64(limits[LIMIT_KEYS[i]] as number);
  }
}

function readFields(d: Decoder, kind: number, timeUs: number): Command {
  switch (kind) {
    case 1:
      return { kind: 'addAsset', timeUs, asset: d.u16(), code: d.str(), decimals: d.u8() };
    case 2:
      return { kind: 'createAccount', timeUs, accountId: d.i32(), accountType: d.u8() as never };
    case 3:
      return { kind: 'setAccountStatus', timeUs, accountId: d.i32(), status: d.u8() as never };
    case 4:
      return { kind: 'deposit', timeUs, accountId: d.i32(), asset: d.u16(), amount: d.f64(), ref: d.f64() };
    case 5:
      return { kind: 'withdraw', timeUs, accountId: d.i32(), asset: d.u16(), amount: d.f64(), ref: d.f64() };
    case 6:
      return { kind: 'defineInstrument', timeUs, spec: readSpec(d) };
    case 7:
      return readPlace(d, timeUs);
    case 8:
      return { kind: 'cancelOrder', timeUs, accountId: d.i32(), instrument: d.u16(), orderId: d.f64() };
    case 9:
      return {
        kind: 'amendOrder',
        timeUs,
        accountId: d.i32(),
        instrument: d.u16(),
        orderId: d.f64(),
        price: d.u32(),
        qty: d.u32(),
        triggerPrice: d.u32(),
      };
    case 10:
      return { kind: 'massCancel', timeUs, accountId: d.i32(), instrument: d.i32(), side: d.i8() };
    case 11:
      return { kind: 'advanceTime', timeUs };
    case 12:
      return { kind: 'setRiskLimits', timeUs, accountId: d.i32(), limits: readLimits(d) };
    case 13:
      return { kind: 'setTradingStatus', timeUs, instrument: d.u16(), halted: d.bool() };
    case 14:
      return { kind: 'killSwitch', timeUs, accountId: d.i32() };
    default:
      return { kind: 'resetKillSwitch', timeUs, officerId: d.i32(), accountId: d.i32() };
  }
}

// The enumerations (side, type, tif, stp, account type and status) come back as the numbers that went in; as
// at the gateway, whether they are valid members is the core's question, so they are cast, not checked.
function readPlace(d: Decoder, timeUs: number): Command {
  return {
    kind: 'placeOrder',
    timeUs,
    accountId: d.i32(),
    instrument: d.u16(),
    orderId: d.f64(),
    side: d.u8() as never,
    type: d.u8() as never,
    tif: d.u8() as never,
    price: d.u32(),
    triggerPrice: d.u32(),
    qty: d.u32(),
    displayQty: d.u32(),
    postOnly: d.bool(),
    stp: d.u8() as never,
    expireTimeUs: d.f64(),
  };
}

function readSpec(d: Decoder): DefineInstrument['spec'] {
  const mask = d.mask(SPEC_KEYS.length);
  const spec: Record<string, number | string> = { instrument: d.u16() };
  if (mask & 1) spec.symbol = d.str();
  for (let i = 1; i < SPEC_KEYS.length; i++) {
    if (mask & (1 << i)) spec[SPEC_KEYS[i]] = d.f64();
  }
  return spec as DefineInstrument['spec'];
}

function readLimits(d: Decoder): Partial<RiskLimits> {
  const mask = d.mask(LIMIT_KEYS.length);
  const limits: Partial<RiskLimits> = {};
  for (let i = 0; i < LIMIT_KEYS.length; i++) {
    if (mask & (1 << i)) limits[LIMIT_KEYS[i]] = d.f64();
  }
  return limits;
}
