import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import { databaseIdentity } from '../../shared/db/instance';
import { jobs } from '../../shared/db/schema';
import { startJobCallback } from '../../shared/jobCallback';
import { IN_FLIGHT_STATUSES } from '../../shared/jobs/statuses';
import { transitionJob } from '../../shared/jobs/transition';
import { jobWorkflowId } from '../../shared/registry';
import { activityLogger } from './claim';
import { failUnknownTypes } from './unknownTypes';
import { renewReservation } from './reservation';
import type { DispatchJob, MasterDeps, ReconcileInput, ReconcileResult } from './types';

const DESCRIBE_CONCURRENCY = 32;

type WorkflowState = { kind: 'running' } | { kind: 'missing' } | { kind: 'closed'; status: string };

/**
 * Finds jobs of a type that are INQUEUE or PROGRESS but have no live workflow, and resolves
 * them: never started (and older than the grace, so a claim whose start is in flight is left
 * alone) → returned for redispatch; workflow closed before the job ended → ERROR naming the
 * close status. Only jobs untouched for the grace are looked at: a job that just moved has
 * a writer. Every tick does this, so no job stays in flight without a workflow for more than
 * two ticks.
 */
export function createReconcile(deps: MasterDeps) {
  return async function reconcileJobs(input: ReconcileInput): Promise<ReconcileResult> {
    const log = activityLogger(deps, input.jobType);
    const stale = await deps.db
      .select({ id: jobs.id, status: jobs.status, workflowId: jobs.workflowId, payload: jobs.payload })
      .from(jobs)
      .where(and(
        eq(jobs.type, input.jobType),
        inArray(jobs.status, IN_FLIGHT_STATUSES),
        lt(jobs.updatedAt, sql`now() - make_interval(secs => ${deps.reconcileGraceMs / 1000})`),
      ))
      .orderBy(jobs.updatedAt);

    const instance = await databaseIdentity(deps.db);
    const redispatch: DispatchJob[] = [];
    let failed = await failUnknownTypes(deps.db, log);
    await forEachLimited(stale, DESCRIBE_CONCURRENCY, async (job) => {
      heartbeat();
      const workflowId = job.workflowId ?? jobWorkflowId(input.jobType, job.id, deps.workflowIdPrefix);
      const jobLog = log.child({ jobId: job.id, workflowId });
      const state = await workflowState(deps, workflowId);
      if (state.kind === 'running') return;
      if (state.kind === 'missing' && job.status === 'INQUEUE') {
        if (redispatch.length < input.limit) {
          const reservation = await renewReservation(deps.db, job.id, deps.config.RESERVATION_TTL_MS);
          redispatch.push({ jobId: job.id, workflowId, instance, ...(reservation ? { reservation } : {}) });
          jobLog.warn('job INQUEUE but its workflow never started: redispatching');
        }
        return;
      }
      const why = state.kind === 'missing'
        ? `workflow ${workflowId} not found while the job was ${job.status}`
        : `workflow ${workflowId} closed as ${state.status} while the job was ${job.status}`;
      // Guarded: a job that ended meanwhile (the slave wrote COMPLETED/ERROR) is left as it is.
      const moved = await transitionJob(deps.db, job.id, 'ERROR', {
        from: job.status,
        set: { errorMessage: why },
        detail: { by: 'reconciler', workflowStatus: state.kind === 'closed' ? state.status : 'NOT_FOUND' },
      });
      if (moved.moved) {
        failed++;
        jobLog.error({ workflowStatus: state.kind === 'closed' ? state.status : 'NOT_FOUND' }, `reconciled to ERROR: ${why}`);
        // Its workflow ran no end code (terminated between activities, vanished): the callback starts here.
        await startJobCallback(deps.client, { jobId: job.id, type: input.jobType, workflowId, instance, payload: job.payload }, jobLog);
      }
    });
    return { redispatch, failed };
  };
}

async function workflowState(deps: MasterDeps, workflowId: string): Promise<WorkflowState> {
  try {
    const described = await deps.client.workflow.getHandle(workflowId).describe();
    const status = described.status.name;
    return status === 'RUNNING' ? { kind: 'running' } : { kind: 'closed', status };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { kind: 'missing' };
    throw err;
  }
}

function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // outside an activity
  }
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}
