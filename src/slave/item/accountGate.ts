import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../../shared/db/client';
import { FailureType } from '../failures';
import { cooldownRemainingMs, quotaOf } from '../activities/accounts';
import { budgetOf } from '../activities/budget';
import { formatUsd } from '../../backends/api/cost';

/**
 * Before an item opens a browser: a cooling account is waited out by Temporal (the failure
 * carries the cooldown as its retry delay), and a spent daily quota ends the job. Before an
 * item starts (not when it resumes a request already paid for): a spent daily budget ends
 * the job too (the mid-run budget check).
 */
export async function assertAccountReady(db: Db, account: string, { resuming = false }: { resuming?: boolean } = {}): Promise<void> {
  const cooling = await cooldownRemainingMs(db, account);
  if (cooling > 0) {
    throw ApplicationFailure.create({ type: FailureType.RateLimited, message: `account ${account} is cooling down for ${Math.ceil(cooling / 1000)} s`, nextRetryDelay: cooling });
  }
  const quota = await quotaOf(db, account);
  if (quota && quota.left <= 0) {
    throw ApplicationFailure.nonRetryable(`account ${account} has used its daily quota of ${quota.limit}`, FailureType.QuotaExceeded);
  }
  const budget = resuming ? null : await budgetOf(db, account);
  if (budget && budget.leftTicks <= 0) {
    throw ApplicationFailure.nonRetryable(
      `account ${account} has spent its daily budget of ${formatUsd(budget.limitTicks)} (${formatUsd(budget.spentTicks)} today); no further item is started`,
      FailureType.QuotaExceeded,
    );
  }
}
