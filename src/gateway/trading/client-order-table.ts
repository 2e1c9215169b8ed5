/**
 * The client order ids of every order placed with one, outside the JavaScript heap: (account, client order id)
 * → order id and order id → client order id, in typed arrays, the ids' characters in an arena of UTF-16 code
 * units. The venue keeps a mapping for every such order; as two Maps of strings they were two strings and two
 * entries per order that every full garbage collection of the main thread marked again, and with the keys'
 * hashing and the maps they cost about a quarter of the venue's CPU per order (docs/performance.md, "Stalls of
 * the main thread").
 *
 * - Entries, one per mapping ever added, in a Ring: account, order id, and where the id's characters are.
 * - The pair index: PAIR_SHARDS open-addressing tables (linear probing, backward-shift deletion) of entry
 *   numbers with their pairs' hashes, a table chosen by the hash's low bits and a slot by its high bits, so
 *   that one growth rehashes a part.
 * - The order index: an IdIndex from order id to entry.
 *
 * Forgetting drops a mapping from the indexes at once (`forget`, `forgetOrder`); its entry and characters are
 * given back a few at a time (`compactStep`, two entries per call that maps or forgets): entries that no index
 * holds leave the Ring's head, an entry still held there moves to the tail once the Ring holds more than twice
 * the entries held (plus a slack), and the arena's chunks before the head's are dropped. So the storage follows
 * what is held, not what was ever added, and no call copies more than an entry.
 */
import { IdIndex, Ring, homeBetween } from '../../collections/index.js';

const ACCOUNT = 0;
const ORDER_ID = 1;
const TEXT_CHUNK = 2;
const TEXT_AT = 3;
const TEXT_LENGTH = 4;
const ENTRY_WIDTH = 5;

/** Code units per chunk of the arena; a longer id gets a chunk of its own. */
const ARENA_CHUNK_UNITS = 32_768;

/** A power of two. */
const PAIR_SHARDS = 64;
const PAIR_TABLE_BITS_INITIAL = 4;

/** The hash of a pair (exported for tests, which look for collisions): FNV-1a over the id's code units and the account, finished as murmur3's fmix32. */
export function pairHash(account: number, client: string): number {
  let h = pairSeed(account);
  for (let i = 0; i < client.length; i++) h = Math.imul(h ^ client.charCodeAt(i), 0x01000193);
  return pairFinish(h);
}

/** pairHash of the id kept as `n` code units of `units` from `at` (an entry's, read in place). */
export function pairHashOfUnits(account: number, units: Uint16Array, at: number, n: number): number {
  let h = pairSeed(account);
  for (let i = 0; i < n; i++) h = Math.imul(h ^ units[at + i], 0x01000193);
  return pairFinish(h);
}

const pairSeed = (account: number): number =>
  0x811c9dc5 ^ Math.imul(account | 0, 0x9e3779b1) ^ ((account / 4294967296) | 0);

function pairFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** Entries examined per call that maps or forgets, to give back what is no longer held. */
const COMPACT_STEPS = 2;
/** Entries kept beyond twice those held before a held entry at the head moves to the tail (by default). */
export const CLIENT_ORDER_TABLE_SLACK_DEFAULT = 4096;

/** One of the pair index's tables: entry number + 1 (0: empty) and the pair's hash, by slot. */
class PairTable {
  bits = PAIR_TABLE_BITS_INITIAL;
  entries = new Int32Array(1 << PAIR_TABLE_BITS_INITIAL);
  hashes = new Int32Array(1 << PAIR_TABLE_BITS_INITIAL);
  count = 0;

  home(hash: number): number {
    return hash >>> (32 - this.bits);
  }

  grow(): void {
    const entries = this.entries;
    const hashes = this.hashes;
    this.bits++;
    this.entries = new Int32Array(1 << this.bits);
    this.hashes = new Int32Array(1 << this.bits);
    const mask = (1 << this.bits) - 1;
    for (let i = 0; i < entries.length; i++) {
      if (entries[i] === 0) continue;
      let j = this.home(hashes[i]);
      while (this.entries[j] !== 0) j = (j + 1) & mask;
      this.entries[j] = entries[i];
      this.hashes[j] = hashes[i];
    }
  }

