import type { Client } from '@temporalio/client';
import type { Db } from '../../shared/db/client';
import type { Logger } from '../../shared/logger';
import type { PayloadRules } from '../../shared/payloadRules';
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
  /** Where a payload may point (imageUrl's Grok, IMAGES_DIR): checked with its schema at claim. */
  payloadRules: PayloadRules;
}

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
}

export interface OwnerCheckInput {
  jobId: number;
  workflowId: string;
  instance: string;
}

export interface ClaimInput {
  jobType: JobTypeName;
  limit: number;
}

export interface ClaimResult {
  /** Claimed jobs with a valid payload: to be started. */
  jobs: DispatchJob[];
  /** Claimed jobs whose payload was bad: already moved to ERROR. */
  invalid: number;
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
