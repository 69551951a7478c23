// The master's scheduler workflow: one run (or a short continue-as-new chain) per tick of a job type. Deterministic code only:
// everything that touches Postgres or Temporal's API is an activity.
import { condition, continueAsNew, defineSignal, log, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { SchedulerInput } from '../shared/workflowInputs';
import type { ClaimResult, DispatchJob } from './activities';
import { dispatch, masterActivities } from './startSlave';

export { dispatcherWorkflow, dispatchSignal } from './dispatcherWorkflow';

const { reconcileJobs, claimJobs } = masterActivities;

/** "There may be new PENDING jobs": sent by the listener with signalWithStart. */
export const wakeSignal = defineSignal('wake');

export interface SchedulerResult {
  /** Claimed with a valid payload (dispatched this run). */
  claimed: number;
  /** Claimed with a bad payload: moved to ERROR, not dispatched. */
  invalid: number;
  /** INQUEUE jobs whose workflow never started, dispatched again. */
  redispatched: number;
  started: number;
  /** Workflow id already taken: counted as started, never started twice. */
  alreadyStarted: number;
  /** Workflow id taken by another database's workflow: the job was moved to ERROR. */
  conflicts?: number;
  /** Jobs moved to ERROR by the reconciler (workflow closed or gone). */
  failed: number;
}

/** Claims per run before it continues as new: with `batchSize` this bounds a run's history. */
export const BATCHES_PER_RUN = 5;

/** The Schedule starts runs with the registry's SchedulerInput; the rest is per run. */
export interface SchedulerRunInput extends SchedulerInput {
  /**
   * false: skip the reconciler. The listener's wakes and the continuations of a tick do, so
   * describing every in-flight job's workflow costs once per cron tick, not once per insert.
   */
  reconcile?: boolean;
  /** How long a drained run waits for another wake before it ends (the listener's runs). */
  idle?: Duration;
}

const NOTHING_CLAIMED: ClaimResult = { jobs: [], invalid: 0 };

/**
 * One tick: reconcile, then claim and start slave workflows batch after batch (the next
 * batch is claimed while the current one's children start), waiting until every child has
 * started. At most BATCHES_PER_RUN claims per run, so a history stays bounded (at most
 * BATCHES_PER_RUN × batchSize children); a full last batch, or a wake that came in after
 * the last claim began, continues as a new run at once to drain the rest. With `idle`, a
 * drained run waits that long for another wake and claims again.
 */
export async function schedulerWorkflow(input: SchedulerRunInput): Promise<SchedulerResult> {
  let claimBegun = false;
  let wokenSinceClaim = false;
  setHandler(wakeSignal, () => {
    // A wake before the first claim is covered by that claim; a later one needs another.
    if (claimBegun) wokenSinceClaim = true;
  });
  // The cron tick's first claim also ends PENDING jobs past their deadline.
  let expire = input.reconcile !== false;
  const claim = (limit: number): Promise<ClaimResult> => {
    claimBegun = true;
    wokenSinceClaim = false;
    const args = expire ? { jobType: input.jobType, limit, expire } : { jobType: input.jobType, limit };
    expire = false;
    return limit > 0 ? claimJobs(args) : Promise.resolve(NOTHING_CLAIMED);
  };

  const batch = Math.max(1, input.batchSize);
  const result: SchedulerResult = { claimed: 0, invalid: 0, redispatched: 0, started: 0, alreadyStarted: 0, failed: 0 };
  let redispatch: DispatchJob[] = [];
  if (input.reconcile !== false) {
    const reconciled = await reconcileJobs({ jobType: input.jobType, limit: batch });
    redispatch = reconciled.redispatch;
    result.redispatched = redispatch.length;
    result.failed = reconciled.failed;
  }

  let limit = batch - redispatch.length;
  let claims = 1;
  let claiming = claim(limit);
  let more = false;
  // Jobs wait and an account frees by itself in this many ms (the claim's answer): the one
  // durable timer the run sleeps on (with a wake signal, whichever comes first).
  let capacityInMs: number | undefined;
  for (;;) {
    const claimed = await claiming;
    capacityInMs = claimed.waitMs;
    result.claimed += claimed.jobs.length;
    result.invalid += claimed.invalid;
    // Full (bad payloads took rows too), or nothing claimed only because redispatches filled it.
    const full = claimed.jobs.length + claimed.invalid >= limit;
    const toStart = [...redispatch, ...claimed.jobs];
    redispatch = [];
    const prefetch = full && claims < BATCHES_PER_RUN;
    if (prefetch) {
      limit = batch;
      claims++;
      claiming = claim(limit);
    }
    for (const outcome of await dispatch(input, toStart)) {
      if (outcome === 'started') result.started++;
      else if (outcome === 'conflict') result.conflicts = (result.conflicts ?? 0) + 1;
      else result.alreadyStarted++;
    }
    if (prefetch) continue;
    if (full || ((wokenSinceClaim || input.idle) && claims >= BATCHES_PER_RUN)) {
      // More may be waiting (or an idling run used its budget): a fresh run with a fresh
      // history goes on at once, so an idling run is warm before the next wake.
      more = true;
      break;
    }
    // Drained, or woken during the claim: while the budget lasts, this run claims again
    // itself. Continuing as new for that would cost up to a second: the server holds back
    // the next run of a run younger than `history.continueAsNewMinInterval` (1 s). A run
    // woken by the listener stays for the next wake: signalling a running, cached workflow
    // costs a sticky workflow task, a cold start can cost a second too.
    if (!wokenSinceClaim && !(await idleUntilWake(capacityInMs))) break;
    limit = batch;
    claims++;
    claiming = claim(limit);
  }

  // Waits for a wake, or for capacity that frees by itself: true to claim again, false to end
  // the run. Only the listener's run (`idle`) waits; a cron run ends, the next wake or tick
  // comes soon enough.
  async function idleUntilWake(inMs: number | undefined): Promise<boolean> {
    if (!input.idle) return false;
    // A little after the moment, so the claim finds the cooldown or gap over.
    if (inMs === undefined) return condition(() => wokenSinceClaim, input.idle);
    await condition(() => wokenSinceClaim, Math.max(10, inMs + 20));
    return true;
  }

  if (result.started + result.alreadyStarted > 0 || result.failed > 0 || result.invalid > 0) {
    log.info('scheduler tick', { jobType: input.jobType, ...result });
  }
  if (more) {
    // More may be waiting: a fresh run (fresh history) picks them up now, not at the next tick.
    await continueAsNew<typeof schedulerWorkflow>({ ...input, reconcile: false });
  }
  return result;
}
