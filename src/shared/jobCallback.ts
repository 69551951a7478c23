import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Logger } from './logger';
import { callbackUrlOf } from './payloads';
import { jobType } from './registry';

/**
 * Workflow id of the callback of a job that ended without its workflow's own callback (payload
 * rejected at claim, workflow terminated): `callback(<job workflow id>)`. The job's workflow id
 * carries WORKFLOW_ID_PREFIX (registry.jobWorkflowId), so two databases never share one.
 */
export function callbackWorkflowId(jobWorkflowId: string): string {
  return `callback(${jobWorkflowId})`;
}

export interface EndedJob {
  jobId: number;
  type: string;
  /** The job's workflow id (jobs.workflow_id). */
  workflowId: string;
  /** databaseIdentity(db): the delivery activities check it (guard.assertOwnDatabase). */
  instance: string;
  payload: unknown;
}

/**
 * Starts deliverJobCallbackWorkflow for an ended job whose payload has a usable callbackUrl,
 * on the job type's slave task queue. Idempotent: one id per job and REJECT_DUPLICATE, so a
 * retried activity or a second path to the same end (generateItem and the reconciler) starts
 * it once. A failed start is logged, not thrown: the job has already ended in Postgres (a
 * retried caller would not see it again) and the caller's other work goes on; `grokflow jobs
 * redeliver` sends it then.
 */
export async function startJobCallback(client: Client, job: EndedJob, log: Logger): Promise<void> {
  if (!callbackUrlOf(job.payload)) return;
  const workflowId = callbackWorkflowId(job.workflowId);
  try {
    await client.workflow.start('deliverJobCallbackWorkflow', {
      taskQueue: jobType(job.type).slaveTaskQueue,
      workflowId,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [{ jobId: job.jobId, instance: job.instance }],
    });
    log.info({ callbackWorkflowId: workflowId }, 'callback started');
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return; // started before: once is enough
    log.error({ callbackWorkflowId: workflowId, error: (err as Error).message }, 'callback not started; `grokflow jobs redeliver` sends it');
  }
}
