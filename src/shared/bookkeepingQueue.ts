// Workflow-safe (no imports): the slave workflow and the slave worker both name the queue here.

/**
 * The task queue of a slave queue's bookkeeping activities (startJob, finishJob, failJob,
 * failItem): `<slave queue>-bookkeeping`, polled by its own worker in every slave process,
 * so a status change never waits for a generation slot.
 */
export function bookkeepingTaskQueue(slaveTaskQueue: string): string {
  return `${slaveTaskQueue}-bookkeeping`;
}
