/** Pre-trade risk: limits, the order checks and their reject codes. Pure. */
export { RiskReject, riskRejectName } from './codes.js';
export {
  LIMITS_STRIDE,
  NO_LIMITS,
  RISK_LIMIT_KEYS,
  limitsProblem,
  needsEquity,
  packLimits,
  type RiskLimits,
} from './limits.js';
export {
  checkOrder,
  checkOrderAt,
  emergencyBreachedAt,
  newOrderExposure,
  exposureAfter,
  addsExposure,
  dailyLossBreached,
  emergencyBreached,
  withinBand,
  type OrderExposure,
} from './gate.js';
