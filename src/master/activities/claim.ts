import { Context } from '@temporalio/activity';
import { sql } from 'drizzle-orm';
import { databaseIdentity } from '../../shared/db/instance';
import { endJob } from '../../shared/jobs/endJob';
import { parsePayload, PayloadError } from '../../shared/payloads';
import { jobType as registryEntry, jobWorkflowIdParts } from '../../shared/registry';
import type { ClaimInput, ClaimResult, DispatchJob, MasterDeps } from './types';

interface ClaimedRow extends Record<string, unknown> {
  id: string | number;
  payload: unknown;
  workflow_id: string;
}

/**
 * Claims up to `limit` PENDING jobs of a type in ONE statement: the rows are locked with
 * SKIP LOCKED (two masters never claim the same row), moved to INQUEUE with their workflow
 * id, and get their job_events rows. Then each payload is validated: a bad one moves the job
 * to ERROR with a message naming the field and is left out; the others are returned.
 */
export function createClaim(deps: MasterDeps) {
  return async function claimJobs(input: ClaimInput): Promise<ClaimResult> {
    if (input.limit <= 0) return { jobs: [], invalid: 0 };
    const entry = registryEntry(input.jobType);
    const log = activityLogger(deps, input.jobType);
    const id = jobWorkflowIdParts(input.jobType, deps.workflowIdPrefix);
    const instance = await databaseIdentity(deps.db);
    // Which scheduler run claimed a job, in its INQUEUE event: cron tick, wake or redispatch.
    const scheduler = schedulerRunId();
    const result = await deps.db.execute<ClaimedRow>(sql`
      WITH picked AS (
        SELECT id FROM jobs
        WHERE status = 'PENDING' AND type = ${input.jobType}
        ORDER BY priority DESC, created_at, id
        LIMIT ${input.limit}
        FOR UPDATE SKIP LOCKED
      ), moved AS (
        UPDATE jobs j
        SET status = 'INQUEUE', queued_at = now(), workflow_id = ${id.before}::text || j.id || ${id.after}::text
        FROM picked
        WHERE j.id = picked.id AND j.status = 'PENDING'
        RETURNING j.id, j.payload, j.priority, j.created_at, j.workflow_id
      ), events AS (
        INSERT INTO job_events (job_id, from_status, to_status, detail)
        SELECT id, 'PENDING', 'INQUEUE', jsonb_build_object('by', 'master', 'workflowId', workflow_id, 'scheduler', ${scheduler}::text)
        FROM moved
      )
      SELECT id, payload, workflow_id FROM moved ORDER BY priority DESC, created_at, id`);

    const claimed: DispatchJob[] = [];
    for (const row of result.rows) {
      const jobId = Number(row.id);
      // Written by the UPDATE above from the registry's parts: the same id jobWorkflowId gives.
      const workflowId = row.workflow_id;
      try {
        parsePayload(entry.payloadSchema, row.payload);
        claimed.push({ jobId, workflowId, instance });
      } catch (err) {
        if (!(err instanceof PayloadError)) throw err;
        // Not dispatched: the job ends here (endJob writes its callback's outbox row), the rest of the tick goes on.
        await endJob(deps.db, jobId, { status: 'ERROR', from: 'INQUEUE', message: err.message, detail: { by: 'master', reason: 'invalid payload' } });
        log.child({ jobId, workflowId }).warn({ error: err.message }, 'invalid payload: job moved to ERROR');
      }
    }
    const invalid = result.rows.length - claimed.length;
    if (result.rows.length > 0) log.info({ claimed: claimed.length, invalid }, 'claimed PENDING jobs');
    // `invalid` lets the scheduler tell a full batch (more may wait) from a short one.
    return { jobs: claimed, invalid };
  };
}

function schedulerRunId(): string | null {
  try {
    return Context.current().info.workflowExecution?.workflowId ?? null;
  } catch {
    return null; // outside an activity
  }
}

/** A child of the master logger carrying the scheduler run's ids (when called from an activity). */
export function activityLogger(deps: MasterDeps, jobType: string) {
  let info: { workflowExecution?: { workflowId: string }; activityType: string } | undefined;
  try {
    info = Context.current().info;
  } catch {
    info = undefined; // called outside an activity (a test, the bench)
  }
  return deps.logger.child({
    jobType,
    ...(info ? { schedulerWorkflowId: info.workflowExecution?.workflowId, activity: info.activityType } : {}),
  });
}
