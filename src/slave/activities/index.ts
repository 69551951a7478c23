import type { SlaveDeps } from './deps';
import { generateItemActivity } from './generateItem';
import { lifecycleActivities } from './lifecycle';

export function createSlaveActivities(deps: SlaveDeps) {
  return { ...lifecycleActivities(deps), generateItem: generateItemActivity(deps) };
}

export type SlaveActivities = ReturnType<typeof createSlaveActivities>;
export type { SlaveDeps } from './deps';
export type { Generator } from './deps';
