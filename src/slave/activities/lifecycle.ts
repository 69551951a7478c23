import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq } from 'drizzle-orm';
import { editSourceProblem } from '../../backends/api/editSource';
import { jobItems } from '../../shared/db/schema';
import { endJob } from '../../shared/jobs/endJob';
import { transitionJob } from '../../shared/jobs/transition';
import { FailureType } from '../failures';
import { itemsTotal } from '../../shared/metrics';
import { quotaOf } from '../accounts/quota';
import { apiAccountProblem, budgetOf, budgetRefusal, jobEstimate } from '../accounts/budget';
import type { SlaveDeps } from './deps';
import { assertOwnDatabase, type JobRef } from './guard';
import { missingFiles, type JobPlan } from '../plan';
import { openPostAhead } from '../item/openAhead';
import { isFinal, jobPlan, loadItems, loadJob, setItem } from './jobs';

export type { JobPlan };

export interface JobEnd {
  status: 'COMPLETED' | 'ERROR';
  message: string;
  completed: number;
  requested: number;
}

// Short, idempotent bookkeeping activities around a job's generations.
export function lifecycleActivities({ db, config, logger, backends }: SlaveDeps) {
  return {
    /** INQUEUE → PROGRESS, its job_items rows, the quota check; returns the job's plan. Safe to run twice. */
    async startJob({ jobId, workflowId, runId, instance }: JobRef & { workflowId: string; runId: string }): Promise<JobPlan> {
      await assertOwnDatabase(db, { jobId, instance });
      const job = await loadJob(db, jobId);
      if (isFinal(job)) throw ApplicationFailure.nonRetryable(`job ${jobId} is already ${job.status}`, FailureType.Stopped);
      const { plan, items } = jobPlan(job, config);
      // A job starting now: its first item's post opens in the browser beside the rest of this
      // activity, the workflow's next task and the item's gate (src/slave/item/openAhead.ts).
      if (job.status === 'INQUEUE') {
        const first = items.find((i) => i.index === plan.itemIndexes[0]);
        openPostAhead({ db, backends, logger }, { jobId, plan: plan.item, ...(first?.prompt != null ? { prompt: first.prompt } : {}) }, { limit: config.SLAVE_CONCURRENT_ACTIVITIES });
      }
      await resolveEdit(db, plan);
      // A named account must fit the whole job; a pool job's items each take an account with quota left.
      const account = plan.item?.account ?? null;

      if (job.status === 'INQUEUE') {
        const missing = missingFiles(plan, config);
        if (missing) throw ApplicationFailure.nonRetryable(missing.message, FailureType.InvalidInput);
        if (plan.item?.backend === 'api' && account) {
          const problem = await apiAccountProblem(db, account);
          if (problem) throw ApplicationFailure.nonRetryable(problem, FailureType.InvalidInput);
          // Pre-flight: the job's estimate must fit what is left of today's budget.
          const budget = await budgetOf(db, account);
          const refusal = budget && budgetRefusal(account, budget, jobEstimate(plan.item, items.length, config, config.XAI_VIDEO_MODEL));
          if (refusal) throw ApplicationFailure.nonRetryable(refusal, FailureType.QuotaExceeded);
        }
        const quota = account ? await quotaOf(db, account) : null;
        if (quota && quota.left < items.length) {
          throw ApplicationFailure.nonRetryable(
            `account ${account} has ${quota.left} of its daily quota of ${quota.limit} left; the job needs ${items.length}`,
            FailureType.QuotaExceeded,
          );
        }
        await db.transaction(async (tx) => {
          await tx
            .insert(jobItems)
            .values(items.map((i) => ({ jobId, index: i.index, prompt: i.prompt })))
            .onConflictDoNothing();
          await transitionJob(tx, jobId, 'PROGRESS', { from: 'INQUEUE', set: { workflowId, runId, account, backend: plan.item?.backend } });
        });
        logger.info({ jobId, workflowId, items: items.length, account: plan.account }, 'job started');
      }
      return plan;
    },

    /** PROGRESS → COMPLETED when enough items succeeded, else ERROR naming the counts. */
    async finishJob({ jobId, instance }: JobRef): Promise<JobEnd> {
      await assertOwnDatabase(db, { jobId, instance });
      const job = await loadJob(db, jobId);
      const items = await loadItems(db, jobId);
      const completed = items.filter((i) => i.status === 'COMPLETED');
      const required = jobPlan(job, config).minSuccessful;
      const ok = completed.length >= required;
      const counts = Object.fromEntries(['COMPLETED', 'CONTENT_MODERATED', 'FAILED'].map((s) => [s, items.filter((i) => i.status === s).length]));
      const message = ok
        ? `${completed.length} of ${items.length} items completed`
        : `${completed.length} of ${items.length} items completed, ${required} required: ` +
          items.filter((i) => i.status !== 'COMPLETED').map((i) => `item ${i.index} ${i.status}${i.error ? ` (${i.error})` : ''}`).join('; ');
      const result = {
        requested: items.length,
        completed: counts.COMPLETED,
        moderated: counts.CONTENT_MODERATED,
        failed: counts.FAILED,
        moderationRetries: items.reduce((n, i) => n + i.moderationRetries, 0),
        files: completed.map((i) => ({ index: i.index, path: i.filePath, url: i.objectUrl, sha256: i.sha256, bytes: i.bytes, hd: i.hd })),
      };
      const moved = await endJob(db, jobId, {
        status: ok ? 'COMPLETED' : 'ERROR',
        from: 'PROGRESS',
        message: ok ? undefined : message,
        set: { result, errorMessage: ok ? null : message, progressMessage: message },
        detail: { by: 'slave', reason: ok ? 'completed' : 'too few items completed', counts },
      });
      if (!moved.moved) {
        // Someone ended it first (terminate, reconciler): report what it is, change nothing.
        const current = await loadJob(db, jobId);
        return { status: current.status === 'COMPLETED' ? 'COMPLETED' : 'ERROR', message: current.errorMessage ?? message, completed: completed.length, requested: items.length };
      }
      logger[ok ? 'info' : 'error']({ jobId, workflowId: job.workflowId, ...counts }, ok ? 'job completed' : 'job failed');
      return { status: ok ? 'COMPLETED' : 'ERROR', message, completed: completed.length, requested: items.length };
    },

    /** Ends the job ERROR with the message (from INQUEUE or PROGRESS); open items fail with it. */
    async failJob({ jobId, instance, message }: JobRef & { message: string }): Promise<void> {
      await assertOwnDatabase(db, { jobId, instance });
      const job = await loadJob(db, jobId);
      if (isFinal(job)) return;
      const moved = await endJob(db, jobId, { status: 'ERROR', message, detail: { by: 'slave', reason: 'job failed' } });
      if (moved.moved) logger.error({ jobId, workflowId: job.workflowId, attempt: Context.current().info.attempt }, `job failed: ${message}`);
    },

    /** An item that used up its retries. A done item stays done. */
    async failItem({ jobId, instance, index, error }: JobRef & { index: number; error: string }): Promise<void> {
      await assertOwnDatabase(db, { jobId, instance });
      await setItem(db, jobId, index, { status: 'FAILED', error }, ['PENDING', 'RUNNING']);
      itemsTotal.inc({ type: (await loadJob(db, jobId)).type, outcome: 'failed' });
      logger.error({ jobId, item: index }, `item failed: ${error}`);
    },
  };
}



