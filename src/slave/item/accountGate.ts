import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../../shared/db/client';
import { FailureType } from '../failures';
import { cooldownRemainingMs, quotaOf } from '../activities/accounts';

/**
 * Before an item opens a browser: a cooling account is waited out by Temporal (the failure
 * carries the cooldown as its retry delay), and a spent daily quota ends the job.
 */
export async function assertAccountReady(db: Db, account: string): Promise<void> {
  const cooling = await cooldownRemainingMs(db, account);
  if (cooling > 0) {
    throw ApplicationFailure.create({ type: FailureType.RateLimited, message: `account ${account} is cooling down for ${Math.ceil(cooling / 1000)} s`, nextRetryDelay: cooling });
  }
  const quota = await quotaOf(db, account);
  if (quota && quota.left <= 0) {
    throw ApplicationFailure.nonRetryable(`account ${account} has used its daily quota of ${quota.limit}`, FailureType.QuotaExceeded);
  }
}
