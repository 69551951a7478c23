import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { jobEvents, jobs, type Job } from '../db/schema';
import { NEXT_STATUSES, type JobStatus } from './statuses';

// Kept importable from here for older imports (src/slave/activities/jobs.ts); the list lives in statuses.ts.

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return NEXT_STATUSES[from].includes(to);
}

export type JobFields = Partial<Pick<Job, 'errorMessage' | 'result' | 'progress' | 'progressMessage' | 'workflowId' | 'runId' | 'account' | 'backend'>>;

export interface TransitionOptions {
  /** Move only from this status, or one of these (a guard on top of the forward rule). */
  from?: JobStatus | readonly JobStatus[];
  set?: JobFields;
  detail?: Record<string, unknown>;
}

export type TransitionResult =
  | { moved: true; from: JobStatus; job: Job }
  | { moved: false; current: JobStatus; reason: string };

export class JobNotFoundError extends Error {
  constructor(readonly jobId: number) {
    super(`job ${jobId} does not exist`);
    this.name = 'JobNotFoundError';
  }
}

/** Status columns each target status stamps, computed by Postgres so clocks agree. */
function stamps(to: JobStatus) {
  switch (to) {
    case 'INQUEUE':
      return { queuedAt: sql`now()` };
    case 'PROGRESS':
      return { startedAt: sql`now()` };
    case 'COMPLETED':
    case 'ERROR':
      return {
        completedAt: sql`now()`,
        durationMs: sql`CASE WHEN ${jobs.startedAt} IS NULL THEN NULL
          ELSE (extract(epoch FROM now() - ${jobs.startedAt}) * 1000)::int END`,
        ...(to === 'COMPLETED' ? { progress: 100 } : {}),
      };
    default:
      return {};
  }
}

/**
 * Moves a job one step forward: a guarded UPDATE and its job_events row in one transaction.
 * A refused move changes nothing and says why; callers that retry treat "already there" as done.
 */
export async function transitionJob(db: Executor, jobId: number, to: JobStatus, options: TransitionOptions = {}): Promise<TransitionResult> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, jobId)).for('update');
    if (!current) throw new JobNotFoundError(jobId);
    const from = options.from === undefined ? undefined : typeof options.from === 'string' ? [options.from] : options.from;
    if (from && !from.includes(current.status)) {
      return { moved: false, current: current.status, reason: `job ${jobId} is ${current.status}, not ${from.join(' or ')}` };
    }
    if (!canTransition(current.status, to)) {
      return { moved: false, current: current.status, reason: `job ${jobId} cannot move from ${current.status} to ${to}` };
    }
    const [job] = await tx
      .update(jobs)
      .set({ status: to, ...stamps(to), ...options.set })
      .where(and(eq(jobs.id, jobId), eq(jobs.status, current.status)))
      .returning();
    await tx.insert(jobEvents).values({ jobId, fromStatus: current.status, toStatus: to, detail: options.detail ?? null });
    return { moved: true, from: current.status, job: job! };
  });
}
