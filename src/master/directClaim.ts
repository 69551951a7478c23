import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { Logger } from '../shared/logger';
import { jobType, type JobTypeEntry, type JobTypeName } from '../shared/registry';
import type { SchedulerInput } from '../shared/workflowInputs';
import type { ClaimInput, ClaimResult } from './activities';
import { dispatchSignal, type DispatchBatch, type dispatcherWorkflow } from './dispatcherWorkflow';
import { scheduleId } from './schedules';

/**
 * A type's dispatcher workflows: fixed ids, so every master's batches reach the same runs.
 * Shard 0 keeps the id it had before there were shards.
 */
export function dispatcherWorkflowId(type: JobTypeName, shard = 0): string {
  return shard === 0 ? `${scheduleId(type)}-dispatch` : `${scheduleId(type)}-dispatch-${shard}`;
}

export interface DirectClaimOptions {
  client: Client;
  /** The capacity claim itself (activities/claim.ts), called in this process. */
  claim(input: ClaimInput): Promise<ClaimResult>;
  logger: Logger;
  input: (entry: JobTypeEntry) => SchedulerInput;
  /** How long a dispatcher run with nothing to do stays for the next batch. */
  idle: Duration;
  /**
   * DISPATCHER_SHARDS: dispatcher workflows per type. One workflow's child starts are
   * serialised by Temporal (each start rewrites its state), so a backlog's batches go round
   * several. Each wake starts at shard 0: a trickle of jobs uses one dispatcher.
   */
  shards: number;
}

/**
 * The direct path: a notification claims at once in the master process (no workflow task
 * and no activity before INQUEUE), and the claimed jobs' ids and reservations go to one of
 * the type's dispatcher workflows in one signal, which starts their children. Claims follow each
 * other while they come back full (a backlog drains batch after batch, the next claim made
 * while the previous batch is on its way); batches are sent in claim order. A claim's
 * `waitMs` is told to the dispatcher only when it moves its timer earlier, so a busy pool
 * costs no signal per notification.
 *
 * A master killed (or Temporal unreachable) between the claim's commit and the signal
 * leaves the jobs INQUEUE without a workflow: the cron scheduler's reconciler dispatches
 * them again once they are older than RECONCILE_GRACE_MS, REJECT_DUPLICATE keeping each
 * to one run. Returns a wake function for the listener (which runs one at a time per type).
 */
export function createDirectClaim(options: DirectClaimOptions): (type: JobTypeName) => Promise<void> {
  // When the dispatcher of each type will claim by its timer, as this master last told it.
  const timerAt = new Map<JobTypeName, number>();
  const log = options.logger.child({ component: 'direct-claim' });

  const send = async (type: JobTypeName, workflowId: string, batch: DispatchBatch): Promise<void> => {
    const entry = jobType(type);
    try {
      await options.client.workflow.signalWithStart<typeof dispatcherWorkflow, [DispatchBatch]>('dispatcherWorkflow', {
        workflowId,
        taskQueue: entry.masterTaskQueue,
        args: [{ ...options.input(entry), idle: options.idle }],
        signal: dispatchSignal,
        signalArgs: [batch],
      });
      if (batch.waitMs !== undefined) timerAt.set(type, Date.now() + batch.waitMs);
    } catch (err) {
      // The client has already retried what was transient (its gRPC retry: 10 attempts,
      // backing off to 5 s). Claimed, not handed over: the reconciler redispatches them.
      log.warn({ jobType: type, workflowId, jobIds: batch.jobs.map((j) => j.jobId), err },
        'claimed jobs not handed to the dispatcher; the reconciler starts them after RECONCILE_GRACE_MS');
    }
  };

  return async (type) => {
    const input = options.input(jobType(type));
    const limit = Math.max(1, input.batchSize);
    // A sequential type's jobs start in claim order: one dispatcher does that.
    const shards = input.dispatchMode === 'sequential' ? 1 : Math.max(1, options.shards);
    // Batches reach each dispatcher in claim order; different dispatchers' hand-overs overlap.
    const sending = new Map<string, Promise<void>>();
    try {
      for (let shard = 0; ; shard = (shard + 1) % shards) {
        const workflowId = dispatcherWorkflowId(type, shard);
        const claimed = await options.claim({ jobType: type, limit, scheduler: workflowId });
        const full = claimed.jobs.length + claimed.invalid >= limit;
        const batch: DispatchBatch = { jobs: claimed.jobs };
        // A full claim is followed by another here: only the last one's waitMs means a wait.
        if (!full && claimed.waitMs !== undefined && movesTimerEarlier(type, claimed.waitMs)) batch.waitMs = claimed.waitMs;
        if (batch.jobs.length > 0 || batch.waitMs !== undefined) {
          const previous = sending.get(workflowId) ?? Promise.resolve();
          sending.set(workflowId, previous.then(() => send(type, workflowId, batch)));
        }
        if (!full) break;
      }
    } finally {
      await Promise.all(sending.values());
    }
  };

  function movesTimerEarlier(type: JobTypeName, waitMs: number): boolean {
    const told = timerAt.get(type);
    const now = Date.now();
    return told === undefined || told <= now || now + waitMs < told;
  }
}
