import { createClaim } from './claim';
import { createReconcile } from './reconcile';
import type { MasterDeps } from './types';

export * from './types';

/** The master's activities, bound to a pool, a Temporal client and a logger. */
export function createMasterActivities(deps: MasterDeps) {
  return {
    claimJobs: createClaim(deps),
    reconcileJobs: createReconcile(deps),
  };
}

export type MasterActivities = ReturnType<typeof createMasterActivities>;
