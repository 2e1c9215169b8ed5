/**
 * The audit event and its hash chain. An event says who (actor: key id, role, address), did what (action), when
 * (time in microseconds), to what (target: kind and id), with which result (ok, or refused or failed with a
 * code), under which request id, with a few details. Events are numbered 1, 2, 3, ... and each one's hash is
 * SHA-256 over the previous event's hash (32 bytes; the genesis hash, 32 zero bytes, before event 1) followed
 * by the event's canonical bytes: the UTF-8 of its canonical JSON (keys sorted, no white space, integers only;
 * docs/audit.md has the exact form). Changing, removing, reordering or inserting any event therefore changes
 * the hash of every later one, unless all of them are recomputed.
 */
import { createHash, hash as cryptoHash } from 'node:crypto';
import { TextBytes } from '../collections/index.js';
import { AUDIT_LIMITS } from './limits.js';

/** A value that details may hold: JSON without fractions (money is never a float, even here). */
export type DetailValue = string | number | boolean | null | readonly DetailValue[] | DetailObject;
export interface DetailObject {
  readonly [key: string]: DetailValue;
}

export type ResultStatus = 'ok' | 'refused' | 'failed';
export const RESULT_STATUSES: readonly ResultStatus[] = ['ok', 'refused', 'failed'];

export interface Actor {
  /** `key:<id>` for an API key, `jwt:<sub>`, `cli:<user>`, or null when the caller was not identified. */
  readonly id: string | null;
  readonly role: string | null;
  readonly ip: string | null;
}

export interface Target {
  /** `order`, `account`, `instrument`, `venue`, `key`, ... */
  readonly kind: string;
  readonly id: string | null;
}

export interface Outcome {
  readonly status: ResultStatus;
  /** The stable error code of a refusal or failure (`INSUFFICIENT_FUNDS`), null when ok. */
  readonly code: string | null;
}

/** An event as the gateway or the command line makes it, before the chain numbers it. */
export interface AuditEventInput {
  /** A unique id (a UUID), so that a batch retried after an unclear failure is not written twice. */
  readonly id: string;
  readonly timeUs: number;
  readonly actor: Actor;
  /** `order.place`, `account.deposit`, `balances.read`, ... (docs/audit.md lists them). */
  readonly action: string;
  readonly target: Target;
  readonly result: Outcome;
  readonly requestId: string | null;
  readonly details: DetailObject;
}

/** An event in the chain. */
export interface AuditRecord extends AuditEventInput {
  readonly seq: number;
  /** SHA-256 of the previous hash and this event's canonical bytes, lower-case hex. */
  readonly hash: string;
}

/** The version of the canonical form, inside every event's hashed bytes. */
export const CANONICAL_VERSION = 1;
/** The hash before event 1: 32 zero bytes. */
export const GENESIS_HASH = '0'.repeat(64);
export const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Canonical JSON: object keys in ascending order of UTF-16 code units, no white space, safe integers only. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`not a safe integer: ${value}`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
        return out + ']';
      }
      const cached = detailsJson.get(value);
      if (cached !== undefined) return cached;
      const o = value as Record<string, unknown>;
      // The default sort compares UTF-16 code units, as the canonical form asks.
      const keys = Object.keys(o).sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        out += (i === 0 ? '' : ',') + JSON.stringify(keys[i]) + ':' + canonicalJson(o[keys[i]]);
      }
      return out + '}';
    }
    default:
      throw new TypeError(`not a JSON value: ${typeof value}`);
  }
}

/**
 * The canonical JSON of details made by `toDetails`, which computes it to bound their size: kept so that the
 * event's canonical JSON does not compute it again (details are never changed once made).
 */
const detailsJson = new WeakMap<object, string>();

/** A string or null as canonical JSON. */
const textOrNull = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

/**
 * The canonical JSON of event `seq`: every field of the event, its number included, written directly in the
 * canonical key order (action, actor{id, ip, role}, details, id, requestId, result{code, status}, seq,
 * target{id, kind}, timeUs, v), which is what canonicalJson gives for the same object (a test holds them to
 * each other): this runs for every audited request, and building the object to sort its keys cost more than
 * the hash. An event made by `makeFixedEvent` is written into bytes from its fields (`writeCanonicalEventJson`).
 */
