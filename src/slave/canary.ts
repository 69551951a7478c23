import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { SlaveActivities } from './activities';

// Workflow code: the scheduled canary (CANARY_CRON, src/master/canarySchedule.ts). It runs
// `accounts check` on every browser account, one after another (each check opens a browser;
// in parallel they would compete with the generations for the slave's CPU), on the slave's
// generation queue, where a browser is at hand. Each result goes on its account's row: a failed
// check holds the account out of its pool until one passes.

export interface CanaryResult {
  account: string;
  ok: boolean;
  missing: string[];
}

export async function accountCanaryWorkflow(): Promise<CanaryResult[]> {
  const { canaryAccounts, checkAccountCanary } = proxyActivities<SlaveActivities>({
    taskQueue: workflowInfo().taskQueue,
    // Two page loads and a few selectors, each bounded by the driver's own timeouts.
    startToCloseTimeout: '3 minutes',
    // A check that cannot run (the browser crashed) is tried again; a failed check is a result, not an error.
    retry: { maximumAttempts: 3, initialInterval: '10 seconds' },
  });
  const results: CanaryResult[] = [];
  for (const account of await canaryAccounts()) results.push(await checkAccountCanary({ account }));
  return results;
}
