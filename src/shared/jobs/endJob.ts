import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../db/client';
import { accountLeases, jobCallbacks, jobItems, jobWaits } from '../db/schema';
import { callbackUrlOf } from '../payloads';
import type { JobStatus } from './statuses';
import { transitionJob, type JobFields, type TransitionResult } from './transition';

// Why one verb: a job used to end in about eight places (finishJob, failJob, the claim's
// payload rejection, the owner conflict, the reconciler, the CLI/console cancel, terminate),
// each with its own side effects: some sent no callback, some left items RUNNING under an
// ERROR job or a lease held. Every ending now calls endJob, so what an ending does is
// decided here once, in one transaction: the guarded move (transitionJob's rule: expected
// status, forward only), the job's open items FAILED, its account leases given back, and the
// callback outbox row the master's delivery loop sends (src/master/callbackOutbox.ts).
// Idempotent: a second caller finds the job final and changes nothing.

/** Items not yet answered: an ended job fails them (nothing will run them any more). */
const OPEN_ITEM_STATUSES = ['PENDING', 'RUNNING'] as const;

export interface JobEnding {
  status: 'COMPLETED' | 'ERROR';
  /** Only from this status (or one of these): a writer that knows what it saw. */
  from?: JobStatus | JobStatus[];
  /** ERROR: the job's error message. Also what its open items fail with. */
  message?: string;
  set?: JobFields;
  /** The job_events row's detail: who ended it and why. */
  detail: { by: string; reason: string; [k: string]: unknown };
}

export async function endJob(db: Executor, jobId: number, end: JobEnding): Promise<TransitionResult> {
  return db.transaction(async (tx) => {
    const moved = await transitionJob(tx, jobId, end.status, {
      ...(end.from === undefined ? {} : { from: end.from }),
      set: { ...(end.status === 'ERROR' && end.message !== undefined ? { errorMessage: end.message } : {}), ...end.set },
      detail: end.detail,
    });
    if (!moved.moved) return moved;
    await tx
      .update(jobItems)
      .set({ status: 'FAILED', error: end.message ?? `the job ended ${end.status}` })
      .where(and(eq(jobItems.jobId, jobId), inArray(jobItems.status, [...OPEN_ITEM_STATUSES])));
    // Leases a holder still renews are gone too: its renewal finds no row and stops.
    await tx.delete(accountLeases).where(eq(accountLeases.jobId, jobId));
    // A job that waited as a row (job_waits) waits no more.
    await tx.delete(jobWaits).where(eq(jobWaits.jobId, jobId));
    // One row a job (its id is the key): a job without a callbackUrl has nothing to send.
    if (callbackUrlOf(moved.job.payload)) await tx.insert(jobCallbacks).values({ jobId }).onConflictDoNothing();
    return moved;
  });
}