export function canonicalEventJson(seq: number, e: AuditEventInput): string {
  const written = WrittenEvent.textOf(seq, e);
  if (written !== null) return written;
  return canonicalHead(e, canonicalJson(e.details)) + canonicalJson(seq) + canonicalTail(e);
}

/**
 * `canonicalEventJson(seq, e)` written into `w` as UTF-8: an event made by `makeFixedEvent` is written there
 * piece by piece, without a string of its text (the audit file's group of events, handed to its worker).
 */
export function writeCanonicalEventJson(w: TextBytes, seq: number, e: AuditEventInput): void {
  if (!WrittenEvent.write(w, seq, e)) w.text(canonicalEventJson(seq, e));
}

/** An event's canonical JSON before its number: from `{"action":` to `"seq":`. */
function canonicalHead(e: AuditEventInput, detailsJson: string): string {
  return (
    canonicalStart(e) +
    detailsJson +
    ',"id":' +
    JSON.stringify(e.id) +
    ',"requestId":' +
    textOrNull(e.requestId) +
    (e.result === OK_RESULT ? OK_RESULT_JSON : resultJson(e.result)) +
    ',"seq":'
  );
}

/** An event's canonical JSON up to its details: `{"action":...,"actor":{...},"details":`. */
function canonicalStart(e: { readonly action: string; readonly actor: Actor }): string {
  return (
    '{"action":' +
    JSON.stringify(e.action) +
    ',"actor":{"id":' +
    textOrNull(e.actor.id) +
    ',"ip":' +
    textOrNull(e.actor.ip) +
    ',"role":' +
    textOrNull(e.actor.role) +
    '},"details":'
  );
}

const resultJson = (r: Outcome): string =>
  ',"result":{"code":' + textOrNull(r.code) + ',"status":' + JSON.stringify(r.status) + '}';
const OK_RESULT: Outcome = Object.freeze({ status: 'ok', code: null });
const OK_RESULT_JSON = resultJson(OK_RESULT);

/** An event's canonical JSON after its number. */
function canonicalTail(e: AuditEventInput): string {
  return (
    ',"target":{"id":' +
    textOrNull(e.target.id) +
    ',"kind":' +
    JSON.stringify(e.target.kind) +
    '},"timeUs":' +
    canonicalJson(e.timeUs) +
    ',"v":' +
    String(CANONICAL_VERSION) +
    '}'
  );
}

/** The object whose canonical JSON is hashed (the definition canonicalEventJson follows; for tests). */
export function canonicalObject(seq: number, e: AuditEventInput): Record<string, unknown> {
  return {
    v: CANONICAL_VERSION,
    seq,
    id: e.id,
    timeUs: e.timeUs,
    actor: { id: e.actor.id, role: e.actor.role, ip: e.actor.ip },
    action: e.action,
    target: { kind: e.target.kind, id: e.target.id },
    result: { status: e.result.status, code: e.result.code },
    requestId: e.requestId,
    details: e.details,
  };
}

/** The bytes hashed for event `seq` (without the previous hash). */
export function canonicalBytes(seq: number, e: AuditEventInput): Buffer {
  return Buffer.from(canonicalEventJson(seq, e), 'utf8');
}

/** SHA-256 of the previous hash's 32 bytes and the event's canonical bytes. */
function chainDigest(prev: Buffer, seq: number, e: AuditEventInput): Buffer {
  return createHash('sha256').update(prev).update(canonicalEventJson(seq, e), 'utf8').digest();
}

/** SHA-256 of `bytes`, where the caller has put the previous hash (32 bytes) before the canonical bytes. */
export function chainDigestOf(bytes: Uint8Array): Buffer {
  return cryptoHash('sha256', bytes, 'buffer');
}

/** hash(n) = SHA-256(hash(n-1) as 32 bytes || canonical bytes of event n), in lower-case hex. */
export function chainHash(prevHash: string, seq: number, e: AuditEventInput): string {
  if (!HASH_PATTERN.test(prevHash)) throw new Error(`not a SHA-256 hex hash: ${prevHash}`);
  return chainDigest(Buffer.from(prevHash, 'hex'), seq, e).toString('hex');
}

