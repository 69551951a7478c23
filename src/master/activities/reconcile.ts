import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, asc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import { databaseIdentity } from '../../shared/db/instance';
import { jobs } from '../../shared/db/schema';
import { IN_FLIGHT_STATUSES } from '../../shared/jobs/statuses';
import { endJob } from '../../shared/jobs/endJob';
import { jobWorkflowId } from '../../shared/registry';
import { activityLogger } from './claim';
import { failUnknownTypes } from './unknownTypes';
import { renewReservation } from './reservation';
import type { DispatchJob, MasterDeps, ReconcileInput, ReconcileResult } from './types';

const DESCRIBE_CONCURRENCY = 32;
/** Rows read per SELECT; a page is described in well under the activity's heartbeat timeout. */
export const RECONCILE_PAGE = 200;

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
    const instance = await databaseIdentity(deps.db);
    const redispatch: DispatchJob[] = [];
    let failed = await failUnknownTypes(deps.db, log);
    // In pages of RECONCILE_PAGE rows by id (the activity has a minute: a backlog of stale
    // jobs is read a page at a time, never in one unbounded SELECT); each page heartbeats.
    for (let after = 0; ;) {
      const page = await stalePage(deps, input.jobType, after);
      heartbeat();
      await forEachLimited(page, DESCRIBE_CONCURRENCY, async (job) => {
        heartbeat();
        const workflowId = job.workflowId ?? jobWorkflowId(input.jobType, job.id, deps.workflowIdPrefix);
        const jobLog = log.child({ jobId: job.id, workflowId });
        const state = await workflowState(deps, workflowId);
        if (state.kind === 'running') return;
        if (state.kind === 'missing' && job.status === 'INQUEUE') {
          if (redispatch.length < input.limit) {
            // The claim's reservation, renewed: the job's first item still starts on it.
            const reservation = await renewReservation(deps.db, job.id, deps.config.RESERVATION_TTL_MS);
            redispatch.push({ jobId: job.id, workflowId, instance, ...(reservation ? { reservation } : {}) });
            jobLog.warn('job INQUEUE but its workflow never started: redispatching');
          }
          return;
        }
        const workflowStatus = state.kind === 'closed' ? state.status : 'NOT_FOUND';
        const why = state.kind === 'missing'
          ? `workflow ${workflowId} not found while the job was ${job.status}`
          : `workflow ${workflowId} closed as ${state.status} while the job was ${job.status}`;
        // Guarded: a job that ended meanwhile (the slave wrote COMPLETED/ERROR) is left as it is.
        // Its workflow ran no end code (terminated between activities, vanished): endJob fails
        // its open items and writes its callback's outbox row.
        const moved = await endJob(deps.db, job.id, {
          status: 'ERROR',
          from: job.status,
          message: why,
          detail: { by: 'reconciler', reason: 'no live workflow', workflowStatus },
        });
        if (moved.moved) {
          failed++;
          jobLog.error({ workflowStatus }, `reconciled to ERROR: ${why}`);
        }
      });
      if (page.length < RECONCILE_PAGE) break;
      after = page.at(-1)!.id;
    }
    return { redispatch, failed };
  };
}

/** In-flight jobs of the type untouched for the grace, after id `after`: one bounded page. */
function stalePage(deps: MasterDeps, jobType: string, after: number) {
  return deps.db
    .select({ id: jobs.id, status: jobs.status, workflowId: jobs.workflowId })
    .from(jobs)
    .where(and(
      eq(jobs.type, jobType),
      inArray(jobs.status, IN_FLIGHT_STATUSES),
      gt(jobs.id, after),
      lt(jobs.updatedAt, sql`now() - make_interval(secs => ${deps.reconcileGraceMs / 1000})`),
    ))
    .orderBy(asc(jobs.id))
    .limit(RECONCILE_PAGE);
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
