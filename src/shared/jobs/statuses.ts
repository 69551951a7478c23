/**
 * A job's statuses and what each group of them means, decided here once: the database enum
 * (db/schema.ts), the transition rule, the claim's reconciler, `jobs watch`, the CLI and the
 * console all read these lists instead of spelling statuses out.
 */
export const JOB_STATUSES = ['PENDING', 'INQUEUE', 'PROGRESS', 'COMPLETED', 'ERROR'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * The only moves a job can make. Anything else (backwards, sideways, out of a final state,
 * or staying put) is refused, so a late or duplicate writer can never undo an ending.
 */
export const NEXT_STATUSES: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  PENDING: ['INQUEUE', 'ERROR'],
  INQUEUE: ['PROGRESS', 'ERROR'],
  PROGRESS: ['COMPLETED', 'ERROR'],
  COMPLETED: [],
  ERROR: [],
};

/** Ended: no move leads out of them (COMPLETED, ERROR). */
export const FINAL_STATUSES: readonly JobStatus[] = JOB_STATUSES.filter((s) => NEXT_STATUSES[s].length === 0);

/** Not ended yet: waiting for a master or in flight (PENDING, INQUEUE, PROGRESS). */
export const UNFINISHED_STATUSES: readonly JobStatus[] = JOB_STATUSES.filter((s) => !FINAL_STATUSES.includes(s));

/** Claimed and not ended (INQUEUE, PROGRESS): a workflow should be running for each. PENDING waits for a claim. */
export const IN_FLIGHT_STATUSES: readonly JobStatus[] = UNFINISHED_STATUSES.filter((s) => s !== 'PENDING');

export function isFinalStatus(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}
