/** The pipeline's usual parts: the bars of issue 6 (1s, 1m, 5m, 1h, 1d) and the schemas of every source. */
import type { BarSpec } from '../bars/index.js';
import {
  quoteSchema,
  tradeSchema,
  venueBboSchema,
  venueTradeSchema,
  type DecimalScale,
  type SourceSchema,
} from './schemas.js';
import { unparsedSchema } from './sources/replay.js';

export const DEFAULT_BAR_SPECS: readonly BarSpec[] = [1, 60, 300, 3_600, 86_400].map((periodSec) => ({
  kind: 'time',
  periodSec,
}));

/** The venue's schemas, files' and feeds' trades and quotes at `scale`, and the unparsed lines' schema. */
export function defaultSchemas(scale: DecimalScale): SourceSchema[] {
  return [venueTradeSchema, venueBboSchema, tradeSchema(scale), quoteSchema(scale), unparsedSchema];
}
