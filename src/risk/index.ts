/** Pre-trade risk: limits, the order checks and their reject codes. Pure. */
export { RiskReject, riskRejectName } from './codes.js';
export { NO_LIMITS, RISK_LIMIT_KEYS, limitsProblem, needsEquity, type RiskLimits } from './limits.js';
export {
  checkOrder,
  newOrderExposure,
  exposureAfter,
  addsExposure,
  dailyLossBreached,
  emergencyBreached,
  withinBand,
  type OrderExposure,
} from './gate.js';
