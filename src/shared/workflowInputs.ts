// Plain data that crosses into workflow code: no zod, no secrets, nothing but ids and names,
// so histories stay small and free of payload content and credentials.
import type { ActivityTimeouts, DispatchMode, JobTypeName } from './registry';

/** Input of a job type's scheduler workflow, derived from its registry entry. */
export interface SchedulerInput {
  jobType: JobTypeName;
  slaveTaskQueue: string;
  slaveWorkflow: string;
  dispatchMode: DispatchMode;
  batchSize: number;
  activityTimeouts: ActivityTimeouts;
}

/** Input of a slave workflow: which job; everything else is read from Postgres by activities. */
export interface SlaveWorkflowInput {
  jobId: number;
  jobType: JobTypeName;
  activityTimeouts: ActivityTimeouts;
  /**
   * The identity of the database the job lives in (db/instance.ts); every activity checks it
   * before touching a row. Absent in workflows started before identities existed.
   */
  instance?: string;
  /**
   * The slot the master's claim reserved (account_leases: account + holder): the job's items
   * adopt it, so the first starts with no wait. Absent in workflows started before the capacity claim.
   */
  reservation?: { holder: string; account?: string };
  /** Set by continue-as-new: the plan (read once by startJob) and the items not done yet. */
  continued?: { plan: import('../slave/plan').JobPlan; remaining: number[] };
}
