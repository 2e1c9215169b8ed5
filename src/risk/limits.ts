/**
 * An account's risk limits. Every limit is an integer and 0 switches it off. Amounts are minor units of the
 * quote asset of the instrument an order is for; fractions are parts per million of the account's equity in
 * that quote asset (quote balance plus base balances marked at the instruments' prices).
 */
export interface RiskLimits {
  /** Largest quantity of one order, in lots. */
  orderQtyMax: number;
  /** Largest value of one order (quantity × limit or protection price), in quote minor units. */
  orderNotionalMax: number;
  /** Most open orders the account may have, over all instruments. */
  openOrdersMax: number;
  /** Largest net base exposure per instrument after the order, counting open orders on its side, in lots. */
  positionQtyMax: number;
  /** Largest value of that exposure as a fraction of equity (ppm). */
  positionEquityPpm: number;
  /** Loss since the start of the UTC day (realized + unrealized, after fees) past which orders that add exposure are rejected. */
  dailyLossMax: number;
  /** The same as a fraction of equity at the start of the day (ppm). */
  dailyLossEquityPpm: number;
  /** Loss since the start of the day past which all the account's orders are cancelled and its kill switch set. */
  emergencyLossMax: number;
  /** The same as a fraction of equity at the start of the day (ppm). */
  emergencyLossEquityPpm: number;
}

export const NO_LIMITS: Readonly<RiskLimits> = Object.freeze({
  orderQtyMax: 0,
  orderNotionalMax: 0,
  openOrdersMax: 0,
  positionQtyMax: 0,
  positionEquityPpm: 0,
  dailyLossMax: 0,
  dailyLossEquityPpm: 0,
  emergencyLossMax: 0,
  emergencyLossEquityPpm: 0,
});

export const RISK_LIMIT_KEYS: readonly (keyof RiskLimits)[] = Object.keys(NO_LIMITS) as (keyof RiskLimits)[];

/** Why a set of limits is invalid, or '' when it is valid. */
export function limitsProblem(limits: Partial<Record<string, unknown>>): string {
  for (const [key, value] of Object.entries(limits)) {
    if (!(RISK_LIMIT_KEYS as readonly string[]).includes(key)) return `unknown limit ${key}`;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      return `${key} must be a non-negative safe integer`;
    }
    if (key.endsWith('Ppm') && value > 1_000_000_000) return `${key} is above 1000x equity`;
  }
  return '';
}

/** Whether the limits need the account's equity (so the core computes it only then). */
export function needsEquity(l: RiskLimits): boolean {
  return l.positionEquityPpm > 0 || l.dailyLossEquityPpm > 0 || l.emergencyLossEquityPpm > 0;
}
