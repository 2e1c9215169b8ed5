/** The venue's instruments as the gateway knows them (from the core's events) and their runtime changes. */
export { InstrumentTable, hasEvent, toSpecConfig } from './table.js';
export {
  InstrumentAdmin,
  MARK_METHOD_NAMES,
  feeRateText,
  type InstrumentChange,
  type MarkMethodName,
  type NewInstrument,
} from './service.js';
