import { randomBytes } from 'node:crypto';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Prices } from '../backends/api/videoPlan';
import { jobEvents, jobs, type Job } from '../shared/db/schema';
import { UNFINISHED_STATUSES } from '../shared/jobs/statuses';
import { jobEstimate } from '../slave/accounts/budget';
import { readJob, type PlanConfig } from '../slave/plan';
import { CliError, ExitCode } from './context';
import { jobFilterSql, jobSummary, normalizeFilter, type JobFilter, type JobSummary } from './jobFilter';
import { AlreadyRetried, cancelJob, retryJob, type JobActionDeps } from './jobActions';

// Retry or cancel every job a filter finds (issue 25): first a preview (how many, which, and
// what the api jobs among them are expected to cost), then the action, one per-job verb of
// jobActions.ts at a time. Running the same action twice changes nothing more: a retry is
// made only for an ERROR job that has none yet (retry_of), a cancel only for an unfinished
// job whose cancellation was not asked for already.

export type BulkVerb = 'retry' | 'cancel';
export const BULK_VERBS: readonly BulkVerb[] = ['retry', 'cancel'];

export type BulkConfig = PlanConfig & Prices;

export interface BulkCandidate {
  job: Job;
  summary: JobSummary;
  /** An api job's expected cost in ticks; undefined for a browser job (or a payload that no longer parses). */
  estimateTicks?: number;
}

export interface BulkPreview {
  verb: BulkVerb;
  filter: JobFilter;
  jobs: BulkCandidate[];
  /** The api jobs' expected cost together, in ticks. */
  estimateTicks: number;
  apiJobs: number;
}

export interface BulkOutcome {
  jobId: number;
  /** retried: the new job's id; cancelled / cancel requested: as cancelJob answered; skipped: why. */
  result: 'retried' | 'cancelled' | 'cancel requested' | 'skipped';
  retryId?: number;
  message: string;
}

export interface BulkResult {
  verb: BulkVerb;
  bulkId: string;
  outcomes: BulkOutcome[];
}

const CANCEL_REQUESTED = 'cancel requested';

/** The jobs the action would act on, oldest first. */
async function candidates(db: JobActionDeps['db'], verb: BulkVerb, filter: JobFilter): Promise<Job[]> {
  const f = normalizeFilter(filter);
  if (verb === 'retry') {
    if (f.status && f.status !== 'ERROR') throw new CliError(`retry acts on ERROR jobs only; --status ${f.status} finds none to retry`, ExitCode.Usage);
    return db.select().from(jobs).where(and(
      jobFilterSql(f),
      eq(jobs.status, 'ERROR'),
      sql`NOT EXISTS (SELECT 1 FROM jobs r WHERE r.retry_of = ${jobs.id})`,
    )).orderBy(asc(jobs.id));
  }
  if (f.status && !UNFINISHED_STATUSES.includes(f.status as Job['status'])) {
    throw new CliError(`cancel acts on unfinished jobs (${UNFINISHED_STATUSES.join(', ')}); --status ${f.status} has ended`, ExitCode.Usage);
  }
  // Nothing to narrow it: every unfinished job of the database is too wide for one keystroke.
  if (!Object.keys(f).length) throw new CliError('cancel needs a filter (--status, --type, --account, --pool, --search, --since or --until)', ExitCode.Usage);
  return db.select().from(jobs).where(and(
    jobFilterSql(f),
    inArray(jobs.status, [...UNFINISHED_STATUSES]),
    sql`NOT EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = ${jobs.id} AND e.detail->>'action' = ${CANCEL_REQUESTED})`,
  )).orderBy(asc(jobs.id));
}

/** What a bulk action would do, changing nothing. */
export async function previewBulk(db: JobActionDeps['db'], config: BulkConfig, verb: BulkVerb, filter: JobFilter): Promise<BulkPreview> {
  const found = await candidates(db, verb, filter);
  let estimateTicks = 0;
  let apiJobs = 0;
  const list = found.map((job): BulkCandidate => {
    let estimate: number | undefined;
    try {
      const { plan, items } = readJob(job, config);
      if (plan.item?.backend === 'api') estimate = jobEstimate(plan.item, items.length, config).ticks;
    } catch {
      estimate = undefined; // a payload that fails its schema runs nowhere: no cost to expect
    }
    if (estimate !== undefined) {
      apiJobs += 1;
      estimateTicks += estimate;
    }
    return { job, summary: jobSummary(job), estimateTicks: estimate };
  });
  return { verb, filter: normalizeFilter(filter), jobs: list, estimateTicks, apiJobs };
}

/**
 * Acts on every job the filter finds now (not the preview's list: a job may have changed
 * since). Each job's action is recorded in its job_events with the bulk id; a job that
 * cannot be acted on any more is skipped with the reason, the others go on.
 */
export async function runBulk(deps: JobActionDeps, verb: BulkVerb, filter: JobFilter, by: 'cli' | 'web', workflowIdPrefix?: string): Promise<BulkResult> {
  const bulkId = `bulk-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
  const found = await candidates(deps.db, verb, filter);
  const outcomes: BulkOutcome[] = [];
  for (const job of found) {
    try {
      if (verb === 'retry') {
        const copy = await retryJob(deps.db, String(job.id), { by, bulk: bulkId, once: true });
        outcomes.push({ jobId: job.id, result: 'retried', retryId: copy.id, message: `job ${job.id}: retried as job ${copy.id}` });
        continue;
      }
      const outcome = await cancelJob(deps, String(job.id), by, workflowIdPrefix);
      // The per-job verb records an ending in the job's events; this row says it was this
      // bulk action, and for a running job that its cancellation was asked for (a second
      // run leaves it alone).
      const result = outcome.ended ? 'cancelled' : CANCEL_REQUESTED;
      const [now] = await deps.db.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, job.id));
      await deps.db.insert(jobEvents).values({
        jobId: job.id, fromStatus: now!.status, toStatus: now!.status,
        detail: { action: result, by, bulk: bulkId },
      });
      outcomes.push({ jobId: job.id, result, message: outcome.message });
    } catch (err) {
      if (!(err instanceof CliError) && !(err instanceof AlreadyRetried)) throw err;
      outcomes.push({ jobId: job.id, result: 'skipped', message: err.message });
    }
  }
  return { verb, bulkId, outcomes };
}
