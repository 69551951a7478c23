import type { SlaveDeps } from './deps';
import { canaryActivities } from './canary';
import { deliveryActivities } from './deliver';
import { generateItemActivity } from './generateItem';
import { lifecycleActivities } from './lifecycle';

export function createSlaveActivities(deps: SlaveDeps) {
  return { ...lifecycleActivities(deps), ...deliveryActivities(deps), ...canaryActivities(deps), generateItem: generateItemActivity(deps) };
}

export type SlaveActivities = ReturnType<typeof createSlaveActivities>;
export type { SlaveDeps } from './deps';
