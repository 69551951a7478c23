import type { Client } from '@temporalio/client';
import type { Config } from '../../shared/config';
import type { Db } from '../../shared/db/client';
import type { Logger } from '../../shared/logger';
import type { JobTypeName } from '../../shared/registry';

/** What the master's activities are bound to: one pool, one Temporal client, one logger. */
export interface MasterDeps {
  db: Db;
  client: Client;
  logger: Logger;
  /**
   * How long an INQUEUE job whose workflow was never started is left alone before the
   * reconciler redispatches it (a claim whose child start is still in flight is younger).
   */
  reconcileGraceMs: number;
  /** WORKFLOW_ID_PREFIX: prefixed to every job workflow id (registry.jobWorkflowId). */
  workflowIdPrefix?: string;
  /** What the capacity claim reads: account limits, saved sessions, the want rule, reservation TTL, deadlines. */
  config: MasterConfig;
}

export type MasterConfig = Config;

/**
 * RECONCILE_GRACE_MS when unset: half the cron period, at most 30 s (the grace before it was
 * a setting). A job orphaned at t is looked at by the first tick after t + grace, so a grace
 * under the period resolves it within two ticks; 30 s is plenty for a claim's child start.
 */
export function defaultReconcileGraceMs(cronPeriodMs: number | undefined): number {
  return cronPeriodMs === undefined ? 30_000 : Math.min(30_000, Math.max(1000, Math.floor(cronPeriodMs / 2)));
}

/** A job the scheduler must start a slave workflow for. Ids only: no payload enters a history. */
export interface DispatchJob {
  jobId: number;
  workflowId: string;
  /** The database's identity (db/instance.ts); absent in histories recorded before it existed. */
  instance?: string;
  /** The slot the claim reserved (ids only): the job's first item starts on it. Absent before the capacity claim. */
  reservation?: Reservation;
}

/** A claim's reserved slot: the lease row (account, holder) in account_leases. */
export interface Reservation {
  account: string;
  holder: string;
}

export interface OwnerCheckInput {
  jobId: number;
  workflowId: string;
  instance: string;
}

export interface ClaimInput {
  jobType: JobTypeName;
  limit: number;
  /** End PENDING jobs past their deadline first (the cron tick's first claim). */
  expire?: boolean;
  /**
   * The workflow that starts what is claimed, written on each INQUEUE event: the master's
   * direct claim names its dispatcher; an activity's default is its own scheduler run.
   */
  scheduler?: string;
}

export interface ClaimResult {
  /** Claimed jobs with a valid payload: to be started. */
  jobs: DispatchJob[];
  /** Claimed jobs whose payload was bad: already moved to ERROR. */
  invalid: number;
  /**
   * Jobs are left waiting and an account frees by itself in this many ms (a cooldown or a
   * gap ends, a lease runs out): the scheduler's one timer. Absent: only an event (NOTIFY
   * grokflow_capacity) or the cron frees capacity.
   */
  waitMs?: number;
  /** PENDING jobs ended ERROR because their deadline passed. */
  expired?: number;
}

export interface ReconcileInput {
  jobType: JobTypeName;
  /** At most this many never-started jobs are returned for redispatch. */
  limit: number;
}

export interface ReconcileResult {
  redispatch: DispatchJob[];
  /** Jobs moved to ERROR because their workflow closed (or vanished) before they ended. */
  failed: number;
}