  /** Empties slot `i`, moving back the entries of the run after it whose home allows (no tombstones). */
  remove(i: number): void {
    const mask = (1 << this.bits) - 1;
    for (let j = (i + 1) & mask; this.entries[j] !== 0; j = (j + 1) & mask) {
      const h = this.home(this.hashes[j]);
      if (!homeBetween(i, h, j)) {
        this.entries[i] = this.entries[j];
        this.hashes[i] = this.hashes[j];
        i = j;
      }
    }
    this.entries[i] = 0;
    this.count--;
  }
}

export class ClientOrderTable {
  private readonly rows = new Ring(ENTRY_WIDTH);
  /** The arena's chunks from the one the head entry's characters are in; entries name chunks absolutely. */
  private readonly arena: Uint16Array[] = [];
  /** The absolute number of arena[0]. */
  private arenaFirst = 0;
  /** Code units used in the arena's last chunk. */
  private arenaUsed = ARENA_CHUNK_UNITS;
  private readonly pairs: PairTable[] = [];
  private readonly byOrder = new IdIndex();
  /** The table of heldPairSlot's last answer. */
  private heldTable: PairTable;

  /** `slack`: entries kept beyond twice those held before held ones at the head move (tests make it small). */
  constructor(private readonly slack = CLIENT_ORDER_TABLE_SLACK_DEFAULT) {
    for (let i = 0; i < PAIR_SHARDS; i++) this.pairs.push(new PairTable());
    this.heldTable = this.pairs[0];
  }

  /** Entries stored (held or not yet given back) and arena chunks: what the table's memory follows. */
  get storage(): { entries: number; chunks: number } {
    return { entries: this.rows.length, chunks: this.arena.length };
  }

  /** Pairs mapped. */
  get size(): number {
    let n = 0;
    for (const t of this.pairs) n += t.count;
    return n;
  }

  /** The order the pair maps to. */
  find(account: number, client: string): number | undefined {
    const hash = pairHash(account, client);
    const t = this.pairs[hash & (PAIR_SHARDS - 1)];
    const i = this.slotOf(t, hash, account, client);
    return t.entries[i] === 0 ? undefined : this.rows.get(t.entries[i] - 1, ORDER_ID);
  }

  hasOrder(orderId: number): boolean {
    return this.byOrder.get(orderId) !== undefined;
  }

  /** The client order id `orderId` was placed with, or null. */
  clientOrderIdOf(orderId: number): string | null {
    const e = this.byOrder.get(orderId);
    return e === undefined ? null : this.textOf(e);
  }

  /**
   * Notes that `orderId` was placed with `client`, and maps the pair to it unless the pair is mapped already
   * (then only the order → id direction is noted). Returns whether the pair was mapped.
   */
  add(account: number, client: string, orderId: number): boolean {
    return this.map(account, client, orderId, true);
  }

  /** Maps the pair to `orderId` unless it is mapped already (then nothing is noted). Returns whether it was. */
  reserve(account: number, client: string, orderId: number): boolean {
    return this.map(account, client, orderId, false);
  }

  private map(account: number, client: string, orderId: number, noteWhenMapped: boolean): boolean {
    const hash = pairHash(account, client);
    const t = this.pairs[hash & (PAIR_SHARDS - 1)];
    let i = this.slotOf(t, hash, account, client);
    const mapped = t.entries[i] !== 0;
    if (mapped && !noteWhenMapped) return false;
    const e = this.append(account, client, orderId);
    // Order ids are positive safe integers (the gateway gives them); the index refuses anything else.
    if (Number.isSafeInteger(orderId) && orderId > 0) this.byOrder.set(orderId, e);
    if (mapped) {
      this.compactStep();
      return false;
    }
    if ((t.count + 1) * 2 > 1 << t.bits) {
      t.grow();
      i = this.slotOf(t, hash, account, client);
    }
    t.entries[i] = e + 1;
    t.hashes[i] = hash;
    t.count++;
    this.compactStep();
    return true;
  }

