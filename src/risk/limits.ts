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

/** Numbers per account in a limits table row: one per limit, in RISK_LIMIT_KEYS order. */
export const RISK_LIMIT_FIELDS = 9;

/** Where each limit sits in a row (the order of RISK_LIMIT_KEYS). */
export const LimitField = Object.freeze({
  orderQtyMax: 0,
  orderNotionalMax: 1,
  openOrdersMax: 2,
  positionQtyMax: 3,
  positionEquityPpm: 4,
  dailyLossMax: 5,
  dailyLossEquityPpm: 6,
  emergencyLossMax: 7,
  emergencyLossEquityPpm: 8,
});

/**
 * Every account's limits in one Float64Array, a row of RISK_LIMIT_FIELDS numbers per account id (all 0, no
 * limit, until set). The order path reads the few limits it needs from one row in a dense array instead of an
 * object per account, whose fields, beyond the small-integer range, are each a separate boxed number.
 */
export class RiskLimitTable {
  // Assigned where declared: a field declared without a value is first undefined (ES2022 class fields), and
  // V8 then checks the array's map on every use (see Positions in src/ledger).
  rows = new Float64Array(0);

  constructor(accounts = 1024) {
    this.rows = new Float64Array(accounts * RISK_LIMIT_FIELDS);
  }

  /** The offset of the account's row, growing the table to hold it. */
  rowOf(account: number): number {
    const at = account * RISK_LIMIT_FIELDS;
    if (at + RISK_LIMIT_FIELDS > this.rows.length) {
      let n = this.rows.length;
      while (n < at + RISK_LIMIT_FIELDS) n *= 2;
      const rows = new Float64Array(n);
      rows.set(this.rows);
      this.rows = rows;
    }
    return at;
  }

  set(account: number, l: RiskLimits): void {
    const at = this.rowOf(account);
    for (let k = 0; k < RISK_LIMIT_FIELDS; k++) this.rows[at + k] = l[RISK_LIMIT_KEYS[k]];
  }
}
