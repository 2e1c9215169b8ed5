/**
 * A Map split over SHARDS Maps by a hash of the key, for maps that grow with every order and live on a thread
 * that answers clients. A JavaScript Map grows by doubling and rehashing every entry at once: at a million
 * entries that is tens of milliseconds in which the thread answers nobody (docs/performance.md, "Stalls of the
 * main thread"), at sixteen million a `set` throws (V8's limit of 2^24 entries per Map). Split, each growth
 * rehashes a 1/SHARDS part, and the limit is SHARDS times V8's.
 *
 * Iteration goes shard by shard: not in insertion order across the whole map.
 */

import { mixSafeInteger } from './columns.js';

/** A power of two. */
const SHARDS = 256;
const MASK = SHARDS - 1;

/** The shard of a safe integer key: its two 32-bit halves mixed (Fibonacci hashing), the top 8 bits. */
export function intShard(key: number): number {
  return Math.imul(mixSafeInteger(key), 0x9e3779b1) >>> 24;
}

export class ShardedMap<K, V> {
  private readonly shards: Map<K, V>[] = [];
  private count = 0;

  constructor(private readonly shardOf: (key: K) => number) {
    for (let i = 0; i < SHARDS; i++) this.shards.push(new Map());
  }

  get size(): number {
    return this.count;
  }

  /** Entries in the fullest shard: what one growth rehashes at most is about that many. */
  get largestShardSize(): number {
    let most = 0;
    for (const shard of this.shards) most = Math.max(most, shard.size);
    return most;
  }

  get(key: K): V | undefined {
    return this.shards[this.shardOf(key) & MASK].get(key);
  }

  has(key: K): boolean {
    return this.shards[this.shardOf(key) & MASK].has(key);
  }

  set(key: K, value: V): this {
    const shard = this.shards[this.shardOf(key) & MASK];
    const before = shard.size;
    shard.set(key, value);
    this.count += shard.size - before;
    return this;
  }

  delete(key: K): boolean {
    const deleted = this.shards[this.shardOf(key) & MASK].delete(key);
    if (deleted) this.count--;
    return deleted;
  }

  clear(): void {
    for (const shard of this.shards) shard.clear();
    this.count = 0;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const shard of this.shards) yield* shard.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}

/** A ShardedMap keyed by safe integers. */
export const intShardedMap = <V>(): ShardedMap<number, V> => new ShardedMap<number, V>(intShard);
