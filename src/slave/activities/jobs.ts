import { ApplicationFailure } from '@temporalio/activity';
import { and, asc, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../shared/db/client';
import { jobItems, jobs, type Job, type JobItem } from '../../shared/db/schema';
import { isFinalStatus } from '../../shared/jobs/statuses';
import { transitionJob, type TransitionResult } from '../../shared/jobs/transition';
import { FailureType } from '../failures';
import { readJob, type PlanConfig, type ReadJob } from '../plan';

// Reading and writing a job and its items, shared by the slave's activities.

export async function loadJob(db: Db, jobId: number): Promise<Job> {
  const [job] = await db.select().from(jobs).where(eq(jobs.id, jobId));
  if (!job) throw ApplicationFailure.nonRetryable(`job ${jobId} does not exist`, FailureType.InvalidInput);
  return job;
}

export function isFinal(job: Pick<Job, 'status'>): boolean {
  return isFinalStatus(job.status);
}

/** The job's plan (src/slave/plan.ts); a bad payload is a non-retryable InvalidInput naming the field. */
export function jobPlan(job: Job, config: PlanConfig): ReadJob {
  try {
    return readJob(job, config);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, FailureType.InvalidInput);
  }
}

export async function loadItems(db: Db, jobId: number): Promise<JobItem[]> {
  return db.select().from(jobItems).where(eq(jobItems.jobId, jobId)).orderBy(asc(jobItems.index));
}

/** An item in one of these has its answer; nothing runs it again. */
export const ITEM_DONE = ['COMPLETED', 'CONTENT_MODERATED'] as const satisfies readonly JobItem['status'][];
export type ItemDone = (typeof ITEM_DONE)[number];

export function isItemDone(status: JobItem['status']): status is ItemDone {
  return (ITEM_DONE as readonly string[]).includes(status);
}

/**
 * Ends a job ERROR with the message, its items not yet done FAILED with the same message, in
 * one transaction (terminate, cancel, a job-wide error). A job already ended is left alone.
 */
export async function failJobAndOpenItems(db: Db, jobId: number, message: string, detail: Record<string, unknown>): Promise<TransitionResult> {
  return db.transaction(async (tx) => {
    const moved = await transitionJob(tx, jobId, 'ERROR', { set: { errorMessage: message }, detail });
    if (moved.moved) await failOpenItems(tx, jobId, message);
    // An ended job holds no slot (the claim's reservation, the slot kept between items).
    await releaseJobSlots(tx, jobId);
    return moved;
  });
}

/** Deletes every lease the job holds (which NOTIFYs grokflow_capacity: the master claims again). */
export async function releaseJobSlots(db: Executor, jobId: number): Promise<void> {
  await db.execute(sql`DELETE FROM account_leases WHERE job_id = ${jobId}`);
}

async function failOpenItems(db: Executor, jobId: number, error: string): Promise<void> {
  await db
    .update(jobItems)
    .set({ status: 'FAILED', error })
    .where(and(eq(jobItems.jobId, jobId), notInArray(jobItems.status, [...ITEM_DONE, 'FAILED'])));
}

export async function setItem(db: Db, jobId: number, index: number, fields: Partial<JobItem>, onlyFrom?: JobItem['status'][]) {
  const where = [eq(jobItems.jobId, jobId), eq(jobItems.index, index)];
  if (onlyFrom) where.push(inArray(jobItems.status, onlyFrom));
  await db.update(jobItems).set(fields).where(and(...where));
}
