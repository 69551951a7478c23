import { WorkflowNotFoundError } from '@temporalio/client';
import { INSTANCE_MEMO_KEY } from '../../shared/searchAttributeKeys';
import { endJob } from '../../shared/jobs/endJob';
import type { MasterDeps, OwnerCheckInput } from './types';


export type OwnerCheck = 'own' | 'conflict' | 'unknown';

/**
 * A job's workflow id was already taken when the scheduler started it. Ours (a redispatch
 * after a crash): nothing to do. Another database's (its job ids restart at 1 too): the job
 * ends ERROR naming the conflict and the fix, instead of waiting as "already started".
 * No memo (started before identities existed) or no workflow any more: the reconciler decides.
 */
export function createCheckOwner(deps: MasterDeps) {
  return async function checkWorkflowOwner(input: OwnerCheckInput): Promise<OwnerCheck> {
    let owner: unknown;
    let status: string;
    try {
      const described = await deps.client.workflow.getHandle(input.workflowId).describe();
      owner = described.memo?.[INSTANCE_MEMO_KEY];
      status = described.status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'unknown';
      throw err;
    }
    if (typeof owner !== 'string') return 'unknown';
    if (owner === input.instance) return 'own';
    const message = `workflow id ${input.workflowId} is already taken by a ${status} workflow of another grokflow database `
      + `(instance ${owner}; this database is ${input.instance}): give each database its own Temporal namespace `
      + `(TEMPORAL_NAMESPACE) or its own WORKFLOW_ID_PREFIX, then retry the job`;
    const moved = await endJob(deps.db, input.jobId, {
      status: 'ERROR',
      from: 'INQUEUE',
      message,
      detail: { by: 'master', reason: 'workflow id conflict', workflowId: input.workflowId, otherInstance: owner },
    });
    if (moved.moved) deps.logger.child({ jobId: input.jobId, workflowId: input.workflowId }).error(message);
    return 'conflict';
  };
}
