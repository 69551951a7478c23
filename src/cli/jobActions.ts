import type { Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import type { Db } from '../shared/db/client';
import { jobEvents, jobs, type Job } from '../shared/db/schema';
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

/** A new job's row from add options, its payload validated by the job type's schema (and the deployment's rules) first. */
export function newJobValues(config: AccountConfig & PayloadRulesConfig, o: AddOptions & { priority?: string }): typeof jobs.$inferInsert & { payload: Record<string, unknown> } {
  const type = resolveType(o.type);
  const payload = buildPayload(type, o, payloadRules(config));
  const priority = o.priority === undefined ? 0 : Number(o.priority);
  if (!Number.isInteger(priority)) throw new CliError(`--priority must be a whole number, got "${o.priority}"`, ExitCode.Usage);
  return { type, payload, priority, account: jobAccount(payload, config) };
}

/** A PENDING job from add options, validated by the job type's schema first. */
export async function createJob(db: Db, config: AccountConfig & PayloadRulesConfig, o: AddOptions & { priority?: string }): Promise<Job> {
  const [job] = await db.insert(jobs).values(newJobValues(config, o)).returning();
  return job!;
}

export interface RetryOptions {
  /** Who asks ('cli', 'web'), recorded in the failed job's events. */
  by?: string;
  /** The bulk action this retry belongs to (src/cli/bulkActions.ts), recorded beside it. */
  bulk?: string;
  /** A job that has a retry already gets none: `AlreadyRetried` instead (bulk retries). */
  once?: boolean;
}

/** A retry refused because the job has one already (RetryOptions.once). */
export class AlreadyRetried extends CliError {
  constructor(readonly jobId: number, readonly retryId: number) {
    super(`job ${jobId} has a retry already: job ${retryId}`, ExitCode.Failure);
  }
}

/**
 * A new PENDING job with a failed job's payload, `retry_of` pointing at it; the failed job's
 * events record the retry. The failed row is locked meanwhile, so two retries with `once` at
 * the same moment make one job.
 */
export async function retryJob(db: Db, idText: string, o: RetryOptions = {}): Promise<Job> {
  const found = await findJob(db, idText);
  return db.transaction(async (tx) => {
    const [job] = await tx.select().from(jobs).where(eq(jobs.id, found.id)).for('update');
    if (!job) throw new CliError(`job ${idText} not found`, ExitCode.NotFound);
    if (job.status !== 'ERROR') throw new CliError(`job ${job.id} is ${job.status}; only a job in ERROR can be retried`, ExitCode.Failure);
    if (o.once) {
      const [earlier] = await tx.select({ id: jobs.id }).from(jobs).where(eq(jobs.retryOf, job.id)).limit(1);
      if (earlier) throw new AlreadyRetried(job.id, earlier.id);
    }
    const [copy] = await tx
      .insert(jobs)
      .values({ type: job.type, payload: job.payload, priority: job.priority, account: job.account, retryOf: job.id })
      .returning();
    await tx.insert(jobEvents).values({
      jobId: job.id, fromStatus: job.status, toStatus: job.status,
      detail: { action: 'retry', retryId: copy!.id, by: o.by ?? 'cli', ...(o.bulk ? { bulk: o.bulk } : {}) },
    });
    return copy!;
  });
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
