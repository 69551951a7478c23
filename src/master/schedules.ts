import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions,
} from '@temporalio/client';
import type { Db } from '../shared/db/client';
import { listPauses } from '../shared/jobs/pauses';
import type { Logger } from '../shared/logger';
import { JOB_TYPE_NAMES, jobType, type JobTypeEntry, type JobTypeName } from '../shared/registry';
import type { SchedulerInput } from '../shared/workflowInputs';

/** A short catch-up window: after downtime, one tick (not a burst of missed ones). */
export const CATCHUP_WINDOW = '1 minute';
const NOTE_PREFIX = 'managed by grokflow master; spec ';

export function scheduleId(type: JobTypeName): string {
  return `scheduler-${type.toLowerCase()}`;
}

/** The scheduler workflow's input for a job type, straight from its registry entry. */
export function schedulerInput(entry: JobTypeEntry, overrides: Partial<SchedulerInput> = {}): SchedulerInput {
  return {
    jobType: entry.name,
    slaveTaskQueue: entry.slaveTaskQueue,
    slaveWorkflow: entry.slaveWorkflow,
    dispatchMode: entry.dispatch.mode,
    batchSize: entry.dispatch.batchSize,
    activityTimeouts: entry.activityTimeouts,
    ...overrides,
  };
}

export interface EnsureSchedulesOptions {
  /** SCHEDULER_CRON: overrides every entry's cron when given. */
  cron?: string;
  types?: readonly JobTypeName[];
  /** Test and bench hook: changes the scheduler input (batch size, slave queue...). */
  input?: (entry: JobTypeEntry) => SchedulerInput;
  logger?: Logger;
}

export type EnsureOutcome = 'created' | 'updated' | 'unchanged';

/**
 * One Temporal Schedule per job type, starting its scheduler workflow on the type's master
 * task queue. Created when missing, updated when its cron or input changed, left alone
 * otherwise. Safe to call from any number of masters at once: "already exists" means a
 * sibling created it, and the update compares a fingerprint kept in the schedule's note.
 */
export async function ensureSchedules(client: Client, options: EnsureSchedulesOptions = {}): Promise<Record<string, EnsureOutcome>> {
  const outcomes: Record<string, EnsureOutcome> = {};
  for (const type of options.types ?? JOB_TYPE_NAMES) {
    outcomes[type] = await ensureSchedule(client, jobType(type), options);
  }
  return outcomes;
}

export async function ensureSchedule(client: Client, entry: JobTypeEntry, options: EnsureSchedulesOptions = {}): Promise<EnsureOutcome> {
  const id = scheduleId(entry.name);
  const cron = options.cron ?? entry.cron;
  const input = options.input ? options.input(entry) : schedulerInput(entry);
  const desired = desiredSchedule(id, entry, cron, input);
  const log = options.logger?.child({ scheduleId: id, jobType: entry.name });
  const handle = client.schedule.getHandle(id);

  for (let attempt = 0; ; attempt++) {
    let current;
    try {
      current = await handle.describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      try {
        await client.schedule.create(desired);
        log?.info({ cron }, 'schedule created');
        return 'created';
      } catch (createErr) {
        if (createErr instanceof ScheduleAlreadyRunning && attempt < 3) continue; // a sibling master won; compare with it
        throw createErr;
      }
    }
    // The note's first line is the fingerprint; a grokflow pause adds a line (syncSchedulePause).
    if (fingerprintLine(current.state.note) === desired.state!.note) return 'unchanged';
    try {
      await handle.update((previous) => ({
        ...previous,
        spec: desired.spec,
        action: desired.action as typeof previous.action,
        policies: desired.policies as typeof previous.policies,
        state: { ...previous.state, note: withPauseLine(desired.state!.note!, previous.state.note) },
      }));
      log?.info({ cron }, 'schedule updated');
      return 'updated';
    } catch (err) {
      // A sibling master updating at the same moment: look again.
      if (attempt < 3) continue;
      throw err;
    }
  }
}

