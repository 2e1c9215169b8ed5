/** Small allocation-free data structures shared by the domains, and the snapshot codec; imports nothing of ours. */
export { IdIndex, Ring, homeBetween } from './columns.js';
export { IdSet } from './id-set.js';
export { IntMap } from './int-map.js';
export { ShardedMap, intShard, intShardedMap } from './sharded-map.js';
export { growFloat64, growInt32, growUint8 } from './typed-arrays.js';
export { SnapshotError, SnapshotReader, SnapshotWriter } from './snapshot.js';
export { TextBytes } from './text-bytes.js';
