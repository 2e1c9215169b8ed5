/** The account, risk and report side of the gateway: the service over the engine's reports and commands. */
export {
  AccountService,
  ACCOUNT_LIMITS,
  RISK_LIMIT_FIELDS,
  type ApiRiskLimits,
  type EntriesPage,
} from './service.js';
export {
  AssetTable,
  accountSummaryJson,
  balanceJson,
  balanceSheetJson,
  entryJson,
  incomeStatementJson,
  positionJson,
  riskLimitsJson,
  trialBalanceJson,
} from './present.js';