function desiredSchedule(id: string, entry: JobTypeEntry, cron: string, input: SchedulerInput): ScheduleOptions {
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ cron, input, taskQueue: entry.masterTaskQueue, catchup: CATCHUP_WINDOW, overlap: 'BUFFER_ONE', v: 1 }))
    .digest('hex')
    .slice(0, 16);
  return {
    scheduleId: id,
    spec: { cronExpressions: [cron] },
    action: {
      type: 'startWorkflow',
      workflowType: 'schedulerWorkflow',
      workflowId: id,
      taskQueue: entry.masterTaskQueue,
      args: [input],
    },
    policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: CATCHUP_WINDOW },
    state: { note: `${NOTE_PREFIX}${fingerprint} (cron "${cron}")` },
  };
}

/**
 * The next runs of a type's schedule, as Temporal reads its cron (the server, not a parser
 * of ours, decides what a cron string means), and the shortest gap between them.
 */
export async function scheduledRuns(client: Client, type: JobTypeName): Promise<{ next: Date[]; periodMs?: number }> {
  const next = (await client.schedule.getHandle(scheduleId(type)).describe()).info.nextActionTimes;
  const gaps = next.slice(1).map((d, i) => d.getTime() - next[i]!.getTime());
  return { next, periodMs: gaps.length > 0 ? Math.min(...gaps) : undefined };
}

/** The line a grokflow pause adds to its schedule's note, after the fingerprint. */
const PAUSE_LINE_PREFIX = 'paused by grokflow: ';

function fingerprintLine(note: string | undefined): string | undefined {
  return note?.split('\n')[0];
}

function withPauseLine(note: string, previous: string | undefined): string {
  const pauseLine = previous?.split('\n').find((l) => l.startsWith(PAUSE_LINE_PREFIX));
  return pauseLine ? `${note}\n${pauseLine}` : note;
}

/**
 * A paused job type (job_pauses) shows in Temporal's Web UI as its Schedule paused, with a
 * note saying why; a resumed one unpauses it. Only a pause grokflow made is undone here: a
 * schedule paused by hand in the Web UI stays paused. The claim reads job_pauses itself;
 * this is what an operator sees in the Web UI.
 */
export async function syncSchedulePause(
  client: Client,
  type: JobTypeName,
  pause: { reason: string | null; pausedBy: string | null; pausedAt: Date } | undefined,
): Promise<'paused' | 'unpaused' | 'unchanged'> {
  const handle = client.schedule.getHandle(scheduleId(type));
  const { state } = await handle.describe();
  const base = fingerprintLine(state.note) ?? '';
  const ours = state.note?.split('\n').some((l) => l.startsWith(PAUSE_LINE_PREFIX)) ?? false;
  if (pause) {
    const line = `${PAUSE_LINE_PREFIX}type paused${pause.pausedBy ? ` by ${pause.pausedBy}` : ''} at ${pause.pausedAt.toISOString()}${pause.reason ? `: ${pause.reason}` : ''} (grokflow resume --type ${type})`;
    const note = base ? `${base}\n${line}` : line;
    if (state.paused && state.note === note) return 'unchanged';
    await handle.pause(note);
    return 'paused';
  }
  if (!state.paused || !ours) return 'unchanged';
  await handle.unpause(base);
  return 'unpaused';
}

/** At a master's start: every type's Schedule paused or not as job_pauses says (a pause made while Temporal was away). */
export async function syncSchedulePauses(client: Client, db: Db, types: readonly JobTypeName[], logger?: Logger): Promise<void> {
  const pauses = await listPauses(db);
  for (const type of types) {
    const done = await syncSchedulePause(client, type, pauses.find((p) => p.scope === 'type' && p.name === type));
    if (done !== 'unchanged') logger?.info({ jobType: type, schedule: done }, 'schedule pause synced with job_pauses');
  }
}
