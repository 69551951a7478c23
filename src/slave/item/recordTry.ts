import type { ItemOutcome } from '../../backends/types';
import type { Db } from '../../shared/db/client';
import { ITEM_STEPS } from '../../shared/itemSteps';
import { itemStepSeconds } from '../../shared/metrics';
import { recordGrokQuota } from '../accounts/grokQuota';
import { setItem } from '../activities/jobs';

/**
 * What every try teaches whatever its outcome: its steps' times on the item's row and in the
 * step histograms, and what the service said the account has left (Grok's quota_info) on the
 * account's row, for the pool's next choice.
 */
export async function recordTry(db: Db, { jobId, index, account, backend }: { jobId: number; index: number; account: string; backend: string }, outcome: ItemOutcome): Promise<void> {
  if (outcome.steps) {
    await setItem(db, jobId, index, { steps: outcome.steps });
    for (const step of ITEM_STEPS) {
      const ms = outcome.steps[step];
      if (ms !== undefined) itemStepSeconds.observe({ step, backend }, ms / 1000);
    }
  }
  if (outcome.quota) await recordGrokQuota(db, account, outcome.quota);
}
