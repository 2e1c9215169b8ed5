/**
 * The configured bar specs, apart from the venue's module: `rialto md run` needs them without loading the
 * venue (HTTP server, WebSocket gateway, views).
 */
import { parseBarSpec, type BarSpec } from '../marketdata/index.js';
import type { VenueConfig } from '../ops/index.js';

/** The configured bar specs (`marketData.pipeline.bars`), as `rialto start` and `rialto md run` aggregate them. */
export function barSpecsOf(config: VenueConfig): BarSpec[] {
  return config.marketData.pipeline.bars.map((text): BarSpec => {
    // The configuration checked the text; sizes are the instruments' lots and ticks (no decimals).
    const spec = parseBarSpec(text, 0, 0);
    if (typeof spec === 'string') throw new Error(`marketData.pipeline.bars: ${spec}`);
    return spec;
  });
}
