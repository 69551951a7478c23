import { CancellationScope, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { bookkeepingTaskQueue } from '../shared/bookkeepingQueue';
import type { SlaveActivities } from './activities';
import type { JobRef } from './activities/guard';
import { FailureType } from './failures';

// Workflow code: the job's callback (webhook), every proxy of it defined here. Temporal does
// the retrying: exponential from WEBHOOK_RETRY_INITIAL_MS up to WEBHOOK_RETRY_MAX_MS apart,
// for WEBHOOK_RETRY_FOR_MS (24 h by default); a final 4xx or a refused address stops it.
// Both run on the bookkeeping queue: a callback never waits for a generation slot.

const planning = (taskQueue: string) => proxyActivities<SlaveActivities>({
  taskQueue,
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * Sends the ended job's callback when its payload has one; returns whether it was delivered.
 * `endOfJob`: called at the end of the job's own workflow (runs recorded before the outbox).
 */
export async function deliverJobCallback(job: JobRef, endOfJob = false): Promise<boolean> {
  const taskQueue = bookkeepingTaskQueue(workflowInfo().taskQueue);
  const plan = await planning(taskQueue).prepareDelivery(endOfJob ? { ...job, endOfJob: workflowInfo().workflowId } : job);
  if (!plan) return false;
  const { deliverCallback } = proxyActivities<SlaveActivities>({
    taskQueue,
    // The request's own timeout plus room for the database writes around it.
    startToCloseTimeout: plan.attemptTimeoutMs + 10_000,
    scheduleToCloseTimeout: plan.retryForMs,
    retry: {
      initialInterval: plan.initialIntervalMs,
      backoffCoefficient: 2,
      maximumInterval: plan.maximumIntervalMs,
      nonRetryableErrorTypes: [FailureType.WebhookRejected, FailureType.InvalidInput],
    },
  });
  await deliverCallback({ ...job, deliveryId: plan.deliveryId });
  return true;
}

/**
 * At the end of a job's workflow, in runs recorded before the callback outbox: the callback,
 * never changing the job (already ended in Postgres) and not stopped by a cancel that came
 * with the end. A run started since records the 'callback-outbox' patch and sends nothing
 * here: endJob's outbox row is sent by the master's delivery loop. Histories recorded before
 * callbacks existed ('job-callback') or before the outbox still replay.
 */
export async function deliverOnJobEnd(job: JobRef): Promise<void> {
  if (patched('callback-outbox')) return;
  if (!patched('job-callback')) return;
  try {
    await CancellationScope.nonCancellable(() => deliverJobCallback(job, true));
  } catch (err) {
    log.warn('callback not delivered', { jobId: job.jobId, error: (err as Error).message });
  }
}

/** `grokflow jobs redeliver <id>`: the callback again, with a new delivery id. */
export async function deliverJobCallbackWorkflow(job: JobRef): Promise<{ delivered: boolean }> {
  return { delivered: await deliverJobCallback(job) };
}