  /** Drops the pair's mapping if it maps to `orderId`, and the order's id with it. */
  forget(account: number, client: string, orderId: number): void {
    const hash = pairHash(account, client);
    const t = this.pairs[hash & (PAIR_SHARDS - 1)];
    const i = this.slotOf(t, hash, account, client);
    if (t.entries[i] === 0 || this.rows.get(t.entries[i] - 1, ORDER_ID) !== orderId) return;
    t.remove(i);
    this.byOrder.delete(orderId);
    this.compactStep();
  }

  /**
   * Drops the order's id, and the pair it was placed with if that pair maps to it (a retry of the pair then
   * places a new order). Returns whether the order had an id here.
   */
  forgetOrder(orderId: number): boolean {
    const e = this.byOrder.get(orderId);
    if (e === undefined) return false;
    this.byOrder.delete(orderId);
    const hash = this.hashOf(e);
    const t = this.pairs[hash & (PAIR_SHARDS - 1)];
    const i = this.slotOfEntryPair(t, hash, e);
    if (t.entries[i] !== 0 && this.rows.get(t.entries[i] - 1, ORDER_ID) === orderId) t.remove(i);
    this.compactStep();
    return true;
  }

  /**
   * Gives back up to COMPACT_STEPS entries at the Ring's head: one no index holds leaves; one still held moves
   * to the tail when the Ring holds more than twice the entries held plus the slack (else the pass stops there).
   * Then the arena's chunks before the head entry's go.
   */
  private compactStep(): void {
    const rows = this.rows;
    for (let k = 0; k < COMPACT_STEPS && rows.length > 0; k++) {
      const h = rows.head;
      const orderId = rows.get(h, ORDER_ID);
      const byOrder = this.byOrder.get(orderId) === h;
      const crowded = rows.length > 2 * this.byOrder.size + this.slack;
      // Held by its order and nothing to move for: the pair index need not be probed.
      if (byOrder && !crowded) break;
      const pairSlot = this.heldPairSlot(h);
      const pairTable = this.heldTable;
      if (pairSlot !== -1 || byOrder) {
        if (!crowded) break;
        const moved = this.appendUnits(
          rows.get(h, ACCOUNT),
          orderId,
          this.chunkOf(h),
          rows.get(h, TEXT_AT),
          rows.get(h, TEXT_LENGTH),
        );
        if (byOrder) this.byOrder.set(orderId, moved);
        if (pairSlot !== -1) pairTable.entries[pairSlot] = moved + 1;
      }
      rows.head = h + 1;
    }
    // Entries name their chunks in order: those before the head entry's (all but the last when none is left)
    // are no one's.
    const keepFrom =
      rows.length > 0 ? rows.get(rows.head, TEXT_CHUNK) : this.arenaFirst + this.arena.length - 1;
    if (keepFrom > this.arenaFirst) {
      this.arena.splice(0, keepFrom - this.arenaFirst);
      this.arenaFirst = keepFrom;
    }
  }

  /**
   * The pair index's slot holding entry `e` (in `heldTable`), or -1 when its pair maps to another entry or to
   * none.
   */
  private heldPairSlot(e: number): number {
    const hash = this.hashOf(e);
    const table = this.pairs[hash & (PAIR_SHARDS - 1)];
    const slot = this.slotOfEntryPair(table, hash, e);
    this.heldTable = table;
    return table.entries[slot] === e + 1 ? slot : -1;
  }

  private hashOf(e: number): number {
    const rows = this.rows;
    return pairHashOfUnits(
      rows.get(e, ACCOUNT),
      this.chunkOf(e),
      rows.get(e, TEXT_AT),
      rows.get(e, TEXT_LENGTH),
    );
  }

  /** The slot of entry `e`'s pair in `t` (slotOf, with the pair read from the entry). */
  private slotOfEntryPair(t: PairTable, hash: number, e: number): number {
    const mask = (1 << t.bits) - 1;
    let i = t.home(hash);
    for (;;) {
      const other = t.entries[i];
      if (other === 0) return i;
      if (t.hashes[i] === hash && (other - 1 === e || this.samePair(other - 1, e))) return i;
      i = (i + 1) & mask;
    }
  }

