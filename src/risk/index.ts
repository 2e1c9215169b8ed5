/** Pre-trade risk: limits, the order checks and their reject codes. Pure. */
export { RiskReject, riskRejectName } from './codes.js';
export {
  LimitField,
  NO_LIMITS,
  RISK_LIMIT_FIELDS,
  RISK_LIMIT_KEYS,
  RiskLimitTable,
  limitsProblem,
  needsEquity,
  type RiskLimits,
} from './limits.js';
export {
  checkOrder,
  checkOrderRow,
  checkOrderValues,
  exposureOf,
  newOrderExposure,
  exposureAfter,
  addsExposure,
  dailyLossBreached,
  emergencyBreached,
  emergencyBreachedRow,
  withinBand,
  type OrderExposure,
} from './gate.js';
