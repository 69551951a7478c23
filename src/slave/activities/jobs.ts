import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/activity';
import { and, asc, eq, inArray, notInArray } from 'drizzle-orm';
import type { Config } from '../../shared/config';
import type { Db } from '../../shared/db/client';
import { jobItems, jobs, type Job, type JobItem } from '../../shared/db/schema';
import { PayloadError, parsePayload } from '../../shared/payloads';
import { jobType } from '../../shared/registry';
import { FINAL_STATUSES } from '../../shared/jobs/transition';
import { FailureType } from '../failures';

// Reading a job and its payload, shared by the slave's activities.

export async function loadJob(db: Db, jobId: number): Promise<Job> {
  const [job] = await db.select().from(jobs).where(eq(jobs.id, jobId));
  if (!job) throw ApplicationFailure.nonRetryable(`job ${jobId} does not exist`, FailureType.InvalidInput);
  return job;
}

export function isFinal(job: Pick<Job, 'status'>): boolean {
  return FINAL_STATUSES.includes(job.status);
}

/** The account a job runs on (startJob records it in jobs.account for the CLI and quotas). */
export function jobAccount(payload: CommonPayload, config: Pick<Config, 'DEFAULT_ACCOUNT'>): string {
  return payload.account ?? config.DEFAULT_ACCOUNT;
}

/** The payload fields every job type shares. */
export interface CommonPayload {
  account?: string;
  minSuccessful?: number;
  imagePath?: string;
}

/** The job's payload, validated; a bad one is a non-retryable InvalidInput naming the field. */
export function jobPayload(job: Job): CommonPayload {
  try {
    const payload = parsePayload(jobType(job.type).payloadSchema, job.payload) as CommonPayload;
    if (payload.imagePath && !fs.existsSync(payload.imagePath)) {
      throw new PayloadError(`invalid payload: payload.imagePath: no file at ${payload.imagePath}`);
    }
    return payload;
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, FailureType.InvalidInput);
  }
}

export async function loadItems(db: Db, jobId: number): Promise<JobItem[]> {
  return db.select().from(jobItems).where(eq(jobItems.jobId, jobId)).orderBy(asc(jobItems.index));
}

export const ITEM_DONE = ['COMPLETED', 'CONTENT_MODERATED'] as const;

/** Items not yet done go FAILED with the message (terminate, cancel, a job-wide error). */
export async function failOpenItems(db: Db, jobId: number, error: string): Promise<void> {
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
