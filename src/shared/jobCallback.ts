/**
 * Workflow id of a job's callback delivery: `callback(<job workflow id>)`. The callback outbox
 * (src/master/callbackOutbox.ts) starts it once per job with this id (REJECT_DUPLICATE);
 * `grokflow jobs redeliver` adds a suffix so each redelivery is a workflow of its own. The
 * job's workflow id carries WORKFLOW_ID_PREFIX (registry.jobWorkflowId), so two databases
 * never share one.
 */
export function callbackWorkflowId(jobWorkflowId: string): string {
  return `callback(${jobWorkflowId})`;
}
