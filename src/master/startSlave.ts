// Workflow code (runs in the master's workflow sandbox): how a scheduler or the dispatcher
// starts a job's slave workflow as its child. Deterministic only.
import { log, ParentClosePolicy, proxyActivities, startChild, WorkflowIdReusePolicy, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { GrokflowInstanceKey, INSTANCE_MEMO_KEY } from '../shared/searchAttributeKeys';
import type { SchedulerInput, SlaveWorkflowInput } from '../shared/workflowInputs';
import type { DispatchJob, MasterActivities } from './activities';

/** The master's activities as every master workflow calls them (one policy, one place). */
export const masterActivities = proxyActivities<MasterActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds', backoffCoefficient: 2 },
});

export type StartOutcome = 'started' | 'already' | 'conflict';

export async function dispatch(input: SchedulerInput, jobs: DispatchJob[]): Promise<StartOutcome[]> {
  if (input.dispatchMode === 'sequential') {
    // One start after the other, in claim order (priority, then age).
    const outcomes: StartOutcome[] = [];
    for (const job of jobs) outcomes.push(await startSlave(input, job));
    return outcomes;
  }
  return Promise.all(jobs.map((job) => startSlave(input, job)));
}

/**
 * Starts a job's slave workflow. A workflow id already taken means it was started before,
 * unless the workflow holding it belongs to another database: then the job ends ERROR.
 */
export async function startSlave(input: SchedulerInput, job: DispatchJob): Promise<StartOutcome> {
  const args: SlaveWorkflowInput = { jobId: job.jobId, jobType: input.jobType, activityTimeouts: input.activityTimeouts };
  // The slot the claim reserved: the job's first item starts on it (ids only, no secret).
  if (job.reservation) args.reservation = job.reservation;
  // Histories recorded before identities existed have none: they start exactly as they did.
  const identity = job.instance === undefined ? {} : {
    memo: { [INSTANCE_MEMO_KEY]: job.instance },
    typedSearchAttributes: [{ key: GrokflowInstanceKey, value: job.instance }],
  };
  if (job.instance !== undefined) args.instance = job.instance;
  try {
    await startChild(input.slaveWorkflow, {
      workflowId: job.workflowId,
      taskQueue: input.slaveTaskQueue,
      args: [args],
      ...identity,
      // The job outlives this tick; and a job id can never run twice.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      if (job.instance !== undefined) {
        const owner = await masterActivities.checkWorkflowOwner({ jobId: job.jobId, workflowId: job.workflowId, instance: job.instance });
        if (owner === 'conflict') {
          log.warn('workflow id taken by another database: job moved to ERROR', { jobId: job.jobId, workflowId: job.workflowId });
          return 'conflict';
        }
      }
      log.info('slave workflow already started', { jobId: job.jobId, workflowId: job.workflowId, parent: workflowInfo().workflowId });
      return 'already';
    }
    throw err;
  }
}