  private samePair(a: number, b: number): boolean {
    const rows = this.rows;
    const n = rows.get(a, TEXT_LENGTH);
    if (rows.get(a, ACCOUNT) !== rows.get(b, ACCOUNT) || rows.get(b, TEXT_LENGTH) !== n) return false;
    const ca = this.chunkOf(a);
    const cb = this.chunkOf(b);
    const atA = rows.get(a, TEXT_AT);
    const atB = rows.get(b, TEXT_AT);
    for (let k = 0; k < n; k++) if (ca[atA + k] !== cb[atB + k]) return false;
    return true;
  }

  private chunkOf(e: number): Uint16Array {
    return this.arena[this.rows.get(e, TEXT_CHUNK) - this.arenaFirst];
  }

  /** The slot of the pair in `t`: where it is, or the empty slot where it would go. */
  private slotOf(t: PairTable, hash: number, account: number, client: string): number {
    const mask = (1 << t.bits) - 1;
    let i = t.home(hash);
    for (;;) {
      const e = t.entries[i];
      if (e === 0) return i;
      if (t.hashes[i] === hash && this.isPair(e - 1, account, client)) return i;
      i = (i + 1) & mask;
    }
  }

  private isPair(e: number, account: number, client: string): boolean {
    const rows = this.rows;
    if (rows.get(e, ACCOUNT) !== account || rows.get(e, TEXT_LENGTH) !== client.length) return false;
    const chunk = this.chunkOf(e);
    const at = rows.get(e, TEXT_AT);
    for (let k = 0; k < client.length; k++) if (chunk[at + k] !== client.charCodeAt(k)) return false;
    return true;
  }

  private append(account: number, client: string, orderId: number): number {
    const n = client.length;
    const at = this.takeUnits(n);
    const chunk = this.arena[this.arena.length - 1];
    for (let k = 0; k < n; k++) chunk[at + k] = client.charCodeAt(k);
    return this.pushEntry(account, orderId, at, n);
  }

  /** An entry with the id kept as `n` code units of `src` from `from` (an entry moved to the tail). */
  private appendUnits(account: number, orderId: number, src: Uint16Array, from: number, n: number): number {
    const at = this.takeUnits(n);
    this.arena[this.arena.length - 1].set(src.subarray(from, from + n), at);
    return this.pushEntry(account, orderId, at, n);
  }

  /** Room for `n` code units at the end of the arena's last chunk (a new chunk when they do not fit). */
  private takeUnits(n: number): number {
    if (this.arenaUsed + n > ARENA_CHUNK_UNITS) {
      this.arena.push(new Uint16Array(Math.max(ARENA_CHUNK_UNITS, n)));
      this.arenaUsed = 0;
    }
    const at = this.arenaUsed;
    this.arenaUsed = at + n;
    return at;
  }

  private pushEntry(account: number, orderId: number, at: number, n: number): number {
    const e = this.rows.push();
    this.rows.put(e, ACCOUNT, account);
    this.rows.put(e, ORDER_ID, orderId);
    this.rows.put(e, TEXT_CHUNK, this.arenaFirst + this.arena.length - 1);
    this.rows.put(e, TEXT_AT, at);
    this.rows.put(e, TEXT_LENGTH, n);
    return e;
  }

  private textOf(e: number): string {
    const chunk = this.chunkOf(e);
    const at = this.rows.get(e, TEXT_AT);
    const n = this.rows.get(e, TEXT_LENGTH);
    // fromCharCode takes the code units as arguments: applied to the typed array (spreading it went through
    // its iterator, four times slower), in pieces for an id too long for one call's arguments.
    if (n <= 4096) return String.fromCharCode.apply(null, chunk.subarray(at, at + n) as unknown as number[]);
    let s = '';
    for (let k = 0; k < n; k += 4096) {
      s += String.fromCharCode.apply(
        null,
        chunk.subarray(at + k, at + Math.min(n, k + 4096)) as unknown as number[],
      );
    }
    return s;
  }
}
