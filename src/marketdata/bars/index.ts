/** Bars: the aggregator and the values it takes and gives. */
export { BarAggregator, checkBarSpec, type AggregatorOptions, type AggregatorStats } from './aggregator.js';
export { BAR_LIMITS } from './limits.js';
export { DedupWindow } from './dedup.js';
export { BarError, type Bar, type BarErrorCode, type BarEvent, type BarSpec, type Tick } from './types.js';
