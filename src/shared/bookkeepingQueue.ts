// Workflow-safe (no imports): the slave workflow and the slave worker both name the queues here.

/**
 * The task queue of a slave queue's bookkeeping activities (startJob, finishJob, failJob,
 * failItem): `<slave queue>-bookkeeping`, polled by its own worker in every slave process,
 * so a status change never waits for a generation slot.
 */
export function bookkeepingTaskQueue(slaveTaskQueue: string): string {
  return `${slaveTaskQueue}-bookkeeping`;
}

/**
 * The task queue of a job's generateItem: the slave queue itself for the browser backend
 * (where every history recorded before backends had queues scheduled it), `<slave queue>-<backend>`
 * for any other, so each backend has its own rate limit (maxTaskQueueActivitiesPerSecond,
 * src/backends/index.ts) across every slave.
 */
export function generationTaskQueue(slaveTaskQueue: string, backend: string): string {
  return backend === 'browser' ? slaveTaskQueue : `${slaveTaskQueue}-${backend}`;
}
