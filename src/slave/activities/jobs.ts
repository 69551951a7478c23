import { ApplicationFailure } from '@temporalio/activity';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import { jobItems, jobs, type Job, type JobItem } from '../../shared/db/schema';
import { isFinalStatus } from '../../shared/jobs/statuses';
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

export async function setItem(db: Db, jobId: number, index: number, fields: Partial<JobItem>, onlyFrom?: JobItem['status'][]) {
  const where = [eq(jobItems.jobId, jobId), eq(jobItems.index, index)];
  if (onlyFrom) where.push(inArray(jobItems.status, onlyFrom));
  await db.update(jobItems).set(fields).where(and(...where));
}
