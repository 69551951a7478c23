import type { Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import type { Db } from '../shared/db/client';
import { jobs, type Job } from '../shared/db/schema';
import { jobAccount, type AccountConfig } from '../shared/jobs/account';
import { payloadRules, type PayloadRulesConfig } from '../shared/payloadRules';
import { isFinalStatus } from '../shared/jobs/statuses';
import { endJob } from '../shared/jobs/endJob';
import { jobWorkflowId } from '../shared/registry';
import { CliError, ExitCode } from './context';
import { buildPayload, resolveType, type AddOptions } from './jobInput';

// What a user may do to jobs, decided once for the CLI and the web console. Each throws a
// CliError with a message for the user (its exit code maps to an HTTP status in the console).

export interface JobActionDeps {
  db: Db;
  temporal(): Promise<Client>;
}

export async function findJob(db: Db, idText: string): Promise<Job> {
  if (!/^\d+$/.test(idText)) throw new CliError(`job id must be a number, got "${idText}"`, ExitCode.Usage);
  const [job] = await db.select().from(jobs).where(eq(jobs.id, Number(idText)));
  if (!job) throw new CliError(`job ${idText} not found`, ExitCode.NotFound);
  return job;
}

/** A PENDING job from add options, validated by the job type's schema first. */
export async function createJob(db: Db, config: AccountConfig & PayloadRulesConfig, o: AddOptions & { priority?: string }): Promise<Job> {
  const type = resolveType(o.type);
  const payload = buildPayload(type, o, payloadRules(config));
  const priority = o.priority === undefined ? 0 : Number(o.priority);
  if (!Number.isInteger(priority)) throw new CliError(`--priority must be a whole number, got "${o.priority}"`, ExitCode.Usage);
  const [job] = await db.insert(jobs).values({ type, payload, priority, account: jobAccount(payload, config) }).returning();
  return job!;
}

/** A new PENDING job with a failed job's payload, `retry_of` pointing at it. */
export async function retryJob(db: Db, idText: string): Promise<Job> {
  const job = await findJob(db, idText);
  if (job.status !== 'ERROR') throw new CliError(`job ${job.id} is ${job.status}; only a job in ERROR can be retried`, ExitCode.Failure);
  const [copy] = await db
    .insert(jobs)
    .values({ type: job.type, payload: job.payload, priority: job.priority, account: job.account, retryOf: job.id })
    .returning();
  return copy!;
}

export interface CancelOutcome {
  job: Job;
  /** true: the job is ERROR `cancelled` now; false: its workflow was asked to cancel. */
  ended: boolean;
  message: string;
}

/** Cancels a job: a PENDING one ends at once, a running one's workflow is cancelled. */
export async function cancelJob(deps: JobActionDeps, idText: string, by: 'cli' | 'web', workflowIdPrefix?: string): Promise<CancelOutcome> {
  let job = await findJob(deps.db, idText);
  for (;;) {
    if (isFinalStatus(job.status)) {
      throw new CliError(`job ${job.id} is already ${job.status}${job.errorMessage ? ` (${job.errorMessage})` : ''}; nothing to cancel`, ExitCode.Failure);
    }
    if (job.status !== 'PENDING') break;
    // Not claimed yet: nothing runs it, so end it here, unless the master claims it first.
    const moved = await endJob(deps.db, job.id, { status: 'ERROR', from: 'PENDING', message: 'cancelled', detail: { by, reason: 'cancelled while PENDING' } });
    if (moved.moved) return { job, ended: true, message: `job ${job.id}: cancelled` };
    job = await findJob(deps.db, idText);
  }
  const workflowId = job.workflowId ?? jobWorkflowId(job.type, job.id, workflowIdPrefix);
  const { WorkflowNotFoundError } = await import('@temporalio/client');
  try {
    // The slave workflow hears it, closes the browser and records ERROR "cancelled".
    await (await deps.temporal()).workflow.getHandle(workflowId).cancel();
    return { job, ended: false, message: `job ${job.id}: cancellation requested for workflow ${workflowId}` };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    // Its workflow is gone (or closed) while the job is not final: end the job here.
    const moved = await endJob(deps.db, job.id, { status: 'ERROR', from: job.status, message: 'cancelled', detail: { by, reason: 'cancelled, its workflow gone', workflowId } });
    if (moved.moved) return { job, ended: true, message: `job ${job.id}: cancelled (its workflow ${workflowId} was not running)` };
    const now = await findJob(deps.db, idText);
    if (now.status !== 'ERROR') throw new CliError(`job ${job.id} ended ${now.status} before it could be cancelled`, ExitCode.Failure);
    return { job: now, ended: true, message: `job ${job.id}: ERROR ${now.errorMessage ?? ''}`.trimEnd() };
  }
}
