import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq, isNull } from 'drizzle-orm';
import { projectPath } from '../../shared/config';
import { jobs } from '../../shared/db/schema';
import { FailureType } from '../failures';
import { recordCost } from '../item/cost';
import { FILE_EXTENSION, type ItemPlan } from '../plan';
import type { SlaveDeps } from './deps';
import { assertOwnDatabase, type JobRef } from './guard';
import { isFinal, isItemDone, loadItems, loadJob, setItem } from './jobs';

/**
 * An api job of `"route": "batch"`: its items as one batch of xAI's Batch API, run to its end
 * (src/backends/api/batch.ts), before the workflow's generateItem calls complete each item
 * from the file already on disk.
 *
 * The wait for the batch is this one activity, heartbeating each look, not a workflow timer
 * loop: a batch may take up to 24 hours at xAI, and a timer per look would add events to the
 * history for every look (thousands per day); here the history holds one activity whatever the
 * wait. A slave killed meanwhile stops heartbeating; Temporal retries the activity on another
 * slave after the heartbeat timeout, which finds the batch id on the job's row and goes on
 * watching the same batch.
 */
export function runBatchActivity({ db, config, logger, backends }: SlaveDeps) {
  return async function runBatch({ jobId, instance, plan }: JobRef & { plan: ItemPlan }): Promise<{ batchId: string | null }> {
    const ctx = Context.current();
    await assertOwnDatabase(db, { jobId, instance });
    const job = await loadJob(db, jobId);
    if (isFinal(job)) throw ApplicationFailure.nonRetryable(`job ${jobId} is already ${job.status}`, FailureType.Stopped);
    const items = (await loadItems(db, jobId)).filter((i) => !isItemDone(i.status));
    const log = logger.child({ jobId, workflowId: ctx.info.workflowExecution?.workflowId, attempt: ctx.info.attempt });
    const result = await backends.api.runBatch(
      {
        jobId,
        kind: plan.kind,
        video: plan.video,
        image: plan.image,
        items: items.map((i) => ({
          index: i.index,
          prompt: i.prompt ?? '',
          token: i.backendToken,
          downloadPath: projectPath(path.join(config.DOWNLOADS_DIR, String(jobId), `${i.index}.${FILE_EXTENSION[plan.kind]}`)),
        })),
      },
      {
        batchId: job.xaiBatchId,
        async saveBatchId(id) {
          // Only where none is recorded: a batch id, once on the row, is the job's for good.
          const moved = await db.update(jobs).set({ xaiBatchId: id }).where(and(eq(jobs.id, jobId), isNull(jobs.xaiBatchId))).returning({ id: jobs.id });
          if (moved.length === 0) throw new Error(`job ${jobId} already names a batch; batch ${id} is left empty`);
        },
        saveToken: (index, token) => setItem(db, jobId, index, { backendToken: token }),
        recordCost: (index, ticks) => recordCost(db, jobId, index, ticks),
        progress(done, total, message) {
          ctx.heartbeat({ done, total });
          void db.update(jobs).set({ progressMessage: message, progress: Math.round((done / Math.max(1, total)) * 90) })
            .where(and(eq(jobs.id, jobId), eq(jobs.status, 'PROGRESS'))).catch((err: unknown) => log.warn({ err }, 'batch progress not written'));
        },
      },
      ctx.cancellationSignal,
    );
    log.info({ batchId: result.batchId, added: result.added }, 'xAI batch finished; items complete from their files');
    return { batchId: result.batchId };
  };
}
