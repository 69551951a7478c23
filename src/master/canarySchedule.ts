import { createHash } from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Logger } from '../shared/logger';
import { jobType } from '../shared/registry';
import { CATCHUP_WINDOW } from './schedules';

// The scheduled canary (CANARY_CRON, off by default): one Temporal Schedule that starts the
// slave's accountCanaryWorkflow (src/slave/canary.ts), which checks every browser account in
// turn. It runs on the video type's slave queue: its workers hold the browser. Made like the
// schedulers (schedules.ts): created when missing, updated when its cron changed (a
// fingerprint in its note), and deleted when CANARY_CRON is unset, so turning it off is
// unsetting the variable.

export const CANARY_SCHEDULE_ID = 'account-canary';
const NOTE_PREFIX = 'managed by grokflow master; canary spec ';

function desired(cron: string): ScheduleOptions {
  const taskQueue = jobType('GROK_VIDEO_GENERATION').slaveTaskQueue;
  const fingerprint = createHash('sha256').update(JSON.stringify({ cron, taskQueue, v: 1 })).digest('hex').slice(0, 16);
  return {
    scheduleId: CANARY_SCHEDULE_ID,
    spec: { cronExpressions: [cron] },
    action: { type: 'startWorkflow', workflowType: 'accountCanaryWorkflow', workflowId: CANARY_SCHEDULE_ID, taskQueue, args: [] },
    // A check still running when the next is due: the next one is skipped, not queued.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW },
    state: { note: `${NOTE_PREFIX}${fingerprint} (cron "${cron}")` },
  };
}

export async function ensureCanarySchedule(client: Client, cron: string | undefined, logger?: Logger): Promise<'created' | 'updated' | 'unchanged' | 'deleted' | 'off'> {
  const handle = client.schedule.getHandle(CANARY_SCHEDULE_ID);
  const log = logger?.child({ scheduleId: CANARY_SCHEDULE_ID });
  let current;
  try {
    current = await handle.describe();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  if (!cron) {
    if (!current) return 'off';
    await handle.delete().catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err; // a sibling master deleted it
    });
    log?.info('canary schedule deleted (CANARY_CRON unset)');
    return 'deleted';
  }
  const want = desired(cron);
  if (!current) {
    try {
      await client.schedule.create(want);
      log?.info({ cron }, 'canary schedule created');
      return 'created';
    } catch (err) {
      // A sibling master created it at the same moment: compare with theirs next start.
      if ((err as Error).name === 'ScheduleAlreadyRunning') return 'unchanged';
      throw err;
    }
  }
  if (current.state.note === want.state!.note) return 'unchanged';
  await handle.update((previous) => ({ ...previous, spec: want.spec, action: want.action as typeof previous.action, policies: want.policies as typeof previous.policies, state: { ...previous.state, note: want.state!.note } }));
  log?.info({ cron }, 'canary schedule updated');
  return 'updated';
}