/**
 * An api edit of another job's item (payload.editOf { job, item }): that item's file, finished
 * and at most 8.7 s, becomes the plan's edit input; an edit of a file is checked the same way.
 * Refused (the job ERROR, nothing submitted) naming what is wrong.
 */
async function resolveEdit(db: SlaveDeps['db'], plan: JobPlan): Promise<void> {
  const item = plan.item;
  if (!item?.video) return;
  if (item.editOf) {
    const [source] = await db.select().from(jobItems).where(and(eq(jobItems.jobId, item.editOf.job), eq(jobItems.index, item.editOf.item)));
    const where = `payload.editOf: job ${item.editOf.job} item ${item.editOf.item}`;
    if (!source) throw ApplicationFailure.nonRetryable(`${where} does not exist`, FailureType.InvalidInput);
    if (source.status !== 'COMPLETED' || !source.filePath) throw ApplicationFailure.nonRetryable(`${where} is ${source.status}${source.filePath ? '' : ' with no local file'}, not a finished video`, FailureType.InvalidInput);
    item.video.editFile = source.filePath;
  }
  if (item.video.editFile) {
    const problem = editSourceProblem(item.video.editFile, 'payload.editOf');
    if (problem) throw ApplicationFailure.nonRetryable(problem, FailureType.InvalidInput);
  }
}
