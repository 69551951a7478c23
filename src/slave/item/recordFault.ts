import type { Db } from '../../shared/db/client';
import type { Logger } from '../../shared/logger';
import { cooldownsTotal } from '../../shared/metrics';
import { recordAccountError, recordAuthError, startCooldown } from '../accounts/state';
import { setItem } from '../activities/jobs';
import { faultMessage, type FaultOutcome } from './failures';

/**
 * What a fault teaches before anyone decides on it (failures.ts): a rate limit cools the
 * account down for every slave, a lost login takes the account out of its pool, any other
 * failure is the item's error and the account's last error (`accounts list`).
 */
export async function recordFault(
  deps: { db: Db; logger: Logger },
  { jobId, index, account }: { jobId: number; index: number; account: string },
  outcome: FaultOutcome,
): Promise<void> {
  const { db, logger } = deps;
  switch (outcome.kind) {
    case 'rateLimited':
      await startCooldown(db, account, outcome.cooldownMs, outcome.message);
      cooldownsTotal.inc({ account });
      logger.warn({ cooldownMs: outcome.cooldownMs }, 'rate limited; account cooling down');
      return;
    case 'authRequired':
      await recordAuthError(db, account, outcome.message);
      return;
    case 'failed':
      await recordAccountError(db, account, faultMessage(outcome));
      await setItem(db, jobId, index, { error: faultMessage(outcome) });
      logger.error({ retryable: outcome.retryable }, `generation failed: ${faultMessage(outcome)}`);
  }
}
