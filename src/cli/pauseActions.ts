import { isAccountName, ACCOUNT_NAME_RULE } from '../shared/accountName';
import { addPause, listPauses, removePause, type PauseScope } from '../shared/jobs/pauses';
import type { JobTypeName } from '../shared/registry';
import { CliError, ExitCode } from './context';
import type { JobActionDeps } from './jobActions';
import { resolveType } from './jobInput';

// Pause and resume, for the CLI and the console: the job_pauses row is the pause (the claim
// reads it); a paused type's Temporal Schedule is paused too, so the Web UI shows it.

export interface PauseTarget {
  scope: PauseScope;
  name: string;
}

/** `--type T` or `--pool P`, exactly one, checked and named as the claim compares them. */
export function pauseTarget(o: { type?: string; pool?: string }): PauseTarget {
  const type = o.type?.trim();
  const pool = o.pool?.trim();
  if (!type === !pool) throw new CliError('give --type or --pool (one of them)', ExitCode.Usage);
  if (type) return { scope: 'type', name: resolveType(type) };
  if (!isAccountName(pool!)) throw new CliError(`invalid pool "${pool}": ${ACCOUNT_NAME_RULE}`, ExitCode.Usage);
  return { scope: 'pool', name: pool! };
}

/** Brings a type's Schedule to its pause state; a Temporal that cannot be reached is said, not thrown. */
async function syncSchedule(deps: JobActionDeps, type: JobTypeName): Promise<string | undefined> {
  try {
    const { syncSchedulePause } = await import('../master/schedules');
    const pause = (await listPauses(deps.db)).find((p) => p.scope === 'type' && p.name === type);
    const done = await syncSchedulePause(await deps.temporal(), type, pause);
    return done === 'unchanged' ? undefined : `its Temporal Schedule ${done}`;
  } catch (err) {
    const { ScheduleNotFoundError } = await import('@temporalio/client');
    // No master has run yet: it creates the schedule, and pauses it, when it starts.
    if (err instanceof ScheduleNotFoundError) return undefined;
    return `its Temporal Schedule not updated (${(err as Error).message}); the master updates it when it starts`;
  }
}

export async function pauseScope(deps: JobActionDeps, target: PauseTarget, o: { reason?: string; by: string }): Promise<string> {
  const { added } = await addPause(deps.db, { ...target, reason: o.reason?.trim() || undefined, by: o.by });
  const parts = [added ? `${target.scope} ${target.name} paused: no new job of it is claimed; running ones finish` : `${target.scope} ${target.name} was paused already`];
  if (target.scope === 'type') {
    const schedule = await syncSchedule(deps, target.name as JobTypeName);
    if (schedule) parts.push(schedule);
  }
  return parts.join('; ');
}

export async function resumeScope(deps: JobActionDeps, target: PauseTarget): Promise<string> {
  const removed = await removePause(deps.db, target.scope, target.name);
  const parts = [removed ? `${target.scope} ${target.name} resumed` : `${target.scope} ${target.name} was not paused`];
  if (target.scope === 'type') {
    const schedule = await syncSchedule(deps, target.name as JobTypeName);
    if (schedule) parts.push(schedule);
  }
  return parts.join('; ');
}
