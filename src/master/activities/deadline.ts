import { sql } from 'drizzle-orm';
import { endJob } from '../../shared/jobs/endJob';
import type { JobTypeName } from '../../shared/registry';
import { activityLogger } from './claim';
import type { MasterDeps } from './types';

/** At most this many PENDING jobs are ended per call: a long-dead backlog ends over a few ticks. */
const PAGE = 200;

/**
 * PENDING jobs of a type whose deadline passed while they waited for capacity end ERROR,
 * naming the deadline (payload deadlineMinutes, else JOB_DEADLINE_MS from the INSERT: the
 * same rule as src/slave/accounts/pool.ts jobDeadlineAt). Guarded: a job claimed meanwhile
 * is left alone. Run on the cron tick's first claim.
 */
export async function expirePending(deps: MasterDeps, jobType: JobTypeName): Promise<number> {
  const { rows } = await deps.db.execute<{ id: string; payload: unknown; deadline: string; minutes: string | null }>(sql`
    SELECT id, payload->>'deadlineMinutes' AS minutes,
           created_at + CASE WHEN jsonb_typeof(payload->'deadlineMinutes') = 'number'
                             THEN (payload->>'deadlineMinutes')::numeric * interval '1 minute'
                             ELSE ${deps.config.JOB_DEADLINE_MS}::numeric * interval '1 millisecond' END AS deadline
      FROM jobs
     WHERE status = 'PENDING' AND type = ${jobType}
       AND created_at + CASE WHEN jsonb_typeof(payload->'deadlineMinutes') = 'number'
                             THEN (payload->>'deadlineMinutes')::numeric * interval '1 minute'
                             ELSE ${deps.config.JOB_DEADLINE_MS}::numeric * interval '1 millisecond' END < now()
     ORDER BY created_at LIMIT ${PAGE}`);
  if (rows.length === 0) return 0;
  const log = activityLogger(deps, jobType);
  let ended = 0;
  for (const row of rows) {
    const jobId = Number(row.id);
    const rule = row.minutes !== null ? `deadlineMinutes ${row.minutes}` : `JOB_DEADLINE_MS ${deps.config.JOB_DEADLINE_MS}`;
    const message = `no account could take the job before its deadline ${new Date(row.deadline).toISOString()} (${rule})`;
    // endJob: the guarded move, and the callback's outbox row, in one transaction.
    const moved = await endJob(deps.db, jobId, { status: 'ERROR', from: 'PENDING', message, detail: { by: 'master', reason: 'deadline passed while PENDING' } });
    if (!moved.moved) continue;
    ended++;
    log.child({ jobId }).warn(message);
  }
  return ended;
}
