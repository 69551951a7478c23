import type { SlaveDeps } from './deps';
import { canaryActivities } from './canary';
import { deliveryActivities } from './deliver';
import { generateItemActivity } from './generateItem';
import { lifecycleActivities } from './lifecycle';
import { runBatchActivity } from './runBatch';

export function createSlaveActivities(deps: SlaveDeps) {
  return { ...lifecycleActivities(deps), ...deliveryActivities(deps), ...canaryActivities(deps), generateItem: generateItemActivity(deps), runBatch: runBatchActivity(deps) };
}

export type SlaveActivities = ReturnType<typeof createSlaveActivities>;
export type { SlaveDeps } from './deps';
