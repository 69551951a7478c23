import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Logger } from '../shared/logger';
import { jobType, type JobTypeEntry, type JobTypeName } from '../shared/registry';
import type { SchedulerInput } from '../shared/workflowInputs';
import type { ClaimInput, ClaimResult } from './activities';
import { createDirectClaim } from './directClaim';
import { scheduleId, schedulerInput } from './schedules';
import { wakeSignal, type schedulerWorkflow } from './workflows';

/**
 * How the listener wakes a type's scheduler:
 * - `direct` (default): the master claims itself, at once, and hands the claimed jobs to the
 *   type's dispatcher workflow, which starts them (directClaim.ts). No workflow task or
 *   activity stands between the notification and INQUEUE.
 * - `signal`: signalWithStart of the scheduler workflow under a fixed id
 *   (`scheduler-<type>-wake`). Starts a run when none is running; a running one claims
 *   again (at once when idle, right after its current claim otherwise), so no insert waits
 *   for cron.
 * - `trigger`: the Schedule's trigger with BUFFER_ONE (a plain trigger would be ALLOW_ALL).
 *   Slower: the schedule's own workflow has to process the trigger first (see bench).
 */
export type WakeMode = 'direct' | 'signal' | 'trigger';

/**
 * How long the wake (or dispatcher) workflow stays for the next wake once drained: a signal to
 * a running run reaches the worker that caches it at once, where a new run can wait a second
 * for a poller.
 */
export const WAKE_IDLE = '10 minutes';

export function wakeWorkflowId(type: JobTypeName): string {
  return `${scheduleId(type)}-wake`;
}

/** What the direct mode needs besides the client: the claim, run in this process. */
export interface DirectWake {
  claim(input: ClaimInput): Promise<ClaimResult>;
  logger: Logger;
  /** DISPATCHER_SHARDS. */
  shards: number;
}

export function createWaker(
  client: Client,
  mode: WakeMode,
  input: (entry: JobTypeEntry) => SchedulerInput = (entry) => schedulerInput(entry),
  direct?: DirectWake,
): (type: JobTypeName) => Promise<void> {
  if (mode === 'direct') {
    if (!direct) throw new Error('the direct wake claims in this process: pass the claim');
    return createDirectClaim({ client, input, idle: WAKE_IDLE, ...direct });
  }
  return async (type) => {
    const entry = jobType(type);
    if (mode === 'trigger') {
      await client.schedule.getHandle(scheduleId(type)).trigger(ScheduleOverlapPolicy.BUFFER_ONE);
      return;
    }
    await client.workflow.signalWithStart<typeof schedulerWorkflow, []>('schedulerWorkflow', {
      workflowId: wakeWorkflowId(type),
      taskQueue: entry.masterTaskQueue,
      // The cron tick reconciles; a wake only claims, then idles for the next wake.
      args: [{ ...input(entry), reconcile: false, idle: WAKE_IDLE }],
      signal: wakeSignal,
      signalArgs: [],
    });
  };
}
