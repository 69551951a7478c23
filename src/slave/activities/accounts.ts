// Moved to src/slave/accounts/ (accounts as a pool). Kept so generateItem.ts and lifecycle.ts
// compile until the restructure lands; delete it once nothing imports it.
export { cooldownRemainingMs, recordAuthError, startCooldown } from '../accounts/state';
export { quotaOf, quotaUsage, type Quota } from '../accounts/quota';
export { accountStatuses, type AccountStatus } from '../accounts/status';
