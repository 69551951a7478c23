import type { SlaveDeps } from './deps';
import { deliveryActivities } from './deliver';
import { generateItemActivity } from './generateItem';
import { lifecycleActivities } from './lifecycle';

export function createSlaveActivities(deps: SlaveDeps) {
  return { ...lifecycleActivities(deps), ...deliveryActivities(deps), generateItem: generateItemActivity(deps) };
}

export type SlaveActivities = ReturnType<typeof createSlaveActivities>;
export type { SlaveDeps } from './deps';
