import {
  ActivityCancellationType, ActivityFailure, ApplicationFailure, CancellationScope, continueAsNew, isCancellation, patched,
  proxyActivities, upsertMemo, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { bookkeepingTaskQueue, generationTaskQueue } from '../shared/bookkeepingQueue';
import { AccountKey, JobIdKey, JobTypeKey } from '../shared/searchAttributeKeys';
import type { SlaveWorkflowInput } from '../shared/workflowInputs';
import type { SlaveActivities } from './activities';
import { deliverOnJobEnd } from './delivery';
import { FailureType, NON_RETRYABLE } from './failures';
import { ItemWaits, type ItemWait } from './itemWaits';
import type { ItemResult } from './activities/generateItem';
import { runLanes } from './itemLanes';
import { reservationHolder } from '../shared/jobs/reservation';

/**
 * The capacity claim's path (issue 21): items adopt the slot the master reserved and keep it,
 * waits are one timer each, the history continues as new past SLAVE_HISTORY_EVENTS.
 * Histories recorded before it replay the old path (ItemWaits' polling).
 */
export const CAPACITY_CLAIM_PATCH = 'capacity-claim';

/**
 * A job with no slot and every account it may use busy waits as its job_waits row for the
 * claim's `capacity` signal, not by asking every ACCOUNT_BUSY_RETRY_MS. Histories recorded
 * before it replay the asking (their activities were told nothing of rows).
 */
export const CAPACITY_WAITS_PATCH = 'capacity-waits';

/** The history threshold when the plan carries none (SLAVE_HISTORY_EVENTS's default). */
const DEFAULT_HISTORY_EVENTS = 2000;

export { deliverJobCallbackWorkflow } from './delivery';
export { accountCanaryWorkflow } from './canary';

// Every job type runs the same workflow: start the job, generate its items (each a
// heartbeating activity, through the backend its plan names), end the job. Postgres holds the
// job's state; the workflow holds ids and the plan. Each type exports it under the workflow
// name its registry entry gives (the Web UI's "Workflow Type"); adding a type is one name here.
export { generationJobWorkflow as grokVideoGenerationWorkflow, generationJobWorkflow as grokImageGenerationWorkflow };

export interface JobResult {
  jobId: number;
  status: 'COMPLETED';
  completed: number;
  requested: number;
}

async function generationJobWorkflow(input: SlaveWorkflowInput): Promise<JobResult> {
  const { jobId, activityTimeouts } = input;
  // Status changes run on a task queue of their own (see src/slave/worker.ts for why not
  // local activities or a slot tuner), so they never wait behind generations. Replay of older
  // histories holds: the queue is not part of what a replay compares for a scheduled activity.
  const bookkeeping = proxyActivities<SlaveActivities>({
    taskQueue: bookkeepingTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
  });
  // Every activity checks this against its database before touching a row.
  const job = input.instance === undefined ? { jobId } : { jobId, instance: input.instance };
  const generationOn = (backend: string) => proxyActivities<SlaveActivities>({
    taskQueue: generationTaskQueue(workflowInfo().taskQueue, backend),
    startToCloseTimeout: activityTimeouts.startToClose,
    scheduleToCloseTimeout: activityTimeouts.scheduleToClose,
    heartbeatTimeout: activityTimeouts.heartbeat,
    // Wait for the activity to close its browser context before the workflow records the end.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '5 seconds',
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      maximumAttempts: 5,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });

  const capacityPath = patched(CAPACITY_CLAIM_PATCH);
  let next: SlaveWorkflowInput | undefined;
  try {
    // A continued run has its plan already (startJob ran once, in the first run).
    const plan = input.continued?.plan ?? await bookkeeping.startJob({ ...job, workflowId: workflowInfo().workflowId, runId: workflowInfo().runId });
    // What the Web UI filters and shows by; ids and a summary only, never payload secrets.
    upsertSearchAttributes([
      { key: JobIdKey, value: jobId },
      { key: JobTypeKey, value: input.jobType },
      { key: AccountKey, value: plan.account },
    ]);
    upsertMemo({ summary: plan.summary });
    // A plan without an item comes from a startJob recorded before backends: the browser's.
    const generation = generationOn(plan.item?.backend ?? 'browser');
    // An api job of "route": "batch": its items go to xAI as one batch first; each
    // generateItem below then completes its item from the file the batch left on disk.
    if (!input.continued && plan.item?.route === 'batch' && patched('api-batch')) await generation.runBatch({ ...job, plan: plan.item });
    let account = plan.account;
    // An item with no account free waits here on a durable timer, using no retry attempt.
    const waits = new ItemWaits(plan.deadlineAt ?? Number.POSITIVE_INFINITY);
    const itemEnded = async (index: number, done: { account?: string } | undefined, err?: unknown) => {
      if (done) {
        if (done.account && done.account !== account) {
          account = done.account;
          upsertSearchAttributes([{ key: AccountKey, value: account }]);
        }
        return;
      }
      if (isCancellation(err) || jobWide(err)) throw err;
      await bookkeeping.failItem({ ...job, index, error: describe(err) });
    };
    if (capacityPath) {
      const slot = input.reservation ?? { holder: reservationHolder(jobId) };
      const asRow = patched(CAPACITY_WAITS_PATCH);
      const remaining = await runLanes({
        asRow,
        queue: [...(input.continued?.remaining ?? plan.itemIndexes)],
        slot,
        lanes: plan.concurrency,
        waits,
        historyEvents: plan.historyEvents ?? DEFAULT_HISTORY_EVENTS,
        generate: (index, itemSlot) => generation.generateItem({ ...job, index, plan: plan.item, slot: itemSlot }),
        done: itemEnded,
      });
      if (remaining.length > 0) {
        // The history is long: a fresh run goes on with ids, the plan and the job's slot.
        next = { ...input, reservation: { ...slot }, continued: { plan, remaining } };
      }
    } else await forEachLimit(plan.itemIndexes, plan.concurrency, async (index) => {
      try {
        // An activity called without a slot never answers noSlot.
        const done = await waits.untilDone(index, () => generation.generateItem({ ...job, index, plan: plan.item }) as Promise<ItemResult | ItemWait>);
        // A pool job's Account (`pool:<name>` at first) follows the account its last item ran on.
        if (done.account && done.account !== account) {
          account = done.account;
          upsertSearchAttributes([{ key: AccountKey, value: account }]);
        }
      } catch (err) {
        // A job-wide failure (login needed, quota) or a stop ends the job; anything else
        // (a failed generation, the deadline passing while waiting) fails only this item,
        // and the job's threshold decides.
        if (isCancellation(err) || jobWide(err)) throw err;
        await bookkeeping.failItem({ ...job, index, error: describe(err) });
      }
    });
    if (!next) {
      const end = await bookkeeping.finishJob(job);
      // The callback goes through endJob's outbox row; runs recorded before it send it here.
      await deliverOnJobEnd(job);
      if (end.status === 'ERROR') throw ApplicationFailure.nonRetryable(end.message, 'JobFailed');
      return { jobId, status: 'COMPLETED', completed: end.completed, requested: end.requested };
    }
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => bookkeeping.failJob({ ...job, message: 'cancelled' }));
      await deliverOnJobEnd(job);
      throw err;
    }
    // A workflow of another database records nothing: its activities refuse this database.
    if (!(err instanceof ApplicationFailure && err.type === 'JobFailed') && failureType(err) !== FailureType.WrongDatabase) {
      await bookkeeping.failJob({ ...job, message: describe(err) });
      await deliverOnJobEnd(job);
    }
    throw err;
  }
  // Outside the try: continue-as-new ends this run by throwing, which is no failure of the job.
  return continueAsNew<typeof generationJobWorkflow>(next);
}

function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

function jobWide(err: unknown): boolean {
  const type = failureType(err);
  return type === FailureType.AuthRequired || type === FailureType.QuotaExceeded
    || type === FailureType.InvalidInput || type === FailureType.Stopped || type === FailureType.WrongDatabase;
}

function describe(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Runs fn over items, at most `limit` at once, failing fast on the first error. */
async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}
