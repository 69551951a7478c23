import { createClaim } from './claim';
import { createCheckOwner } from './owner';
import { createReconcile } from './reconcile';
import type { MasterDeps } from './types';

export * from './types';
export type { OwnerCheck } from './owner';

/** The master's activities, bound to a pool, a Temporal client and a logger. */
export function createMasterActivities(deps: MasterDeps) {
  return {
    claimJobs: createClaim(deps),
    reconcileJobs: createReconcile(deps),
    checkWorkflowOwner: createCheckOwner(deps),
  };
}

export type MasterActivities = ReturnType<typeof createMasterActivities>;