/** Numbers events after the head (`headSeq`, `headHash`) and chains their hashes. */
export function chainEvents(
  headSeq: number,
  headHash: string,
  events: readonly AuditEventInput[],
): AuditRecord[] {
  if (!HASH_PATTERN.test(headHash)) throw new Error(`not a SHA-256 hex hash: ${headHash}`);
  const out: AuditRecord[] = [];
  // The previous hash stays in bytes from one event to the next; hex only for the record.
  let prev: Buffer = Buffer.from(headHash, 'hex');
  let seq = headSeq;
  for (const e of events) {
    seq++;
    prev = chainDigest(prev, seq, e);
    out.push({ ...e, seq, hash: prev.toString('hex') });
  }
  return out;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/** A short string field: control characters (NUL included) are replaced and the length is bounded. */
export function cleanField(text: string): string {
  const clean = CONTROL_CHARACTER.test(text) ? text.replace(CONTROL_CHARACTERS, '?') : text;
  return clean.length > AUDIT_LIMITS.fieldCharsMax ? clean.slice(0, AUDIT_LIMITS.fieldCharsMax) : clean;
}

function detailValue(v: unknown, depth: number): DetailValue {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') return cleanField(v);
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return null;
  if (typeof v !== 'object') return null;
  if (depth >= AUDIT_LIMITS.detailsDepthMax) return '(nested too deep)';
  if (Array.isArray(v)) return v.slice(0, 64).map((x) => detailValue(x, depth + 1));
  const out: Record<string, DetailValue> = {};
  // The first 64 own keys, as Object.entries would give them, without its array of pairs per object.
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  const n = Math.min(keys.length, 64);
  for (let i = 0; i < n; i++) {
    const x = o[keys[i]];
    if (x !== undefined) out[cleanField(keys[i])] = detailValue(x, depth + 1);
  }
  return out;
}

/**
 * Details fit for the chain from any value: fractions and big integers become strings, strings are cleaned,
 * depth and entries are bounded, and details longer than `detailsCharsMax` in canonical JSON are replaced by
 * `{ "truncated": true, "chars": N }`.
 */
export function toDetails(v: Readonly<Record<string, unknown>>): DetailObject {
  const d = detailValue(v, 0) as DetailObject;
  const json = canonicalJson(d);
  if (json.length > AUDIT_LIMITS.detailsCharsMax) return { truncated: true, chars: json.length };
  detailsJson.set(d, json);
  return d;
}

const cleanOrNull = (t: string | null): string | null => (t === null ? null : cleanField(t));

/** What an event is made of, but for its details (`makeEvent`, `makeFixedEvent`). */
export interface EventStart {
  id: string;
  timeUs: number;
  actor: Actor;
  action: string;
  target: Target;
  result: Outcome;
  requestId: string | null;
}

/** An event with every string field cleaned and its details made fit (see `toDetails`). */
export function makeEvent(e: EventStart & { details?: Readonly<Record<string, unknown>> }): AuditEventInput {
  if (!Number.isSafeInteger(e.timeUs) || e.timeUs < 0) throw new RangeError(`bad event time ${e.timeUs}`);
  return {
    id: cleanField(e.id),
    timeUs: e.timeUs,
    actor: { id: cleanOrNull(e.actor.id), role: cleanOrNull(e.actor.role), ip: cleanOrNull(e.actor.ip) },
    action: cleanField(e.action),
    target: { kind: cleanField(e.target.kind), id: cleanOrNull(e.target.id) },
    result: { status: e.result.status, code: cleanOrNull(e.result.code) },
    requestId: cleanOrNull(e.requestId),
    details: toDetails(e.details ?? {}),
  };
}

/** A value of details of a fixed shape (a request's field; undefined: absent, left out as by `toDetails`). */
export type DetailScalar = string | number | boolean | null | undefined;

/**
 * The keys of details of a fixed shape (a WebSocket order's, say), sorted once rather than per event, so that
 * `makeFixedEvent` writes their canonical JSON directly. Keys must be clean (no control characters, at most
 * `fieldCharsMax` long), distinct, not `__proto__`, and at most 64 (what `toDetails` keeps of an object).
 */
export class DetailShape {
  readonly keys: readonly string[];
  /** Indices into `keys`, in the canonical order (UTF-16 code units, as `Array.prototype.sort`). */
  readonly order: readonly number[];
  /** `"key":` for each key, as canonical JSON writes it. */
  readonly labels: readonly string[];

  constructor(keys: readonly string[]) {
    if (keys.length > DETAIL_SHAPE_KEYS_MAX) throw new RangeError(`at most ${DETAIL_SHAPE_KEYS_MAX} keys`);
    if (new Set(keys).size !== keys.length) throw new Error(`detail keys repeat: ${keys.join(', ')}`);
    for (const k of keys) {
      if (cleanField(k) !== k) throw new Error(`detail key ${JSON.stringify(k)} is not clean`);
      // An object's `__proto__` is not a key: the generic path's object cannot hold it as one.
      if (k === '__proto__') throw new Error('__proto__ is not a detail key');
    }
    this.keys = [...keys];
    const sorted = [...keys].sort();
    this.order = sorted.map((k) => keys.indexOf(k));
    this.labels = keys.map((k) => JSON.stringify(k) + ':');
  }
}

/** What `toDetails` keeps of an object's keys (detailValue's bound). */
const DETAIL_SHAPE_KEYS_MAX = 64;

/**
 * An event made by `makeFixedEvent`: its canonical JSON is written from its fields when it is asked for (into
 * the audit file's bytes, or as a string), not when it is made: the start of it (action and actor, kept per
 * actor) and its details' shape are kept in private fields, so that a copy of the event (a record spread from
 * it) is an ordinary event whose text is written the generic way, the same.
 */
class WrittenEvent implements AuditEventInput {
  readonly #start: string;
  readonly #shape: DetailShape;

  constructor(
    readonly id: string,
    readonly timeUs: number,
    readonly actor: Actor,
    readonly action: string,
    readonly target: Target,
    readonly result: Outcome,
    readonly requestId: string | null,
    readonly details: DetailObject,
    shape: DetailShape,
    start: string,
  ) {
    this.#shape = shape;
    this.#start = start;
  }

  /** The canonical JSON of event `seq` when `e` was made by `makeFixedEvent`, else null. */
  static textOf(seq: number, e: AuditEventInput): string | null {
    if (!(#start in e)) return null;
    const w = scratch.reset();
    e.#write(w, seq);
    return w.toString();
  }

  /** Writes the canonical JSON of event `seq` into `w` when `e` was made by `makeFixedEvent` (else false). */
  static write(w: TextBytes, seq: number, e: AuditEventInput): boolean {
    if (!(#start in e)) return false;
    e.#write(w, seq);
    return true;
  }

  /** The pieces canonicalHead, canonicalJson(seq) and canonicalTail join, in their order. */
  #write(w: TextBytes, seq: number): void {
    w.text(this.#start);
    const { keys, order } = this.#shape;
    const details = this.details;
    w.text('{');
    let first = true;
    for (let j = 0; j < order.length; j++) {
      const key = keys[order[j]];
      // Absent values were left out of the details (a key such as `constructor` is not looked up).
      if (!Object.hasOwn(details, key)) continue;
      if (!first) w.text(',');
      first = false;
      w.text(this.#shape.labels[order[j]]);
      const v = details[key];
      if (typeof v === 'string') w.json(v);
      else if (typeof v === 'number') w.int(v);
      else if (typeof v === 'boolean') w.bool(v);
      else w.text('null');
    }
    w.text('},"id":');
    w.json(this.id);
    w.text(',"requestId":');
    w.jsonOrNull(this.requestId);
    const r = this.result;
    if (r === OK_RESULT) {
      w.text(OK_RESULT_JSON);
    } else {
      w.text(',"result":{"code":');
      w.jsonOrNull(r.code);
      w.text(',"status":');
      w.json(r.status);
      w.text('}');
    }
    w.text(',"seq":');
    w.int(seq);
    w.text(',"target":{"id":');
    w.jsonOrNull(this.target.id);
    w.text(',"kind":');
    w.json(this.target.kind);
    w.text('},"timeUs":');
    w.int(this.timeUs);
    w.text(VERSION_END);
  }
}

/** The canonical JSON's end, after `timeUs`. */
const VERSION_END = `,"v":${CANONICAL_VERSION}}`;
/** Where `WrittenEvent.textOf` writes (never reentered: writing calls nothing that writes an event). */
const scratch = new TextBytes(4096);

/** The length of `JSON.stringify(s)`, without making it when nothing in `s` is escaped. */
function jsonLength(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s).length;
  }
  return s.length + 2;
}

/** The length of `String(n)` for a safe integer `n` (-0 is `0`). */
function intLength(n: number): number {
  let v = n < 0 ? -n : n;
  let digits = n < 0 ? 2 : 1;
  while (v >= 10) {
    v = Math.floor(v / 10);
    digits++;
  }
  return digits;
}

/**
 * What `makeFixedEvent` keeps of an actor object it has been given (a WebSocket connection's, reused for the
 * connection's events; an actor, readonly, is never changed once made): the actor cleaned, and per action the
 * canonical JSON's start. Held weakly by the actor; at most `ACTOR_STARTS_MAX` actions each.
 */
interface ActorParts {
  readonly actor: Actor;
  readonly starts: Map<string, string>;
}

const actorParts = new WeakMap<Actor, ActorParts>();
const ACTOR_STARTS_MAX = 64;

function partsOf(actor: Actor): ActorParts {
  let parts = actorParts.get(actor);
  if (parts === undefined) {
    const clean = { id: cleanOrNull(actor.id), role: cleanOrNull(actor.role), ip: cleanOrNull(actor.ip) };
    parts = { actor: clean, starts: new Map() };
    actorParts.set(actor, parts);
  }
  return parts;
}

/** `canonicalStart` of an event by `parts`' actor doing `action` (cleaned), kept. */
function startOf(parts: ActorParts, action: string): string {
  let start = parts.starts.get(action);
  if (start === undefined) {
    start = canonicalStart({ action, actor: parts.actor });
    if (parts.starts.size >= ACTOR_STARTS_MAX) parts.starts.clear();
    parts.starts.set(action, start);
  }
  return start;
}

/**
 * `makeEvent` for details of a fixed shape, given as values in `shape.keys`' order: the same event, field for
 * field, and the same canonical JSON byte for byte (a property test holds them to each other), without the
 * generic path's copy of the details, its sorting of their keys per event and its canonical JSON of them. A
 * value is cleaned as `toDetails` cleans it; details too long for the chain go the generic way (truncated).
 * Give the same actor object for the events of one actor (a connection's): its cleaning and the canonical
 * JSON's start are kept for it.
 */
export function makeFixedEvent(
  e: EventStart & { shape: DetailShape; values: readonly DetailScalar[] },
): AuditEventInput {
  if (!Number.isSafeInteger(e.timeUs) || e.timeUs < 0) throw new RangeError(`bad event time ${e.timeUs}`);
  const { shape, values } = e;
  if (values.length !== shape.keys.length) {
    throw new RangeError(`${values.length} detail values for ${shape.keys.length} keys`);
  }
  const details: Record<string, DetailValue> = {};
  // The length of the details' canonical JSON, to bound it as toDetails does; the text is written later.
  let chars = 2;
  let present = 0;
  for (let j = 0; j < shape.order.length; j++) {
    const i = shape.order[j];
    const v = values[i];
    if (v === undefined) continue;
    let value: DetailValue;
    let length: number;
    if (typeof v === 'string') {
      value = cleanField(v);
      length = jsonLength(value);
    } else if (typeof v === 'number') {
      value = Number.isSafeInteger(v) ? v : String(v);
      length = typeof value === 'number' ? intLength(value) : jsonLength(value);
    } else {
      value = v;
      length = v === false ? 5 : 4;
    }
    details[shape.keys[i]] = value;
    chars += (present++ === 0 ? 0 : 1) + shape.labels[i].length + length;
  }
  if (chars > AUDIT_LIMITS.detailsCharsMax) {
    const whole: Record<string, unknown> = {};
    for (let i = 0; i < values.length; i++) whole[shape.keys[i]] = values[i];
    return makeEvent({ ...e, details: whole });
  }
  const r = e.result;
  const parts = partsOf(e.actor);
  const action = cleanField(e.action);
  return new WrittenEvent(
    cleanField(e.id),
    e.timeUs,
    parts.actor,
    action,
    { kind: cleanField(e.target.kind), id: cleanOrNull(e.target.id) },
    r.status === 'ok' && r.code === null ? OK_RESULT : { status: r.status, code: cleanOrNull(r.code) },
    cleanOrNull(e.requestId),
    details,
    shape,
    startOf(parts, action),
  );
}
