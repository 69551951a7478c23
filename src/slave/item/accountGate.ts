import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import type { Config } from '../../shared/config';
import type { Db } from '../../shared/db/client';
import { jobItems, jobs } from '../../shared/db/schema';
import type { Logger } from '../../shared/logger';
import { FailureType } from '../failures';
import type { ItemWait, NoSlot } from '../itemWaits';
import type { AccountWant } from '../../shared/jobs/account';
import { takeAccount } from '../accounts/pool';
import { dropOtherSlots, holdSlot, keepSlot, releaseHolder, type HeldSlot } from '../accounts/slots';
import { waitAsRow } from '../accounts/waitRows';
import type { ItemSlot } from '../../shared/jobs/reservation';
import { budgetOf } from '../accounts/budget';
import { formatUsd } from '../../backends/api/cost';

// The account gate, run by generateItem before anything opens a browser: the item's account
// (its job's, or one of its pool's, src/slave/accounts/pool.ts) with a slot held for the
// generation, or a wait for the workflow to sleep through (src/slave/itemWaits.ts: a timer
// until a known end, or as a job_waits row the claim hands a slot to), or a
// job-wide failure when there is nothing to wait for (no session in the pool, every quota spent).

/** A lease outlives a missed heartbeat or two, never a dead holder by much. */
const DEFAULT_TTL_MS = 30_000;

export type GateAnswer = { kind: 'go'; account: string; slot: HeldSlot } | ItemWait | NoSlot;

/**
 * `slot` (new workflows): the job's slot, reserved by the master's claim and kept between
 * items: the item takes it (or, in a pool, another member's when its account cannot), an
 * extra parallel item takes a free one or none. Without `slot` (workflows started before the
 * capacity claim): a slot of the activity's own, as before.
 */
export async function enterAccount(
  deps: { db: Db; config: Config; logger: Logger },
  item: { jobId: number; index: number; want: AccountWant; resuming?: boolean; slot?: ItemSlot },
): Promise<GateAnswer> {
  const { db, config, logger } = deps;
  // The mid-run budget check (an api account's daily USD budget): no item starts once it is
  // spent. An item resuming a request already paid for goes on.
  if ('account' in item.want && !item.resuming) await assertBudgetLeft(db, item.want.account);
  const info = Context.current().info;
  // The heartbeat timeout: a holder killed with -9 frees its slot within it.
  const ttlMs = info.heartbeatTimeoutMs || DEFAULT_TTL_MS;
  const holder = item.slot?.holder ?? `${info.workflowExecution?.workflowId ?? info.workflowType}/${info.activityId}`;
  const asRow = item.slot?.asRow === true && !item.slot.extra;
  const who = { holder, jobId: item.jobId, itemIndex: item.index, ...(asRow ? { endsRowWait: true } : {}) };
  const choice = await takeAccount(db, config, item.want, who, ttlMs, item.slot?.account, { asRow });
  if (item.slot?.extra && choice.kind !== 'acquired') {
    // No free slot for an extra item: it goes back to the job's queue, no wait.
    await releaseHolder(db, holder);
    return { kind: 'noSlot', index: item.index };
  }
  switch (choice.kind) {
    case 'acquired': {
      // A pool job whose account could not take it moved to another: one slot per holder.
      if (item.slot) await dropOtherSlots(db, choice.account, holder);
      const slot = keepSlot(db, choice.account, holder, ttlMs, logger);
      await db.update(jobItems).set({ account: choice.account })
        .where(and(eq(jobItems.jobId, item.jobId), eq(jobItems.index, item.index)));
      // A pool job shows where it runs now (jobs list's account column); a named one already does.
      if ('pool' in item.want) await db.update(jobs).set({ account: choice.account }).where(eq(jobs.id, item.jobId));
      return { kind: 'go', account: choice.account, slot };
    }
    case 'wait':
      // The job keeps its slot through the wait (a cooldown, a gap): the account cannot run
      // anyone else's item meanwhile, and the job starts first when it ends.
      if (item.slot?.account) await holdSlot(db, item.slot.account, holder, choice.waitMs + config.RESERVATION_TTL_MS);
      // `jobs list` / `jobs show` say what the job waits for; progress itself stays where it is.
      await db.update(jobs).set({ progressMessage: `waiting: ${choice.message}` }).where(and(eq(jobs.id, item.jobId), sql`${jobs.status} = 'PROGRESS'`));
      logger.info({ jobId: item.jobId, item: item.index, account: choice.account, reason: choice.reason, until: choice.until, waitMs: choice.waitMs }, `item waits: ${choice.message}`);
      return { kind: 'wait', index: item.index, account: choice.account, reason: choice.reason, waitMs: choice.waitMs, until: choice.until, message: choice.message };
    case 'queue': {
      // Every account it may use is busy: the job waits as its row, holding nothing, and the
      // master's claim hands it the next free slot (a signal to the workflow): no timer, no asking again.
      await waitAsRow(db, { jobId: item.jobId, holder, account: choice.account, reason: choice.message });
      await db.update(jobs).set({ progressMessage: `waiting: ${choice.message}` }).where(and(eq(jobs.id, item.jobId), sql`${jobs.status} = 'PROGRESS'`));
      logger.info({ jobId: item.jobId, item: item.index, account: choice.account }, `item waits as a row: ${choice.message}`);
      return { kind: 'wait', asRow: true, index: item.index, account: choice.account, reason: 'busy', waitMs: 0, message: choice.message };
    }
    case 'unavailable':
      throw ApplicationFailure.nonRetryable(choice.message, choice.reason === 'quota' ? FailureType.QuotaExceeded : FailureType.AuthRequired);
  }
}

async function assertBudgetLeft(db: Db, account: string): Promise<void> {
  const budget = await budgetOf(db, account);
  if (budget && budget.leftTicks <= 0) {
    throw ApplicationFailure.nonRetryable(
      `account ${account} has spent its daily budget of ${formatUsd(budget.limitTicks)} (${formatUsd(budget.spentTicks)} today); no further item is started`,
      FailureType.QuotaExceeded,
    );
  }
}
